"""Benchmark: crawl speed on the demo university, against a baseline measured in the same run.

The baseline renders every page in Selenium/Chromium, as the reference study crawled.
Ours fetches static pages plainly and renders only the JavaScript department. Reported:
pages/s and images/s per mode, the speed-up on static pages (target >= 10x), and the
time per rendered JavaScript page (target < 1 s). Times are the crawls' own elapsed times
(Scrapy's `elapsed_time_seconds`, browser start-up included), not Python start-up.

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
from infra.services import storage_settings  # noqa: E402
from infra.settings import load_settings  # noqa: E402
from infra.index import read_merged_index  # noqa: E402
from infra.store import ObjectStore  # noqa: E402
from spiders.extract import name_key  # noqa: E402
from spiders.registry import parse_registry  # noqa: E402
from spiders.runner import run_crawl  # noqa: E402


def pair_scores(settings, truth) -> dict:
    """Precision/recall of the stored (person, photo bytes) pairs against the ground truth."""
    store = ObjectStore.from_settings(settings)
    index = read_merged_index(store)
    got = {(name_key(r.name), r.sha256) for r in index.itertuples() if r.status == "present"}
    want = {(name_key(p.name), p.sha256) for p in truth.people}
    return {"precision": len(got & want) / len(got), "recall": len(got & want) / len(want)}


def crawl_all(registry_text: str, settings, workdir: Path, label: str, js_slugs: set[str]) -> dict:
    registry = workdir / f"{label}.yaml"
    registry.write_text(registry_text)
    settings = settings.replace(departments_file=registry, bucket=f"bench-{label}-{uuid.uuid4().hex[:6]}")
    keys = ("pages", "images", "seconds")
    totals = {"all": dict.fromkeys(keys, 0.0), "static": dict.fromkeys(keys, 0.0), "browser_pages": 0,
              "browser_seconds": 0.0}
    totals["settings"] = settings
    for dept in parse_registry(registry_text):
        result = run_crawl(dept.slug, settings)
        if not result.ok:
            raise SystemExit(f"{label}/{dept.slug} failed:\n{result.log_tail}")
        s = result.stats
        row = {"pages": s.get("pages/fetched", 0), "images": s.get("images/new", 0),
               "seconds": float(s.get("elapsed_time_seconds", 0.0))}
        groups = ("all",) if dept.slug in js_slugs else ("all", "static")
        for group in groups:
            for k in keys:
                totals[group][k] += row[k]
        totals["browser_pages"] += s.get("browser/pages", 0)
        totals["browser_seconds"] += float(s.get("browser/seconds", 0.0))
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20, help="people per department")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    data = Path(args.data)
    base = load_settings().replace(download_delay=0.0, concurrency_per_domain=8)  # measure the crawler, not politeness
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        truth = build_site(work / "site", data / "faces" / "lfw", data / "nonface", people_per_department=args.people)
        with DemoServer(work / "site") as server, storage_settings(base.replace(home=work / "home")) as settings:
            ours = truth.departments_yaml(server.base_url)
            baseline = ours.replace("render_js: auto", "render_js: true").replace("render_js: false", "render_js: true")
            js = {d.slug for d in truth.departments if d.category == "mechanical"}  # the demo's JavaScript department
            results = {"baseline (Selenium every page)": crawl_all(baseline, settings, work, "baseline", js),
                       "academic-faces": crawl_all(ours, settings, work, "ours", js)}
            scores = {label: pair_scores(t["settings"], truth) for label, t in results.items()}
    print(f"demo university: {len(truth.departments)} departments, {len(truth.people)} people")
    print(f"{'mode':34} {'pages':>6} {'images':>6} {'seconds':>8} {'pages/s':>8} {'images/s':>9} {'static pages/s':>15}")
    rates = {}
    for label, t in results.items():
        a, st = t["all"], t["static"]
        rates[label] = st["pages"] / st["seconds"]
        print(f"{label:34} {a['pages']:6.0f} {a['images']:6.0f} {a['seconds']:8.2f} {a['pages'] / a['seconds']:8.2f} "
              f"{a['images'] / a['seconds']:9.2f} {rates[label]:15.2f}")
    for label, score in scores.items():
        print(f"{label}: (name, photo) pairs vs ground truth: precision {score['precision']:.3f}, "
              f"recall {score['recall']:.3f}")
    ours, baseline = rates["academic-faces"], rates["baseline (Selenium every page)"]
    print(f"static pages: {ours / baseline:.1f}x the Selenium baseline (target >= 10x)")
    js = results["academic-faces"]
    if js["browser_pages"]:
        print(f"JavaScript pages: {js['browser_seconds'] / js['browser_pages']:.2f} s per rendered page (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
