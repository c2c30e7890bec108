"""`academic-faces demo`: the main job on embedded defaults.

Builds the local demo university from face photos, serves it on 127.0.0.1, crawls every
department into the (embedded or configured) object store and prints the summary.
"""
from __future__ import annotations

import time
from pathlib import Path

from infra.demosite import DemoServer, build_site
from infra.index import rebuild_merged_index
from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore
from spiders.registry import parse_registry
from spiders.runner import crawl_departments


def run_demo(*, people_per_department: int, port: int, data_dir: Path, serve_only: bool, console) -> int:
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
    from flows.summaries import crawl_table, table_console

    table_console().print(crawl_table([r.summary() for r in results]))
    found = set(merged.loc[merged["status"] == "present", "sha256"])
    expected = {p.sha256 for p in truth.people}
    console.print(f"stored {len(found & expected)} of {len(expected)} ground-truth photos, "
                  f"{len(found - expected)} unexpected; index: `academic-faces index export --out index.csv`")
    return 0 if all(r.ok for r in results) and found == expected else 1
