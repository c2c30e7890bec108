"""Benchmark: crawl speed on the demo university, against a baseline measured in the same run.

The baseline renders every page in Selenium/Chromium, as the reference study crawled.
Ours fetches static pages plainly and renders only the JavaScript department.

Two phases per mode, each department a real `scrapy crawl` subprocess:
- pages: a dry run (people found, no photo downloaded), so page handling is timed alone;
  target: static pages >= 10x the baseline's pages/s;
- full crawl: pages + photo downloads + checks + uploads to S3 (embedded SeaweedFS), for
  images/s, and the stored (name, photo) pairs scored against the site's ground truth.
Times are the crawls' own `elapsed_time_seconds` (browser start-up included, Python
start-up not). Per rendered JavaScript page: target < 1 s.

    .venv/bin/python bench/crawl.py [--people 20]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.demosite import DemoServer, build_site  # noqa: E402
from infra.index import read_merged_index  # noqa: E402
from infra.services import storage_settings  # noqa: E402
from infra.settings import load_settings  # noqa: E402
from infra.store import ObjectStore  # noqa: E402
from spiders.extract import name_key  # noqa: E402
from spiders.registry import parse_registry  # noqa: E402
from spiders.runner import run_crawl  # noqa: E402

BASELINE, OURS = "baseline (Selenium every page)", "academic-faces"


def pair_scores(settings, truth) -> tuple[float, float]:
    """Precision and recall of the stored (person, photo bytes) pairs against the ground truth."""
    index = read_merged_index(ObjectStore.from_settings(settings))
    got = {(name_key(r.name), r.sha256) for r in index.itertuples() if r.status == "present"}
    want = {(name_key(p.name), p.sha256) for p in truth.people}
    return len(got & want) / max(len(got), 1), len(got & want) / len(want)


def crawl_all(registry: Path, settings, js_slugs: set[str], dry_run: bool) -> dict:
    """Crawl every department once; sums for all departments and for the static ones."""
    settings = settings.replace(departments_file=registry, bucket=f"bench-{uuid.uuid4().hex[:10]}")
    totals = {group: {"pages": 0, "images": 0, "seconds": 0.0} for group in ("all", "static")}
    totals.update(browser_pages=0, browser_seconds=0.0, settings=settings)
    for dept in parse_registry(registry.read_text()):
        result = run_crawl(dept.slug, settings, dry_run=dry_run)
        if not result.ok:
            raise SystemExit(f"{registry.name}/{dept.slug} failed:\n{result.log_tail}")
        s = result.stats
        row = {"pages": s.get("pages/fetched", 0), "images": s.get("images/new", 0),
               "seconds": float(s.get("elapsed_time_seconds", 0.0))}
        for group in ("all",) if dept.slug in js_slugs else ("all", "static"):
            for key, value in row.items():
                totals[group][key] += value
        totals["browser_pages"] += s.get("browser/pages", 0)
        totals["browser_seconds"] += float(s.get("browser/seconds", 0.0))
    return totals


def rate(group: dict, what: str) -> float:
    return group[what] / group["seconds"] if group["seconds"] else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20, help="people per department")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    data = Path(args.data)
    # Measure the crawler, not the politeness delay (our own local server).
    base = load_settings().replace(download_delay=0.0, concurrency_per_domain=8)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        truth = build_site(work / "site", data / "faces" / "lfw", data / "nonface", people_per_department=args.people)
        js = {d.slug for d in truth.departments if d.render_js == "auto"}  # the demo's JavaScript department
        with DemoServer(work / "site") as server, storage_settings(base.replace(home=work / "home")) as settings:
            ours = truth.departments_yaml(server.base_url)
            registries = {OURS: work / "ours.yaml", BASELINE: work / "baseline.yaml"}
            registries[OURS].write_text(ours)
            registries[BASELINE].write_text(ours.replace("render_js: auto", "render_js: true")
                                            .replace("render_js: false", "render_js: true"))
            pages = {label: crawl_all(reg, settings, js, dry_run=True) for label, reg in registries.items()}
            full = {label: crawl_all(reg, settings, js, dry_run=False) for label, reg in registries.items()}
            scores = {label: pair_scores(t["settings"], truth) for label, t in full.items()}

    print(f"demo university: {len(truth.departments)} departments ({len(js)} JavaScript), {len(truth.people)} people")
    print(f"{'mode':32} {'static pages/s':>15} {'all pages/s':>12} {'images/s':>9} {'precision':>10} {'recall':>7}")
    for label in (BASELINE, OURS):
        p, f = pages[label], full[label]
        print(f"{label:32} {rate(p['static'], 'pages'):15.2f} {rate(p['all'], 'pages'):12.2f} "
              f"{rate(f['all'], 'images'):9.2f} {scores[label][0]:10.3f} {scores[label][1]:7.3f}")
    speedup = rate(pages[OURS]["static"], "pages") / rate(pages[BASELINE]["static"], "pages")
    print(f"static pages: {speedup:.1f}x the Selenium baseline (target >= 10x)")
    rendered = full[OURS]
    if rendered["browser_pages"]:
        print(f"JavaScript pages: {rendered['browser_seconds'] / rendered['browser_pages']:.2f} s per rendered "
              f"page, browser start excluded (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
