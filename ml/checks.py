"""Data checks: tests of the data (not of the code) run before a split is written.

Each check returns a list of problems, one readable line per failed check with a few
example ids; ``raise_if_failed`` turns them into one ``DataCheckError`` listing them all,
so one run shows every problem instead of the first.
"""
from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

from infra.index import COLUMNS as INDEX_COLUMNS, STATUSES

SPLIT_COLUMNS = ["id", "group", "category", "split"]
SPLITS = ("train", "test", "validation")
# The department registry's rule for labels: short, lowercase (cs, econ, german, ...).
LABEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
EXAMPLES = 5


class DataCheckError(ValueError):
    """One or more data checks failed; the message lists each with example ids."""


def _examples(values: Iterable) -> str:
    values = sorted({str(v) for v in values})
    more = f" (+{len(values) - EXAMPLES} more)" if len(values) > EXAMPLES else ""
    return ", ".join(values[:EXAMPLES]) + more


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype("string").str.strip() == "")


def check_index(index: pd.DataFrame, allowed_categories: set[str] | None = None) -> list[str]:
    """Schema, unique non-empty ids, non-empty well-formed labels (only `allowed_categories` if given)."""
    missing = [c for c in INDEX_COLUMNS if c not in index.columns]
    if missing:
        return [f"index lacks columns {missing}"]  # the other checks need them
    problems = []
    ids = index["id"]
    if _blank(ids).any():
        problems.append(f"index has {int(_blank(ids).sum())} row(s) without an id (rows {_examples(index.index[_blank(ids)])})")
    dup = ids[ids.duplicated(keep=False) & ~_blank(ids)]
    if len(dup):
        problems.append(f"index has {dup.nunique()} duplicate id(s): {_examples(dup)}")
    label = index["category"]
    empty = _blank(label)
    if empty.any():
        problems.append(f"index has {int(empty.sum())} image(s) without a category: {_examples(ids[empty])}")
    filled = ~empty
    malformed = filled & ~label.astype("string").fillna("").str.fullmatch(LABEL_RE.pattern).astype(bool)
    if malformed.any():
        problems.append(f"index has categories that are not short lowercase labels ({_examples(label[malformed])}): "
                        f"{_examples(ids[malformed])}")
    if allowed_categories is not None:
        unknown = filled & ~label.isin(allowed_categories)
        if unknown.any():
            problems.append(f"index has categories outside {sorted(allowed_categories)}: "
                            f"{_examples(label[unknown])} ({_examples(ids[unknown])})")
    bad_status = ~index["status"].isin(STATUSES)
    if bad_status.any():
        problems.append(f"index has status values outside {list(STATUSES)}: {_examples(ids[bad_status])}")
    return problems


def check_splits(splits: pd.DataFrame, index: pd.DataFrame, rejected_ids: set[str], crop_ids: set[str],
                 roles: tuple[str, ...] = ()) -> list[str]:
    """The split is leak-free, complete in crops, free of rejects, labelled as the index says and,
    with a role filter, holds only those roles."""
    missing = [c for c in SPLIT_COLUMNS if c not in splits.columns]
    if missing:
        return [f"splits lack columns {missing}"]
    problems = []
    ids = splits["id"].astype("string")
    for column in SPLIT_COLUMNS:
        empty = _blank(splits[column])
        if empty.any():
            problems.append(f"splits column {column!r} has {int(empty.sum())} empty value(s): {_examples(ids[empty])}")
    bad = ~splits["split"].isin(SPLITS)
    if bad.any():
        problems.append(f"splits has split values outside {list(SPLITS)} ({_examples(splits['split'][bad])}): "
                        f"{_examples(ids[bad])}")
    per_id = splits.groupby("id")["split"].nunique()
    if (per_id > 1).any():
        problems.append(f"{int((per_id > 1).sum())} id(s) in two splits: {_examples(per_id.index[per_id > 1])}")
    repeated = ids[ids.duplicated()]
    if len(repeated):
        problems.append(f"{repeated.nunique()} id(s) listed more than once: {_examples(repeated)}")
    per_group = splits.groupby("group")["split"].nunique()
    if (per_group > 1).any():
        problems.append(f"{int((per_group > 1).sum())} group(s) in two splits (leak): "
                        f"{_examples(per_group.index[per_group > 1])}")
    no_crop = ~ids.isin(crop_ids)
    if no_crop.any():
        problems.append(f"{int(no_crop.sum())} split id(s) without a crop: {_examples(ids[no_crop])}")
    rejected = ids.isin(rejected_ids)
    if rejected.any():
        problems.append(f"{int(rejected.sum())} rejected id(s) in the splits: {_examples(ids[rejected])}")
    cropped_rejects = set(crop_ids) & set(rejected_ids)
    if cropped_rejects:
        problems.append(f"{len(cropped_rejects)} rejected image(s) have a crop: {_examples(cropped_rejects)}")
    label = dict(zip(index["id"].astype(str), index["category"]))
    known = ids.isin(label)
    if (~known).any():
        problems.append(f"{int((~known).sum())} split id(s) not in the index: {_examples(ids[~known])}")
    if roles and "role_class" in index:
        role_of = dict(zip(index["id"].astype(str), index["role_class"].astype("string").fillna("unknown")))
        other = ~ids.map(role_of).isin(roles)
        if other.any():
            problems.append(f"{int(other.sum())} split id(s) with a role outside {list(roles)}: {_examples(ids[other])}")
    expected = ids.map(label).astype("string").fillna("")
    wrong = known & (splits["category"].astype("string").fillna("") != expected)
    if wrong.any():
        problems.append(f"{int(wrong.sum())} split id(s) whose category differs from the index: {_examples(ids[wrong])}")
    return problems


def class_balance(splits: pd.DataFrame) -> pd.DataFrame:
    """Images and groups per category x split, with each split's fraction of the category.

    Columns: category, split, images, groups, fraction (of the category's images); one row
    per category and split (zeros included), then an "(all)" row per split over every image.
    """
    frame = splits.assign(category=splits["category"].astype(str), split=splits["split"].astype(str))
    rows = []
    for category, part in [*sorted(frame.groupby("category"), key=lambda kv: kv[0]), ("(all)", frame)]:
        total = len(part)
        for split in SPLITS:
            here = part[part["split"] == split]
            rows.append({"category": category, "split": split, "images": len(here),
                         "groups": here["group"].nunique(), "fraction": round(len(here) / total, 4) if total else 0.0})
    return pd.DataFrame(rows, columns=["category", "split", "images", "groups", "fraction"])


def raise_if_failed(problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"- {p}" for p in problems)
        raise DataCheckError(f"{len(problems)} data check(s) failed:\n{lines}")
