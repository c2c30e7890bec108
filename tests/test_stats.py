import math

import numpy as np
import pytest
from scipy import stats as sps

from ml.metrics import GROUPED_CI_METHOD, effective_wilson, evaluate_predictions, small_sample_z
from ml.stats import (detectable_accuracy, grouped_intervals, interval_coverage, paired_comparison,
                      power_sentence, simulate_grouped)

LABELS = ["cs", "econ", "german", "mechanical"]


# ---------- paired comparison ----------

def _people(n_people, photos):
    return [f"p{i}" for i in np.repeat(np.arange(n_people), photos)]


def test_paired_identical_models():
    rng = np.random.default_rng(0)
    correct = rng.random(60) < 0.6
    r = paired_comparison(correct, correct.copy(), _people(20, 3))
    assert r["difference"] == 0.0 and r["p_value"] == 1.0
    assert r["ci_low"] <= 0.0 <= r["ci_high"]
    assert r["n_test"] == 60 and r["n_groups"] == 20 and r["n_groups_differing"] == 0
    assert "people" in r["method"]


def test_paired_clearly_better_model():
    rng = np.random.default_rng(1)
    a = rng.random(120) < 0.9
    b = rng.random(120) < 0.3
    r = paired_comparison(a, b, _people(40, 3))
    assert r["difference"] == pytest.approx(a.mean() - b.mean())
    assert r["p_value"] < 0.001 and "random flips" in r["method"]
    assert r["ci_low"] <= r["difference"] <= r["ci_high"] and r["ci_low"] > 0.3
    swapped = paired_comparison(b, a, _people(40, 3))
    assert swapped["difference"] == pytest.approx(-r["difference"]) and swapped["ci_high"] < -0.3


def test_paired_exact_sign_flip():
    # 3 people, A beats B by one photo each: 2 of the 8 sign patterns are as extreme.
    a = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    b = np.array([0, 1, 0, 0, 0, 0], dtype=bool)
    r = paired_comparison(a, b, ["x", "x", "y", "y", "z", "z"])
    assert r["difference"] == pytest.approx(0.5) and r["p_value"] == pytest.approx(0.25)
    assert "exact" in r["method"] and r["n_groups_differing"] == 3
    # 10 people all in A's favour: two-sided exact p = 2 / 2^10
    r = paired_comparison(np.ones(20, bool), np.tile([True, False], 10), _people(10, 2))
    assert r["p_value"] == pytest.approx(2 / 1024)


def test_paired_validation():
    with pytest.raises(ValueError):
        paired_comparison([True, False], [True], ["a", "b"])
    with pytest.raises(ValueError):
        paired_comparison([True, False], [True, True], ["a"])


# ---------- power ----------

def test_detectable_accuracy_monotone_and_above_chance():
    for chance in (1 / 4, 1 / 3, 1 / 2):
        values = [detectable_accuracy(g, 4, chance) for g in (5, 12, 30, 100, 300)]
        assert all(v > chance for v in values)
        assert all(x > y for x, y in zip(values, values[1:]))
        # clustering costs power: more correlated photos -> a larger detectable accuracy
        assert detectable_accuracy(30, 4, chance, icc=0.0) < detectable_accuracy(30, 4, chance, icc=0.3) \
            < detectable_accuracy(30, 4, chance, icc=1.0)
        # icc = 1: a person's photos count once
        assert detectable_accuracy(30, 4, chance, icc=1.0) == pytest.approx(detectable_accuracy(30, 1, chance))


def test_detectable_accuracy_has_the_stated_power():
    # icc 0, 270 photos: the exact one-sided binomial test at 5 % has ~80 % power there.
    p0, n = 0.25, 270
    p1 = detectable_accuracy(n, 1, p0, icc=0.0)
    critical = sps.binom.ppf(0.95, n, p0) + 1                 # reject when hits >= critical
    assert sps.binom.sf(critical - 1, n, p0) <= 0.05
    assert sps.binom.sf(critical - 1, n, p1) == pytest.approx(0.8, abs=0.05)


def test_nothing_detectable_with_one_person():
    assert detectable_accuracy(1, 1, 0.5) == 1.0
    sentence = power_sentence(1, 1, 0.5)
    assert sentence.startswith("with 1 person (1 photo) this test cannot reach 80 % power")
    with pytest.raises(ValueError):
        detectable_accuracy(0, 4, 0.25)


