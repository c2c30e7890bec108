"""Statistics around the evaluation: paired model comparison, power, interval coverage.

Pure numpy/scipy, no I/O.

- ``paired_comparison``: two models scored on the same test photos; difference in accuracy
  with a paired bootstrap interval over people and a sign-flip permutation p-value over
  people (exact when few people differ).
- ``detectable_accuracy`` / ``power_sentence``: the smallest true accuracy a test set of this
  size detects as above chance with the given power, clustering included via a design
  effect. Wording never turns a non-significant result into evidence of absence.
- ``interval_coverage``: Monte-Carlo coverage of the grouped accuracy interval of
  ``ml.metrics`` (and its parts), vectorised across simulations and bootstrap draws.

Measured (2,000 simulations a cell, person accuracies ~ Beta with ICC 0 or 0.3, true
accuracy 0.25-0.9): the pre-issue-14 interval (hull of the group bootstrap and a z = 1.96
design-effect Wilson interval) covered 0.929-0.935 at the demo's size with 1-8 photos per
person and ICC 0.3 (0.924 with another seed); with the Wilson quantile from Student t on
people - 1 df (``ml.metrics.small_sample_z``) it covers 0.945-0.984 there and 0.95-0.97 at
the study's size (~270 photos), where t ~ z and nothing changes. Known limit: 12 people
with 1-12 photos, ICC 0.6 and true accuracy 0.9 reach only ~0.92.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import optimize, stats

from ml.metrics import GROUPED_CI_METHOD, _group_index, small_sample_z


# ---------- paired comparison ----------

def paired_comparison(correct_a: Sequence[bool], correct_b: Sequence[bool], groups: Sequence[str], *,
                      n_boot: int = 2000, seed: int = 0, n_permutations: int = 20000,
                      exact_max_groups: int = 16) -> dict:
    """Accuracy of model A minus model B on the same photos, compared within people.

    Interval: hull of a paired percentile bootstrap over people (a person's photos are
    resampled together and carry both models' results) and a cluster-robust t interval
    (t with people - 1 df); the percentile bootstrap alone covered only 89-93 % with 12
    people. p-value: two-sided sign-flip test on per-person differences (with no difference
    between the models, swapping a person's two results is as likely as not); exact over
    all 2^k flips when at most ``exact_max_groups`` people differ, else ``n_permutations``
    random flips. Identical results on every photo give difference 0 and p = 1.
    """
    a = np.asarray(correct_a, dtype=float).ravel()
    b = np.asarray(correct_b, dtype=float).ravel()
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"correct_a ({len(a)}) and correct_b ({len(b)}) must be equally long and not empty")
    gi = _group_index(groups, len(a))
    n, g = len(a), int(gi.max()) + 1
    sizes = np.bincount(gi, minlength=g).astype(float)
    d = np.bincount(gi, weights=a - b, minlength=g)       # per person: hits_a - hits_b
    diff = float(d.sum() / n)
    rng = np.random.default_rng(seed)

    w = _boot_weights(rng, n_boot, g)
    low, high = np.percentile((w @ d) / (w @ sizes), [2.5, 97.5])
    if g > 1:
        se = math.sqrt(g / (g - 1) * float(np.sum((d - diff * sizes) ** 2))) / n
        half = small_sample_z(g) * se
    else:
        half = 2.0                                         # one person: no evidence either way
    ci_low, ci_high = max(-1.0, min(low, diff - half)), min(1.0, max(high, diff + half))

    nz = d[np.abs(d) > 1e-12]
    k = len(nz)
    if k == 0:
        p_value, how = 1.0, "exact"
    elif k <= exact_max_groups:
        signs = 1 - 2 * ((np.arange(2 ** k)[:, None] >> np.arange(k)) & 1)
        p_value, how = float(np.mean(np.abs(signs @ nz) >= abs(nz.sum()) - 1e-9)), "exact"
    else:
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_permutations, k))
        extreme = np.sum(np.abs(signs @ nz) >= abs(nz.sum()) - 1e-9)
        p_value, how = float((1 + extreme) / (n_permutations + 1)), f"{n_permutations} random flips"
    return {"difference": diff, "ci_low": float(ci_low), "ci_high": float(ci_high), "ci_level": 0.95,
            "p_value": p_value, "n_test": n, "n_groups": g, "n_groups_differing": k,
            "method": f"paired bootstrap over people ({n_boot} draws, percentile) + cluster t interval, hull; "
                      f"two-sided sign-flip permutation test over people ({how})"}


def _boot_weights(rng: np.random.Generator, n_boot: int, g: int) -> np.ndarray:
    """(n_boot, g) multinomial counts: how often each group is drawn in each bootstrap sample."""
    return rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot).astype(float)


# ---------- power ----------

def _detectable(n_groups: float, photos_per_group: float, chance: float, icc: float, alpha: float,
                power: float) -> float | None:
    if n_groups < 1 or photos_per_group < 1 or not 0 < chance < 1 or not 0 <= icc <= 1:
        raise ValueError("need n_groups >= 1, photos_per_group >= 1, 0 < chance < 1, 0 <= icc <= 1")
    n_eff = n_groups * photos_per_group / (1 + (photos_per_group - 1) * icc)
    za, zb, p0 = stats.norm.ppf(1 - alpha), stats.norm.ppf(power), chance

    def gap(p1: float) -> float:
        return (p1 - p0) * math.sqrt(n_eff) - za * math.sqrt(p0 * (1 - p0)) - zb * math.sqrt(p1 * (1 - p1))

    return None if gap(1.0) < 0 else float(optimize.brentq(gap, p0, 1.0, xtol=1e-10))


def detectable_accuracy(n_groups: int, photos_per_group: float, chance: float, *, icc: float = 0.3,
                        alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true accuracy p1 that a one-sided level-``alpha`` test of "accuracy = chance"
    detects with probability ``power`` on ``n_groups`` people x ``photos_per_group`` photos
    (a mean is fine when people have different numbers of photos).

    Normal approximation on the effective sample size: with m photos per person and
    intra-class correlation ``icc`` of correctness within a person, the design effect is
    deff = 1 + (m - 1) * icc and n_eff = n_groups * m / deff. p1 solves

        (p1 - p0) * sqrt(n_eff) = z_(1-alpha) * sqrt(p0 (1 - p0)) + z_power * sqrt(p1 (1 - p1))

    with p0 = chance (solved by Brent's method on (p0, 1]). ``icc`` = 0.3 is a cautious
    planning value (one person's photos tend to be all right or all wrong); 0 treats photos
    as independent, 1 counts each person once. Returns 1.0 when even a perfect classifier
    would not reach the power (nothing is detectable; ``power_sentence`` says so).
    """
    p1 = _detectable(n_groups, photos_per_group, chance, icc, alpha, power)
    return 1.0 if p1 is None else p1


def power_sentence(n_groups: int, photos_per_group: float, chance: float, *, icc: float = 0.3,
                   alpha: float = 0.05, power: float = 0.8) -> str:
    """E.g. "with 12 people (48 photos) this test detects accuracies above 0.71 with 80 % power
    (chance 0.33); a smaller true accuracy can go undetected". Never claims there is no effect."""
    p1 = _detectable(n_groups, photos_per_group, chance, icc, alpha, power)
    photos = int(round(n_groups * photos_per_group))
    head = (f"with {n_groups} {'person' if n_groups == 1 else 'people'} "
            f"({photos} photo{'' if photos == 1 else 's'})")
    if p1 is None:
        return (f"{head} this test cannot reach {100 * power:.0f} % power even for a perfect classifier "
                f"(chance {chance:.2f}), so a result that is not significant says nothing either way")
    return (f"{head} this test detects accuracies above {p1:.2f} with {100 * power:.0f} % power "
            f"(chance {chance:.2f}); a smaller true accuracy can go undetected")


# ---------- interval coverage ----------

def _wilson_many(p: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``ml.metrics._wilson`` (n > 0)."""
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def _effective_wilson_many(hits: np.ndarray, sizes: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows = simulations: ``ml.metrics.effective_wilson`` row by row, vectorised."""
    n, g = sizes.sum(axis=1), sizes.shape[1]
    p = hits.sum(axis=1) / n
    inner = (p > 0) & (p < 1) & (g > 1)
    cluster_var = g / max(g - 1, 1) * np.sum((hits - p[:, None] * sizes) ** 2, axis=1) / n ** 2
    binom_var = np.where(inner, p * (1 - p) / n, 1.0)
    deff = np.where(inner, np.maximum(1.0, cluster_var / binom_var), n / g)
    return _wilson_many(p, n / deff, z)


def _bootstrap_many(hits: np.ndarray, sizes: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap over groups for every row at once: ``w`` (n_boot, groups) counts."""
    boot = (w @ hits.T) / (w @ sizes.T)                    # (n_boot, n_sims)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    return low, high


def _hull(*intervals: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.min([i[0] for i in intervals], axis=0), np.max([i[1] for i in intervals], axis=0)


def _t(hits: np.ndarray) -> float:
    return small_sample_z(hits.shape[1])


# name (as in ``ci_method``) -> f(hits, sizes, bootstrap weights) -> (low, high) per row
METHODS: dict[str, Callable] = {
    "group_bootstrap_percentile": _bootstrap_many,
    "effective_n_wilson": lambda h, s, w: _effective_wilson_many(h, s, 1.96),
    "effective_n_wilson_t": lambda h, s, w: _effective_wilson_many(h, s, _t(h)),
    # before issue 14 (z = 1.96): 91-93 % with 12 people of 1-8 photos at ICC 0.3
    "group_bootstrap_percentile+effective_n_wilson": lambda h, s, w: _hull(
        _bootstrap_many(h, s, w), _effective_wilson_many(h, s, 1.96)),
    # what ``evaluate_predictions`` reports now
    GROUPED_CI_METHOD: lambda h, s, w: _hull(_bootstrap_many(h, s, w), _effective_wilson_many(h, s, _t(h))),
}


def grouped_intervals(method: str, hits: np.ndarray, sizes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % intervals of ``method`` for each row of (hits, sizes) (n_sims, groups) per person,
    with bootstrap ``weights`` (n_boot, groups) of draw counts."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {sorted(METHODS)}")
    return METHODS[method](np.atleast_2d(hits).astype(float), np.atleast_2d(sizes).astype(float), weights)


def simulate_grouped(rng: np.random.Generator, n_sims: int, n_groups: int,
                     photos_per_group: int | tuple[int, int], true_accuracy: float,
                     icc: float) -> tuple[np.ndarray, np.ndarray]:
    """(hits, sizes), each (n_sims, n_groups): per person a success probability drawn from
    Beta with mean ``true_accuracy`` and intra-class correlation ``icc`` (a + b = 1/icc - 1;
    icc = 0: everyone has ``true_accuracy``), then Binomial(photos, probability) hits.
    ``photos_per_group`` fixed, or (low, high): uniform integer per person, both inclusive."""
    if isinstance(photos_per_group, (tuple, list)):
        sizes = rng.integers(photos_per_group[0], photos_per_group[1] + 1, size=(n_sims, n_groups))
    else:
        sizes = np.full((n_sims, n_groups), int(photos_per_group))
    if icc > 0:
        s = 1.0 / icc - 1.0
        prob = rng.beta(true_accuracy * s, (1 - true_accuracy) * s, size=(n_sims, n_groups))
    else:
        prob = np.full((n_sims, n_groups), true_accuracy)
    return rng.binomial(sizes, prob).astype(float), sizes.astype(float)


def interval_coverage(method: str, *, n_groups: int, photos_per_group: int | tuple[int, int],
                      true_accuracy: float, icc: float, n_sims: int, seed: int,
                      n_boot: int = 2000, chunk: int = 100) -> float:
    """Fraction of ``n_sims`` simulated grouped test sets (see ``simulate_grouped``) whose
    95 % interval by ``method`` (a key of ``METHODS``, named like ``ci_method``) contains
    ``true_accuracy``. Bootstraps run as weight-matrix products, ``chunk`` simulations at a
    time with fresh weights per chunk. Monte-Carlo SE ~ sqrt(c (1 - c) / n_sims)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {sorted(METHODS)}")
    rng = np.random.default_rng(seed)
    covered = 0
    for start in range(0, n_sims, chunk):
        hits, sizes = simulate_grouped(rng, min(chunk, n_sims - start), n_groups, photos_per_group,
                                       true_accuracy, icc)
        low, high = grouped_intervals(method, hits, sizes, _boot_weights(rng, n_boot, n_groups))
        covered += int(np.sum((low <= true_accuracy + 1e-12) & (true_accuracy - 1e-12 <= high)))
    return covered / n_sims
