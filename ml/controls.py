"""Confound controls: is the signal in the face, or in the website's photo style?

Each department's site has its own camera, lighting, background and JPEG settings, and in
the study every category came from one site, so a model can score by recognising the
site. The controls retrain "the same model" (the run's own model config) on other data:

* blur: train and test on heavily blurred crops (Gaussian, sigma a fraction of the side).
  Facial detail is gone; colour, lighting, background and framing remain. Beating chance
  there means the signal does not need the face.
* leave-one-department-out (lodo): for every department whose category also comes from
  other departments, train on the others (minus anyone also seen in the held-out one) and
  test on it; the predictions of all folds are pooled into one estimate.
* per-department breakdown of the ordinary test split (no retraining).

Each control returns a dict with ``status`` (done / skipped) and a plain ``finding``.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from infra.store import ObjectStore
from ml import findings
from ml.crop_stage import crop_key
from ml.metrics import evaluate_predictions

CONTROLS_PREFIX = "preprocessed/controls/"
EMBED_POOL_FROM = 32  # crops; below that, starting worker processes costs more than it saves
DEFAULT_BLUR = 0.08  # sigma as a fraction of the crop side: ~10 px on 128 px, the eyes are gone


# -- fitting "the same model" on another frame ---------------------------------------------------
def model_config_of(run_config: dict) -> dict:
    """The hyper-parameters a run was trained with (what `reproduce` uses)."""
    config = dict(run_config.get("model_config", {}))
    config.pop("model", None)
    config.pop("training", None)
    return config


def embed_workers() -> int:
    return min(os.cpu_count() or 1, 4)


def fit_predict(store: ObjectStore, kind: str, config: dict, frame: pd.DataFrame, *,
                key: Callable[[str], str] = crop_key, variant: str = "",
                pool=None) -> tuple[list[str], list[str], np.ndarray]:
    """Train `kind` on frame's train/validation rows (crops at `key(id)`), predict its test rows.

    Returns (labels, test ids, probabilities). Nothing is uploaded: a control is not a run.
    `pool`: embedding processes shared by several controls (ml.embeddings.embedding_pool).
    """
    if kind == "probe":
        from ml.embeddings import embed_crops
        from ml.probe import ProbeConfig, train_probe

        # a control embeds every crop of the frame anew: worth a process per core when there are many
        workers = embed_workers() if pool is not None or len(frame) >= EMBED_POOL_FROM else 1
        vectors = embed_crops(store, frame["id"], crop_key=key, variant=variant, workers=workers, pool=pool)
        outcome = train_probe(vectors, frame, ProbeConfig(**config))
        return outcome.labels, outcome.test_ids, outcome.test_probabilities
    from PIL import Image

    from ml.train import sync_split_folders
    from ml.train_keras import KerasTrainConfig, predict_keras, train_keras

    with tempfile.TemporaryDirectory(prefix=f"control-{kind}-") as tmp:
        data_dir = sync_split_folders(store, frame, Path(tmp) / "data", crop_key=key)
        outcome = train_keras(data_dir, KerasTrainConfig(model=kind, **config), Path(tmp) / "out")
        test = frame[frame["split"] == "test"]
        images = np.stack([np.asarray(Image.open(data_dir / "test" / c / f"{i}.jpg").convert("RGB"))
                           for i, c in zip(test["id"], test["category"])])
        proba = predict_keras(outcome.model_path, images)
    return outcome.labels, test["id"].tolist(), proba


def interval_entry(y_true: Sequence[str], proba: np.ndarray, labels: list[str], groups: Sequence[str]) -> dict:
    """Accuracy with its 95 % interval over people (no permutation test)."""
    m = evaluate_predictions(list(y_true), proba, labels, groups=list(groups), n_permutations=0)
    return {"n": m["n_test"], "accuracy": m["accuracy"], "ci_low": m["ci_low"], "ci_high": m["ci_high"]}


def summary_of(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("accuracy", "ci_low", "ci_high", "n_test", "chance", "p_value", "n_groups")}


# -- per department -------------------------------------------------------------------------------
def with_departments(frame: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """Frame rows joined with their department (slug, university, department) from the index."""
    places = index[["id", "slug", "university", "department"]].drop_duplicates("id")
    joined = frame.merge(places, on="id", how="left")
    return joined.fillna({"slug": "(unknown)", "university": "", "department": "(not in the index)"})


def _department_name(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    return " / ".join(str(v) for v in (first["university"], first["department"]) if str(v))


def per_department(test: pd.DataFrame, proba: np.ndarray, labels: list[str]) -> list[dict]:
    """Accuracy per department of the test rows (`test` joined by `with_departments`, row order = proba)."""
    out = []
    proba = np.asarray(proba)
    for slug, rows in test.reset_index(drop=True).groupby("slug", sort=True):
        entry = interval_entry(rows["category"], proba[rows.index], labels, rows["group"])
        out.append({"department": _department_name(rows), "slug": str(slug),
                    "category": ", ".join(sorted(rows["category"].unique())), **entry})
    return out


# -- controls on transformed crops ---------------------------------------------------------------
def variant_key(variant: str, image_id: str) -> str:
    return f"{CONTROLS_PREFIX}{variant}/{image_id}.jpg"


def ensure_variant_crops(store: ObjectStore, ids: Sequence[str], variant: str,
                         make_transform: Callable[[], Callable[[bytes], bytes]]) -> int:
    """Store transformed copies of the crops that lack one; returns how many were made.

    `make_transform()` is called once per worker thread (a face detector is not thread-safe)."""
    prefix = f"{CONTROLS_PREFIX}{variant}/"
    have = {o.key[len(prefix):-4] for o in store.list(prefix)}
    missing = [i for i in dict.fromkeys(ids) if i not in have]
    local = threading.local()

    def make(image_id: str) -> None:
        if not hasattr(local, "transform"):
            local.transform = make_transform()
        store.put_bytes(variant_key(variant, image_id), local.transform(store.get_bytes(crop_key(image_id))),
                        "image/jpeg")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, missing))
    return len(missing)


def crop_control(store: ObjectStore, kind: str, config: dict, splits: pd.DataFrame, *, variant: str,
                 make_transform: Callable[[], Callable[[bytes], bytes]], main_correct: dict | None = None,
                 n_permutations: int = 2000, seed: int = 0, pool=None) -> dict:
    """The same model trained and tested on transformed crops of the same people and splits.

    With `main_correct` (test id -> the main model was right) the result also compares both
    models on the same test photos (`paired`)."""
    ensure_variant_crops(store, splits["id"].tolist(), variant, make_transform)
    labels, ids, proba = fit_predict(store, kind, config, splits, key=lambda i: variant_key(variant, i),
                                     variant=variant, pool=pool)
    truth = splits.set_index("id").loc[ids]
    result = summary_of(evaluate_predictions(truth["category"].tolist(), proba, labels,
                                           groups=truth["group"].tolist(), n_permutations=n_permutations,
                                           seed=seed))
    if main_correct:
        predicted = np.asarray(labels)[np.argmax(proba, axis=1)]
        result["paired"] = paired_with_main(ids, predicted == truth["category"].to_numpy(),
                                            truth["group"].tolist(), main_correct, seed=seed)
    return result


def paired_with_main(ids: Sequence[str], correct: np.ndarray, groups: Sequence[str], main_correct: dict, *,
                     seed: int = 0) -> dict | None:
    """Main model minus control on the test photos both scored, paired by person."""
    from ml.stats import paired_comparison

    both = [k for k, i in enumerate(ids) if i in main_correct]
    if len(both) < 2:
        return None
    main = np.array([main_correct[ids[k]] for k in both], dtype=bool)
    return paired_comparison(main, np.asarray(correct, dtype=bool)[both], [groups[k] for k in both], seed=seed)


def blur_variant(sigma_fraction: float) -> str:
    return f"blur{round(sigma_fraction * 1000):03d}"


def blur_jpeg(data: bytes, sigma_fraction: float) -> bytes:
    from PIL import Image, ImageFilter

    image = Image.open(io.BytesIO(data)).convert("RGB")
    blurred = image.filter(ImageFilter.GaussianBlur(sigma_fraction * min(image.size)))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=95)
    return out.getvalue()


def blur_control(store: ObjectStore, kind: str, config: dict, splits: pd.DataFrame, *,
                 sigma_fraction: float = DEFAULT_BLUR, main_correct: dict | None = None,
                 n_permutations: int = 2000, seed: int = 0, pool=None) -> dict:
    """The same model trained and tested on heavily blurred crops of the same splits."""
    result = crop_control(store, kind, config, splits, variant=blur_variant(sigma_fraction),
                          make_transform=lambda: lambda data: blur_jpeg(data, sigma_fraction),
                          main_correct=main_correct, n_permutations=n_permutations, seed=seed, pool=pool)
    return {"status": "done", "sigma_fraction": sigma_fraction, **result,
            "finding": findings.finding("blur", result)}


# -- leave one department out ---------------------------------------------------------------------
def lodo_folds(frame: pd.DataFrame) -> tuple[list[tuple[str, pd.DataFrame]], list[dict]]:
    """(slug, fold frame) per department that can be held out, and the skipped ones with reasons.

    A fold trains on every other department's train and test rows (validation stays
    validation), without the held-out department's people, and tests on all of its rows.
    """
    folds, skipped = [], []
    for slug, held in frame.groupby("slug", sort=True):
        others = frame[(frame["slug"] != slug) & ~frame["group"].isin(held["group"])]
        seen = set(others.loc[others["split"] != "validation", "category"])
        unseen = sorted(set(held["category"]) - seen)
        if unseen:
            skipped.append({"slug": str(slug), "reason": f"category {', '.join(unseen)} comes from no other "
                                                         "department, so a model trained without it cannot "
                                                         "predict it"})
            continue
        if len(seen) < 2:
            skipped.append({"slug": str(slug), "reason": "the other departments hold fewer than two categories"})
            continue
        fold = pd.concat([others.assign(split=others["split"].replace({"test": "train"})),
                          held.assign(split="test")], ignore_index=True)
        folds.append((str(slug), fold))
    return folds, skipped


def lodo_control(store: ObjectStore, kind: str, config: dict, frame: pd.DataFrame, main: dict, *,
                 main_correct: dict | None = None, n_permutations: int = 2000, seed: int = 0) -> dict:
    """Pooled accuracy on departments never seen in training (`frame`: splits with departments)."""
    folds, skipped = lodo_folds(frame)
    labels = sorted(frame["category"].unique())
    truth, pooled, rows = [], [], []
    for slug, fold in folds:
        try:
            fold_labels, ids, proba = fit_predict(store, kind, config, fold)
        except ValueError as exc:  # e.g. too few people per category left to cross-validate
            skipped.append({"slug": slug, "reason": str(exc)})
            continue
        wide = np.zeros((len(ids), len(labels)))
        wide[:, [labels.index(c) for c in fold_labels]] = proba
        held = fold[fold["split"] == "test"].set_index("id").loc[ids]
        truth.append(held)
        pooled.append(wide)
        rows.append({"department": _department_name(held), "slug": slug,
                     "category": ", ".join(sorted(held["category"].unique())),
                     **interval_entry(held["category"], wide, labels, held["group"])})
    if not rows:
        return {"status": "skipped", "skipped": skipped, "folds": [],
                "finding": "Not possible on this data: no category comes from more than one department, so "
                           "category and website are fully confounded and no evaluation of this data can tell "
                           "a face signal from a website signal."}
    held = pd.concat(truth)
    pooled_proba = np.concatenate(pooled)
    result = summary_of(evaluate_predictions(held["category"].tolist(), pooled_proba, labels,
                                           groups=held["group"].tolist(), n_permutations=n_permutations, seed=seed))
    if main_correct:
        predicted = np.asarray(labels)[np.argmax(pooled_proba, axis=1)]
        result["paired"] = paired_with_main(held.index.tolist(), predicted == held["category"].to_numpy(),
                                            held["group"].tolist(), main_correct, seed=seed)
    return {"status": "done", **result, "folds": rows, "skipped": skipped,
            "finding": findings.lodo(result, main, len(rows))}


def not_run(name: str) -> dict:
    return {"status": "not_run", "finding": f"Not run: `academic-faces evaluate --controls {name}` runs it."}