def test_power_sentence_wording():
    s = power_sentence(12, 4, 1 / 3)
    p1 = detectable_accuracy(12, 4, 1 / 3)
    assert s.startswith(f"with 12 people (48 photos) this test detects accuracies above {p1:.2f} with 80 % power")
    assert "can go undetected" in s
    lowered = s.lower()
    for claim in ("no effect", "no signal", "absence", "not present", "proves", "shows that", "needs"):
        assert claim not in lowered
    assert "90 % power" in power_sentence(50, 2.5, 0.25, power=0.9)
    assert "(125 photos)" in power_sentence(50, 2.5, 0.25)


# ---------- the reported interval, vectorised ----------

def test_vectorised_interval_is_evaluate_predictions_interval():
    rng = np.random.default_rng(5)
    person = np.repeat(np.arange(15), rng.integers(1, 6, 15))
    yt = rng.integers(0, 4, len(person))
    yp = np.where(rng.random(15)[person] < 0.6, yt, (yt + 1) % 4)
    proba = np.eye(4)[yp]
    r = evaluate_predictions([LABELS[i] for i in yt], proba, LABELS, groups=[f"q{i:02d}" for i in person], seed=7)
    assert r["ci_method"] == GROUPED_CI_METHOD
    hits = np.bincount(person, weights=yt == yp)
    sizes = np.bincount(person).astype(float)
    idx = np.random.default_rng(7).integers(0, 15, size=(2000, 15))  # evaluate_predictions' draws
    weights = np.stack([np.bincount(row, minlength=15) for row in idx]).astype(float)
    low, high = grouped_intervals(GROUPED_CI_METHOD, hits, sizes, weights)
    assert (low[0], high[0]) == pytest.approx((r["ci_low"], r["ci_high"]), abs=1e-12)
    lw, hw = grouped_intervals("effective_n_wilson_t", hits, sizes, weights)
    assert (lw[0], hw[0]) == pytest.approx(effective_wilson(hits, sizes, z=small_sample_z(15)), abs=1e-12)


def test_simulation_has_the_requested_mean_and_icc():
    rng = np.random.default_rng(0)
    hits, sizes = simulate_grouped(rng, 400, 50, 4, 0.7, 0.3)
    assert hits.sum() / sizes.sum() == pytest.approx(0.7, abs=0.005)
    # Var(hits of a person) = m p (1 - p) (1 + (m - 1) icc)
    icc = (hits.var() / (4 * 0.7 * 0.3) - 1) / 3
    assert icc == pytest.approx(0.3, abs=0.03)
    _, varying = simulate_grouped(rng, 10, 50, (1, 8), 0.5, 0.0)
    assert varying.min() == 1 and varying.max() == 8


# ---------- coverage of the reported interval (issue 14) ----------
# demo: about 12 test people x 4 photos (fixed, or 1-8 each), 3-4 classes;
# study (REFERENCE.md): ~270 test photos (20 % of 1,369), one photo per staff page, 4 classes,
# and the same ~270 photos as 90 people with 1-5 photos each.
N_SIMS = 1000
COVERAGE_CASES = [
    (12, 4, 1 / 3, 0.3), (12, 4, 0.7, 0.3),
    (12, (1, 8), 1 / 4, 0.3), (12, (1, 8), 1 / 2, 0.0), (12, (1, 8), 0.9, 0.3),
    (270, 1, 1 / 4, 0.0), (270, 1, 0.57, 0.0),
    (90, (1, 5), 1 / 4, 0.3), (90, (1, 5), 0.7, 0.3),
]


@pytest.mark.parametrize("n_groups,photos,true_accuracy,icc", COVERAGE_CASES)
def test_reported_interval_covers_95(n_groups, photos, true_accuracy, icc):
    coverage = interval_coverage(GROUPED_CI_METHOD, n_groups=n_groups, photos_per_group=photos,
                                 true_accuracy=true_accuracy, icc=icc, n_sims=N_SIMS, seed=14)
    mc_se = math.sqrt(0.93 * 0.07 / N_SIMS)
    assert coverage >= 0.93 - 2 * mc_se, f"coverage {coverage:.3f}"
    assert coverage <= 0.999  # an interval that always covers would be uselessly wide


def test_coverage_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        interval_coverage("nope", n_groups=5, photos_per_group=2, true_accuracy=0.5, icc=0.0, n_sims=10, seed=0)
