"""Model tests for honest evaluation: random department labels assigned per person to real
LFW photos (no signal). Through the CLI every model's interval must contain chance and the
permutation test must not reject it; the study's per-image split of the same data leaks
(a person's photos on both sides) and shows a large, "significant" accuracy."""
from __future__ import annotations

import csv
import json
from collections import defaultdict

import numpy as np
import pytest

from ml.crop_stage import crop_key
from ml.embeddings import embed_crops
from ml.metrics import evaluate_predictions
from ml.preprocess import SPLITS, csv_frame
from ml.probe import ProbeConfig, train_probe
from ml.split import SplitConfig, assign_splits_per_image
from tests.browser import render_page
from tests.conftest import require_shared_data
from tests.test_train_e2e import run_json

pytestmark = pytest.mark.slow

CATEGORIES = ("economics", "german", "physics")
UNIVERSITIES = ("Uni A", "Uni B")


def random_label_manifests(folder, people: int, seed: int = 7) -> dict[str, list]:
    """Per department slug, manifest rows (path, name, category, university, department) of
    LFW people with 4+ photos (4 of each: enough for the per-image split to recognise people),
    each person given a random category and university."""
    data = require_shared_data() / "faces"
    photos = defaultdict(list)
    for row in csv.DictReader(open(data / "lfw_labels.csv", newline="")):
        photos[row["identity"]].append(row["path"])
    chosen = sorted(p for p, paths in photos.items() if len(paths) >= 4)[:people]
    rng = np.random.default_rng(seed)
    slugs = defaultdict(list)
    for person in chosen:
        category, university = CATEGORIES[rng.integers(3)], UNIVERSITIES[rng.integers(2)]
        slug = f"{university.lower().replace(' ', '-')}-{category}"
        for path in sorted(photos[person])[:4]:
            slugs[slug].append([str(data / path), person.replace("_", " "), category, university, category.title()])
    for slug, rows in slugs.items():
        with open(folder / f"{slug}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "name", "category", "university", "department"])
            writer.writerows(rows)
    return slugs


def metrics_examples(tmp_path) -> list[list[dict]]:
    saved = json.loads((tmp_path / "probe-report" / "metrics.json").read_text())
    return [rows for per_class in saved["examples"].values() for rows in per_class.values()]


def assert_chance(metrics: dict) -> None:
    assert metrics["chance"] == pytest.approx(1 / 3)
    assert metrics["ci_low"] <= metrics["chance"] <= metrics["ci_high"], metrics
    assert metrics["p_value"] >= 0.05, metrics


def test_random_labels_report_chance_and_per_image_split_leaks(cli, store, tmp_path):
    slugs = random_label_manifests(tmp_path, people=48)
    assert len(slugs) == 6
    for slug in slugs:
        cli("import", str(tmp_path / f"{slug}.csv"), "--slug", slug)
    cli("preprocess", "--workers", "2")

    probe = run_json(cli("train", "--model", "probe"))
    # the context controls have their own model tests (test_face_or_website_e2e)
    evaluated = cli("evaluate", "--controls", "blur,lodo", "--json", "--out", str(tmp_path / "probe-report"))
    metrics = json.loads(evaluated.stdout)
    print(f"\n[evaluate] probe {metrics['accuracy']:.3f} [{metrics['ci_low']:.2f}, {metrics['ci_high']:.2f}] "
          f"p={metrics['p_value']:.2f} on {metrics['n_test']} photos of {metrics['n_groups']} people; controls "
          + ", ".join(f"{k} {v.get('accuracy', float('nan')):.3f}" for k, v in metrics["controls"].items()))
    assert metrics["run"] == probe["run"] and metrics["n_groups"] >= 8
    assert_chance(metrics)
    # no signal to find: the verdict says so, or says how small a signal could have been missed
    assert metrics["verdict"] in ("no_signal", "inconclusive"), metrics["verdict_reason"]
    assert f"{metrics['detectable_accuracy']:.3f}" in metrics["verdict_reason"]
    assert metrics["controls"]["face_only"]["status"] == "not_run"
    blur, lodo = metrics["controls"]["blur"], metrics["controls"]["lodo"]
    assert blur["status"] == "done" and blur["ci_low"] <= blur["chance"] <= blur["ci_high"]
    assert lodo["status"] == "done" and len(lodo["folds"]) == 6 and lodo["n_test"] == len(csv_frame(
        store.get_bytes(SPLITS)))  # every department held out once: every image tested once
    assert {d["slug"] for d in metrics["per_department"]} <= set(slugs)
    assert f"report: {tmp_path / 'probe-report' / 'report.html'}" in evaluated.stderr
    # The real report opens offline in headless Chromium with its heatmap and example grids.
    states, fetched = render_page(tmp_path / "probe-report" / "report.html", tmp_path / "report.png")
    assert states["confusion-heatmap"]["width"] > 0 and states["controls"]["width"] > 0
    assert states["saliency-mean"]["width"] > 0 and states["saliency-examples"]["width"] > 0  # with the controls
    assert {f"examples-{c}" for c in CATEGORIES} <= {i for i, s in states.items() if s["width"] > 0}
    assert all(url.startswith("data:") for url in fetched)
    shown = [row["id"] for rows in metrics_examples(tmp_path) for row in rows]
    assert shown and all(store.exists(crop_key(i)) for i in shown)

    cnn = run_json(cli("train", "--model", "cnn", "--epochs", "2"))
    cnn_metrics = json.loads(cli("evaluate", "--model", "cnn", "--controls", "blur", "--json").stdout)
    assert cnn_metrics["run"] == cnn["run"]
    assert_chance(cnn_metrics)
    assert cnn_metrics["controls"]["blur"]["status"] == "done"
    looks = cnn_metrics["saliency"]
    assert looks["methods"] == ["occlusion", "grad_cam"] and looks["grad_cam"]["n"] == looks["occlusion"]["n"] > 0

    compared = cli("report", "compare", probe["run"], cnn["run"]).stdout
    assert probe["run"] in compared and cnn["run"] in compared and "leave-one-department-out" in compared

    # The same photos split per image, as the study did: people's photos on both sides, and
    # the probe "predicts" random labels by recognising the people.
    splits = csv_frame(store.get_bytes(SPLITS))
    leaky = assign_splits_per_image(splits[["id", "group", "category"]], SplitConfig(seed=0))
    leaky["group"] = leaky["id"]  # the study treats every photo as independent
    outcome = train_probe(embed_crops(store, leaky["id"], crop_key=crop_key), leaky, ProbeConfig())
    truth = leaky.set_index("id").loc[outcome.test_ids, "category"].tolist()
    leaked = evaluate_predictions(truth, outcome.test_probabilities, outcome.labels)
    assert leaked["ci_low"] > leaked["chance"] and leaked["p_value"] < 0.01, leaked
    assert leaked["accuracy"] > metrics["ci_high"]
    print(f"[evaluate] per-image split (leak): {leaked['accuracy']:.3f} [{leaked['ci_low']:.2f}, "
          f"{leaked['ci_high']:.2f}], p={leaked['p_value']:.3f}")
