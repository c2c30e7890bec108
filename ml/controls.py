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
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from infra.store import ObjectStore
from ml.crop_stage import crop_key
from ml.metrics import evaluate_predictions

CONTROLS_PREFIX = "preprocessed/controls/"
DEFAULT_BLUR = 0.08  # sigma as a fraction of the crop side: ~10 px on 128 px, the eyes are gone
SIGNIFICANCE = 0.05


# -- fitting "the same model" on another frame ---------------------------------------------------
def model_config_of(run_config: dict) -> dict:
    """The hyper-parameters a run was trained with (what `reproduce` uses)."""
    config = dict(run_config.get("model_config", {}))
    config.pop("model", None)
    config.pop("training", None)
    return config


def fit_predict(store: ObjectStore, kind: str, config: dict, frame: pd.DataFrame, *,
                key: Callable[[str], str] = crop_key, variant: str = "") -> tuple[list[str], list[str], np.ndarray]:
    """Train `kind` on frame's train/validation rows (crops at `key(id)`), predict its test rows.

    Returns (labels, test ids, probabilities). Nothing is uploaded: a control is not a run.
    """
    if kind == "probe":
        from ml.embeddings import embed_crops
        from ml.probe import ProbeConfig, train_probe

        vectors = embed_crops(store, frame["id"], crop_key=key, variant=variant)
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


def _summary(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("accuracy", "ci_low", "ci_high", "n_test", "chance", "p_value", "n_groups")}


def _numbers(r: dict) -> str:
    return f"{r['accuracy']:.3f} (95 % CI {r['ci_low']:.3f}-{r['ci_high']:.3f}, p = {r['p_value']:.3g})"


def beats_chance(r: dict) -> bool:
    return r["p_value"] < SIGNIFICANCE and r["ci_low"] > r["chance"]


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


# -- blur -----------------------------------------------------------------------------------------
def blur_variant(sigma_fraction: float) -> str:
    return f"blur{round(sigma_fraction * 1000):03d}"


def blurred_key(image_id: str, sigma_fraction: float) -> str:
    return f"{CONTROLS_PREFIX}{blur_variant(sigma_fraction)}/{image_id}.jpg"


def blur_jpeg(data: bytes, sigma_fraction: float) -> bytes:
    from PIL import Image, ImageFilter

    image = Image.open(io.BytesIO(data)).convert("RGB")
    blurred = image.filter(ImageFilter.GaussianBlur(sigma_fraction * min(image.size)))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=95)
    return out.getvalue()


def ensure_blurred_crops(store: ObjectStore, ids: Sequence[str], sigma_fraction: float) -> int:
    """Store blurred copies of the crops that lack one; returns how many were made."""
    prefix = f"{CONTROLS_PREFIX}{blur_variant(sigma_fraction)}/"
    have = {o.key[len(prefix):-4] for o in store.list(prefix)}
    missing = [i for i in dict.fromkeys(ids) if i not in have]

    def make(image_id: str) -> None:
        store.put_bytes(blurred_key(image_id, sigma_fraction),
                        blur_jpeg(store.get_bytes(crop_key(image_id)), sigma_fraction), "image/jpeg")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, missing))
    return len(missing)


def blur_control(store: ObjectStore, kind: str, config: dict, splits: pd.DataFrame, *,
                 sigma_fraction: float = DEFAULT_BLUR, n_permutations: int = 2000, seed: int = 0) -> dict:
    """The same model trained and tested on heavily blurred crops of the same splits."""
    ensure_blurred_crops(store, splits["id"].tolist(), sigma_fraction)
    labels, ids, proba = fit_predict(store, kind, config, splits,
                                     key=lambda i: blurred_key(i, sigma_fraction),
                                     variant=blur_variant(sigma_fraction))
    truth = splits.set_index("id").loc[ids]
    result = _summary(evaluate_predictions(truth["category"].tolist(), proba, labels,
                                           groups=truth["group"].tolist(), n_permutations=n_permutations,
                                           seed=seed))
    if beats_chance(result):
        finding = (f"On heavily blurred crops (no facial detail) the model still scores {_numbers(result)}, "
                   f"above chance ({result['chance']:.3f}): part of what it uses is colour, lighting, "
                   "background or photo style, not the face.")
    else:
        finding = (f"On heavily blurred crops the model scores {_numbers(result)}, not distinguishable from "
                   f"chance ({result['chance']:.3f}): the signal it uses needs facial detail.")
    return {"status": "done", "sigma_fraction": sigma_fraction, **result, "finding": finding}


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
                 n_permutations: int = 2000, seed: int = 0) -> dict:
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
    result = _summary(evaluate_predictions(held["category"].tolist(), np.concatenate(pooled), labels,
                                           groups=held["group"].tolist(), n_permutations=n_permutations, seed=seed))
    finding = (f"Tested on departments whose website it never saw in training ({len(rows)} departments, "
               f"{result['n_test']} images), the model scores {_numbers(result)}, against {main['accuracy']:.3f} "
               "on the ordinary test split. ")
    finding += "That is better than chance." if beats_chance(result) else "That is not distinguishable from chance."
    if main["ci_low"] > result["ci_high"]:
        finding += (" The drop means part of its test accuracy came from recognising the departments' websites, "
                    "not faces.")
    return {"status": "done", **result, "folds": rows, "skipped": skipped, "finding": finding}


def not_run(name: str) -> dict:
    return {"status": "not_run", "finding": f"Not run: `academic-faces evaluate --controls {name}` runs it."}

