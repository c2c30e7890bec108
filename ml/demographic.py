"""Demographic baseline: how far does perceived gender alone get on the field labels?

The share of women differs between fields, so a model that only recognises (perceived) gender
beats chance on field labels without knowing anything about a field. This control measures
that baseline on the same people and splits as the main model:

1. A perceived-gender classifier: the probe's face embeddings (``ml.embeddings``) of LFW photos
   cropped by ``ml.crop.FaceCropper``, labelled by ``lfw_labels.csv`` (the shared data, or the
   file named by ``ACADEMIC_FACES_GENDER_LABELS``), into a logistic regression. One photo per
   person, PER_GENDER people per gender drawn with a fixed seed (their names are recorded in
   the result); its accuracy comes from person-grouped cross-validation. The fitted model is
   plain numbers (scaler and logistic weights) in JSON, never a pickle: it is cached on this
   machine (MODEL_CACHE_ENV, else <home>/cache/models/) and in the store under GENDER_PREFIX,
   keyed by its recipe, so it is trained once per machine and store.
2. It gives every crop of the splits a probability of being perceived as female.
3. A field classifier that sees only that probability (one number per photo) is trained on
   the train and validation people and scored on the test people, paired with the main model.

Gender here is perceived, binary and error-prone: LFW's labels were assigned by people looking
at photos, and the classifier learns appearance, never a fact about a person. The baseline is
for bias analysis of the data set (how much of a field signal the categories' gender mix alone
explains); it labels no one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from infra.store import KeyNotFound, ObjectStore
from ml import findings

LABELS_ENV = "ACADEMIC_FACES_GENDER_LABELS"
MODEL_CACHE_ENV = "ACADEMIC_FACES_MODEL_CACHE"  # a folder for derived models shared by every home
DEFAULT_LABELS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "faces" / "lfw_labels.csv"
GENDER_PREFIX = "preprocessed/demographic/"
GENDERS = ("female", "male")  # LFW's labels: binary, as the annotators gave them
PER_GENDER = 100  # people per gender; measured CV accuracy 0.983 with 60, 0.980 with 100, 0.980 with 150
SEED = 0
FOLDS = 5
C = 1.0  # fixed, not tuned: the cross-validated accuracy stays an honest estimate
CROP_SIZE = 128  # as `preprocess` crops; the embedder's face box is relative to the crop
RECIPE_VERSION = 1
FEATURE = "predicted probability of being perceived as female"

log = logging.getLogger(__name__)


def labels_path() -> Path:
    return Path(os.environ.get(LABELS_ENV) or DEFAULT_LABELS)


def load_gender_labels(path: Path) -> pd.DataFrame:
    """identity, gender, path (absolute) per LFW photo with a female/male label."""
    frame = pd.read_csv(path, dtype=str)
    missing = {"identity", "path", "gender"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: lacks column(s) {sorted(missing)} (needs identity, path, gender)")
    frame = frame[frame["gender"].isin(GENDERS)].copy()
    frame["path"] = [str(path.parent / p) for p in frame["path"]]
    return frame[["identity", "gender", "path"]].reset_index(drop=True)


def training_people(labels: pd.DataFrame, per_gender: int = PER_GENDER, seed: int = SEED) -> pd.DataFrame:
    """The gender model's people: `per_gender` of each gender, drawn with `seed`, one photo each
    (the first by path), sorted by identity. Deterministic, so tests can keep these people out
    of the worlds they build."""
    first = labels.sort_values(["identity", "path"]).drop_duplicates("identity")
    chosen = []
    for gender in GENDERS:
        people = first[first["gender"] == gender]
        if len(people) < per_gender:
            raise ValueError(f"only {len(people)} {gender} people in the gender labels, {per_gender} wanted")
        order = np.random.default_rng(seed).permutation(len(people))[:per_gender]
        chosen.append(people.iloc[np.sort(order)])
    return pd.concat(chosen).sort_values("identity").reset_index(drop=True)


def lfw_id(identity: str) -> str:
    """Store id of an LFW person's crop: never a content hash, so it never meets a crawled id."""
    return "lfw-" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def lfw_crop_key(image_id: str) -> str:
    return f"{GENDER_PREFIX}lfw-crops/{image_id}.jpg"


