"""Benchmark: the cost of the face-or-website controls against a plain evaluation.

In a fresh temporary ACADEMIC_FACES_HOME (embedded SeaweedFS, ephemeral Prefect API), builds
the demo university, runs the demo's pipeline once without controls (crawl, preprocess,
train the probe, evaluate), then times in this process, on the same run and data:
- the plain evaluation (baseline; the test crops' embeddings are cached by then);
- `--controls all`, cold: masked crops made and embedded for the first time;
- `--controls all`, warm: again, with every control's crops and embeddings cached;
- each control on its own (cold numbers come from the first all-controls call's steps).
The demographic control's perceived-gender model is trained once per machine before that and
timed apart (a set-up cost, like downloading weights).
Target: all controls together at most 6x the plain evaluation for the probe (cold).

    .venv/bin/python bench/evaluate.py [--people 12]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fresh_home import use_fresh_home  # noqa: E402
TARGET = 6.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=12, help="people per department (default 12)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        use_fresh_home(tmp)  # before the project's settings or Prefect load
        from rich.console import Console

        from flows.demo import DEMO_DOWNLOAD_DELAY, demo_sources
        from flows.pipeline import pipeline
        from infra.demosite import DemoServer, build_site
        from infra.services import storage_settings
        from infra.settings import load_settings
        from infra.store import ObjectStore
        from ml.evaluate import CONTROL_NAMES, evaluate_run

        os.environ.setdefault("ACADEMIC_FACES_DOWNLOAD_DELAY", str(DEMO_DOWNLOAD_DELAY))
        settings = load_settings()
        faces_dir, nonface_dir = demo_sources(None, None, settings.home, Console(stderr=True))
        truth = build_site(settings.home / "demo-site", faces_dir, nonface_dir, people_per_department=args.people)
        with DemoServer(settings.home / "demo-site") as server:
            registry = settings.home / "demo-departments.yaml"
            registry.write_text(truth.departments_yaml(server.base_url), encoding="utf-8")
            result = pipeline(departments_file=str(registry), models=["probe"], controls="none")
        run = next(r for r in result["stages"] if r["stage"] == "train-probe")["outputs"]["run"]

        with storage_settings(settings) as resolved:
            store = ObjectStore.from_settings(resolved)

            def timed(controls, steps=None):
                marks = []
                started = time.perf_counter()
                metrics = evaluate_run(store, run, "probe", controls=controls,
                                       on_step=lambda text: marks.append((time.perf_counter(), text)))
                wall = time.perf_counter() - started
                if steps is not None:  # seconds per step: from its mark to the next one
                    ends = [t for t, _ in marks[1:]] + [started + wall]
                    steps.update({text: end - t for (t, text), end in zip(marks, ends)})
                return wall, metrics

            # a per-machine cost, like downloading weights: the perceived-gender model of the
            # demographic control is trained once and cached (ml.demographic); timed apart
            from ml.demographic import gender_model

            started = time.perf_counter()
            gender_model(store, workers=2)
            one_time = time.perf_counter() - started
            plain, metrics = timed([])
            steps: dict[str, float] = {}
            cold, full = timed(list(CONTROL_NAMES), steps)
            warm, _ = timed(list(CONTROL_NAMES))

    print(f"demo university: {len(truth.departments)} departments, {metrics['n_test']} test photos of "
          f"{metrics['n_groups']} people; run {run}")
    print(f"once per machine: perceived-gender model {one_time:6.1f} s (demographic control; cached after)")
    print(f"plain evaluation (baseline):            {plain:6.1f} s")
    saliency = next((sec for text, sec in steps.items() if text.startswith("saliency")), 0.0)
    controls = cold - saliency
    print(f"--controls all, cold (crops embedded):  {cold:6.1f} s = {cold / plain:4.1f}x, with the saliency maps")
    print(f"  the controls alone:                   {controls:6.1f} s = {controls / plain:4.1f}x "
          f"(target <= {TARGET:.0f}x: {'met' if controls / plain <= TARGET else 'NOT met'})")
    print(f"--controls all, warm (all cached):      {warm:6.1f} s = {warm / plain:4.1f}x")
    for text, seconds in steps.items():
        if text.startswith(("control:", "saliency")):
            print(f"  {text:48} {seconds:6.1f} s")
    print(f"verdict: {full['verdict']} ({full['verdict_reason']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
