"""A linear probe: standardised face embeddings -> multinomial logistic regression.

Model selection never sees the test split and never lets one person inform both sides of
a comparison: C is chosen by stratified group k-fold cross-validation over train +
validation, grouped by ``group`` (a person and their near-duplicate photos), then the
pipeline is refitted on train + validation with that C and scored once on test.

``val_accuracy`` is the pooled cross-validated accuracy at the chosen C (every train +
validation image predicted once, by a model that saw none of its person's photos). It is
the maximum over the C grid, so slightly optimistic; ``test_accuracy`` is the unbiased one.

Saved probes are joblib (pickle) files: load only files this project wrote.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ml.embeddings import MODEL_NAME

FORMAT = "academic-faces-probe/1"


@dataclass
class ProbeConfig:
    Cs: tuple[float, ...] = (0.001, 0.01, 0.1, 1, 10, 100)
    folds: int = 5
    seed: int = 0
    class_weight: str | None = "balanced"
    max_iter: int = 2000


@dataclass
class ProbeOutcome:
    model: Any  # sklearn Pipeline(StandardScaler, LogisticRegression)
    labels: list[str]  # column order of predict_probe / test_probabilities
    best_C: float
    cv_scores: dict[float, float]  # C -> pooled cross-validated accuracy
    val_accuracy: float
    test_accuracy: float  # NaN when there is no test split
    test_probabilities: np.ndarray  # (len(test_ids), len(labels))
    test_ids: list[str]
    fit_seconds: float  # the whole selection: cross-validation over the grid + the refit
    skipped: int = 0  # ids in `splits` without an embedding
    counts: dict[str, int] = field(default_factory=dict)  # images used per split
    folds: int = 0  # folds actually used (fewer than configured when groups are few)
    config: dict = field(default_factory=dict)


class LoadedProbe(NamedTuple):
    model: Any
    labels: list[str]
    meta: dict


def _pipeline(C: float, config: ProbeConfig):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # lbfgs on more than two classes is the multinomial (softmax) model.
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight=config.class_weight,
                                                              max_iter=config.max_iter,
                                                              random_state=config.seed))


def _matrix(embeddings: Mapping[str, np.ndarray], ids: list[str]) -> np.ndarray:
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(embeddings[i], dtype=np.float32) for i in ids])


def train_probe(embeddings: Mapping[str, np.ndarray], splits: pd.DataFrame, config: ProbeConfig) -> ProbeOutcome:
    """Fit the probe on ``splits`` (id, group, category, split) using ``embeddings`` by id.

    BLAS runs single-threaded here: these problems are tiny (128 features), and threaded
    OpenBLAS made each fit ~12x slower on a busy 2-core machine (spinning threads).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _train_probe(embeddings, splits, config)


def _train_probe(embeddings: Mapping[str, np.ndarray], splits: pd.DataFrame, config: ProbeConfig) -> ProbeOutcome:
    from sklearn.model_selection import StratifiedGroupKFold

    missing_cols = [c for c in ("id", "group", "category", "split") if c not in splits]
    if missing_cols:
        raise ValueError(f"splits lack columns {missing_cols}")
    if not config.Cs:
        raise ValueError("ProbeConfig.Cs is empty")
    start = time.perf_counter()
    frame = splits.astype({"id": str, "group": str, "category": str, "split": str}).reset_index(drop=True)
    have = frame["id"].map(lambda i: i in embeddings)
    skipped = int((~have).sum())
    frame = frame[have]
    fit = frame[frame["split"].isin(["train", "validation"])]
    test = frame[frame["split"] == "test"]
    labels = sorted(fit["category"].unique())
    if len(labels) < 2:
        raise ValueError(f"need at least two categories in train + validation, got {labels}")
    n_groups = fit["group"].nunique()
    # Stratified folds need every class in every fold: no more folds than the rarest class has people.
    rarest = int(fit.groupby("category")["group"].nunique().min())
    folds = min(config.folds, n_groups, rarest)
    if folds < 2:
        raise ValueError("cross-validation needs at least two people (groups) per category in train + validation; "
                         f"got {n_groups} groups, {rarest} in the rarest category")

    X, y, groups = _matrix(embeddings, fit["id"].tolist()), fit["category"].to_numpy(), fit["group"].to_numpy()
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    fold_indices = list(cv.split(X, y, groups))
    cv_scores: dict[float, float] = {}
    for C in config.Cs:
        correct = 0
        for train_idx, held_idx in fold_indices:
            if len(np.unique(y[train_idx])) < 2:  # a fold that leaves one class: predict it
                correct += int((y[held_idx] == y[train_idx][0]).sum())
                continue
            model = _pipeline(C, config).fit(X[train_idx], y[train_idx])
            correct += int((model.predict(X[held_idx]) == y[held_idx]).sum())
        cv_scores[float(C)] = correct / len(y)
    # Highest accuracy; ties go to the smaller C (stronger regularisation).
    best_C = min(cv_scores, key=lambda c: (-cv_scores[c], c))
    model = _pipeline(best_C, config).fit(X, y)
    fit_seconds = time.perf_counter() - start

    test_ids = test["id"].tolist()
    if test_ids:
        probabilities = predict_probe(model, _matrix(embeddings, test_ids))
        predicted = np.asarray(labels)[probabilities.argmax(axis=1)]
        test_accuracy = float((predicted == test["category"].to_numpy()).mean())
    else:
        probabilities, test_accuracy = np.zeros((0, len(labels))), float("nan")
    counts = frame["split"].value_counts().to_dict()
    return ProbeOutcome(model=model, labels=labels, best_C=best_C, cv_scores=cv_scores,
                        val_accuracy=cv_scores[best_C], test_accuracy=test_accuracy,
                        test_probabilities=probabilities, test_ids=test_ids, fit_seconds=fit_seconds,
                        skipped=skipped, counts={k: int(v) for k, v in counts.items()}, folds=folds,
                        config=asdict(config))


def predict_probe(model, embeddings: np.ndarray) -> np.ndarray:
    """Class probabilities, one row per embedding, columns in the probe's ``labels`` order."""
    X = np.asarray(embeddings, dtype=np.float32)
    if X.ndim == 1:
        X = X[None, :]
    return model.predict_proba(X)


def save_probe(outcome: ProbeOutcome, path: str | Path | IO[bytes]) -> None:
    """One joblib file (a path or a binary file object, e.g. io.BytesIO for the store)."""
    import joblib
    import sklearn

    meta = {"format": FORMAT, "embedding_model": MODEL_NAME, "sklearn": sklearn.__version__,
            "best_C": outcome.best_C, "cv_scores": outcome.cv_scores, "val_accuracy": outcome.val_accuracy,
            "test_accuracy": outcome.test_accuracy, "counts": outcome.counts, "config": outcome.config}
    joblib.dump({"model": outcome.model, "labels": list(outcome.labels), "meta": meta}, path)


def load_probe(path: str | Path | IO[bytes]) -> LoadedProbe:
    """(model, labels, meta) from ``save_probe``'s file. Unpickles: trusted files only."""
    import joblib

    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("meta", {}).get("format") != FORMAT:
        raise ValueError(f"{path}: not a probe file written by save_probe")
    labels = list(payload["labels"])
    if list(payload["model"].classes_) != labels:
        raise ValueError(f"{path}: labels do not match the model's classes")
    return LoadedProbe(payload["model"], labels, payload["meta"])
