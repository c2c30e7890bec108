"""The raw index: one CSV shard per department plus the merged ``raw/index.csv``.

A shard is written by its department's crawl only, as one object. The merged index is
rebuilt from all shards and also written as one object, so readers never see it half
written. Columns start with the study's ``id,category,image_url,name``.
"""
from __future__ import annotations

import io
from typing import Iterable

import pandas as pd

from infra.store import ObjectStore, keys

COLUMNS = [
    "id", "category", "image_url", "name",
    "page_url", "department", "university", "slug", "name_key",
    "sha256", "width", "height", "content_type", "bytes", "image_key",
    "etag", "last_modified", "status", "first_seen", "last_seen",
]
# present: seen in the latest crawl; vanished: the person/photo is no longer on the site;
# replaced: the person is still there with a different photo (a newer row).
STATUSES = ("present", "vanished", "replaced")
INT_COLUMNS = ("width", "height", "bytes")


class IndexSchemaError(ValueError):
    """An index violates its schema (message says which rows)."""


def empty_index() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c in INT_COLUMNS else "string") for c in COLUMNS})


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Index columns in order, with their types; extra columns are kept after them."""
    frame = frame.copy()
    for column in COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[COLUMNS + extra]
    for column in frame.columns:
        frame[column] = frame[column].astype("Int64" if column in INT_COLUMNS else "string")
    return frame.reset_index(drop=True)


def validate(frame: pd.DataFrame, *, unique_ids: bool = True) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise IndexSchemaError(f"index lacks columns {missing}")
    if unique_ids and frame["id"].duplicated().any():
        dup = sorted(frame.loc[frame["id"].duplicated(), "id"].astype(str))[:5]
        raise IndexSchemaError(f"duplicate ids in index: {dup}")
    for column in ("id", "category", "image_url", "name", "sha256", "image_key", "status"):
        if frame[column].isna().any():
            raise IndexSchemaError(f"index column {column!r} has empty values")
    bad = set(frame["status"].dropna()) - set(STATUSES)
    if bad:
        raise IndexSchemaError(f"unknown status values {sorted(bad)}; allowed {STATUSES}")


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def from_csv_bytes(data: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype="string", keep_default_na=False, na_values=[""])
    return normalise(frame)


def read_shard(store: ObjectStore, slug: str) -> pd.DataFrame:
    from infra.store import KeyNotFound

    try:
        return from_csv_bytes(store.get_bytes(keys.index_shard(slug)))
    except KeyNotFound:
        return empty_index()


def write_shard(store: ObjectStore, slug: str, frame: pd.DataFrame) -> None:
    frame = normalise(frame).sort_values(["status", "name", "id"], kind="stable")
    validate(frame)
    store.put_bytes(keys.index_shard(slug), to_csv_bytes(frame), "text/csv; charset=utf-8")


def shard_slugs(store: ObjectStore) -> list[str]:
    prefix = keys.RAW_INDEX_SHARDS
    return [o.key[len(prefix):-4] for o in store.list(prefix) if o.key.endswith(".csv")]


def _leave_out(frame: pd.DataFrame, column: str, what: str, problems: list[str]) -> pd.DataFrame:
    """Drop photos whose rows disagree on `column`, and say so in `problems`."""
    counts = frame.groupby("id")[column].nunique()
    bad = set(counts[counts > 1].index)
    if bad:
        problems.append(f"{len(bad)} photo(s) {what} and were left out: {sorted(bad)[:5]}")
    return frame[~frame["id"].isin(bad)]


def merge_frames(shards: Iterable[pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """Merge shards into one index with unique ids.

    The same photo may appear in two departments (a joint appointment): one row is kept
    when the categories agree; when they disagree the label is ambiguous and the photo is
    left out of the merged index (reported, not guessed).
    """
    frames = [normalise(f) for f in shards if len(f)]
    if not frames:
        return empty_index(), []
    merged = pd.concat(frames, ignore_index=True)
    problems: list[str] = []
    merged = _leave_out(merged, "category", "appear under different categories", problems)
    # The same bytes shown for different people in different departments: a placeholder.
    merged = _leave_out(merged, "name_key", "are shown for different people (placeholders)", problems)
    # Prefer present rows, then the earliest sighting.
    rank = merged["status"].map({"present": 0, "replaced": 1, "vanished": 2})
    merged = merged.assign(_rank=rank).sort_values(["_rank", "first_seen", "slug"], kind="stable")
    merged = merged.drop_duplicates("id").drop(columns="_rank")
    merged = merged.sort_values(["category", "slug", "name", "id"], kind="stable")
    return normalise(merged), problems


def rebuild_merged_index(store: ObjectStore) -> tuple[pd.DataFrame, list[str]]:
    """Rewrite ``raw/index.csv`` from all shards (one PUT). Returns the index and problems."""
    merged, problems = merge_frames(read_shard(store, slug) for slug in shard_slugs(store))
    validate(merged)
    store.put_bytes(keys.RAW_INDEX, to_csv_bytes(merged), "text/csv; charset=utf-8")
    return merged, problems


def read_merged_index(store: ObjectStore) -> pd.DataFrame:
    from infra.store import KeyNotFound

    try:
        return from_csv_bytes(store.get_bytes(keys.RAW_INDEX))
    except KeyNotFound:
        return empty_index()
