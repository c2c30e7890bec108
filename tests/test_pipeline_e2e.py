"""The README's main job end to end: `academic-faces demo` builds the demo university,
serves it and runs the pipeline flow (crawl -> preprocess -> train -> evaluate) ending with
a report; `academic-faces run` then skips every stage whose inputs did not change, and a
crawl that fails is shown and fails the run while the later stages still run."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def stages(stdout: str) -> dict[str, str]:
    """stage -> status from the pipeline table."""
    return dict(re.findall(r"│ (crawl|preprocess|train-probe|evaluate-probe)\s+│ (ran|skipped|failed)", stdout))


def test_demo_runs_the_pipeline_then_unchanged_stages_are_skipped(cli, store, settings, prefect_api):
    out = cli("demo", "--people", "3", "--port", "0", timeout=600)
    assert "stored 12 of 12 ground-truth photos, 0 unexpected" in out.stderr
    assert stages(out.stdout) == {"crawl": "ran", "preprocess": "ran", "train-probe": "ran",
                                  "evaluate-probe": "ran"}
    report = Path(re.search(r"report: (\S+report\.html)", out.stdout).group(1))
    assert report.is_file() and "Confound controls" in report.read_text()
    run = json.loads(store.get_bytes("models/latest/probe.json"))["run_id"]
    assert store.exists(f"reports/{run}/report.html") and run in str(report)
    # Every department in the demo has its own category: the report must say the
    # leave-one-department-out control is impossible rather than print a number.
    metrics = json.loads(store.get_bytes(f"reports/{run}/metrics.json"))
    assert metrics["controls"]["lodo"]["status"] == "skipped"
    assert "fully confounded" in metrics["controls"]["lodo"]["finding"]
    # the demo runs the face-or-website controls and writes the model card beside the report
    assert all(metrics["controls"][name]["status"] == "done" for name in ("face_only", "context_only", "photo_style"))
    assert metrics["verdict"] in ("no_signal", "face_signal", "context_signal", "mixed", "inconclusive")
    assert "Face or website?" in report.read_text() and (report.parent / "model_card.md").is_file()
    assert store.exists(f"reports/{run}/model_card.md")
    # ... and where the model looks: occlusion maps of test faces, and their mean per class
    assert (report.parent / "saliency-mean.png").is_file() and (report.parent / "saliency-examples.png").is_file()
    assert metrics["saliency"]["occlusion"]["n"] > 0 and "Where the model looks" in report.read_text()

    registry = settings.home / "demo-departments.yaml"
    # `demo` started a temporary Prefect server of its own, as a user's would; the reruns use
    # the session's server (each temporary one costs ~20 s of CPU to start).
    server = {"PREFECT_API_URL": prefect_api}
    again = cli("run", "--departments", str(registry), "--controls", "all", "--json", timeout=600, env=server)
    rows = json.loads(again.stdout[again.stdout.index("[\n"):])
    assert {r["stage"]: r["status"] for r in rows} == {"crawl": "skipped", "preprocess": "skipped",
                                                        "train-probe": "skipped", "evaluate-probe": "skipped"}
    assert rows[-1]["outputs"]["run"] == run

    # The demo site is gone now: a forced recrawl fails, visibly, and the run exits non-zero.
    failed = cli("run", "--departments", str(registry), "--recrawl-after", "0", check=False, timeout=600,
                 env={**server, "ACADEMIC_FACES_CRAWL_RETRIES": "0"})
    assert failed.returncode == 1 and "crawl failed" in failed.stderr
    assert "no page could be fetched" in failed.stderr
    assert json.loads(store.get_bytes("pipeline/stages/crawl.json"))["outputs"] == {"departments": 4}
