import json

import numpy as np
import pytest
from scipy.stats import binomtest
from scipy.stats import t as student_t

from ml.metrics import evaluate_predictions, examples, wilson_interval

LABELS = ["cs", "econ", "german", "mechanical"]


def one_hot(idx, k=4, conf=0.9):
    p = np.full((len(idx), k), (1 - conf) / (k - 1))
    p[np.arange(len(idx)), idx] = conf
    return p


# ---------- Wilson interval ----------

def test_wilson_matches_scipy():
    for s, n in [(154, 270), (3, 10), (50, 100), (1, 7)]:
        ci = binomtest(s, n).proportion_ci(method="wilson")
        assert wilson_interval(s, n) == pytest.approx((ci.low, ci.high), abs=1e-3)


def test_wilson_reference_half_width():
    lo, hi = wilson_interval(154, 270)  # 0.570, the study's accuracy on ~270 images
    assert lo < 154 / 270 < hi
    assert 0.055 < (hi - lo) / 2 < 0.065  # REFERENCE: roughly +-0.06


def test_wilson_edges():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1.96**2 / (10 + 1.96**2), abs=1e-9)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(10 / (10 + 1.96**2), abs=1e-9)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


# ---------- evaluate_predictions ----------

def test_perfect_predictions():
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 4, 120)
    y = [LABELS[i] for i in idx]
    r = evaluate_predictions(y, one_hot(idx), LABELS)
    assert r["accuracy"] == 1.0 and r["balanced_accuracy"] == 1.0 and r["macro_f1"] == 1.0
    assert r["p_value"] < 0.01
    assert r["ci_method"] == "wilson" and r["ci_high"] == 1.0 and r["ci_low"] < 1.0
    assert r["chance"] == 0.25
    assert r["most_confused"] == []
    json.dumps(r)  # JSON-serialisable


def test_perfect_predictions_grouped():
    idx = np.repeat(np.arange(40) % 4, 3)
    y = [LABELS[i] for i in idx]
    groups = [f"p{i}" for i in np.repeat(np.arange(40), 3)]
    r = evaluate_predictions(y, one_hot(idx), LABELS, groups=groups)
    assert r["accuracy"] == 1.0 and r["p_value"] < 0.01
    assert r["ci_method"].startswith("group_bootstrap") and r["permutation_unit"] == "group"
    assert r["n_groups"] == 40
    # All correct: the bootstrap alone would claim [1, 1]; each person counts once instead,
    # with a t quantile on 39 df (small-sample correction; coverage measured in test_stats).
    z = student_t.ppf(0.975, 39)
    assert r["ci_method"] == "group_bootstrap_percentile+effective_n_wilson_t"
    assert r["ci_high"] == 1.0 and abs(r["ci_low"] - 40 / (40 + z ** 2)) < 1e-9
    json.dumps(r)


def test_effective_n_follows_correlation_within_people():
    from ml.metrics import effective_wilson, wilson_interval

    sizes = np.full(50, 4)
    independent = np.array([2] * 50)       # every person half right: no extra correlation
    clustered = np.array([4, 0] * 25)      # a person is all right or all wrong
    low_i, high_i = effective_wilson(independent.astype(float), sizes)
    low_c, high_c = effective_wilson(clustered.astype(float), sizes)
    assert (low_i, high_i) == wilson_interval(100, 200)   # deff clipped at 1: plain Wilson over images
    # deff ~ 4 (times the small-sample factor G/(G-1)): about one observation per person
    assert (low_c, high_c) == pytest.approx(wilson_interval(25, 50), abs=0.003)


def _random_grouped(seed):
    rng = np.random.default_rng(seed)
    person = np.repeat(np.arange(100), 3)
    person_label = rng.integers(0, 4, 100)
    y = [LABELS[i] for i in person_label[person]]
    proba = rng.dirichlet(np.ones(4), size=300)
    return y, proba, [f"p{i}" for i in person]


def test_random_predictions_not_significant():
    ok = 0
    for seed in range(5):
        y, proba, groups = _random_grouped(seed)
        r = evaluate_predictions(y, proba, LABELS, groups=groups, seed=seed)
        if r["ci_low"] <= 0.25 <= r["ci_high"] and r["p_value"] > 0.05:
            ok += 1
    assert ok >= 4


