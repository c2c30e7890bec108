"""Honest evaluation metrics for the field classifier (no I/O, pure numpy/sklearn).

Unlike the 2019 study (one accuracy number), every evaluation reports a 95 % interval,
chance and majority baselines, a permutation p-value and the study's inspection tables.
With ``groups`` (one id per person) the interval and the permutation null respect people:
a person's photos are resampled/relabelled together, so correlated images are not
counted as independent evidence.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import precision_recall_fscore_support


GROUPED_CI_METHOD = "group_bootstrap_percentile+effective_n_wilson_t"


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when n == 0."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"invalid counts: {successes}/{n}")
    return _wilson(successes / n if n else 0.0, float(n), z)


def _wilson(p: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson interval for proportion p observed on a (possibly fractional, effective) n."""
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def effective_wilson(hits: np.ndarray, sizes: np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """Wilson interval on the design-effect-adjusted sample size of clustered 0/1 outcomes.

    deff = (cluster-robust variance of the ratio estimate) / (binomial variance), at least 1.
    With p = 0 or 1 nothing shows how correlated a person's photos are, so each person counts
    once (n_eff = number of people): the cautious choice.
    """
    n, g = float(sizes.sum()), len(sizes)
    p = float(hits.sum()) / n
    if 0.0 < p < 1.0 and g > 1:
        cluster_var = g / (g - 1) * float(np.sum((hits - p * sizes) ** 2)) / n ** 2
        deff = max(1.0, cluster_var / (p * (1 - p) / n))
    else:
        deff = n / g
    return _wilson(p, n / deff, z)


def small_sample_z(n_groups: int, level: float = 0.95) -> float:
    """Two-sided quantile for a cluster interval from ``n_groups`` people: Student t with
    n_groups - 1 degrees of freedom (the usual small-sample correction for a cluster-robust
    variance), 1.96 in the limit. The design-effect Wilson interval uses it: with z = 1.96
    it covered only 91-93 % at the demo's size (12 people, 1-8 photos each, ICC 0.3) in
    ``ml.stats.interval_coverage``; with t it covers >= 94 %."""
    return float(stats.t.ppf(0.5 + level / 2, max(int(n_groups) - 1, 1)))


def _encode(y_true: Sequence[str], proba: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = list(labels)
    proba = np.asarray(proba, dtype=float)
    y = list(y_true)
    if len(y) == 0:
        raise ValueError("empty test set")
    if proba.ndim != 2 or proba.shape != (len(y), len(labels)):
        raise ValueError(f"proba shape {proba.shape} != ({len(y)}, {len(labels)})")
    index = {lab: i for i, lab in enumerate(labels)}
    unknown = sorted({str(v) for v in y if v not in index})
    if unknown:
        raise ValueError(f"labels not in `labels`: {unknown}")
    yt = np.array([index[v] for v in y], dtype=int)
    return yt, proba.argmax(axis=1), proba


def _group_index(groups: Sequence[str], n: int) -> np.ndarray:
    g = list(groups)
    if len(g) != n:
        raise ValueError(f"groups has {len(g)} entries, expected {n}")
    _, inv = np.unique(np.asarray([str(v) for v in g]), return_inverse=True)
    return inv.ravel()


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def evaluate_predictions(y_true: Sequence[str], proba: np.ndarray, labels: list[str], *,
                         groups: Sequence[str] | None = None, n_permutations: int = 2000,
                         n_bootstrap: int = 2000, seed: int = 0) -> dict:
    """Accuracy with 95 % CI, baselines, permutation p-value and the study's tables.

    Predicted class = argmax of ``proba`` (columns in ``labels`` order).  Without groups the
    CI is Wilson; with groups it is the hull of a percentile bootstrap over groups and a
    design-effect Wilson interval whose quantile is Student t with (groups - 1) degrees of
    freedom (``small_sample_z``; coverage measured in ``ml.stats``), and the permutation
    test shuffles one label per group (the group's most frequent true label) among groups.
    """
    labels = list(labels)
    yt, yp, _ = _encode(y_true, proba, labels)
    n, k = len(yt), len(labels)
    rng = np.random.default_rng(seed)
    correct = yt == yp
    acc = float(correct.mean())

    gi = None if groups is None else _group_index(groups, n)
    if gi is None:
        ci_low, ci_high = wilson_interval(int(correct.sum()), n)
        ci_method = "wilson"
    else:
        n_groups = int(gi.max()) + 1
        sizes = np.bincount(gi, minlength=n_groups)
        hits = np.bincount(gi, weights=correct, minlength=n_groups)
        idx = rng.integers(0, n_groups, size=(n_bootstrap, n_groups))
        boot = hits[idx].sum(axis=1) / sizes[idx].sum(axis=1)
        boot_low, boot_high = np.percentile(boot, [2.5, 97.5])
        # The percentile bootstrap collapses to a point when every person is all right (or all
        # wrong) and is too narrow with few people; the design-effect Wilson interval (with a
        # t quantile for few people) is not. Report the hull of both.
        wilson_low, wilson_high = effective_wilson(hits, sizes, z=small_sample_z(n_groups))
        ci_low, ci_high = float(min(boot_low, wilson_low)), float(max(boot_high, wilson_high))
        ci_method = GROUPED_CI_METHOD

    # Permutation null: shuffle true labels (whole groups together when grouped).
    if gi is None:
        perm_y = rng.permuted(np.tile(yt, (n_permutations, 1)), axis=1)
    else:
        counts = np.zeros((int(gi.max()) + 1, k), dtype=int)
        np.add.at(counts, (gi, yt), 1)
        group_label = counts.argmax(axis=1)
        perm_groups = rng.permuted(np.tile(group_label, (n_permutations, 1)), axis=1)
        perm_y = perm_groups[:, gi]
    perm_acc = (perm_y == yp[None, :]).mean(axis=1)
    p_value = float((1 + np.sum(perm_acc >= acc - 1e-12)) / (n_permutations + 1))

    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (yt, yp), 1)
    support = cm.sum(axis=1)
    recalls = np.divide(np.diag(cm), support, out=np.zeros(k), where=support > 0)
    prec, rec, f1, sup = precision_recall_fscore_support(
        yt, yp, labels=list(range(k)), zero_division=0)
    per_class = {lab: {"precision": float(prec[i]), "recall": float(rec[i]),
                       "f1": float(f1[i]), "support": int(sup[i])} for i, lab in enumerate(labels)}

    off = [(int(cm[i, j]), i, j) for i in range(k) for j in range(k) if i != j and cm[i, j] > 0]
    off.sort(key=lambda t: (-t[0], t[1], t[2]))
    most_confused = [{"true": labels[i], "predicted": labels[j], "count": c} for c, i, j in off[:3]]

    return {
        "n_test": n,
        "n_groups": None if gi is None else int(gi.max()) + 1,
        "labels": labels,
        "accuracy": acc,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "ci_level": 0.95,
        "ci_method": ci_method,
        "balanced_accuracy": float(recalls[support > 0].mean()),
        "macro_f1": float(np.mean(f1)),
        "per_class": per_class,
        "chance": 1.0 / k,
        "majority_baseline": float(support.max() / n),
        "p_value": p_value,
        "n_permutations": int(n_permutations),
        "permutation_unit": "sample" if gi is None else "group",
        "confusion_counts": cm.tolist(),
        "confusion_percent": (100.0 * cm / n).tolist(),
        "class_distribution": {
            "real": {lab: float(support[i] / n) for i, lab in enumerate(labels)},
            "predicted": {lab: float(cm[:, i].sum() / n) for i, lab in enumerate(labels)},
        },
        "most_confused": most_confused,
    }


def examples(ids: Sequence[Any], y_true: Sequence[str], proba: np.ndarray, labels: list[str],
             k: int = 5, groups: Sequence[Any] | None = None) -> dict:
    """Per class, the top-k most confident true positives, false positives and false negatives.

    Confidence is the probability of the predicted class (for a false negative: how sure the
    model was of its wrong answer).  Ties keep input order.  With ``groups`` a row shows at
    most one photo per person, so one person's many photos cannot fill it.
    """
    labels = list(labels)
    yt, yp, proba = _encode(y_true, proba, labels)
    ids = list(ids)
    if len(ids) != len(yt):
        raise ValueError(f"ids has {len(ids)} entries, expected {len(yt)}")
    people = list(range(len(ids))) if groups is None else list(groups)
    if len(people) != len(ids):
        raise ValueError(f"groups has {len(people)} entries, expected {len(ids)}")
    conf = proba[np.arange(len(yt)), yp]
    order = np.argsort(-conf, kind="stable")

    def rows(mask: np.ndarray) -> list[dict]:
        out, seen = [], set()
        for i in order:
            if mask[i] and people[i] not in seen and len(out) < k:
                seen.add(people[i])
                out.append({"id": _py(ids[i]), "true": labels[yt[i]], "predicted": labels[yp[i]],
                            "confidence": float(conf[i])})
        return out

    out = {}
    for c, lab in enumerate(labels):
        out[lab] = {"true_positives": rows((yt == c) & (yp == c)),
                    "false_positives": rows((yt != c) & (yp == c)),
                    "false_negatives": rows((yt == c) & (yp != c))}
    return out
