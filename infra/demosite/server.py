"""A quiet, threaded static-file server for the demo site, with validators and counters.

The server knows nothing about people: special cases (wrong content types, charsets,
redirects, hidden files, pages that need the base URL) come from ``_server.json``,
written by the generator next to the site.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import shutil
import socketserver
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SERVER_MAP = "_server.json"
BASE_URL_TOKEN = "{{BASE_URL}}"
_INLINE_BYTES = 2 * 1024 * 1024  # smaller files are read whole; bigger ones streamed

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}


def content_type_for(path: str) -> str:
    """Content type by file extension; unknown extensions are octet-stream."""
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix, "application/octet-stream")


class _HTTPServer(ThreadingHTTPServer):
    # Do not wait for keep-alive connections on close; they are daemon threads.
    block_on_close = False
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache/2.4"
    sys_version = ""
    timeout = 30  # idle keep-alive connections end on their own

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and crawls read their own logs, not ours

    def do_GET(self) -> None:
        self.server.demo._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.demo._handle(self, head=True)


class DemoServer:
    """Serve a built demo site on ``host:port`` (port 0 picks a free one).

    Counters are thread-safe: ``image_bodies_served`` counts responses that carried a
    non-empty body with an ``image/*`` content type (GET 200s; 304s and HEADs do not
    count); ``hits(path)`` counts requests per URL path (query string ignored).
    """

    def __init__(self, out_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(out_dir).resolve()
        self.host = host
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._bodies: Counter[str] = Counter()
        self._image_paths: Counter[str] = Counter()
        self._image_bodies = 0
        self._cache: dict[tuple, tuple[str, bytes | None]] = {}
        self._map: dict = {}
        self._map_key: tuple | None = None
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.demo = self
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "DemoServer":
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demosite", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``KeyboardInterrupt``."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def __enter__(self) -> "DemoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- counters --------------------------------------------------------------------
    @property
    def image_bodies_served(self) -> int:
        with self._lock:
            return self._image_bodies

    def hits(self, path: str) -> int:
        """Requests (any method and status) for this URL path; a query string is ignored."""
        with self._lock:
            return self._hits[unquote(urlsplit(path).path)]

    def bodies_served(self, path: str | None = None) -> int:
        """Responses with a non-empty body (any content type), for one path or in total."""
        with self._lock:
            return sum(self._bodies.values()) if path is None else self._bodies[unquote(urlsplit(path).path)]

    def image_bodies(self) -> dict[str, int]:
        """URL path -> image responses with a body: which images a crawl transferred."""
        with self._lock:
            return dict(self._image_paths)

    def reset_counters(self) -> None:
        with self._lock:
            self._hits.clear()
            self._bodies.clear()
            self._image_paths.clear()
            self._image_bodies = 0

    # -- request handling --------------------------------------------------------------
    def _server_map(self) -> dict:
        """The generator's override map, reloaded when the file changes."""
        path = self.root / SERVER_MAP
        try:
            st = path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return {}
        with self._lock:
            if key != self._map_key:
                self._map = json.loads(path.read_text(encoding="utf-8"))
                self._map_key = key
            return self._map

    def _resolve(self, url_path: str) -> Path | None:
        candidate = (self.root / url_path.lstrip("/")).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None  # path traversal
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _validator(
        self, file: Path, st: os.stat_result, templated: bool, data: bytes | None
    ) -> tuple[str, bytes | None]:
        """(ETag, body-if-templated), cached by (path, mtime, size) to keep serving cheap."""
        key = (str(file), st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        body = None
        if templated:
            body = (data if data is not None else file.read_bytes()).replace(
                BASE_URL_TOKEN.encode(), self.base_url.encode())
            digest = hashlib.sha256(body).hexdigest()
        elif data is not None:
            digest = hashlib.sha256(data).hexdigest()
        else:
            with file.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        value = (f'"{digest[:40]}"', body)
        with self._lock:
            self._cache[key] = value
        return value

    def _handle(self, req: _Handler, head: bool) -> None:
        url_path = unquote(urlsplit(req.path).path) or "/"
        with self._lock:
            self._hits[url_path] += 1
        smap = self._server_map()
        try:
            target = smap.get("redirects", {}).get(url_path)
            if target is not None:
                self._send_empty(req, 302, {"Location": target})
                return
            hidden = url_path in smap.get("hidden", []) or url_path == "/" + SERVER_MAP
            file = None if hidden else self._resolve(url_path)
            if file is None:
                self._send_not_found(req, head, url_path)
                return
            # Overrides are keyed by URL path; "/x/" and "/x/index.html" are the same file.
            keys = (url_path, "/" + file.relative_to(self.root).as_posix())
            templated = any(k in smap.get("templated", []) for k in keys)
            overrides = smap.get("content_types", {})
            ctype = next((overrides[k] for k in keys if k in overrides), None) or content_type_for(file.name)
            with file.open("rb") as fh:
                # Headers and body come from one open file, so a photo replaced meanwhile
                # is served either wholly old or wholly new.
                st = os.fstat(fh.fileno())
                data = fh.read() if st.st_size <= _INLINE_BYTES else None
                etag, body = self._validator(file, st, templated, data)
                body = body if body is not None else data
                headers = {
                    "Content-Type": ctype,
                    "ETag": etag,
                    "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
                    **next((smap["headers"][k] for k in keys if k in smap.get("headers", {})), {}),
                }
                if self._not_modified(req, etag, st.st_mtime):
                    self._send_empty(req, 304, headers)
                    return
                length = len(body) if body is not None else st.st_size
                req.send_response(200)
                for k, v in {**headers, "Content-Length": str(length)}.items():
                    req.send_header(k, v)
                req.end_headers()
                if head or length == 0:
                    return
                # Counted once the body starts: a client may abort a big download midway.
                with self._lock:
                    self._bodies[url_path] += 1
                    if ctype.lower().startswith("image/"):
                        self._image_bodies += 1
                        self._image_paths[url_path] += 1
                if body is not None:
                    req.wfile.write(body)
                else:
                    shutil.copyfileobj(fh, req.wfile, 256 * 1024)
        except (BrokenPipeError, ConnectionResetError):
            req.close_connection = True

    @staticmethod
    def _not_modified(req: _Handler, etag: str, mtime: float) -> bool:
        inm = req.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = req.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(mtime) <= since
        return False

    @staticmethod
    def _send_empty(req: _Handler, status: int, headers: dict[str, str]) -> None:
        req.send_response(status)
        for k, v in headers.items():
            req.send_header(k, v)
        if status != 304:
            req.send_header("Content-Length", "0")
        req.end_headers()

    def _send_not_found(self, req: _Handler, head: bool, url_path: str) -> None:
        body = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
        req.send_response(404)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if not head:
            with self._lock:
                self._bodies[url_path] += 1
            req.wfile.write(body)
