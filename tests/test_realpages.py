"""Real department pages (tests/fixtures/realpages), served on 127.0.0.1 and read through the CLI:
`crawl --dry-run --json` the way held-out pages are scored, and `departments preview`."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from spiders.extract import name_key
from spiders.extract.evaluate import corpus_part, crawl_offline, load_fixture_site, score
from tests.conftest import require_shared_data
from tests.realpages import REALPAGES, PageServer, corpus_sites, start_page, with_base_href

pytestmark = pytest.mark.slow

MAX_SITES = 6  # one scrapy process per department: a sample keeps the test quick


def _single_page_dev_sites() -> list[Path]:
    sites = [f for f in corpus_sites("dev") if len(json.loads((f / "site.json").read_text())["pages"]) == 1]
    return sites[:MAX_SITES]


def _registry(path: Path, entries: list[dict]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"departments": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_dry_run_json_on_served_real_pages_matches_the_offline_scores(cli, tmp_path):
    sites = _single_page_dev_sites()
    assert len(sites) >= 2, "the real corpus needs single-page sites in its development part"
    files, entries = {}, []
    for i, folder in enumerate(sites):
        url, body = start_page(folder)
        files[f"/{folder.name}/"] = ("text/html", with_base_href(body, url))
        entries.append({"slug": f"real-{i}", "university": "real", "department": folder.name, "category": "cs",
                        "start_urls": [f"/{folder.name}/"], "render_js": "false"})
    with PageServer(files) as server:
        for e in entries:  # JavaScript stays off: a browser would fetch the real site's scripts
            e["start_urls"] = [server.base_url + e["start_urls"][0]]
        registry = _registry(tmp_path / "departments.yaml", entries)
        proc = cli("crawl", "--departments", str(registry), "--dry-run", "--json", "--parallel", "3")
        hits = dict(server.hits)
    results = json.loads(proc.stdout)  # standard output is the JSON alone
    assert [r["slug"] for r in results] == [e["slug"] for e in entries]
    for result, folder in zip(results, sites):
        assert result["ok"] and result["pages_fetched"] == 1, result
        assert all(isinstance(v, int) for v in result["skipped"].values())
        pages, start, truth = load_fixture_site(folder)
        offline = crawl_offline(pages, start)
        served = {(p["name"], p["photo_url"]) for p in result["people"]}
        # photo and page URLs resolve against the original site (<base href>); one person, one photo
        assert served == {(p.name, p.photo_url) for p in offline}, folder.name
        assert all(p["page_url"].startswith(server.base_url) for p in result["people"])
        got = score([type(offline[0])(p["name"], p["photo_url"], None) for p in result["people"]], truth) \
            if offline else score([], truth)
        assert got["recall"] == score(offline, truth)["recall"]
    # a dry run requests pages, never photos (and robots.txt once per host)
    assert set(hits) <= {f"/{f.name}/" for f in sites} | {"/robots.txt"}
    assert all(n == 1 for path, n in hits.items() if path != "/robots.txt")


def test_crawl_json_needs_dry_run(cli):
    proc = cli("crawl", "--json", check=False)
    assert proc.returncode == 1 and "--json goes with --dry-run" in proc.stderr


PREVIEW_SITE = "fh-koeln-medieninformatik-leute"  # relative photo URLs: served locally with real faces


@pytest.fixture(scope="module")
def preview_site():
    """One real page at its original path on 127.0.0.1, its portraits replaced by real face photos."""
    folder = REALPAGES / PREVIEW_SITE
    meta = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    url, body = start_page(folder)
    faces = sorted((require_shared_data() / "faces" / "lfw").glob("*/*.jpg"))
    files = {urlsplit(url).path: ("text/html", body)}
    for face, person in zip(faces[::7], meta["truth"]):
        files[urlsplit(person["photo_url"]).path] = ("image/jpeg", face.read_bytes())
    with PageServer(files) as server:
        yield server, server.base_url + urlsplit(url).path, meta


def test_departments_preview_shows_each_person_with_a_thumbnail(cli, preview_site, tmp_path):
    server, url, meta = preview_site
    out = tmp_path / "preview" / "page.html"
    proc = cli("departments", "preview", url, "--html", str(out), "--json")
    result = json.loads(proc.stdout)
    names = [p["name"] for p in result["people"]]
    assert sorted(map(name_key, names)) == sorted(name_key(t["name"]) for t in meta["truth"])
    assert {p["photo_url"] for p in result["people"]} == {urljoin(url, urlsplit(t["photo_url"]).path)
                                                          for t in meta["truth"]}
    # one page only: the lecturers listed by name, with a link to their own page, are shown unread
    assert result["pages_fetched"] == 1
    assert sorted(name_key(p["name"]) for p in result["unfollowed"]) == sorted(map(name_key,
                                                                                  meta["people_without_photo"]))
    page = out.read_text(encoding="utf-8")
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', page)) == len(names)  # self-contained
    assert "<script" not in page and 'src="http' not in page
    for name in names:
        assert html.escape(name) in page
    banner = next(s for s in result["skipped_images"] if s["url"].endswith("bg_fh_oben.gif"))
    assert banner["reason"] == "banner" and "bg_fh_oben.gif" in page
    assert not list(tmp_path.glob("preview/.preview-*"))  # written atomically, nothing left over
    # --follow reads the people's own pages too (here: not served, so each ends as a 404)
    followed = json.loads(cli("departments", "preview", url, "--follow", "--json").stdout)
    assert followed["unfollowed"] == [] and followed["skipped"].get("page_http_404") == len(result["unfollowed"])
    # the table form names everyone too
    table = cli("departments", "preview", url).stdout
    assert all(name.split()[-1] in table for name in names)


def test_departments_preview_obeys_robots_txt(cli, tmp_path):
    files = {"/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /staff/\n"),
             "/staff/": ("text/html", b"<html><body><img src='/a.jpg'><h3>Anna Schulz</h3></body></html>")}
    with PageServer(files) as server:
        proc = cli("departments", "preview", server.base_url + "/staff/", "--json", check=False)
        hits = dict(server.hits)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["skipped"].get("page_robots_disallowed") == 1
    assert "/staff/" not in hits


def test_departments_preview_rejects_a_non_http_url(cli):
    proc = cli("departments", "preview", "ftp://example.org/staff", check=False)
    assert proc.returncode != 0 and "not an http(s) URL" in proc.stderr


def test_corpus_part_is_fixed_by_collection_round():
    assert corpus_part({"institution": "U"}) == "dev" and corpus_part({"round": 1}) == "dev"
    assert corpus_part({"round": 2}) == "dev"  # scored once, then worked on
    assert corpus_part({"round": 3}) == "dev" and corpus_part({"round": 9}) == "dev"
    assert corpus_part({"institution": "U", "round": 10}) == "final"