def recipe_key(people: pd.DataFrame) -> str:
    from ml.embeddings import MODEL_NAME

    recipe = {"version": RECIPE_VERSION, "embedding": MODEL_NAME, "crop_size": CROP_SIZE, "C": C, "folds": FOLDS,
              "people": [[r.identity, r.gender, Path(r.path).name] for r in people.itertuples()]}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    return f"{GENDER_PREFIX}gender-model-{digest}.json"


def _crop_people(store: ObjectStore, people: pd.DataFrame) -> dict[str, str]:
    """Crop each person's photo into the store; id -> identity of those with a crop."""
    from ml.crop import FaceCropper

    cropper = FaceCropper(size=CROP_SIZE)
    have = {o.key for o in store.list(f"{GENDER_PREFIX}lfw-crops/")}
    cropped = {}
    for row in people.itertuples():
        image_id = lfw_id(row.identity)
        if lfw_crop_key(image_id) not in have:
            outcome = cropper.crop(Path(row.path).read_bytes())
            if outcome.crop is None:
                continue
            store.put_bytes(lfw_crop_key(image_id), outcome.crop, "image/jpeg")
        cropped[image_id] = row.identity
    return cropped


def _pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def fit_gender_model(X: np.ndarray, genders: Sequence[str], people: Sequence[str], *, seed: int = SEED) -> tuple:
    """(model, accuracy entry): person-grouped cross-validated accuracy with its 95 % interval over
    people, then the model refitted on everyone. Classes in GENDERS order."""
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    from ml.metrics import evaluate_predictions

    y, groups = np.asarray(genders), np.asarray(people)
    held_out = np.zeros((len(y), len(GENDERS)))
    with threadpool_limits(limits=1):  # tiny problems: threaded BLAS only spins (see ml.probe)
        for train, test in StratifiedGroupKFold(FOLDS, shuffle=True, random_state=seed).split(X, y, groups):
            held_out[test] = _pipeline().fit(X[train], y[train]).predict_proba(X[test])
        model = _pipeline().fit(X, y)
    m = evaluate_predictions(list(y), held_out, list(GENDERS), groups=list(groups), n_permutations=0)
    entry = {"accuracy": m["accuracy"], "ci_low": m["ci_low"], "ci_high": m["ci_high"], "n_people": m["n_groups"],
             "method": f"{FOLDS}-fold cross-validation grouped by person, one photo each"}
    return model, entry


def gender_model(store: ObjectStore, path: Path | None = None, *, per_gender: int = PER_GENDER,
                 workers: int = 1) -> tuple:
    """(model, record): the cached perceived-gender model, or one trained now and cached.

    record: accuracy entry, people per gender, their names, the store key."""
    path = path or labels_path()
    if not path.is_file():
        raise FileNotFoundError(f"no gender labels at {path}: set {LABELS_ENV} to an lfw_labels.csv "
                                "(columns identity, path, gender; paths relative to the file)")
    people = training_people(load_gender_labels(path), per_gender)
    key = recipe_key(people)
    with _machine_lock(key):  # processes on one machine train it once; the others wait, then load
        cached = _load_cached(store, key)
        if cached is not None:
            return cached[0], {**cached[1], "cached": True}
        return _train_gender_model(store, people, path, key, workers)


@contextlib.contextmanager
def _machine_lock(key: str):
    import fcntl

    folder = model_cache()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f".{key.rsplit('/', 1)[-1]}.lock", "w")
    except OSError:  # no writable cache: no lock either, only duplicate work
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _train_gender_model(store: ObjectStore, people: pd.DataFrame, path: Path, key: str, workers: int) -> tuple:
    from ml.embeddings import embed_crops

    cropped = _crop_people(store, people)
    vectors = embed_crops(store, list(cropped), crop_key=lfw_crop_key, variant="lfw", workers=workers)
    ids = [i for i in cropped if i in vectors]
    by_name = people.set_index("identity")["gender"]
    names = [cropped[i] for i in ids]
    fitted, accuracy = fit_gender_model(np.stack([vectors[i] for i in ids]), by_name.loc[names].tolist(), names)
    model = GenderModel.from_pipeline(fitted)
    record = {**accuracy, "per_gender": {g: int((by_name.loc[names] == g).sum()) for g in GENDERS},
              "no_face": len(people) - len(ids), "labels": path.name, "key": key, "people": sorted(names)}
    data = json.dumps({"model": model.to_json(), "record": record}).encode()
    store.put_bytes(key, data, "application/json")
    _save_local(model_cache() / key.rsplit("/", 1)[-1], data)
    return model, {**record, "cached": False}


