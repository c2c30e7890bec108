"""Wire settings to running services: the configured S3 endpoint, or the embedded one."""
from __future__ import annotations

import contextlib
from typing import Iterator

from infra.seaweed import EmbeddedS3
from infra.settings import Settings
from infra.store import ObjectStore


@contextlib.contextmanager
def storage_settings(settings: Settings) -> Iterator[Settings]:
    """Settings with a concrete S3 endpoint and keys.

    With no endpoint configured, uses (or starts, for the duration of the block) the
    embedded SeaweedFS server under ``<home>/seaweed``. Child processes given these
    settings (``infra.settings.settings_env``) talk to the same server.
    """
    if settings.s3_endpoint:
        yield settings
        return
    server = EmbeddedS3(settings.home / "seaweed")
    endpoint = server.start()
    try:
        yield settings.replace(s3_endpoint=endpoint.endpoint, s3_access_key=endpoint.access_key,
                               s3_secret_key=endpoint.secret_key)
    finally:
        server.stop()  # only stops a server this block started


@contextlib.contextmanager
def open_store(settings: Settings) -> Iterator[ObjectStore]:
    """An `ObjectStore` on the configured or embedded S3, with the bucket created."""
    with storage_settings(settings) as resolved:
        store = ObjectStore.from_settings(resolved)
        store.ensure_bucket()
        yield store
