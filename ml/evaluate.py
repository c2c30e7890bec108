"""Evaluate a trained run on its test split: metrics with uncertainty, chance and the
study's inspection tables, written to ``reports/<run>/metrics.json``."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from infra.store import ObjectStore
from ml.crop_stage import crop_key
from ml.metrics import evaluate_predictions, examples
from ml.predict import Predictor
from ml.runs import download_run, latest_run_id, load_run
from ml.train import load_splits

REPORTS = "reports/"


def report_key(run_id: str, name: str) -> str:
    return f"{REPORTS}{run_id}/{name}"


def test_probabilities(store: ObjectStore, predictor: Predictor, ids: list[str]) -> np.ndarray:
    if predictor.kind == "probe":
        from ml.embeddings import embed_crops
        from ml.probe import predict_probe

        vectors = embed_crops(store, ids, crop_key=crop_key)
        missing = [i for i in ids if i not in vectors]
        if missing:
            raise RuntimeError(f"{len(missing)} test crop(s) have no embedding, e.g. {missing[:3]}")
        return predict_probe(predictor.model, np.stack([vectors[i] for i in ids]))
    proba = [predictor.predict_crops([store.get_bytes(crop_key(i)) for i in ids[start:start + 256]])
             for start in range(0, len(ids), 256)]
    return np.concatenate(proba) if proba else np.zeros((0, len(predictor.labels)))


def evaluate_run(store: ObjectStore, run_id: str | None = None, kind: str = "probe", *,
                 n_permutations: int = 2000, seed: int = 0) -> dict:
    """Metrics of a run (default: the latest of `kind`) on the current test split."""
    run_id = run_id or latest_run_id(store, kind)
    run = load_run(store, run_id)
    splits, fingerprint = load_splits(store)
    test = splits[splits["split"] == "test"]
    if test.empty:
        raise RuntimeError("the test split is empty: more data is needed")
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        predictor = Predictor(download_run(store, run_id, Path(tmp)))
        ids = test["id"].tolist()
        proba = test_probabilities(store, predictor, ids)
    metrics = evaluate_predictions(test["category"].tolist(), proba, predictor.labels, groups=test["group"].tolist(),
                                   n_permutations=n_permutations, seed=seed)
    metrics.update(run=run_id, kind=run.kind, data_fingerprint=fingerprint,
                   same_data_as_training=fingerprint == run.config.get("data_fingerprint"),
                   examples=examples(ids, test["category"].tolist(), proba, predictor.labels))
    store.put_bytes(report_key(run_id, "metrics.json"), json.dumps(metrics, indent=1).encode(), "application/json")
    return metrics
