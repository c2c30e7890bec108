"""`train --tune N`: the hyper-parameter search sees train + validation people only.

Fast: the probe's search on synthetic embeddings (people as clusters) reads no test id,
scores person-grouped folds (a task only person memorisation could solve stays near chance,
where ungrouped folds would score ~1), is reproducible from its seed, and refuses test rows;
the CNN's search folder must hold no test image. Slow: a tiny CNN search on synthetic
images, and end to end through the CLI on the session's gender world (LFW photos by gender):
`train --model probe --tune 10` records 10 trials in tuning.json, touches no test id, and
`evaluate --json` shows the gap between the best inner score and the test accuracy."""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ml.tune import OPTIMISM_NOTE, non_test_rows, touched_test_ids, tune_keras, tune_probe, tuning_gap

PEOPLE, PHOTOS, DIM = 60, 3, 64


def synthetic(person_signal: bool, seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """PEOPLE people x PHOTOS photos, every person a tight cluster of their own. With
    `person_signal` False the category is a coin flip per person: only memorising people
    predicts it. True: the category shifts the clusters (a learnable task)."""
    rng = np.random.default_rng(seed)
    rows, vectors = [], {}
    for p in range(PEOPLE):
        category = "a" if rng.random() < 0.5 else "b"
        centre = rng.normal(0, 1, DIM)
        if person_signal:
            centre[:4] += 3 if category == "a" else -3
        split = "test" if p % 5 == 0 else ("validation" if p % 5 == 1 else "train")
        for k in range(PHOTOS):
            image_id = f"p{p:02d}-{k}"
            rows.append({"id": image_id, "group": f"person{p:02d}", "category": category, "split": split})
            vectors[image_id] = (centre + rng.normal(0, 0.05, DIM)).astype(np.float32)
    return pd.DataFrame(rows), vectors


def test_probe_search_reads_no_test_id_and_is_seeded():
    splits, vectors = synthetic(person_signal=True)
    rows = non_test_rows(splits)
    result = tune_probe(vectors, rows, n_trials=10, seed=3)  # the whole mapping, test vectors included
    test_ids = set(splits.loc[splits["split"] == "test", "id"])
    assert test_ids and not test_ids & set(result.touched_ids)
    assert set(result.touched_ids) == set(rows["id"])
    assert touched_test_ids(result.to_json(), splits) == []
    assert len(result.trials) == result.n_trials == 10 and result.seed == 3
    assert {"C", "class_weight"} == set(result.best_params) == set(result.search_space)
    assert 1e-4 <= result.best_params["C"] <= 1e2 and result.best_params["class_weight"] in (None, "balanced")
    assert result.best_inner_score == max(t["inner_score"] for t in result.trials) >= 0.9
    assert result.inner_validation["people"] == rows["group"].nunique() and result.inner_validation["folds"] == 5
    again = tune_probe(vectors, rows, n_trials=10, seed=3)
    assert again.trials == result.trials
    assert tune_probe(vectors, rows, n_trials=10, seed=4).trials != result.trials
    with pytest.raises(ValueError, match="test rows"):
        tune_probe(vectors, splits, n_trials=2)


def test_probe_search_folds_are_person_grouped():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score

    splits, vectors = synthetic(person_signal=False)
    rows = non_test_rows(splits)
    X, y = np.stack([vectors[i] for i in rows["id"]]), rows["category"].to_numpy()
    # The trap the grouping avoids: folds that split a person's photos memorise the person.
    ungrouped = cross_val_score(LogisticRegression(C=100, max_iter=2000), X, y,
                                cv=KFold(5, shuffle=True, random_state=0)).mean()
    assert ungrouped > 0.9
    result = tune_probe(vectors, rows, n_trials=10, seed=0)
    assert result.best_inner_score < 0.75, result.trials  # max of 10 near-chance scores


def test_gap_and_keras_search_folder_guard(tmp_path):
    gap = tuning_gap({"n_trials": 4, "seed": 0, "best_params": {"C": 1.0}, "best_inner_score": 0.9}, 0.8)
    assert gap["gap"] == pytest.approx(0.1) and gap["note"] == OPTIMISM_NOTE
    from ml.train_keras import KerasTrainConfig

    (tmp_path / "test" / "a").mkdir(parents=True)
    Image.new("L", (64, 64)).save(tmp_path / "test" / "a" / "x.jpg")
    with pytest.raises(ValueError, match="test holds images"):
        tune_keras(tmp_path, KerasTrainConfig(model="cnn"), n_trials=1)
    with pytest.raises(ValueError, match="dropout"):
        KerasTrainConfig(model="cnn", dropout=1.0)


@pytest.mark.slow
def test_cnn_search_trains_trials_on_train_and_validation(tmp_path):
    from ml.train_keras import KerasTrainConfig

    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("validation", 3)):
        for category, level in (("dark", 60), ("light", 190)):
            folder = tmp_path / split / category
            folder.mkdir(parents=True)
            for k in range(n):
                pixels = np.clip(rng.normal(level, 20, (64, 64)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{split}-{category}-{k}.jpg")
    (tmp_path / "test" / "dark").mkdir(parents=True)  # present but empty, as the train stage syncs it
    result = tune_keras(tmp_path, KerasTrainConfig(model="cnn", epochs=1, batch_size=8), n_trials=2)
    assert len(result.trials) == 2 and set(result.best_params) == {"learning_rate", "dropout", "dense_units",
                                                                   "augment_strength"}
    assert len(result.touched_ids) == 22 and all(0 <= t["inner_score"] <= 1 for t in result.trials)
    assert result.inner_validation["images"] == {"train": 16, "validation": 6}


@pytest.mark.slow
def test_train_tune_through_the_cli(cli, store, gender_world):
    bad = cli("train", "--model", "probe", "--tune", "-1", check=False)
    assert bad.returncode != 0 and "--tune" in bad.stderr and "-1" in bad.stderr
    gender_world.restore(store)
    proc = cli("train", "--model", "probe", "--tune", "10")
    run = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert proc.stderr.count("inner score") == 10  # one line per trial
    prefix = f"models/{run['run']}/"
    tuning = json.loads(store.get_bytes(prefix + "tuning.json"))
    config = json.loads(store.get_bytes(prefix + "config.json"))
    splits = list(csv.DictReader(store.get_bytes("preprocessed/splits.csv").decode().splitlines()))
    test_ids = {r["id"] for r in splits if r["split"] == "test"}
    searched = {r["id"] for r in splits if r["split"] != "test"}
    assert len(tuning["trials"]) == tuning["n_trials"] == 10 and config["tune"] == 10
    assert test_ids and not test_ids & set(tuning["touched_ids"]) and set(tuning["touched_ids"]) <= searched
    assert config["model_config"]["Cs"] == [tuning["best_params"]["C"]]
    assert config["model_config"]["class_weight"] == tuning["best_params"]["class_weight"]
    # the final probe's cross-validated accuracy at the chosen C: the same folds, the same score
    assert run["metrics"]["val_accuracy"] == pytest.approx(tuning["best_inner_score"])

    metrics = json.loads(cli("evaluate", "--json").stdout)
    gap = metrics["tuning"]
    assert gap["n_trials"] == 10 and gap["test_accuracy"] == metrics["accuracy"]
    assert gap["gap"] == pytest.approx(tuning["best_inner_score"] - metrics["accuracy"])
    print(f"\n[tune] best {gap['best_params']}: inner {gap['best_inner_score']:.3f}, test {metrics['accuracy']:.3f} "
          f"(n_test {metrics['n_test']}), gap {gap['gap']:+.3f}")
    report = store.get_bytes(f"reports/{run['run']}/report.md").decode()
    assert "Hyper-parameter tuning" in report and "gap (inner - test)" in report and "optimistic" in report

    # reproduced from its config alone: the same seeded search, so the same trials and choice
    redo = cli("train", "--reproduce", run["run"])
    again = json.loads(redo.stdout[redo.stdout.index("{"):])
    assert json.loads(store.get_bytes(f"models/{again['run']}/tuning.json"))["trials"] == tuning["trials"]