class GenderModel:
    """A standardise-then-logistic model kept as plain numbers (JSON), so loading it runs no code."""

    def __init__(self, mean, scale, coef, intercept: float, classes):
        self.mean, self.scale = np.asarray(mean, float), np.asarray(scale, float)
        self.coef, self.intercept, self.classes_ = np.asarray(coef, float), float(intercept), list(classes)

    @classmethod
    def from_pipeline(cls, pipeline) -> "GenderModel":
        scaler, logistic = pipeline[0], pipeline[-1]
        return cls(scaler.mean_, scaler.scale_, logistic.coef_[0], logistic.intercept_[0], logistic.classes_)

    @classmethod
    def from_json(cls, data: Mapping) -> "GenderModel":
        shapes = {len(data["mean"]), len(data["scale"]), len(data["coef"])}
        if len(shapes) != 1 or list(data["classes"]) != list(GENDERS):
            raise ValueError("malformed perceived-gender model file")
        return cls(data["mean"], data["scale"], data["coef"], data["intercept"], data["classes"])

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "classes": self.classes_}

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(vectors) - self.mean) / self.scale) @ self.coef + self.intercept
        second = 1 / (1 + np.exp(-z))  # scikit-learn's binary logistic: the second class's probability
        return np.column_stack([1 - second, second])


def female_probability(model, vectors: np.ndarray) -> np.ndarray:
    return model.predict_proba(np.atleast_2d(vectors))[:, list(model.classes_).index("female")]


def model_cache() -> Path:
    """This machine's folder for derived models: MODEL_CACHE_ENV, else <home>/cache/models."""
    if os.environ.get(MODEL_CACHE_ENV):
        return Path(os.environ[MODEL_CACHE_ENV])
    from infra.settings import load_settings

    return load_settings().home / "cache" / "models"


def _load_cached(store: ObjectStore, key: str) -> tuple[GenderModel, dict] | None:
    """The model from this machine's cache, else from the store (then copied to the machine)."""
    local = model_cache() / key.rsplit("/", 1)[-1]
    for source in ("machine", "store"):
        try:
            data = local.read_bytes() if source == "machine" else store.get_bytes(key)
            payload = json.loads(data)
            model = GenderModel.from_json(payload["model"])
        except (FileNotFoundError, KeyNotFound):
            continue
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("retraining the perceived-gender model: cached %s is unreadable (%s)", key, exc)
            continue
        if source == "store":
            _save_local(local, data)
        return model, payload["record"]
    return None