def test_group_bootstrap_wider_when_correlated():
    # 20 people x 15 photos; the model is right or wrong for a whole person at once.
    rng = np.random.default_rng(3)
    person = np.repeat(np.arange(20), 15)
    person_label = np.arange(20) % 4
    person_right = rng.random(20) < 0.5
    yt = person_label[person]
    yp = np.where(person_right[person], yt, (yt + 1) % 4)
    y = [LABELS[i] for i in yt]
    plain = evaluate_predictions(y, one_hot(yp), LABELS)
    grouped = evaluate_predictions(y, one_hot(yp), LABELS, groups=[str(p) for p in person])
    assert plain["accuracy"] == grouped["accuracy"]
    w_plain = plain["ci_high"] - plain["ci_low"]
    w_group = grouped["ci_high"] - grouped["ci_low"]
    assert w_group > 2 * w_plain


def test_tables_and_baselines():
    yt = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    yp = np.array([0, 1, 1, 1, 0, 2, 2, 3, 1, 3])
    y = [LABELS[i] for i in yt]
    r = evaluate_predictions(y, one_hot(yp), LABELS, n_permutations=200, n_bootstrap=200)
    cm = np.array(r["confusion_counts"])
    assert cm.shape == (4, 4) and cm.sum() == 10
    assert cm[0].tolist() == [1, 2, 0, 0] and cm[2].tolist() == [0, 1, 2, 1]
    assert np.array(r["confusion_percent"]).sum() == pytest.approx(100.0)
    assert r["confusion_percent"][0][1] == pytest.approx(20.0)
    real, pred = r["class_distribution"]["real"], r["class_distribution"]["predicted"]
    assert sum(real.values()) == pytest.approx(1.0) and sum(pred.values()) == pytest.approx(1.0)
    assert real["german"] == pytest.approx(0.4) and pred["econ"] == pytest.approx(0.4)
    assert r["majority_baseline"] == pytest.approx(0.4)
    assert r["accuracy"] == pytest.approx(0.5)
    assert r["balanced_accuracy"] == pytest.approx(np.mean([1 / 3, 1 / 2, 2 / 4, 1]))
    assert r["per_class"]["cs"]["support"] == 3
    assert r["per_class"]["mechanical"]["precision"] == pytest.approx(0.5)
    assert r["most_confused"][0] == {"true": "cs", "predicted": "econ", "count": 2}
    assert len(r["most_confused"]) == 3
    for key in ("n_test", "labels", "macro_f1", "chance", "p_value", "ci_low", "ci_high"):
        assert key in r


def test_input_validation():
    with pytest.raises(ValueError):
        evaluate_predictions(["cs", "physics"], one_hot([0, 1]), LABELS)
    with pytest.raises(ValueError):
        evaluate_predictions(["cs"], one_hot([0, 1]), LABELS)
    with pytest.raises(ValueError):
        evaluate_predictions(["cs", "cs"], one_hot([0, 0]), LABELS, groups=["a"])


# ---------- examples ----------

def test_examples_ordering():
    yt = [0, 0, 0, 1, 1, 0]
    proba = np.array([[0.6, 0.4, 0, 0], [0.9, 0.1, 0, 0], [0.7, 0.3, 0, 0],
                      [0.2, 0.8, 0, 0], [0.95, 0.05, 0, 0], [0.1, 0.85, 0.05, 0]])
    ex = examples(list("abcdef"), [LABELS[i] for i in yt], proba, LABELS, k=2)
    tp = ex["cs"]["true_positives"]
    assert [e["id"] for e in tp] == ["b", "c"]  # top-2 by confidence, descending
    assert tp[0] == {"id": "b", "true": "cs", "predicted": "cs", "confidence": 0.9}
    assert [e["id"] for e in ex["cs"]["false_positives"]] == ["e"]
    assert [e["id"] for e in ex["cs"]["false_negatives"]] == ["f"]
    assert [e["id"] for e in ex["econ"]["false_positives"]] == ["f"]
    assert ex["german"] == {"true_positives": [], "false_positives": [], "false_negatives": []}
    confs = [e["confidence"] for e in examples(range(6), [LABELS[i] for i in yt], proba, LABELS)["cs"]["true_positives"]]
    assert confs == sorted(confs, reverse=True) and len(confs) == 3
    json.dumps(ex)


def test_examples_show_one_photo_per_person():
    yt = [0, 0, 0, 0]
    proba = np.array([[0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0], [0.7, 0.3, 0, 0], [0.6, 0.4, 0, 0]])
    y = [LABELS[i] for i in yt]
    ex = examples(list("abcd"), y, proba, LABELS, k=3, groups=["p1", "p1", "p2", "p1"])
    assert [e["id"] for e in ex["cs"]["true_positives"]] == ["a", "c"]  # p1's best photo, then p2
    assert len(examples(list("abcd"), y, proba, LABELS, k=3)["cs"]["true_positives"]) == 3
    with pytest.raises(ValueError, match="groups"):
        examples(list("abcd"), y, proba, LABELS, groups=["p1"])
