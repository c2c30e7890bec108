"""Photo-style control (ml/photo_style.py) on real LFW photos: a model that never sees a face
must recognise departments that publish in their own style (held-out people), and stay at
chance when every department publishes alike and the labels are random."""
from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from ml.photo_style import FEATURE_NAMES, fit_predict_style, photo_style_features, photo_style_matrix
from tests.conftest import require_shared_data
from tests.photo_styles import DEPARTMENT_STYLES, SiteStyle, publish

PHOTOS_PER_PERSON = 2


@pytest.fixture(scope="module")
def people() -> dict[str, list[bytes]]:
    """120 LFW identities with at least two photos (fixed sample), two photos each."""
    root = require_shared_data() / "faces" / "lfw"
    multi = [p for p in sorted(root.iterdir())
             if p.is_dir() and len(list(p.glob("*.jpg"))) >= PHOTOS_PER_PERSON]
    chosen = random.Random(0).sample(multi, 120)
    return {p.name: [f.read_bytes() for f in sorted(p.glob("*.jpg"))[:PHOTOS_PER_PERSON]] for p in chosen}


_FEATURES: dict[tuple[str, int, SiteStyle], np.ndarray] = {}  # publishing is the slow part


def _world(people: dict[str, list[bytes]], names: list[str], department: dict[str, int],
           styles: tuple[SiteStyle, ...]):
    """Features, department labels and person groups of `names`' photos, each published in
    the style of its person's department."""
    rows, labels, groups = [], [], []
    for name in names:
        style = styles[department[name] % len(styles)]
        for i, data in enumerate(people[name]):
            key = (name, i, style)
            if key not in _FEATURES:
                _FEATURES[key] = photo_style_matrix([publish(data, style)], names=[name])[0]
            rows.append(_FEATURES[key])
            labels.append(f"dept{department[name]}")
            groups.append(name)
    return np.vstack(rows), np.asarray(labels), np.asarray(groups)


def _random_departments(names: list[str], n: int, seed: int) -> dict[str, int]:
    """Balanced random assignment of people to n departments."""
    shuffled = random.Random(seed).sample(names, len(names))
    return {name: i % n for i, name in enumerate(shuffled)}


