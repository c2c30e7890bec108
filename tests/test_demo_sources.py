"""infra/demosite/sources.py: where the demo's photos come from. Downloads run against a
local HTTP server on 127.0.0.1 (no internet needed); decoys are drawn with Pillow."""

from __future__ import annotations

import io
import re
import socket
import tarfile
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from infra.demosite import chrome, sources
from infra.demosite.generator import build_site, load_faces
from infra.demosite.sources import DECOY_FILES, MARKER, SourceError, resolve_faces, resolve_nonface
from tests.conftest import require_shared_data

DEMOSITE = Path(sources.__file__).parent


# -- helpers -------------------------------------------------------------------------------
@pytest.fixture
def serve():
    """start({path: (status, body[, claimed length])}) -> (base_url, hits); servers stop after the test."""
    servers = []

    def start(routes: dict[str, tuple]) -> tuple[str, list[tuple[str, str]]]:
        hits: list[tuple[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append((self.path, self.headers.get("User-Agent", "")))
                status, body, *claimed = routes.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(claimed[0] if claimed else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}", hits

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def people() -> dict[str, list[Path]]:
    """Two real photos each of the first three LFW people with at least two."""
    lfw = require_shared_data() / "faces" / "lfw"
    chosen: dict[str, list[Path]] = {}
    for d in sorted(lfw.iterdir()):
        photos = sorted(d.glob("*.jpg"))[:2]
        if "_" in d.name and len(photos) == 2:
            chosen[d.name] = photos
            if len(chosen) == 3:
                return chosen
    pytest.skip("shared LFW data has too few people with two photos")


def _tgz(people: dict[str, list[Path]], top: str = "lfw-deepfunneled", extra=()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for person, photos in people.items():
            for photo in photos:
                tar.add(photo, arcname=f"{top}/{person}/{photo.name}")
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _member(name: str, data: bytes = b"x", *, link: str | None = None) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
        return info, None
    info.size = len(data)
    return info, data


def _closed_port_url() -> str:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/lfw-deepfunneled.tgz"


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.endswith(".part") or p.name.startswith(".lfw-"))


def _jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "grey").save(path, format="JPEG")


# -- local folders -------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["Ada_Lovelace/Ada_Lovelace_0001.jpg", "lfw/Ada_Lovelace/Ada_Lovelace_0001.jpg"])
def test_given_folder_with_person_photos_is_used(tmp_path, layout):
    _jpeg(tmp_path / "faces" / layout)
    got = resolve_faces(tmp_path / "faces", default=tmp_path / "missing", cache_dir=tmp_path / "cache",
                        url=_closed_port_url())
    assert got == tmp_path / "faces"
    assert not (tmp_path / "cache").exists()


def test_shared_faces_folder_and_its_lfw_child_are_used_as_given(tmp_path):
    faces = require_shared_data() / "faces"
    for folder in (faces, faces / "lfw"):
        assert resolve_faces(folder, default=tmp_path / "missing", cache_dir=tmp_path / "cache") == folder


@pytest.mark.parametrize("content", ["missing", "empty", "flat.jpg", "Ada_Lovelace/photo.png"])
def test_bad_given_folder_is_refused_even_with_a_good_default(tmp_path, content):
    faces = tmp_path / "faces"
    if content != "missing":
        faces.mkdir()
    if content.endswith(".jpg"):
        _jpeg(faces / content)
    elif content.endswith(".png"):
        (faces / "Ada_Lovelace").mkdir()
        Image.new("RGB", (8, 8)).save(faces / content)
    _jpeg(tmp_path / "default" / "Ada_Lovelace" / "Ada_Lovelace_0001.jpg")
    with pytest.raises(SourceError) as err:
        resolve_faces(faces, default=tmp_path / "default", cache_dir=tmp_path / "cache", url=_closed_port_url())
    assert str(faces) in str(err.value) and "<person>/<photo>.jpg" in str(err.value)


def test_default_folder_is_used_without_downloading(tmp_path):
    _jpeg(tmp_path / "default" / "lfw" / "Ada_Lovelace" / "Ada_Lovelace_0001.jpg")
    got = resolve_faces(None, default=tmp_path / "default", cache_dir=tmp_path / "cache", url=_closed_port_url())
    assert got == tmp_path / "default"
    assert not (tmp_path / "cache").exists()


# -- downloads -----------------------------------------------------------------------------
def test_download_unpacks_once_and_feeds_the_generator(tmp_path, serve, people):
    base, hits = serve({"/lfw-deepfunneled.tgz": (200, _tgz(people))})
    cache, out = tmp_path / "cache", io.StringIO()
    got = resolve_faces(None, default=tmp_path / "missing", cache_dir=cache, url=f"{base}/lfw-deepfunneled.tgz",
                        progress=Console(file=out, width=120))
    assert got == cache / "lfw" and (got / MARKER).is_file()
    for person, photos in people.items():  # normalised layout, bytes unchanged
        for photo in photos:
            assert (got / person / photo.name).read_bytes() == photo.read_bytes()
    assert sorted(p.name for p in got.iterdir() if p.is_dir()) == sorted(people)
    assert _leftovers(cache) == [] and sorted(p.name for p in cache.iterdir()) == ["lfw"]
    assert len(hits) == 1 and hits[0][1].startswith("academic-faces (+https://")
    assert "downloading" in out.getvalue() and "kB" in out.getvalue()  # the progress bar was drawn

    again = resolve_faces(None, default=tmp_path / "missing", cache_dir=cache, url=f"{base}/lfw-deepfunneled.tgz")
    assert again == got and len(hits) == 1  # served from the cache

    faces = load_faces(got)
    assert [f.identity for f in faces] == sorted(people)
    assert all(f.file == got / f.identity / people[f.identity][0].name for f in faces)


def test_download_url_from_environment_and_lfw_top_folder(tmp_path, serve, people, monkeypatch):
    base, hits = serve({"/mirror/lfw.tgz": (200, _tgz(people, top="lfw"))})
    monkeypatch.setenv("ACADEMIC_FACES_LFW_URL", f"{base}/mirror/lfw.tgz")
    stale = tmp_path / "cache" / "lfw" / "Half_Done"  # an interrupted earlier attempt: no marker
    stale.mkdir(parents=True)
    got = resolve_faces(None, default=tmp_path / "missing", cache_dir=tmp_path / "cache", progress=False)
    assert [h[0] for h in hits] == ["/mirror/lfw.tgz"]
    assert sorted(p.name for p in got.iterdir() if p.is_dir()) == sorted(people)
    monkeypatch.delenv("ACADEMIC_FACES_LFW_URL")
    assert sources.lfw_url() == sources.LFW_URL == "https://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz"


def test_offline_fails_clearly_and_leaves_nothing(tmp_path):
    url, cache = _closed_port_url(), tmp_path / "cache"
    with pytest.raises(SourceError) as err:
        resolve_faces(None, default=tmp_path / "missing", cache_dir=cache, url=url, progress=False)
    message = str(err.value)
    assert url in message and "connection refused" in message
    assert "--faces" in message and "ACADEMIC_FACES_LFW_URL" in message
    assert list(cache.iterdir()) == []


def test_silent_server_times_out_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "TIMEOUT_S", 0.3)
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/lfw.tgz"
        with pytest.raises(SourceError) as err:
            resolve_faces(None, default=tmp_path / "missing", cache_dir=tmp_path / "cache", url=url, progress=False)
    assert url in str(err.value) and "no answer within 0.3 s" in str(err.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_truncated_download_is_refused(tmp_path, serve, people):
    body = _tgz(people)
    base, _ = serve({"/lfw.tgz": (200, body[: len(body) // 2], len(body))})
    with pytest.raises(SourceError) as err:
        resolve_faces(None, default=tmp_path / "missing", cache_dir=tmp_path / "cache", url=f"{base}/lfw.tgz",
                      progress=False)
    assert "incomplete" in str(err.value).lower()  # "download incomplete (n of m bytes)"
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("status, body, reason", [
    (404, None, "HTTP 404"),
    (200, b"<html>captive portal</html>", "not a tar archive"),
    (200, "readme", "no <person>/<photo>.jpg"),
], ids=["http-404", "not-tar", "no-people"])
def test_bad_downloads_fail_clearly(tmp_path, serve, status, body, reason):
    if body == "readme":  # a valid archive, but no person folders in it
        body = _tgz({}, extra=[_member("lfw/README.txt", b"hello")])
    base, _ = serve({"/lfw.tgz": (status, body)} if body is not None else {})
    cache = tmp_path / "cache"
    with pytest.raises(SourceError) as err:
        resolve_faces(None, default=tmp_path / "missing", cache_dir=cache, url=f"{base}/lfw.tgz", progress=False)
    assert reason in str(err.value) and f"{base}/lfw.tgz" in str(err.value) and "--faces" in str(err.value)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("bad", [
    _member("../evil.jpg", b"evil"),
    _member("lfw-deepfunneled/../../evil.jpg", b"evil"),
    _member("lfw-deepfunneled/Ada_Lovelace/link.jpg", link="/etc/passwd"),
    _member("lfw-deepfunneled/Ada_Lovelace/up.jpg", link="../../../evil.jpg"),
], ids=["parent", "nested-parent", "absolute-link", "link-outside"])
def test_unsafe_archive_members_are_refused(tmp_path, serve, people, bad):
    base, _ = serve({"/lfw.tgz": (200, _tgz(people, extra=[bad]))})
    cache = tmp_path / "sub" / "cache"
    with pytest.raises(SourceError) as err:
        resolve_faces(None, default=tmp_path / "missing", cache_dir=cache, url=f"{base}/lfw.tgz", progress=False)
    assert "unsafe archive member" in str(err.value)
    assert list(cache.iterdir()) == []  # no partial lfw/, no .part, no temp folder
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cache", "sub"]


# -- decoys --------------------------------------------------------------------------------
def test_decoy_files_match_what_the_generator_reads():
    named = set()
    for py in DEMOSITE.glob("*.py"):
        if py.name != "sources.py":
            named |= set(re.findall(r'"([\w.-]+\.(?:png|jpe?g|gif|svg))"', py.read_text(encoding="utf-8")))
    named |= {url.rsplit("/", 1)[1] for url in chrome.PARTNER_LOGOS}  # read via url.rsplit in _common
    assert named == set(DECOY_FILES) and len(DECOY_FILES) == len(set(DECOY_FILES))


def test_synthetic_decoys_are_complete_valid_and_deterministic(tmp_path):
    folder = resolve_nonface(None, cache_dir=tmp_path / "a")
    assert folder == tmp_path / "a" / "nonface"
    assert sorted(p.name for p in folder.iterdir()) == sorted(DECOY_FILES)
    for name in DECOY_FILES:
        if name.endswith(".svg"):
            assert ET.parse(folder / name).getroot().tag.endswith("svg")
            continue
        with Image.open(folder / name) as img:
            img.verify()
            assert img.format == ("JPEG" if name.endswith(".jpg") else "PNG")
            assert 64 <= min(img.size) and max(img.size) <= 512
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "logo.png").write_bytes((folder / "logo.png").read_bytes())
    other = resolve_nonface(incomplete, cache_dir=tmp_path / "b")
    assert other == tmp_path / "b" / "nonface"
    assert all((other / n).read_bytes() == (folder / n).read_bytes() for n in DECOY_FILES)


def test_shared_nonface_folder_is_returned_unchanged(tmp_path):
    shared = require_shared_data() / "nonface"
    assert resolve_nonface(shared, cache_dir=tmp_path / "cache") == shared
    assert not (tmp_path / "cache").exists()


def test_generator_builds_a_site_from_synthetic_decoys(tmp_path):
    nonface = resolve_nonface(None, cache_dir=tmp_path / "cache")
    truth = build_site(tmp_path / "site", require_shared_data() / "faces", nonface, people_per_department=2)
    assert truth.decoy_paths and all((tmp_path / "site" / p.lstrip("/")).is_file() for p in truth.decoy_paths)
