"""Offline evaluation: crawl a stored site like the spider would and score the people found.

A fixture site is a folder with ``site.json``::

    {"base_url": "https://www.example.edu/",
     "start_urls": ["https://www.example.edu/team/"],
     "pages": {"https://www.example.edu/team/": "team.html", ...},
     "truth": [{"name": "Prof. Dr. Anna Schulz", "photo_url": "https://www.example.edu/img/schulz.jpg"}]}

HTML files may use any encoding declared by their BOM or meta charset.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urljoin

from w3lib.encoding import html_to_unicode
from w3lib.url import canonicalize_url

from .detail import extract_detail
from .dom import strip_fragment
from .model import Person
from .names import name_key
from .page import extract_page

__all__ = ["crawl_offline", "score", "load_fixture_site", "normalize_url", "read_html", "evaluate_folder", "corpus_part",
           "site_folders"]

MAX_PAGES = 500


def normalize_url(url: str) -> str:
    """Comparable form of a URL: fragment stripped, canonical escaping and query order."""
    url = (url or "").strip()
    if url.startswith("data:"):
        return url
    try:
        return canonicalize_url(strip_fragment(url), keep_fragments=False)
    except Exception:  # pragma: no cover - defensive
        return strip_fragment(url)


def _lookup(pages: Mapping[str, str], index: dict[str, str], url: str) -> str | None:
    n = normalize_url(url)
    if n in index:
        return index[n]
    alt = n[:-1] if n.endswith("/") else n + "/"
    return index.get(alt)


def crawl_offline(pages: Mapping[str, str], start_urls: list[str], selectors=None) -> list[Person]:
    """Follow pagination and detail links within *pages* (url -> html); return people with photos."""
    index = {normalize_url(u): u for u in pages}
    queue = deque(start_urls)
    visited: set[str] = set()
    found: list[Person] = []
    to_follow: list[Person] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        real = _lookup(pages, index, url)
        if real is None or normalize_url(real) in visited:
            continue
        visited.add(normalize_url(real))
        result = extract_page(pages[real], real, selectors)
        for p in result.people:
            if p.photo_url:
                found.append(p)
            elif p.detail_url:
                to_follow.append(p)
        queue.extend(result.next_pages)
    have = {name_key(p.name) for p in found}
    followed: set[str] = set()
    for p in to_follow:
        key = name_key(p.name)
        if key in have:
            continue
        real = _lookup(pages, index, p.detail_url or "")
        if real is None or normalize_url(real) in followed:
            continue
        followed.add(normalize_url(real))
        person = extract_detail(pages[real], real, expected_name=p.name)
        if person is not None and person.photo_url:
            found.append(person)
            have.add(key)
    # one entry per (person, photo)
    out: list[Person] = []
    seen: set[tuple[str, str]] = set()
    for p in found:
        sig = (name_key(p.name), normalize_url(p.photo_url or ""))
        if sig in seen:
            continue
        seen.add(sig)
        out.append(p)
    return out


def score(found: list[Person], truth: list[tuple[str, ...]]) -> dict:
    """Precision/recall of (name_key, photo URL) pairs against the truth.

    A truth row is ``(name, photo_url, *variants)``: the person is found when any variant of their
    picture (srcset candidate, <picture> source, lazy original) comes back under their name. A
    person the page shows under two names (a Japanese and an English line) has a tuple of names."""
    got: dict[tuple[str, str], Person] = {}
    for p in found:
        if not p.photo_url:
            continue
        got.setdefault((name_key(p.name), normalize_url(p.photo_url)), p)
    want: dict[tuple[str, str], int] = {}  # (name key, URL) -> truth row
    rows: list[tuple[str, str]] = []
    for i, (name, url, *variants) in enumerate(truth):
        names = name if isinstance(name, tuple) else (name,)
        rows.append((names[0], url))
        for u in (url, *variants):
            for n in names:
                want.setdefault((name_key(n), normalize_url(u)), i)
    hit_rows = {want[k] for k in got if k in want}
    tp = len(hit_rows)
    fp = [k for k in got if k not in want]
    # two variants of one person's picture count once: extra variants are neither right nor wrong
    fn = [rows[i] for i in range(len(rows)) if i not in hit_rows]
    returned = tp + len(fp)
    precision = tp / returned if returned else 1.0
    recall = tp / len(rows) if rows else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "tp": tp,
        "fp": len(fp),
        "fn": len(fn),
        "false_positives": [(got[k].name, got[k].photo_url) for k in fp],
        "missed": fn,
    }


def read_html(path: Path) -> str:
    """Decode an HTML file by its BOM / meta charset (browser rules: latin-1 means cp1252)."""
    raw = Path(path).read_bytes()

    def guess(data: bytes) -> str | None:
        # no BOM and no declaration: UTF-8 when it decodes, else the web's legacy default
        try:
            data.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return "cp1252"

    _, text = html_to_unicode(None, raw, auto_detect_fun=guess)
    return text


def load_fixture_site(folder: Path) -> tuple[dict[str, str], list[str], list[tuple[str, ...]]]:
    """(pages url -> html, start URLs, truth [(name, photo_url, *variants)]) of a fixture folder."""
    folder = Path(folder)
    meta = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    base = meta.get("base_url") or ""
    pages: dict[str, str] = {}
    for url, filename in (meta.get("pages") or {}).items():
        pages[urljoin(base, url)] = read_html(folder / filename)
    start = [urljoin(base, u) for u in (meta.get("start_urls") or [])]
    if not start and pages:
        start = [next(iter(pages))]
    truth = [((t["name"], *t["also_named"]) if t.get("also_named") else t["name"],
              *(urljoin(base, u) for u in [t["photo_url"], *(t.get("variants") or [])]))
             for t in (meta.get("truth") or [])]
    return pages, start, truth


FINAL_ROUND = 10  # pages of this round are scored once; earlier rounds are development data


def corpus_part(meta: Mapping) -> str:
    """'dev' or 'final' for a real-page fixture, by the collection round in its site.json.

    Rounds 1 to 9 were each scored once as a final part (README) and their errors were then
    worked on, so they are development data now. Pages of round FINAL_ROUND, from institutions
    not in the corpus yet, form the next final part."""
    return "final" if int(meta.get("round", 1)) >= FINAL_ROUND else "dev"


def site_folders(root: Path, part: str | None = None) -> list[Path]:
    """Fixture folders below *root* (those with site.json), optionally only one corpus part."""
    out = []
    for site_json in sorted(Path(root).glob("*/site.json")):
        if part is None or corpus_part(json.loads(site_json.read_text(encoding="utf-8"))) == part:
            out.append(site_json.parent)
    return out


def evaluate_folder(root: Path, selectors=None, part: str | None = None) -> dict:
    """Score every fixture site below *root* (folders with site.json); per site and in total."""
    sites = {}
    tp = fp = fn = 0
    for folder in site_folders(root, part):
        pages, start, truth = load_fixture_site(folder)
        result = score(crawl_offline(pages, start, selectors), truth)
        sites[folder.name] = result
        tp, fp, fn = tp + result["tp"], fp + result["fp"], fn + result["fn"]
    total = {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "tp": tp, "fp": fp, "fn": fn,
    }
    return {"sites": sites, "total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the generic extractor on fixture sites (site.json folders).")
    parser.add_argument("root", type=Path, help="folder holding one sub-folder per site")
    parser.add_argument("-v", "--verbose", action="store_true", help="list false positives and misses")
    args = parser.parse_args(argv)
    report = evaluate_folder(args.root)
    for name, r in report["sites"].items():
        print(f"{name:32s} P={r['precision']:.3f} R={r['recall']:.3f} tp={r['tp']} fp={r['fp']} fn={r['fn']}")
        if args.verbose:
            for item in r["false_positives"]:
                print(f"    FP   {item}")
            for item in r["missed"]:
                print(f"    MISS {item}")
    t = report["total"]
    print(f"{'TOTAL':32s} P={t['precision']:.3f} R={t['recall']:.3f} tp={t['tp']} fp={t['fp']} fn={t['fn']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
