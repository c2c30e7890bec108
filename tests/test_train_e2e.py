"""End to end through the CLI: on LFW photos labelled by gender (a learnable, person-grouped
task; the session's gender world, imported and preprocessed through the CLI once, see
tests/worlds.py), train `probe` and `cnn` as runs in the object store, evaluate, predict,
and reproduce a run from its config alone."""
from __future__ import annotations

import csv
import json

import pytest

from ml.runs import latest_run_id, read_json
from tests.conftest import require_shared_data

pytestmark = pytest.mark.slow


def gender_manifest(path, per_gender: int) -> None:
    data = require_shared_data() / "faces"
    rows = list(csv.DictReader(open(data / "lfw_labels.csv", newline="")))
    chosen = {"female": [], "male": []}
    for row in sorted(rows, key=lambda r: r["path"]):
        if row["gender"] in chosen and len(chosen[row["gender"]]) < per_gender:
            chosen[row["gender"]].append(row)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "name", "category"])
        for gender, picked in chosen.items():
            for row in picked:
                writer.writerow([str(data / row["path"]), row["identity"].replace("_", " "), gender])


def run_json(proc) -> dict:
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def test_train_probe_and_cnn_runs_and_reproduce(cli, store, gender_world):
    gender_world.restore(store)

    probe = run_json(cli("train", "--model", "probe", "--seed", "1"))
    assert probe["kind"] == "probe" and probe["metrics"]["test_accuracy"] >= 0.75
    assert latest_run_id(store, "probe") == probe["run"]
    prefix = f"models/{probe['run']}/"
    assert {"config.json", "history.json", "labels.json", "metrics.json", "model.joblib"} <= {
        o.key[len(prefix):] for o in store.list(prefix)}
    config = read_json(store, prefix + "config.json")
    assert config["data_fingerprint"] and config["model_config"]["seed"] == 1 and "scikit-learn" in config["packages"]
    assert read_json(store, prefix + "labels.json") == ["female", "male"]

    # Evaluation: accuracy with a confidence interval over people, chance and a p-value.
    metrics = json.loads(cli("evaluate", "--json").stdout)
    assert metrics["run"] == probe["run"] and metrics["chance"] == 0.5 and metrics["n_test"] > 0
    assert metrics["ci_low"] <= metrics["accuracy"] <= metrics["ci_high"] and metrics["ci_method"].startswith("group")
    assert abs(metrics["accuracy"] - probe["metrics"]["test_accuracy"]) < 1e-9  # same test split, same model
    assert metrics["p_value"] < 0.05 and store.exists(f"reports/{probe['run']}/report.html")
    assert metrics["ci_low"] > 0.85, metrics  # the person-grouped gender task: clearly learnable
    assert metrics["excluded_trained_ids"] == 0

    # New splits (another seed): the run is scored only on photos it never trained or validated on.
    cli("preprocess", "--seed", "5")
    learned = set(store.get_bytes(prefix + "data_ids.txt").decode().split())
    splits = list(csv.DictReader(store.get_bytes("preprocessed/splits.csv").decode().splitlines()))
    test_ids = {r["id"] for r in splits if r["split"] == "test"}
    assert test_ids & learned  # the new test split overlaps what the run learned from
    resplit = json.loads(cli("evaluate", "--run", probe["run"], "--json").stdout)
    assert resplit["excluded_trained_ids"] == len(test_ids & learned) > 0
    assert resplit["n_test"] == len(test_ids - learned) and not resplit["same_data_as_training"]
    cli("preprocess", "--seed", "0")  # back to the world's splits for the runs below

    # Prediction from the stored run: probabilities for a face, a clear error for no face.
    data = require_shared_data()
    face = str(sorted((data / "faces" / "lfw").glob("*/*.jpg"))[-1])
    predicted = json.loads(cli("predict", face, "--json", "--run", probe["run"]).stdout)
    assert predicted[0]["label"] in {"female", "male"}
    assert abs(sum(predicted[0]["probabilities"].values()) - 1) < 1e-6
    no_face = cli("predict", str(data / "nonface" / "brick.png"), check=False)
    assert no_face.returncode == 1 and "no face found" in no_face.stderr

    cnn = run_json(cli("train", "--model", "cnn", "--epochs", "2", "--seed", "3"))
    assert cnn["metrics"]["params_total"] == 92_738  # the study's CNN with K=2 outputs
    again = run_json(cli("train", "--reproduce", cnn["run"]))
    assert again["run"] != cnn["run"]
    first = read_json(store, f"models/{cnn['run']}/history.json")
    second = read_json(store, f"models/{again['run']}/history.json")
    assert first == second  # the config alone reproduces the metrics (same seed, same data, CPU)
    predicted = json.loads(cli("predict", face, "--json", "--model", "cnn").stdout)  # latest cnn run
    assert set(predicted[0]["probabilities"]) == {"female", "male"}
