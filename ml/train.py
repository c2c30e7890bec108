"""The train stage as plain functions: preprocessed/ -> models/<run>/.

Models: `cnn` and `vggface` (the study's, trained with Keras on a local copy of the split
folders) and `probe` (logistic regression on cached dlib face embeddings). A run's
config.json holds everything needed to train it again (`reproduce`). With `tune` > 0 a
hyper-parameter search on train + validation comes first (ml/tune.py, tuning.json in the run).
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pandas as pd

from infra.settings import Settings
from infra.store import KeyNotFound, ObjectStore
from ml.preprocess import SPLITS, crop_key, csv_frame
from ml.runs import Run, fingerprint, load_run, new_run_id, package_versions, upload_run
from ml.tune import TUNING_FILE

MODEL_KINDS = ("cnn", "vggface", "probe")
DATA_IDS = "data_ids.txt"  # in models/<run>/: the train + validation image ids


class TrainError(RuntimeError):
    pass


def load_splits(store: ObjectStore) -> tuple[pd.DataFrame, str]:
    try:
        data = store.get_bytes(SPLITS)  # read once: parsed and fingerprinted from the same bytes
    except KeyNotFound:
        data = b""
    if not data:
        raise TrainError("no preprocessed/splits.csv: run `academic-faces preprocess` first")
    splits = csv_frame(data)
    if splits.empty or set(splits["split"]) < {"train", "validation"}:
        raise TrainError("splits.csv has no train/validation images: more data is needed before training")
    return splits, fingerprint(data)


def sync_split_folders(store: ObjectStore, splits: pd.DataFrame, target: Path, *,
                       crop_key: Callable[[str], str] = crop_key) -> Path:
    """A local copy of the Keras folder layout (<split>/<category>/<id>.jpg), fetching only
    what is missing; files that are no longer in the splits are removed."""
    wanted = {target / s / c / f"{i}.jpg": i for i, c, s in zip(splits["id"], splits["category"], splits["split"])}
    for path in target.rglob("*.jpg") if target.exists() else []:
        if path not in wanted:
            path.unlink()
    missing = [(p, i) for p, i in wanted.items() if not p.exists()]

    def fetch(item: tuple[Path, str]) -> None:
        path, image_id = item
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(store.get_bytes(crop_key(image_id)))
        tmp.replace(path)  # a crash never leaves a truncated crop behind

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, missing))
    for split in ("train", "test", "validation"):
        for category in splits["category"].unique():
            (target / split / category).mkdir(parents=True, exist_ok=True)  # every split knows every class
    return target


def _train_keras(store, settings, splits, fp, config: dict, out: Path, on_epoch, tune: int = 0, on_trial=None):
    from ml.train_keras import KerasTrainConfig, train_keras

    keras_config = KerasTrainConfig(**config)
    if tune:
        from ml.tune import best_params_applied, non_test_rows, tune_keras

        # the search gets a folder of train + validation crops only: it cannot read a test image
        search_dir = sync_split_folders(store, non_test_rows(splits), settings.home / "cache" / "tune" / fp[:16])
        tuning = tune_keras(search_dir, keras_config, n_trials=tune, on_trial=on_trial)
        _write_tuning(out, tuning)
        keras_config = best_params_applied(keras_config, tuning.best_params)
    data_dir = sync_split_folders(store, splits, settings.home / "cache" / "splits" / fp[:16])
    return train_keras(data_dir, keras_config, out, on_epoch=on_epoch), dataclasses.asdict(keras_config)


def _train_probe(store, settings, splits, config: dict, out: Path, on_epoch, tune: int = 0, on_trial=None):
    from ml.embeddings import embed_crops
    from ml.probe import ProbeConfig, save_probe, train_probe

    probe_config = ProbeConfig(**config)
    embeddings = embed_crops(store, splits["id"], crop_key=crop_key)
    if tune:
        from ml.tune import best_params_applied, non_test_rows, tune_probe

        searched = non_test_rows(splits)  # the search sees neither test rows nor their embeddings
        tuning = tune_probe({i: embeddings[i] for i in searched["id"] if i in embeddings}, searched,
                            n_trials=tune, seed=probe_config.seed, folds=probe_config.folds,
                            max_iter=probe_config.max_iter, on_trial=on_trial)
        _write_tuning(out, tuning)
        probe_config = best_params_applied(probe_config, tuning.best_params)
    outcome = train_probe(embeddings, splits, probe_config)
    save_probe(outcome, out / "model.joblib")
    if on_epoch:
        on_epoch(0, {"val_accuracy": outcome.val_accuracy})
    return outcome, dataclasses.asdict(probe_config)


def _write_tuning(out: Path, tuning) -> None:
    (out / TUNING_FILE).write_text(json.dumps(_jsonable(tuning.to_json()), indent=1, sort_keys=True))


def train(store: ObjectStore, settings: Settings, kind: str, *, config: dict | None = None,
          on_epoch: Callable[[int, dict], None] | None = None, tune: int = 0,
          on_trial: Callable[[int, dict, float], None] | None = None) -> Run:
    """Train one model kind on the current splits; upload it as a new run. ``tune`` > 0:
    first search that many hyper-parameter settings on train + validation (ml.tune)."""
    if kind not in MODEL_KINDS:
        raise TrainError(f"unknown model {kind!r}; choose from {MODEL_KINDS}")
    if not isinstance(tune, int) or tune < 0:
        raise TrainError(f"tune is a number of search trials (0: no search), got {tune!r}")
    splits, fp = load_splits(store)
    config = dict(config or {})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"train-{kind}-") as tmp:
        out = Path(tmp)
        if kind == "probe":
            outcome, full_config = _train_probe(store, settings, splits, config, out, on_epoch, tune, on_trial)
            history, labels = {"cv_accuracy": outcome.cv_scores}, outcome.labels
            metrics = {"val_accuracy": outcome.val_accuracy, "test_accuracy": outcome.test_accuracy,
                       "best_C": outcome.best_C}
        else:
            outcome, full_config = _train_keras(store, settings, splits, fp, {"model": kind, **config}, out, on_epoch,
                                                tune, on_trial)
            history, labels = outcome.history, outcome.labels
            metrics = {"val_accuracy": outcome.val_accuracy, "best_epoch": outcome.best_epoch, **outcome.params}
            full_config["training"] = _jsonable(outcome.extra)  # e.g. VGGFace weights file and its SHA-256
        learned = splits.loc[splits["split"].isin(["train", "validation"]), "id"]
        # Which photos this model learned from: a removal request (forget) names the runs it affects.
        (out / DATA_IDS).write_text("\n".join(sorted(learned)) + "\n")
        metrics["train_seconds"] = round(time.perf_counter() - started, 2)
        metrics["images"] = {s: int(n) for s, n in splits["split"].value_counts().items()}
        if tune:
            tuning = json.loads((out / TUNING_FILE).read_text())
            metrics["tuning"] = {k: tuning[k] for k in ("n_trials", "best_params", "best_inner_score")}
        run_config = {"model_config": full_config, "data_fingerprint": fp, "tune": tune,
                      "packages": package_versions()}
        return upload_run(store, new_run_id(kind), kind, out, config=run_config, history=_jsonable(history),
                          labels=list(labels), metrics=metrics)


def reproduce(store: ObjectStore, settings: Settings, run_id: str, **kwargs) -> Run:
    """Train again from a run's config alone; the data must be the same (fingerprint)."""
    old = load_run(store, run_id)
    _, fp = load_splits(store)
    if fp != old.config["data_fingerprint"]:
        raise TrainError(f"run {run_id} was trained on other data (splits.csv changed since); cannot reproduce")
    config = dict(old.config["model_config"])
    config.pop("model", None)
    config.pop("training", None)  # what the run recorded about itself, not settings
    # a tuned run is reproduced with its search (seeded: the same trials, the same choice)
    return train(store, settings, old.kind, config=config, tune=old.config.get("tune", 0), **kwargs)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value.item() if hasattr(value, "item") else value
