"""Hyper-parameter search (`train --tune N`) that never looks at the test split.

The search functions receive only the rows of train + validation people (``non_test_rows``)
and refuse a frame with test rows; they record every image id they read, so a run can show
that no test id was touched. Inner validation is person-grouped: for the probe, stratified
group k-fold over ``group`` on train + validation; for the Keras models, the fixed train /
validation split (already person-grouped by preprocess). Optuna's TPE sampler, seeded, picks
the N trial settings; the best one then trains the final model as usual, and the test split
is scored once, by the normal evaluation.

The best inner score is the maximum over N noisy estimates, so it is optimistic: the report
shows it next to the test accuracy (``tuning_gap``).
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

TUNING_FILE = "tuning.json"  # in models/<run>/
# Ranges around the defaults (probe: C grid 1e-3..100; CNN: Adam 1e-3, dropout 0.5, dense 64,
# the study's augmentation = strength 1).
SEARCH_SPACES = {
    "probe": {"C": {"log_uniform": [1e-4, 1e2]}, "class_weight": {"choices": [None, "balanced"]}},
    "cnn": {"learning_rate": {"log_uniform": [1e-4, 3e-3]}, "dropout": {"uniform": [0.2, 0.6]},
            "dense_units": {"choices": [32, 64, 128]}, "augment_strength": {"uniform": [0.0, 2.0]}},
    "vggface": {"learning_rate": {"log_uniform": [1e-5, 1e-3]}, "augment_strength": {"uniform": [0.0, 2.0]}},
}
OPTIMISM_NOTE = ("The best inner score is the maximum over the trials' noisy validation scores, chosen on the "
                 "same people it is measured on, so it is optimistic; the test accuracy, on people the search "
                 "never saw, is the estimate to quote.")


@dataclass
class TuningResult:
    kind: str
    n_trials: int
    seed: int
    search_space: dict
    trials: list[dict]  # {"number", "params", "inner_score"}
    best_params: dict
    best_inner_score: float
    inner_validation: dict  # how the inner score was measured
    touched_ids: list[str] = field(default_factory=list)  # every image id the search read

    def to_json(self) -> dict:
        return asdict(self)


def non_test_rows(splits: pd.DataFrame) -> pd.DataFrame:
    """The train + validation rows: all a search may see."""
    return splits[splits["split"].astype(str) != "test"].reset_index(drop=True)


def _refuse_test_rows(rows: pd.DataFrame) -> None:
    if (rows["split"].astype(str) == "test").any():
        raise ValueError("the hyper-parameter search was given test rows: pass non_test_rows(splits)")


def _suggest(trial, space: dict) -> dict:
    params = {}
    for name, spec in space.items():
        if "log_uniform" in spec:
            params[name] = trial.suggest_float(name, *spec["log_uniform"], log=True)
        elif "uniform" in spec:
            params[name] = trial.suggest_float(name, *spec["uniform"])
        else:
            params[name] = trial.suggest_categorical(name, spec["choices"])
    return params


def search(objective: Callable[[dict], float], space: dict, n_trials: int, seed: int,
           on_trial: Callable[[int, dict, float], None] | None = None) -> tuple[list[dict], dict, float]:
    """N trials of TPE (seeded) maximising objective(params): (trials, best params, best score)."""
    import optuna

    if n_trials < 1:
        raise ValueError(f"a search needs at least one trial, got {n_trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    trials: list[dict] = []

    def run(trial) -> float:
        params = _suggest(trial, space)
        score = float(objective(params))
        trials.append({"number": trial.number, "params": params, "inner_score": score})
        if on_trial:
            on_trial(trial.number, params, score)
        return score
    study.optimize(run, n_trials=n_trials)
    best = max(trials, key=lambda t: t["inner_score"])  # first best on ties, as Optuna
    return trials, dict(best["params"]), best["inner_score"]


# -- the probe --------------------------------------------------------------------------------
class _ReadLog(Mapping):
    """A read-only view of the embeddings that notes every id looked up."""

    def __init__(self, embeddings: Mapping[str, np.ndarray]):
        self._embeddings, self.read = embeddings, set()

    def __getitem__(self, key):
        self.read.add(key)
        return self._embeddings[key]

    def __contains__(self, key):
        self.read.add(key)
        return key in self._embeddings

    def __iter__(self):
        raise TypeError("the search looks embeddings up by id; it does not list them")

    def __len__(self):
        return len(self._embeddings)


def tune_probe(embeddings: Mapping[str, np.ndarray], rows: pd.DataFrame, *, n_trials: int, seed: int = 0,
               folds: int = 5, max_iter: int = 2000,
               on_trial: Callable[[int, dict, float], None] | None = None) -> TuningResult:
    """C and class_weight of the probe by pooled person-grouped CV accuracy on ``rows``
    (train + validation only; id, group, category, split)."""
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    from ml.probe import ProbeConfig, _pipeline

    _refuse_test_rows(rows)
    log = _ReadLog(embeddings)
    rows = rows.astype({"id": str, "group": str, "category": str})
    rows = rows[[i in log for i in rows["id"]]]
    rarest = int(rows.groupby("category")["group"].nunique().min()) if len(rows) else 0
    n_folds = min(folds, rows["group"].nunique(), rarest)
    if rows["category"].nunique() < 2 or n_folds < 2:
        raise ValueError("tuning needs at least two categories with two people each in train + validation")
    X = np.stack([np.asarray(log[i], dtype=np.float32) for i in rows["id"]])
    y, groups = rows["category"].to_numpy(), rows["group"].to_numpy()
    cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_indices = list(cv.split(X, y, groups))

    def pooled_accuracy(params: dict) -> float:
        config = ProbeConfig(seed=seed, class_weight=params["class_weight"], max_iter=max_iter)
        correct = 0
        for train_idx, held_idx in fold_indices:
            if len(np.unique(y[train_idx])) < 2:  # as train_probe: a one-class fold predicts that class
                correct += int((y[held_idx] == y[train_idx][0]).sum())
                continue
            model = _pipeline(params["C"], config).fit(X[train_idx], y[train_idx])
            correct += int((model.predict(X[held_idx]) == y[held_idx]).sum())
        return correct / len(y)

    space = SEARCH_SPACES["probe"]
    with threadpool_limits(limits=1):  # tiny fits: threaded BLAS only spins (see ml.probe)
        trials, best, score = search(pooled_accuracy, space, n_trials, seed, on_trial)
    inner = {"method": "StratifiedGroupKFold", "grouped_by": "group", "folds": n_folds, "images": len(rows),
             "people": int(rows["group"].nunique()), "score": "pooled cross-validated accuracy"}
    return TuningResult("probe", n_trials, seed, space, trials, best, score, inner, sorted(log.read))


# -- the Keras models -------------------------------------------------------------------------
def _images_in(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.rglob("*.jpg")) if folder.is_dir() else []


def tune_keras(data_dir: Path, config, *, n_trials: int,
               on_trial: Callable[[int, dict, float], None] | None = None) -> TuningResult:
    """The CNN's (or VGGFace's) learning rate, dropout, width and augmentation strength by
    best validation accuracy, each trial trained on ``data_dir/train`` from ``config`` (a
    KerasTrainConfig). ``data_dir`` must hold no test images (sync it from non_test_rows)."""
    from ml.train_keras import train_keras

    data_dir = Path(data_dir)
    if _images_in(data_dir / "test"):
        raise ValueError(f"{data_dir}/test holds images: the search folder must be synced from non_test_rows")
    space = SEARCH_SPACES[config.model]

    def validation_accuracy(params: dict) -> float:
        with tempfile.TemporaryDirectory(prefix="tune-") as tmp:
            return train_keras(data_dir, replace(config, **params), Path(tmp)).val_accuracy

    trials, best, score = search(validation_accuracy, space, n_trials, config.seed, on_trial)
    inner = {"method": "the fixed train/validation split of preprocess", "grouped_by": "group",
             "images": {s: len(_images_in(data_dir / s)) for s in ("train", "validation")},
             "score": "best validation accuracy over epochs"}
    touched = sorted(set(_images_in(data_dir / "train")) | set(_images_in(data_dir / "validation")))
    return TuningResult(config.model, n_trials, config.seed, space, trials, best, score, inner, touched)


# -- in evaluate and the report ------------------------------------------------------------------
def tuning_gap(tuning: dict, test_accuracy: float) -> dict:
    """The search's summary with the gap between its best inner score and the test accuracy."""
    inner = float(tuning["best_inner_score"])
    return {"n_trials": tuning["n_trials"], "seed": tuning["seed"], "best_params": tuning["best_params"],
            "best_inner_score": inner, "test_accuracy": test_accuracy,
            "gap": inner - test_accuracy if math.isfinite(test_accuracy) else None,
            "inner_validation": tuning.get("inner_validation", {}), "note": OPTIMISM_NOTE}


