"""Code tests of the demographic baseline's maths (ml.demographic), without services: the
perceived-gender composition per category, the excess over the baseline with its interval
over people, the field classifier on one number, the gender model's grouped accuracy, and
where the verdict and the report speak of it."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml import demographic as dm
from ml.controls import paired_with_main
from ml.verdict import decide_verdict


def photos(people: list[tuple[str, str, str, list[float]]]) -> pd.DataFrame:
    """(person, category, split, [p_female per photo]) -> one row per photo."""
    return pd.DataFrame([{"group": g, "category": c, "split": s, "p_female": p}
                         for g, c, s, ps in people for p in ps])


def test_composition_counts_people_not_photos_and_splits_train_from_test():
    frame = photos([
        ("ann", "german", "train", [0.9, 0.8, 0.7, 0.9]),  # many photos: still one woman
        ("bea", "german", "validation", [0.6, 0.45]),       # mean 0.525: predicted female
        ("carl", "german", "test", [0.1]),
        ("dora", "german", "test", [0.95, 0.9]),
        ("emil", "cs", "train", [0.2, 0.3]),
        ("fred", "cs", "train", [0.4]),
        ("gina", "cs", "test", [0.7]),
        ("hans", "cs", "test", [0.05, 0.1, 0.2]),
    ])
    rows = {r["category"]: r for r in dm.composition(frame)}
    assert [r["category"] for r in dm.composition(frame)] == ["cs", "german"]
    german, cs = rows["german"], rows["cs"]
    assert (german["people"], german["photos"], cs["people"], cs["photos"]) == (4, 9, 4, 7)
    assert german["share_female"] == pytest.approx(3 / 4) and cs["share_female"] == pytest.approx(1 / 4)
    assert german["share_female_train"] == pytest.approx(1.0) and german["share_female_test"] == pytest.approx(0.5)
    assert cs["share_female_train"] == 0.0 and cs["share_female_test"] == pytest.approx(0.5)
    assert german["mean_p_female"] == pytest.approx(np.mean([0.9, 0.8, 0.7, 0.9, 0.6, 0.45, 0.1, 0.95, 0.9]))


def test_composition_of_a_category_without_test_people_says_none():
    rows = dm.composition(photos([("ann", "german", "train", [0.9]), ("bob", "cs", "test", [0.1])]))
    assert rows[0]["share_female_train"] is None and rows[1]["share_female_test"] is None


def excess(main: list[bool], baseline: list[bool], groups: list[str]) -> dict:
    ids = [f"i{k}" for k in range(len(main))]
    paired = paired_with_main(ids, np.array(baseline), groups, dict(zip(ids, main)))
    return dm.excess_over_demographic(paired)


def test_excess_of_a_model_no_better_than_the_baseline_has_an_interval_around_zero():
    groups = [f"p{k // 2}" for k in range(40)]  # 20 people, 2 photos each
    right = [k % 5 != 0 for k in range(40)]
    same = excess(right, right, groups)
    assert same["estimate"] == 0 and same["ci_low"] <= 0 <= same["ci_high"] and same["p_value"] == 1
    # the model wins on 3 people and loses on 3 others: a difference of 0 with a real spread
    main = [True] * 40
    baseline = [True] * 40
    for k in (0, 1, 2, 3, 4, 5):
        baseline[k] = False
    for k in (6, 7, 8, 9, 10, 11):
        main[k] = False
    mixed = excess(main, baseline, groups)
    assert mixed["estimate"] == pytest.approx(0) and mixed["ci_low"] < -0.05 and mixed["ci_high"] > 0.05
    assert "not above 0" in dm.excess_sentence(mixed)


def test_excess_of_a_model_right_where_the_baseline_is_wrong_is_above_zero():
    groups = [f"p{k // 2}" for k in range(40)]
    main = [True] * 40
    baseline = [k < 20 for k in range(40)]  # wrong on every photo of the last 10 people
    e = excess(main, baseline, groups)
    assert e["estimate"] == pytest.approx(0.5) and 0 < e["ci_low"] < 0.5 < e["ci_high"] <= 1
    assert e["n_test"] == 40 and e["n_groups"] == 20 and e["p_value"] < 0.01
    assert "above 0" in dm.excess_sentence(e) and "not above" not in dm.excess_sentence(e)


def test_excess_interval_is_over_people_not_photos():
    """Ten photos of each of 6 people are 6 units of evidence, not 60: the interval stays wide."""
    few = [f"p{k // 10}" for k in range(60)]
    many = [f"p{k}" for k in range(60)]
    main = [True] * 60
    baseline = [k >= 20 for k in range(60)]  # wrong on everything of 2 people (20 photos)
    by_person, by_photo = excess(main, baseline, few), excess(main, baseline, many)
    assert by_person["estimate"] == by_photo["estimate"] == pytest.approx(1 / 3)
    assert by_person["ci_high"] - by_person["ci_low"] > 1.5 * (by_photo["ci_high"] - by_photo["ci_low"])
    assert dm.excess_over_demographic(None) is None


def test_the_field_classifier_sees_one_number_and_learns_which_way_it_points():
    rng = np.random.default_rng(0)
    women = rng.uniform(0.8, 1.0, 40)
    men = rng.uniform(0.0, 0.2, 40)
    # german: 80 % women; cs: 20 % women
    p_train = np.concatenate([women[:16], men[:4], women[16:20], men[4:20]])
    y_train = ["german"] * 20 + ["cs"] * 20
    proba = dm.fit_predict_field(p_train, y_train, np.array([0.95, 0.05, 0.5]), ["cs", "german"])
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1)
    assert proba[0, 1] > 0.6 and proba[1, 0] > 0.6  # a woman -> german, a man -> cs


def test_the_gender_model_is_scored_by_folds_that_never_hold_a_person_twice():
    rng = np.random.default_rng(1)
    centres = {"female": rng.normal(0, 1, 128), "male": rng.normal(0, 1, 128)}
    genders = ["female", "male"] * 20
    people = [f"person{k}" for k in range(40)]
    X = np.stack([centres[g] + rng.normal(0, 2.0, 128) for g in genders])
    model, entry = dm.fit_gender_model(X, genders, people)
    assert entry["n_people"] == 40 and 0.8 < entry["accuracy"] <= 1 and entry["ci_low"] < entry["accuracy"]
    p = dm.female_probability(model, np.stack([centres["female"], centres["male"]]))
    assert p[0] > 0.9 > 0.1 > p[1]


def test_the_gender_model_people_are_drawn_the_same_way_every_time():
    labels = pd.DataFrame({"identity": [f"w{k}" for k in range(12)] * 2 + [f"m{k}" for k in range(12)],
                           "gender": ["female"] * 24 + ["male"] * 12,
                           "path": [f"w{k}_{j}.jpg" for j in (2, 1) for k in range(12)]
                           + [f"m{k}.jpg" for k in range(12)]})
    chosen = dm.training_people(labels, per_gender=5, seed=3)
    assert chosen.equals(dm.training_people(labels, per_gender=5, seed=3))
    assert chosen["gender"].value_counts().to_dict() == {"female": 5, "male": 5}
    assert chosen["identity"].is_unique and chosen["identity"].is_monotonic_increasing
    assert all(p.endswith("_1.jpg") for p in chosen.loc[chosen["gender"] == "female", "path"])  # first photo
    assert dm.recipe_key(chosen) == dm.recipe_key(dm.training_people(labels, per_gender=5, seed=3))
    assert dm.recipe_key(chosen) != dm.recipe_key(dm.training_people(labels, per_gender=5, seed=4))
    with pytest.raises(ValueError, match="only 12 female people"):
        dm.training_people(labels, per_gender=13)


def test_missing_gender_labels_are_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=dm.LABELS_ENV):
        dm.gender_model(None, tmp_path / "absent.csv")


SIGNAL = {"status": "done", "accuracy": 0.85, "ci_low": 0.74, "ci_high": 0.95, "p_value": 0.001, "chance": 0.5,
          "n_test": 80, "n_groups": 40}
NOISE = {**SIGNAL, "accuracy": 0.52, "ci_low": 0.40, "ci_high": 0.62, "p_value": 0.4}


@pytest.mark.parametrize("ci_low, named", [(-0.08, True), (0.02, False)])
def test_a_face_signal_the_demographic_baseline_explains_says_so(ci_low, named):
    metrics = {**SIGNAL, "controls": {"face_only": SIGNAL, "context_only": NOISE, "photo_style": NOISE},
               "excess_over_demographic": {"estimate": 0.03, "ci_low": ci_low, "ci_high": 0.14}}
    verdict = decide_verdict(metrics)
    assert verdict["verdict"] == "face_signal"  # the rule itself does not change
    assert ("not above 0" in verdict["verdict_reason"]) is named
    assert ("perceived gender" in verdict["verdict_reason"]) is named


def test_the_report_shows_the_composition_and_the_excess():
    from ml.report import build_report

    composition = [{"category": "german", "people": 24, "photos": 48, "share_female": 0.79,
                    "share_female_train": 0.8, "share_female_test": 0.75},
                   {"category": "cs", "people": 24, "photos": 48, "share_female": 0.21,
                    "share_female_train": 0.2, "share_female_test": 0.25}]
    excess = {"estimate": -0.02, "ci_low": -0.15, "ci_high": 0.1, "n_test": 48, "n_groups": 24}
    control = {**SIGNAL, "composition": composition, "excess_over_demographic": excess, "finding": "as measured",
               "gender_model": {"accuracy": 0.98, "ci_low": 0.95, "ci_high": 0.99, "n_people": 200,
                                "per_gender": {"female": 100, "male": 100}}}
    metrics = {**SIGNAL, "run": "r1", "kind": "probe", "labels": ["cs", "german"],
               "controls": {"demographic": control}, "excess_over_demographic": excess}
    files = build_report(metrics, {}, {})
    markdown = files["report.md"].decode()
    assert "Perceived-gender composition per category" in markdown and "79.0 %" in markdown
    assert "-0.020 (95 % CI -0.150 to +0.100" in markdown and "Not above 0" in markdown
    card = files["model_card.md"].decode()
    assert "perceived, binary and error-prone" in card and "bias analysis" in card and "-0.150" in card


def test_the_gender_model_is_kept_as_numbers_and_a_bad_file_is_retrained(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, "male", "female")
    fitted = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    model = dm.GenderModel.from_json(json.loads(json.dumps(dm.GenderModel.from_pipeline(fitted).to_json())))
    assert np.allclose(model.predict_proba(X), fitted.predict_proba(X))
    assert np.allclose(dm.female_probability(model, X), fitted.predict_proba(X)[:, 0])
    with pytest.raises(ValueError, match="malformed"):
        dm.GenderModel.from_json({**model.to_json(), "coef": [1.0]})

    monkeypatch.setenv(dm.MODEL_CACHE_ENV, str(tmp_path))
    key = "preprocessed/demographic/gender-model-abc.json"
    (tmp_path / "gender-model-abc.json").write_text('{"model": {"mean": [1]}, "record": {}}')

    class NoStore:
        def get_bytes(self, key):
            raise dm.KeyNotFound(key)
    assert dm._load_cached(NoStore(), key) is None  # unreadable: trained anew, not trusted
    (tmp_path / "gender-model-abc.json").write_text(json.dumps({"model": model.to_json(), "record": {"n": 1}}))
    loaded, record = dm._load_cached(NoStore(), key)
    assert record == {"n": 1} and np.allclose(loaded.predict_proba(X), fitted.predict_proba(X))
