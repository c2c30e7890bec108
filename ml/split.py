"""Leak-free, category-stratified, stable train/test/validation splits.

The unit of assignment is a group (a person and the near-duplicates of their photos), or
with ``by="department"`` a whole department website: every image of a unit lies in one
split. Units are placed one at a time, in an order fixed by a hash of (seed, unit), into
the split whose per-category image count lags its target most; earlier assignments
(``previous``) are kept, so adding data never moves an image between splits.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

SPLITS = ("train", "test", "validation")
BY = ("person", "department")


@dataclass(frozen=True)
class SplitConfig:
    train: float = 0.7
    test: float = 0.2
    validation: float = 0.1
    seed: int = 0
    by: str = "person"  # or "department": each department website wholly in one split
    roles: tuple[str, ...] = ()  # role classes kept (spiders/roles.py); empty: everyone

    def __post_init__(self):
        ratios = self.ratios()
        if any(r < 0 for r in ratios.values()) or abs(sum(ratios.values()) - 1) > 1e-6 or self.train <= 0:
            raise ValueError(f"split ratios must be >= 0, train > 0, and sum to 1; got {ratios}")
        if self.by not in BY:
            raise ValueError(f"by must be one of {BY}, got {self.by!r}")

    def ratios(self) -> dict[str, float]:
        return {"train": self.train, "test": self.test, "validation": self.validation}

    def as_dict(self) -> dict:
        out = asdict(self)
        if self.roles:
            out["roles"] = list(self.roles)
        else:
            del out["roles"]  # configurations from before role filtering stay equal to today's default
        return out


def _order_key(seed: int, unit: str) -> bytes:
    # A keyed hash, not Python's hash(): the same order in every process and on every run.
    return hashlib.blake2b(f"{seed}\x1f{unit}".encode(), digest_size=16).digest()


def _units(items: pd.DataFrame, by: str) -> pd.Series:
    """Unit id per row: the group, or the department joined with every department that
    shares a group with it (a person listed by two departments ties them together)."""
    if by == "person":
        return items["group"].astype(str)
    dept = items["department"].astype(str)
    group = items["group"].astype(str)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for d, g in zip(dept, "\x00" + group):  # the prefix keeps group ids apart from slugs
        a, b = find("d" + d), find(g)
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = {d: find("d" + d) for d in dept.unique()}
    # Name each unit by its smallest department slug.
    name = {}
    for d in sorted(roots):
        name.setdefault(roots[d], d)
    return dept.map(lambda d: name[roots[d]])


def _check_items(items: pd.DataFrame, config: SplitConfig) -> None:
    needed = ["id", "group", "category"] + (["department"] if config.by == "department" else [])
    missing = [c for c in needed if c not in items]
    if missing:
        raise ValueError(f"items lack columns {missing}")
    for column in needed:
        if items[column].isna().any():
            raise ValueError(f"items column {column!r} has empty values")
    if items["id"].duplicated().any():
        raise ValueError(f"duplicate ids in items: {sorted(items.loc[items['id'].duplicated(), 'id'])[:5]}")


def assign_splits(items: pd.DataFrame, config: SplitConfig,
                  previous: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Split `items` (id, group, category[, department]); returns (splits, conflicts).

    splits: id, group, category, split, in the order of `items`.
    Stability: a unit any of whose ids has a split in `previous` keeps that split (new
    images of an existing person join the person's split). If a unit now joins ids that
    had different splits (groups merged), the split holding most of its earlier images wins
    (ties: train, test, validation order) and the move is described in `conflicts`.
    New units are placed in the order of blake2b(seed, unit) into the split with the largest
    image deficit for the unit's categories (deficit = ratio x category total - images
    already there, weighted by the unit's images per category): greedy least squares
    towards the target counts. Once no more units remain than splits that are still empty,
    each goes to an empty split, so with at least 3 units (e.g. departments) every split
    with a positive ratio gets one.
    """
    _check_items(items, config)
    frame = items.reset_index(drop=True)
    unit = _units(frame, config.by)
    category = frame["category"].astype(str)
    ratios = config.ratios()
    active = [s for s in SPLITS if ratios[s] > 0]

    # Earlier split per unit, by majority of its earlier images.
    split_of_unit: dict[str, str] = {}
    conflicts: list[str] = []
    if previous is not None and len(previous):
        prev = previous[previous["split"].isin(SPLITS)]
        old = frame["id"].map(dict(zip(prev["id"], prev["split"])))
        known = pd.DataFrame({"unit": unit, "split": old}).dropna()
        counts = known.groupby(["unit", "split"]).size().unstack(fill_value=0).reindex(columns=list(SPLITS),
                                                                                        fill_value=0)
        winners = counts.idxmax(axis=1)  # the first maximum in SPLITS order breaks ties
        split_of_unit = winners.to_dict()
        for u in counts.index[(counts > 0).sum(axis=1) > 1]:
            row, winner = counts.loc[u], winners[u]
            moved = ", ".join(f"{int(row[s])} from {s}" for s in SPLITS if row[s] and s != winner)
            conflicts.append(f"{'group' if config.by == 'person' else 'department'} {u} joined images "
                             f"of different splits: kept {winner} ({int(row[winner])} images), moved {moved}")

    target = {c: {s: ratios[s] * n for s in SPLITS} for c, n in category.value_counts().items()}
    have = {c: {s: 0.0 for s in SPLITS} for c in target}
    per_unit = pd.DataFrame({"unit": unit, "category": category}).groupby(["unit", "category"]).size()
    composition: dict[str, dict[str, int]] = {}
    for (u, c), n in per_unit.items():
        composition.setdefault(u, {})[c] = int(n)
    for u, s in split_of_unit.items():
        for c, n in composition[u].items():
            have[c][s] += n

    new_units = sorted((u for u in composition if u not in split_of_unit), key=lambda u: _order_key(config.seed, u))
    occupied = set(split_of_unit.values())
    for left, u in zip(range(len(new_units), 0, -1), new_units):
        empty = [s for s in active if s not in occupied]
        choices = empty if empty and left <= len(empty) else active
        # Largest weighted deficit; ties go to the split with the larger ratio (train first).
        best = max(choices, key=lambda s: (sum(n * (target[c][s] - have[c][s]) for c, n in composition[u].items()),
                                           ratios[s], -SPLITS.index(s)))
        split_of_unit[u] = best
        occupied.add(best)
        for c, n in composition[u].items():
            have[c][best] += n

    result = pd.DataFrame({"id": frame["id"], "group": frame["group"], "category": frame["category"],
                           "split": unit.map(split_of_unit)}).astype("string")
    return result, conflicts


def assign_splits_per_image(items: pd.DataFrame, config: SplitConfig) -> pd.DataFrame:
    """The reference study's split: random per image within each category, ignoring groups.

    LEAKY: photos of one person (and near-duplicates) land in different splits. Kept only
    to demonstrate and measure that leakage; never use it for evaluation.
    """
    frame = items.reset_index(drop=True)
    split = pd.Series(pd.NA, index=frame.index, dtype="string")
    rng = np.random.default_rng(config.seed)
    for _, rows in frame.groupby("category", sort=True):
        order = rows.index.to_numpy()[rng.permutation(len(rows))]
        cuts = np.round(np.cumsum([config.train, config.test]) * len(rows)).astype(int)
        for part, name in zip(np.split(order, cuts), SPLITS):
            split.loc[part] = name
    return pd.DataFrame({"id": frame["id"], "group": frame["group"], "category": frame["category"],
                         "split": split}).astype("string")