def report_section(doc, metrics: dict) -> None:
    """'Hyper-parameter tuning' in the report, only for tuned runs."""
    from ml.report_text import Heading, fmt, paragraph, table, text

    tuning = metrics.get("tuning")
    if not isinstance(tuning, dict):
        return
    inner = tuning.get("inner_validation") or {}
    rows = [["trials (seeded TPE)", text(tuning.get("n_trials"))],
            ["best parameters", ", ".join(f"{k} = {_param(v)}" for k, v in (tuning.get("best_params") or {}).items())],
            [f"best inner score ({text(inner.get('score', 'inner validation'))})", fmt(tuning.get("best_inner_score"))],
            ["test accuracy", fmt(tuning.get("test_accuracy"))],
            ["gap (inner - test)", fmt(tuning.get("gap"))]]
    doc.add(Heading("Hyper-parameter tuning"), table(["quantity", "value"], rows),
            paragraph(f"Inner validation: {text(inner.get('method'))}, grouped by person; the test split was not "
                      f"read during the search. {OPTIMISM_NOTE}"))


def _param(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def touched_test_ids(tuning: dict, splits: pd.DataFrame) -> list[str]:
    """Test ids the search read (should be none)."""
    test = set(splits.loc[splits["split"].astype(str) == "test", "id"].astype(str))
    return sorted(test & set(tuning.get("touched_ids", [])))


def best_params_applied(config, params: Mapping):
    """``config`` (a dataclass) with the search's best params (probe: C becomes a one-value grid)."""
    params = dict(params)
    if "C" in params:
        params["Cs"] = (float(params.pop("C")),)
    return replace(config, **params)
