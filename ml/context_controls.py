"""Controls that separate the face from its context: face_only, context_only, photo_style.

* face_only / context_only: the run's own model kind retrained on crops with everything but
  the face, or the face, in neutral grey (ml.face_mask), same people and splits, cached under
  ``preprocessed/controls/<name>/<id>.jpg`` like the blurred crops.
* photo_style: a model that never sees a face. Image statistics of each whole original photo
  (ml.photo_style) into a logistic regression, trained on the train and validation people,
  scored on the test people. If it beats chance, the categories' photos differ
  photographically, whatever the face model does. Features are computed on the fly from
  ``raw/images/`` and never stored, so a removal leaves nothing of them behind.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from infra.index import read_merged_index
from infra.store import ObjectStore
from ml import findings
from ml.controls import crop_control, paired_with_main, summary_of
from ml.metrics import evaluate_predictions


def _masker(keep: str):
    def make():
        from ml.crop import FaceCropper
        from ml.face_mask import masked_jpeg

        detector = FaceCropper()
        return lambda data: masked_jpeg(data, keep, detector)
    return make


def face_only_control(store: ObjectStore, kind: str, config: dict, splits: pd.DataFrame, *,
                      main_correct: dict | None = None, n_permutations: int = 2000, seed: int = 0,
                      pool=None) -> dict:
    result = crop_control(store, kind, config, splits, variant="face_only", make_transform=_masker("face"),
                          main_correct=main_correct, n_permutations=n_permutations, seed=seed, pool=pool)
    return {"status": "done", **result, "finding": findings.finding("face_only", result)}


def context_only_control(store: ObjectStore, kind: str, config: dict, splits: pd.DataFrame, *,
                         main_correct: dict | None = None, n_permutations: int = 2000, seed: int = 0,
                         pool=None) -> dict:
    result = crop_control(store, kind, config, splits, variant="context_only", make_transform=_masker("context"),
                          main_correct=main_correct, n_permutations=n_permutations, seed=seed, pool=pool)
    return {"status": "done", **result, "finding": findings.finding("context_only", result)}


def style_features(store: ObjectStore, ids: list[str], index: pd.DataFrame | None = None) -> tuple[np.ndarray, list[str]]:
    """Photo-style features of the original photos of `ids`; returns (matrix, ids that have one).

    An id whose original is gone (removed) or does not decode is left out, not guessed."""
    from ml.photo_style import photo_style_features

    index = read_merged_index(store) if index is None else index
    keys = index.drop_duplicates("id").set_index("id")["image_key"].to_dict()

    def features(image_id: str):
        key = keys.get(image_id)
        if not key or not store.exists(key):
            return None
        try:
            return photo_style_features(store.get_bytes(key))
        except ValueError:
            return None
    with ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(features, ids))
    kept = [i for i, row in zip(ids, rows) if row is not None]
    matrix = np.stack([row for row in rows if row is not None]) if kept else np.zeros((0, 0))
    return matrix, kept


def photo_style_control(store: ObjectStore, splits: pd.DataFrame, *, main_correct: dict | None = None,
                        n_permutations: int = 2000, seed: int = 0, index: pd.DataFrame | None = None) -> dict:
    """`index`: the merged index when the caller has read it already (else read here)."""
    from ml.photo_style import fit_predict_style

    matrix, ids = style_features(store, splits["id"].tolist(), index)
    rows = splits.set_index("id").loc[ids]
    train = (rows["split"] != "test").to_numpy()
    test = ~train
    labels = sorted(splits["category"].unique())
    if train.sum() == 0 or test.sum() == 0 or rows.loc[train, "category"].nunique() < 2:
        return {"status": "skipped", "finding": "Not possible: too few original photos are left to train and test "
                                                "a photo-style model."}
    proba = fit_predict_style(matrix[train], rows.loc[train, "category"].to_numpy(),
                              rows.loc[train, "group"].to_numpy(), matrix[test], labels, seed=seed)
    held = rows[test]
    result = summary_of(evaluate_predictions(held["category"].tolist(), proba, labels,
                                             groups=held["group"].tolist(), n_permutations=n_permutations, seed=seed))
    result["n_features"] = int(matrix.shape[1])
    if main_correct:
        predicted = np.asarray(labels)[np.argmax(proba, axis=1)]
        result["paired"] = paired_with_main(held.index.tolist(), predicted == held["category"].to_numpy(),
                                            held["group"].tolist(), main_correct, seed=seed)
    return {"status": "done", **result, "finding": findings.finding("photo_style", result)}