def _save_local(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a parallel reader sees the old file or the whole new one
    except OSError as exc:  # a read-only home only costs the cache
        log.warning("could not cache the perceived-gender model at %s: %s", path, exc)


# -- the field classifier on perceived gender ---------------------------------------------------
def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def fit_predict_field(p_train: np.ndarray, y_train: Sequence[str], p_test: np.ndarray, labels: list[str]) -> np.ndarray:
    """Field probabilities (columns in `labels` order) from the gender probability alone."""
    from sklearn.linear_model import LogisticRegression

    # balanced, as the probe: the field classifier may not win by predicting the larger category
    model = LogisticRegression(class_weight="balanced", max_iter=2000).fit(_logit(p_train)[:, None], list(y_train))
    proba = model.predict_proba(_logit(p_test)[:, None])
    out = np.zeros((len(p_test), len(labels)))
    out[:, [labels.index(c) for c in model.classes_]] = proba
    return out


def composition(frame: pd.DataFrame) -> list[dict]:
    """Per category, the share of people predicted female (a person's mean probability >= 0.5),
    over all people and over the train + validation and the test people.

    `frame`: one row per photo with category, group, split, p_female."""
    people = frame.groupby(["category", "group"], sort=True).agg(
        p=("p_female", "mean"), photos=("p_female", "size"), test=("split", lambda s: bool((s == "test").all())))
    people["female"] = people["p"] >= 0.5

    def share(rows: pd.DataFrame) -> float | None:
        return float(rows["female"].mean()) if len(rows) else None
    out = []
    for category, rows in people.groupby(level="category", sort=True):
        out.append({"category": str(category), "people": int(len(rows)), "photos": int(rows["photos"].sum()),
                    "share_female": share(rows), "share_female_train": share(rows[~rows["test"]]),
                    "share_female_test": share(rows[rows["test"]]),
                    "mean_p_female": float(frame.loc[frame["category"] == category, "p_female"].mean())})
    return out


def excess_over_demographic(paired: Mapping | None) -> dict | None:
    """Main model minus the demographic control on the same test photos, paired by person
    (``ml.stats.paired_comparison``: bootstrap over people, widened to a cluster t interval)."""
    if not paired:
        return None
    return {"estimate": paired["difference"], "ci_low": paired["ci_low"], "ci_high": paired["ci_high"],
            "ci_level": paired.get("ci_level", 0.95), "p_value": paired["p_value"], "n_test": paired["n_test"],
            "n_groups": paired["n_groups"], "method": paired.get("method", "")}


def excess_sentence(excess: Mapping | None, *, with_numbers: bool = True) -> str:
    """What the excess over the demographic baseline shows, for findings and the verdict."""
    if not excess:
        return ""
    text = " The main model's excess over the demographic baseline (perceived gender alone)"
    if with_numbers:
        text += (f" is {excess['estimate']:+.3f} (95 % CI {excess['ci_low']:+.3f} to {excess['ci_high']:+.3f}, "
                 "paired by person)")
    if excess["ci_low"] > 0:
        return text + (": above 0, so the model knows more about the category than the gender mix gives away."
                       if with_numbers else " is above 0: the model knows more than the gender mix gives away.")
    return text + (": not above 0, so no signal beyond the categories' shares of perceived women and men is "
                   "shown." if with_numbers else " is not above 0: no signal beyond perceived gender is shown.")


def demographic_control(store: ObjectStore, splits: pd.DataFrame, *, main_correct: dict | None = None,
                        n_permutations: int = 2000, seed: int = 0, labels: Path | None = None) -> dict:
    """The demographic baseline on `splits` (id, group, category, split); see the module doc."""
    from ml.controls import EMBED_POOL_FROM, embed_workers, paired_with_main, summary_of
    from ml.crop_stage import crop_key
    from ml.embeddings import embed_crops
    from ml.metrics import evaluate_predictions

    workers = embed_workers()
    try:
        model, record = gender_model(store, labels, workers=workers)
    except (FileNotFoundError, ValueError) as exc:
        return {"status": "skipped", "finding": f"Not possible: no perceived-gender model could be trained ({exc})."}
    ids = splits["id"].tolist()
    vectors = embed_crops(store, ids, crop_key=crop_key, workers=workers if len(ids) >= EMBED_POOL_FROM else 1)
    rows = splits[splits["id"].isin(vectors)].reset_index(drop=True)
    rows["p_female"] = female_probability(model, np.stack([vectors[i] for i in rows["id"]])) if len(rows) else []
    train, test = rows[rows["split"] != "test"], rows[rows["split"] == "test"]
    labels_ = sorted(splits["category"].unique())
    gender_entry = {k: record[k] for k in ("accuracy", "ci_low", "ci_high", "n_people", "per_gender", "method",
                                           "labels", "key", "cached", "people")}
    if test.empty or train["category"].nunique() < 2:
        return {"status": "skipped", "gender_model": gender_entry, "finding": "Not possible: too few embedded "
                "crops to train and test a classifier on perceived gender."}
    proba = fit_predict_field(train["p_female"].to_numpy(), train["category"], test["p_female"].to_numpy(), labels_)
    result = summary_of(evaluate_predictions(test["category"].tolist(), proba, labels_, groups=test["group"].tolist(),
                                             n_permutations=n_permutations, seed=seed))
    if main_correct:
        predicted = np.asarray(labels_)[np.argmax(proba, axis=1)]
        result["paired"] = paired_with_main(test["id"].tolist(), predicted == test["category"].to_numpy(),
                                            test["group"].tolist(), main_correct, seed=seed)
    excess = excess_over_demographic(result.get("paired"))
    text = (f"The perceived-gender model scores {record['accuracy']:.3f} (95 % CI {record['ci_low']:.3f}-"
            f"{record['ci_high']:.3f}) in cross-validation over {record['n_people']} LFW people, each scored by a "
            "model that never saw them. " + findings.finding("demographic", result)
            + excess_sentence(excess, with_numbers=False))
    return {"status": "done", **result, "feature": FEATURE, "gender_model": gender_entry,
            "composition": composition(rows), "excess_over_demographic": excess, "finding": text}