def _held_out_accuracy(X, y, groups, department: dict[str, int], seed: int) -> float:
    """Train on half of each department's people, test on the other half (no person in both)."""
    rng = random.Random(seed)
    test_people: set[str] = set()
    for d in sorted(set(department.values())):
        members = sorted(n for n in department if department[n] == d)
        test_people |= set(rng.sample(members, len(members) // 2))
    test = np.isin(groups, sorted(test_people))
    labels = sorted(set(y))
    proba = fit_predict_style(X[~test], y[~test], groups[~test], X[test], labels, seed=seed)
    assert proba.shape == (test.sum(), len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    return float((np.asarray(labels)[proba.argmax(axis=1)] == y[test]).mean())


def test_features_are_finite_and_see_the_publishing(people):
    original = next(iter(people.values()))[0]
    features = photo_style_features(original)
    assert features.dtype == np.float64 and features.shape == (len(FEATURE_NAMES),)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert np.isfinite(features).all()
    named = dict(zip(FEATURE_NAMES, features))
    assert named["format_jpeg"] == 1 and named["jpeg_quant_known"] == 1
    assert named["log_width"] == pytest.approx(np.log(250))
    for style in DEPARTMENT_STYLES:
        published = publish(original, style)
        assert max(Image.open(io.BytesIO(published)).size) == style.long_side
        other = photo_style_features(published)
        assert np.isfinite(other).all()
        assert not np.allclose(features, other), style.name
        assert dict(zip(FEATURE_NAMES, other))["log_width"] == pytest.approx(np.log(style.long_side), abs=0.01)
    png = dict(zip(FEATURE_NAMES, photo_style_features(publish(original, DEPARTMENT_STYLES[2]))))
    assert png["format_png"] == 1 and png["format_jpeg"] == 0 and png["jpeg_quant_known"] == 0
    # A lower JPEG quality shows as a coarser quantisation table.
    low, high = (dict(zip(FEATURE_NAMES, photo_style_features(publish(original, SiteStyle("s", (1, 1, 1), 250, q)))))
                 for q in (50, 95))
    assert low["log_jpeg_quant_luma"] > high["log_jpeg_quant_luma"] + 1


@pytest.mark.parametrize("data, problem", [
    (b"<html><body>Not found</body></html>", "HTML page"),
    (b"", "empty"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "unreadable"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
])
def test_undecodable_bytes_raise_a_clear_value_error(data, problem):
    with pytest.raises(ValueError, match="photo-style features") as info:
        photo_style_features(data)
    assert problem in str(info.value)


def test_matrix_names_the_failing_item(people):
    good = next(iter(people.values()))[0]
    assert photo_style_matrix([good, good]).shape == (2, len(FEATURE_NAMES))
    assert photo_style_matrix([]).shape == (0, len(FEATURE_NAMES))
    with pytest.raises(ValueError, match=r"item 1 \(bad.html\): .*HTML page"):
        photo_style_matrix([good, b"<html></html>"], names=["good.jpg", "bad.html"])


@pytest.mark.parametrize("n_people, styles", [
    (40, DEPARTMENT_STYLES[:2]),  # 20 people per department, 10 of them held out
    (80, DEPARTMENT_STYLES),  # 4 departments: 20 people each, 10 held out
])
def test_department_styles_are_recognised_on_held_out_people(people, n_people, styles):
    """People at random in departments that each publish in their own style: the face-blind
    model names the department of people it never saw."""
    names = sorted(people)[:n_people]
    department = _random_departments(names, len(styles), seed=1)
    X, y, groups = _world(people, names, department, styles)
    accuracy = _held_out_accuracy(X, y, groups, department, seed=1)
    assert accuracy >= 0.9, accuracy


def test_a_colour_cast_alone_is_seen(people):
    """Same size, same JPEG quality, only a mild warm vs cool cast (about 8 % per channel):
    still well above chance on held-out people (0.80-0.88 over 12 draws of people and labels)."""
    names = sorted(people)[:60]
    styles = (SiteStyle("warm", (1.08, 1.0, 0.88), 250, 85), SiteStyle("cool", (0.93, 0.99, 1.08), 250, 85))
    department = _random_departments(names, 2, seed=2)
    X, y, groups = _world(people, names, department, styles)
    assert _held_out_accuracy(X, y, groups, department, seed=2) >= 0.7


def test_one_style_and_random_departments_stay_at_chance(people):
    """The same kind of world published in ONE style, with random department labels: nothing
    to learn. 120 people (60 held out) and three label draws: over 60 draws the accuracy
    was 0.50 +- 0.05 (max 0.65), so these bounds are 3 to 5 standard deviations away."""
    names = sorted(people)
    style = (DEPARTMENT_STYLES[1],)
    X, _, groups = _world(people, names, dict.fromkeys(names, 0), style)
    accuracies = []
    for seed in (11, 12, 13):
        department = _random_departments(names, 2, seed)
        y = np.asarray([f"dept{department[g]}" for g in groups])
        accuracies.append(_held_out_accuracy(X, y, groups, department, seed))
    assert np.mean(accuracies) <= 0.65, accuracies
    assert max(accuracies) <= 0.75, accuracies


def _separable(rng, labels, n_per_class):
    """Class i raises feature i; the other features are constant (so only labels matter)."""
    y = np.repeat(labels, n_per_class)
    X = np.zeros((len(y), len(FEATURE_NAMES)))
    for i, label in enumerate(labels):
        X[:, i] = 2.0 * (y == label) + rng.normal(scale=0.3, size=len(y))
    groups = np.arange(len(y)) // 2  # two photos per person
    return X, y, groups


@pytest.mark.parametrize("n_per_class", [4, 40])  # fixed C, and C chosen by grouped CV
def test_probability_columns_follow_labels_with_an_absent_label(n_per_class):
    rng = np.random.default_rng(0)
    X, y, groups = _separable(rng, ["biology", "physics"], n_per_class)
    X_test, y_test, _ = _separable(rng, ["biology", "physics"], 5)
    for labels in (["physics", "chemistry", "biology"], ["chemistry", "biology", "physics"]):
        proba = fit_predict_style(X, y, groups, X_test, labels, seed=3)
        assert proba.shape == (len(X_test), 3)
        assert (proba[:, labels.index("chemistry")] == 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (np.asarray(labels)[proba.argmax(axis=1)] == y_test).all()
        np.testing.assert_array_equal(proba, fit_predict_style(X, y, groups, X_test, labels, seed=3))


def test_single_training_class_and_bad_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, len(FEATURE_NAMES)))
    proba = fit_predict_style(X, ["a"] * 6, range(6), X[:2], ["b", "a"])
    np.testing.assert_array_equal(proba, [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="not in labels"):
        fit_predict_style(X, ["a", "c"] * 3, range(6), X, ["a", "b"])
    with pytest.raises(ValueError, match="one label and group per training row"):
        fit_predict_style(X, ["a", "b"] * 2, range(4), X, ["a", "b"])
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_predict_style(X, ["a", "b"] * 3, range(6), X, ["a", "b"])
