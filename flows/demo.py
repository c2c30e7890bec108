"""`academic-faces demo`: the main job on embedded defaults.

Builds the local demo university from face photos, serves it on 127.0.0.1, crawls every
department into the (embedded or configured) object store, then crops faces, splits by
person and trains the embedding probe, printing each stage's summary.
"""
from __future__ import annotations

import time
from pathlib import Path

from flows.summaries import crawl_table, table_console
from infra.demosite import DemoServer, build_site
from infra.index import rebuild_merged_index
from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore
from spiders.registry import parse_registry
from spiders.runner import crawl_departments


def run_demo(*, people_per_department: int, port: int, data_dir: Path, serve_only: bool, console,
             crawl_only: bool = False) -> int:
    faces, nonface = data_dir / "faces" / "lfw", data_dir / "nonface"
    if not faces.is_dir() or not nonface.is_dir():
        console.print(f"[red]demo data not found: expected {faces} and {nonface} (see --data)")
        return 1
    settings = load_settings()
    site_dir = settings.home / "demo-site"
    truth = build_site(site_dir, faces, nonface, people_per_department=people_per_department)
    with DemoServer(site_dir, port=port) as server:
        console.print(f"demo university at {server.base_url}/ ({len(truth.people)} staff with photos)")
        if serve_only:
            console.print("serving until Ctrl-C")
            while True:
                time.sleep(3600)
        registry = settings.home / "demo-departments.yaml"
        registry.write_text(truth.departments_yaml(server.base_url), encoding="utf-8")
        departments = parse_registry(registry.read_text(encoding="utf-8"), str(registry))
        # Our own local site: no need for the delay that protects other people's servers.
        settings = settings.replace(departments_file=registry.absolute(), download_delay=min(settings.download_delay, 0.1))
        with storage_settings(settings) as resolved:
            store = ObjectStore.from_settings(resolved)
            store.ensure_bucket()
            with console.status("crawling the demo university"):
                results = crawl_departments(departments, resolved, parallel=len(departments))
            merged, _ = rebuild_merged_index(store)
            table_console().print(crawl_table([r.summary() for r in results]))
            found = set(merged.loc[merged["status"] == "present", "sha256"])
            expected = {p.sha256 for p in truth.people}
            console.print(f"stored {len(found & expected)} of {len(expected)} ground-truth photos, "
                          f"{len(found - expected)} unexpected; index: `academic-faces index export --out index.csv`")
            crawled = all(r.ok for r in results) and found == expected
            if crawled and not crawl_only:
                learn(store, resolved, console)
    return 0 if crawled else 1


def learn(store: ObjectStore, settings, console) -> None:
    """Preprocess the crawled photos and train the probe on them."""
    from flows.summaries import preprocess_tables
    from ml.preprocess import preprocess
    from ml.train import train

    with console.status("cropping faces, grouping people, splitting"):
        summary = preprocess(store, settings)
    for table in preprocess_tables(summary):
        table_console().print(table)
    with console.status("training the embedding probe"):
        run = train(store, settings, "probe")
    console.print(f"probe run {run.run_id}: test accuracy {run.metrics['test_accuracy']:.3f} "
                  f"(the demo's departments are random LFW people: expect chance, about 0.25)")
