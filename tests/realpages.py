"""Serving saved real staff pages (tests/fixtures/realpages) on 127.0.0.1, the way held-out
pages are scored: each page at a local URL, with its original URL as `<base href>` so that
photo and link URLs resolve as on the real site (and point away from the local server)."""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REALPAGES = Path(__file__).parent / "fixtures" / "realpages"

_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_BASE = re.compile(rb"<base\s[^>]*href", re.IGNORECASE)


def with_base_href(html: bytes, url: str) -> bytes:
    """*html* with `<base href=url>` first in its head (pages with a base of their own keep it)."""
    if _BASE.search(html):
        return html
    tag = b'<base href="' + url.replace('"', "%22").encode("ascii", "xmlcharrefreplace") + b'">'
    m = _HEAD.search(html)
    if m:
        return html[:m.end()] + tag + html[m.end():]
    return tag + html


class PageServer:
    """A threaded server for a fixed {path: (content type, bytes)} map; counts requests per path.

    HTML goes out as `text/html` without a charset, so the page's BOM or meta charset decides."""

    def __init__(self, files: dict[str, tuple[str, bytes]]):
        self.files = files
        self.hits: Counter = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = urlsplit(self.path).path
                server.hits[path] += 1
                if path not in server.files:
                    self.send_error(404)
                    return
                ctype, body = server.files[path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "PageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def corpus_sites(part: str | None = None) -> list[Path]:
    from spiders.extract.evaluate import site_folders

    return site_folders(REALPAGES, part)


def start_page(folder: Path) -> tuple[str, bytes]:
    """(original URL, raw bytes) of a corpus site's first start page."""
    meta = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    url = meta["start_urls"][0]
    return url, (folder / meta["pages"][url]).read_bytes()
