"""The demo university site: ground truth, served bytes, validators and bad inputs."""

from __future__ import annotations

import hashlib
import io
import os
import re
import urllib.error
import urllib.request
import urllib.robotparser
from pathlib import Path

import pytest
import yaml
from PIL import Image

from infra.demosite import DemoServer, GroundTruth, build_site

# ../shared/data beside the project; ACADEMIC_FACES_TEST_DATA points elsewhere.
DATA = Path(os.environ.get("ACADEMIC_FACES_TEST_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
FACES, NONFACE = DATA / "faces", DATA / "nonface"
LIMIT = 12 * 1024 * 1024


@pytest.fixture(scope="module")
def data_dir() -> Path:
    if not (FACES / "lfw").is_dir() or not NONFACE.is_dir():
        reason = f"shared test data missing: expected {FACES}/lfw and {NONFACE} (see shared/data/README.md)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return DATA


@pytest.fixture(scope="module")
def site(data_dir, tmp_path_factory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("demosite")
    return out, build_site(out, FACES, NONFACE)


@pytest.fixture(scope="module")
def server(site):
    with DemoServer(site[0]) as srv:
        yield srv


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_plain = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, method: str = "GET", headers: dict | None = None):
    """(status, headers, body) without following redirects or raising on 3xx/4xx."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with _plain.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def text_of(html: str) -> str:
    """Visible-ish text, whitespace-normalised (good enough to find names)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- ground truth ----------------------------------------------------------------------
def test_truth_shape(site):
    out, truth = site
    assert [d.category for d in truth.departments] == ["cs", "econ", "german", "mechanical"]
    assert all(re.fullmatch(r"[a-z0-9-]+", d.slug) for d in truth.departments)
    assert all(len(d.people) == 8 for d in truth.departments) and len(truth.people) == 32
    names = [p.name for p in truth.people]
    assert len(set(names)) == len(names)
    assert len({p.sha256 for p in truth.people}) == len(names)
    assert not set(names) & set(truth.absent_names)
    assert not set(names) & {p.name for p in truth.disallowed_people}
    assert len(truth.disallowed_people) == 3
    assert sum(bool(re.search("[äöüß]", p.name)) for p in truth.department("german").people) >= 2
    assert any(p.name.startswith("Prof. Dr.") for p in truth.people)
    assert any(p.name.endswith(", M.Sc.") for p in truth.people)
    assert set(truth.bad_inputs) == {"http_404", "not_an_image", "svg", "data_uri", "too_small",
                                     "decompression_bomb", "redirect_loop", "too_large", "page_too_large", "noai"}
    for p in truth.people:  # the site's bytes are the LFW file's bytes
        assert hashlib.sha256(Path(p.source_file).read_bytes()).hexdigest() == p.sha256
    assert GroundTruth.load(out) == truth


def test_deterministic_from_seed(site, tmp_path):
    out, truth = site
    again = build_site(tmp_path / "a", FACES, NONFACE, seed=0)
    assert again == truth
    assert (tmp_path / "a/cs/staff.html").read_bytes() == (out / "cs/staff.html").read_bytes()
    other = build_site(tmp_path / "b", FACES, NONFACE, people_per_department=2, seed=1)
    assert {p.source_file for p in other.people} != {p.source_file for p in truth.people[:8]}
    with pytest.raises(FileExistsError):
        build_site(Path(__file__).parent, FACES, NONFACE)


def test_departments_yaml(site, server):
    _, truth = site
    reg = yaml.safe_load(truth.departments_yaml(server.base_url))
    entries = {d["category"]: d for d in reg["departments"]}
    assert set(entries) == {"cs", "econ", "german", "mechanical"}
    assert entries["mechanical"]["render_js"] == "auto"
    for d in reg["departments"]:
        assert set(d) >= {"slug", "university", "department", "category", "start_urls", "render_js"}
        (url,) = d["start_urls"]
        assert url.startswith(server.base_url + "/") and fetch(url)[0] == 200
        assert all(p.startswith("/") and p.endswith("/") for p in d["allowed_paths"])


# -- served bytes and validators ----------------------------------------------------------------
def test_photos_served_byte_for_byte(site, server):
    _, truth = site
    for p in truth.people + truth.disallowed_people:
        for path in [p.photo_path, *p.alt_paths]:
            status, headers, body = fetch(server.base_url + path)
            assert status == 200, path
            assert hashlib.sha256(body).hexdigest() == p.sha256, path
    octet = [p for p in truth.people
             if fetch(server.base_url + p.photo_path, "HEAD")[1]["Content-Type"] == "application/octet-stream"]
    assert len(octet) == 1 and fetch(server.base_url + octet[0].photo_path)[2][:3] == b"\xff\xd8\xff"


def test_conditional_get_and_head(site, server):
    _, truth = site
    url = server.base_url + truth.people[0].photo_path
    status, headers, body = fetch(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and body and etag.startswith('"') and modified
    server.reset_counters()
    for cond in ({"If-None-Match": etag}, {"If-None-Match": f'"x", W/{etag}'}, {"If-Modified-Since": modified}):
        status, headers, body = fetch(url, headers=cond)
        assert (status, body) == (304, b"") and headers["ETag"] == etag
    status, headers, body = fetch(url, "HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    assert server.image_bodies_served == 0
    assert server.hits(truth.people[0].photo_path) == 4
    assert fetch(url, headers={"If-None-Match": '"other"'})[0] == 200
    assert server.image_bodies_served == 1
    page = fetch(server.base_url + "/cs/staff.html")[1]["ETag"]
    assert fetch(server.base_url + "/cs/staff.html", headers={"If-None-Match": page})[0] == 304


def test_replace_photo(data_dir, tmp_path):
    truth = build_site(tmp_path, FACES, NONFACE, people_per_department=2)
    new_file = next(p for p in sorted((FACES / "lfw").glob("*/*_0002.jpg"))
                    if str(p) not in {q.source_file for q in truth.people})
    with DemoServer(tmp_path) as srv:
        person = truth.department("econ").people[1]
        url = srv.base_url + person.photo_path
        _, headers, old = fetch(url)
        updated = truth.replace_photo(tmp_path, "demo-econ", 1, new_file)
        srv.reset_counters()
        status, new_headers, new = fetch(url, headers={"If-None-Match": headers["ETag"],
                                                       "If-Modified-Since": headers["Last-Modified"]})
        assert status == 200 and new == new_file.read_bytes() != old
        assert new_headers["ETag"] != headers["ETag"]
        assert new_headers["Last-Modified"] != headers["Last-Modified"]
        assert updated.sha256 == hashlib.sha256(new).hexdigest() and updated.source_file == str(new_file)
        assert GroundTruth.load(tmp_path).department("econ").people[1] == updated
        for alt in updated.alt_paths:  # the srcset 2x serves the same file
            assert fetch(srv.base_url + alt)[2] == new
        assert fetch(url, headers={"If-None-Match": new_headers["ETag"]})[0] == 304


def test_hidden_files_and_paths(server):
    for path in ("/ground_truth.json", "/_server.json", "/../../etc/passwd", "/nope.html"):
        assert fetch(server.base_url + path)[0] == 404, path
    assert fetch(server.base_url + "/econ/team/")[0] == 200
    assert fetch(server.base_url + "/", "HEAD")[0] == 200


# -- site features ---------------------------------------------------------------------------------
def test_robots_disallows_intern(site, server):
    _, truth = site
    status, _, body = fetch(server.base_url + "/robots.txt")
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.decode().splitlines())
    assert not rp.can_fetch("academic-faces", server.base_url + "/intern/team.html")
    for d in truth.departments:
        assert rp.can_fetch("academic-faces", server.base_url + d.start_path)
    assert all(p.photo_path.startswith("/intern/") for p in truth.disallowed_people)
    econ = fetch(server.base_url + "/econ/team/")[2].decode()
    assert 'href="/intern/team.html"' in econ
    intern = text_of(fetch(server.base_url + "/intern/team.html")[2].decode())
    assert all(p.name in intern for p in truth.disallowed_people)


def test_static_pages_show_people(site, server):
    _, truth = site
    for p in truth.people[:24]:  # cs, econ, german (mechanical is rendered by JavaScript)
        _, headers, body = fetch(server.base_url + p.page_path)
        charset = headers.get_content_charset()
        assert p.name in text_of(body.decode(charset)), (p.name, p.page_path)
    page2 = fetch(server.base_url + "/cs/staff-2.html")[2].decode()
    assert f'src="{server.base_url}/cs/' in page2 and "{{BASE_URL}}" not in page2
    assert "Weiter &raquo;" in fetch(server.base_url + "/cs/staff.html")[2].decode()
    econ = fetch(server.base_url + "/econ/team/")[2].decode()
    for marker in ('data-src="', "srcset=", "<figcaption", "<picture>", "background-image:url("):
        assert marker in econ, marker


def test_iso_8859_1_department(site, server):
    _, truth = site
    status, headers, body = fetch(server.base_url + "/german/personen.html")
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert b'<meta charset="iso-8859-1">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = text_of(body.decode("iso-8859-1"))
    umlauts = [p.name for p in truth.department("german").people if re.search("[äöüß]", p.name)]
    assert len(umlauts) >= 2 and all(n in page for n in umlauts)
    assert "<dl" in body.decode("iso-8859-1")
    detail = fetch(server.base_url + truth.department("german").people[0].page_path)[2].decode("iso-8859-1")
    assert '<base href="/german/">' in detail and "<h1>" in detail


def test_javascript_department(site, server):
    _, truth = site
    html = fetch(server.base_url + "/mechanical/team.html")[2].decode()
    people = truth.department("mechanical").people
    assert "<script>" in html and 'id="team-app"' in html
    for p in people:
        assert p.name not in html and p.name.split()[-1] not in text_of(html)
        assert p.photo_path not in html
    data = fetch(server.base_url + "/mechanical/api/team.json")[2].decode()
    assert all(p.name in data and p.photo_path in data for p in people)


def test_decoys(site, server):
    _, truth = site
    photos = {p.file_path for p in truth.people}
    assert "/assets/img/logo.png" in truth.decoy_paths and "/assets/blank.gif" in truth.decoy_paths
    for path in truth.decoy_paths:
        status, headers, _ = fetch(server.base_url + path, "HEAD")
        assert status == 200 and headers["Content-Type"].startswith("image/"), path
        assert path not in photos
    icon = Image.open(io.BytesIO(fetch(server.base_url + "/assets/icons/mail.png")[2]))
    assert icon.size == (16, 16)
    # the PNG placeholder avatar is reused for several people
    pages = fetch(server.base_url + "/cs/staff.html")[2] + fetch(server.base_url + "/mechanical/api/team.json")[2]
    assert pages.count(b"/assets/img/default-avatar.png") >= 2


def test_bad_inputs(site, server):
    _, truth = site
    bad, base = truth.bad_inputs, server.base_url
    assert fetch(base + bad["http_404"][0])[0] == 404
    status, headers, body = fetch(base + bad["not_an_image"][0])
    assert headers["Content-Type"] == "image/jpeg" and body.lstrip().startswith(b"<!DOCTYPE html")
    assert fetch(base + bad["svg"][0], "HEAD")[1]["Content-Type"] == "image/svg+xml"
    assert bad["data_uri"][0].startswith("data:image/png;base64,")
    assert bad["data_uri"][0] in fetch(base + "/econ/team/")[2].decode()
    assert Image.open(io.BytesIO(fetch(base + bad["too_small"][0])[2])).size == (24, 24)
    _, headers, body = fetch(base + bad["decompression_bomb"][0])
    assert len(body) < 1024 * 1024 and body.startswith(b"\x89PNG")
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(body))
    status, headers, _ = fetch(base + "/loop/a")
    assert status == 302 and headers["Location"] == "/loop/b"
    assert fetch(base + "/loop/b")[1]["Location"] == "/loop/a"
    for reason in ("too_large", "page_too_large"):
        status, headers, _ = fetch(base + bad[reason][0], "HEAD")
        assert status == 200 and int(headers["Content-Length"]) > LIMIT, reason
    assert fetch(base + bad["too_large"][0], "HEAD")[1]["Content-Type"] == "image/jpeg"
    # every bad image is referenced from some page of the site (not counting the archive)
    out = site[0]
    referenced = "".join(f.read_text("latin-1") for f in out.rglob("*.html") if f.stat().st_size < LIMIT)
    for reason in ("http_404", "decompression_bomb", "svg", "too_large", "not_an_image", "too_small"):
        assert bad[reason][0].rsplit("/", 1)[1] in referenced, reason
    assert 'src="/loop/a"' in referenced
    assert 'href="seite-2.html"' in referenced


def test_counters_and_quiet(site, server, capfd):
    _, truth = site
    server.reset_counters()
    assert server.image_bodies_served == 0 and server.hits("/cs/staff.html") == 0
    fetch(server.base_url + "/cs/staff.html?x=1")
    fetch(server.base_url + "/assets/img/logo.png")
    fetch(server.base_url + truth.bad_inputs["http_404"][0])
    assert server.hits("/cs/staff.html") == 1 and server.image_bodies_served == 1
    assert server.bodies_served("/assets/img/logo.png") == 1
    assert server.image_bodies() == {"/assets/img/logo.png": 1}
    assert capfd.readouterr().err == ""
