"""The object store: a small layer over the MinIO SDK (the only S3 client in the project).

Every write is one PUT of a complete body with its length and checksum, so an object is
either absent or whole (S3 makes it visible only when the upload completed). Keys follow
the layout in DESIGN.md; `keys` below is the one place that spells them.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator, TypeVar
from urllib.parse import urlparse

import urllib3
from minio import Minio
from minio.error import S3Error

from infra.settings import Settings

T = TypeVar("T")

ID_LENGTH = 20  # hex chars of SHA-256: 80 bits, collision odds ~4e-11 at ten million images


class StoreError(RuntimeError):
    """The object store failed or is unreachable (after retries)."""


class KeyNotFound(KeyError):
    pass


class keys:
    """Object keys of the store layout (DESIGN.md)."""

    RAW_IMAGES = "raw/images/"
    RAW_INDEX_SHARDS = "raw/index/"
    RAW_INDEX = "raw/index.csv"
    CRAWL_REPORTS = "raw/crawl-reports/"
    DENYLIST = "privacy/denylist.csv"

    @staticmethod
    def raw_image(image_id: str, ext: str) -> str:
        return f"raw/images/{image_id}.{ext}"

    @staticmethod
    def index_shard(slug: str) -> str:
        return f"raw/index/{slug}.csv"

    @staticmethod
    def crawl_report(slug: str) -> str:
        return f"raw/crawl-reports/{slug}.json"

    @staticmethod
    def crawl_state(slug: str) -> str:
        """What a department's crawl remembers besides the index (rejected photo URLs)."""
        return f"raw/crawl-state/{slug}.json"


def content_id(data: bytes) -> tuple[str, str]:
    """(id, sha256 hex) of image bytes: the id is a prefix of the content hash."""
    digest = hashlib.sha256(data).hexdigest()
    return digest[:ID_LENGTH], digest


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None
    content_type: str | None = None


TRANSIENT = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, OSError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, S3Error):
        return exc.code in {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"}
    return isinstance(exc, TRANSIENT)


def with_retries(fn: Callable[[], T], *, attempts: int = 4, base_delay: float = 0.5, what: str = "") -> T:
    """Call `fn`, retrying transient network/storage errors with exponential backoff."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            if not _is_transient(exc):
                raise
            if attempt == attempts - 1:
                raise StoreError(f"object store unreachable ({what}): {exc}") from exc
            time.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")


class ObjectStore:
    def __init__(self, client: Minio, bucket: str, endpoint: str = ""):
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint

    @classmethod
    def connect(cls, endpoint: str, access_key: str | None, secret_key: str | None, bucket: str,
                region: str | None = None, timeout: float = 30.0) -> "ObjectStore":
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        if not parsed.hostname:
            raise ValueError(f"S3 endpoint {endpoint!r} has no host")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=timeout),
            retries=urllib3.Retry(total=2, backoff_factor=0.3, status_forcelist=[502, 503, 504]),
            maxsize=16,
        )
        client = Minio(parsed.netloc, access_key=access_key, secret_key=secret_key,
                       secure=parsed.scheme == "https", region=region, http_client=http)
        return cls(client, bucket, f"{parsed.scheme}://{parsed.netloc}")

    @classmethod
    def from_settings(cls, settings: Settings) -> "ObjectStore":
        if not settings.s3_endpoint:
            raise ValueError("no S3 endpoint configured; use infra.services.open_store() for the embedded default")
        return cls.connect(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key,
                           settings.bucket, settings.s3_region, settings.download_timeout)

    # -- buckets -----------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        def go() -> None:
            if not self.client.bucket_exists(self.bucket):
                with contextlib.suppress(S3Error):  # created concurrently by another process
                    self.client.make_bucket(self.bucket)
        with_retries(go, what=f"create bucket {self.bucket}")

    # -- writes --------------------------------------------------------------------------
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None) -> None:
        """Write one whole object (single PUT with its length: never visible half-written)."""
        def go() -> None:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                   content_type=content_type, metadata=metadata)
        with_retries(go, what=f"put {key}")

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        with_retries(lambda: self.client.fput_object(self.bucket, key, str(path), content_type=content_type),
                     what=f"put {key}")

    def copy(self, source: str, target: str) -> None:
        """Server-side copy within the bucket (no bytes through this process)."""
        from minio.commonconfig import CopySource

        with_retries(lambda: self.client.copy_object(self.bucket, target, CopySource(self.bucket, source)),
                     what=f"copy {source} -> {target}")

    def delete(self, key: str) -> None:
        with_retries(lambda: self.client.remove_object(self.bucket, key), what=f"delete {key}")

    # -- reads ---------------------------------------------------------------------------
    def get_bytes(self, key: str) -> bytes:
        def go() -> bytes:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in {"NoSuchKey", "NoSuchBucket"}:
                    raise KeyNotFound(key) from None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        return with_retries(go, what=f"get {key}")

    def stat(self, key: str) -> ObjectInfo | None:
        def go() -> ObjectInfo | None:
            try:
                st = self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}:
                    return None
                raise
            return ObjectInfo(key, st.size or 0, st.etag, st.content_type)
        return with_retries(go, what=f"stat {key}")

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def list(self, prefix: str = "", recursive: bool = True) -> Iterator[ObjectInfo]:
        """Objects under `prefix`, in key order (pages through any number of objects)."""
        def go() -> list[ObjectInfo]:
            try:
                return [ObjectInfo(o.object_name, o.size or 0, o.etag)
                        for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=recursive)]
            except S3Error as exc:
                if exc.code == "NoSuchBucket":
                    return []
                raise
        yield from sorted(with_retries(go, what=f"list {prefix}"), key=lambda o: o.key)

    def presigned_url(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        return self.client.presigned_get_object(self.bucket, key, expires=expires)
