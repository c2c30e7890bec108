"""`academic-faces demo`: the main job on embedded defaults.

Builds the local demo university from face photos (`--faces`; by default
../shared/data/faces/lfw, else a downloaded LFW archive), serves it on 127.0.0.1 and runs
the full pipeline flow against it: crawl every department into the (embedded or
configured) object store, crop faces, split by person, train, evaluate with the confound
controls, ending with the report's path.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from flows.summaries import table_console
from infra.demosite import DemoServer, build_site
from infra.demosite.sources import resolve_faces, resolve_nonface
from infra.index import read_merged_index
from infra.services import open_store
from infra.settings import load_settings

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEMO_DOWNLOAD_DELAY = 0.1  # our own local site: no need for the delay that protects other people's servers


def demo_sources(faces: Path | None, nonface: Path | None, home: Path, console) -> tuple[Path, Path]:
    faces_dir = resolve_faces(faces, default=SHARED_DATA / "faces" / "lfw", cache_dir=home / "downloads",
                              progress=console)
    default_nonface = SHARED_DATA / "nonface"
    nonface_dir = resolve_nonface(nonface or (default_nonface if default_nonface.is_dir() else None),
                                  cache_dir=home / "downloads")
    return faces_dir, nonface_dir


def run_demo(*, people_per_department: int, port: int, faces: Path | None, nonface: Path | None, serve_only: bool,
             console, models: list[str], controls: str = "all", recrawl_after_hours: float = 12.0) -> int:
    settings = load_settings()
    faces_dir, nonface_dir = demo_sources(faces, nonface, settings.home, console)
    site_dir = settings.home / "demo-site"
    truth = build_site(site_dir, faces_dir, nonface_dir, people_per_department=people_per_department)
    with DemoServer(site_dir, port=port) as server:
        console.print(f"demo university at {server.base_url}/ ({len(truth.people)} staff with photos)")
        if serve_only:
            console.print("serving until Ctrl-C")
            while True:
                time.sleep(3600)
        registry = settings.home / "demo-departments.yaml"
        registry.write_text(truth.departments_yaml(server.base_url), encoding="utf-8")
        os.environ.setdefault("ACADEMIC_FACES_DOWNLOAD_DELAY", str(DEMO_DOWNLOAD_DELAY))
        result = run_pipeline(registry, models, controls, recrawl_after_hours, console)
    with open_store(load_settings()) as store:
        merged = read_merged_index(store)
        found = set(merged.loc[merged["status"] == "present", "sha256"])
        expected = {p.sha256 for p in truth.people}
        console.print(f"stored {len(found & expected)} of {len(expected)} ground-truth photos, "
                      f"{len(found - expected)} unexpected; index: `academic-faces index export --out index.csv`")
        reports = download_reports(store, result["reports"], settings.home)
    for path in reports:
        print(f"report: {path}")
    return 0 if found == expected and reports else 1


def run_pipeline(registry: Path, models: list[str], controls: str, recrawl_after_hours: float, console) -> dict:
    from flows.cli_ops import stage_table
    from flows.pipeline import pipeline

    console.print("running the pipeline: crawl -> preprocess -> train -> evaluate (Prefect flow `pipeline`)")
    result = pipeline(departments_file=str(registry.absolute()), models=models, controls=controls,
                      recrawl_after_hours=recrawl_after_hours)
    table_console().print(stage_table(result["stages"]))
    console.print("the demo's departments are random LFW people: expect chance, and the report says so")
    return result


def download_reports(store, runs, home: Path) -> list[Path]:
    from ml.evaluate import download_report

    return [download_report(store, run, home / "reports" / run).absolute() for run in runs]
