"""The raw index: one CSV shard per department plus the merged ``raw/index.csv``.

A shard is written by its department's crawl only, as one object. The merged index is
rebuilt from all shards and also written as one object, so readers never see it half
written. Columns start with the study's ``id,category,image_url,name``.
"""
from __future__ import annotations

import codecs
import io
import re
from typing import Callable, Iterable

import pandas as pd

from infra.store import ObjectStore, keys

COLUMNS = [
    "id", "category", "image_url", "name",
    "page_url", "department", "university", "slug", "name_key",
    "sha256", "width", "height", "content_type", "bytes", "image_key",
    "etag", "last_modified", "status", "first_seen", "last_seen",
    "title", "role", "role_class",  # who the person is, as printed on the page (spiders/roles.py)
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
    if "role_class" not in frame and len(frame):
        frame["role_class"] = "unknown"  # a shard written before roles were kept
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


# -- CSV formats --------------------------------------------------------------------------------
# Two formats share one writer (RFC 4180 quoting, "\n" between records):
#
# * the machine format (``to_csv_bytes``/``from_csv_bytes``): the stored shards and
#   ``raw/index.csv``, read by the pipeline. Every value round-trips exactly: any Unicode,
#   commas, quotes, CR, LF, CRLF and NUL included (pandas and Python's ``csv`` both read NUL).
#   No BOM, no formula neutralising. One limit of CSV: an empty string and a missing value
#   are both written as an empty field and read back as missing (<NA>).
# * the export for people (``to_export_csv_bytes``/``from_export_csv_bytes``): the file
#   ``academic-faces index export`` writes to be opened in a spreadsheet; see below.

# A field is quoted when it holds the delimiter, the quote or a line break. Python's csv
# writer (pandas uses it) leaves a lone "\r" unquoted when the line terminator is "\n",
# and every CSV reader then splits the row there; so this module writes the CSV itself
# (plain Python per cell: much faster than pandas string methods on shard-sized frames).
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_field(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    text = value if isinstance(value, str) else str(value)
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _csv_text(frame: pd.DataFrame, text_cell: Callable[[str], str] | None = None) -> str:
    r"""The frame as CSV text: header, then one record per row, each ended by "\n".

    Missing values are empty fields; integers are written as digits. For text without a
    "\r" the result is the same as ``frame.to_csv(index=False, lineterminator="\n")``.
    ``text_cell``, if given, rewrites the strings of every column but INT_COLUMNS.
    """
    names = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    if text_cell is not None:
        columns = [values if name in INT_COLUMNS else
                   [text_cell(v) if isinstance(v, str) else v for v in values]
                   for name, values in zip(names, columns)]
    fields = [list(map(_csv_field, values)) for values in columns]
    lines = [",".join(map(_csv_field, names))]
    lines += map(",".join, zip(*fields))
    if len(names) == 1:  # an empty record would be a blank line, which readers skip
        lines = [line or '""' for line in lines]
    return "\n".join(lines) + "\n"


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The machine format (stored shards and merged index): UTF-8 without BOM, exact values."""
    return _csv_text(frame).encode("utf-8")


def from_csv_bytes(data: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype="string", keep_default_na=False, na_values=[""])
    return normalise(frame)


# -- export for spreadsheets ----------------------------------------------------------------------
# A spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula, and some also
# after a leading tab or carriage return (OWASP "CSV Injection"). Names and URLs come from
# web pages anyone can edit, so the export puts a single quote in front of such text cells:
# spreadsheets show "'=Sum" as the text "=Sum". Only text columns are changed; the integer
# columns (INT_COLUMNS: width, height, bytes) are left alone, since "-2" there is a number,
# not a formula. A text cell that already starts with quotes followed by one of those
# characters ("'=x") gets one more quote too, so the change can be undone without doubt:
# ``from_export_csv_bytes`` removes exactly one leading quote from cells of that shape and
# gives back the original values.
#
# Encoding: UTF-8 with a BOM, because Excel reads a CSV without BOM in the local ANSI code page
# and garbles accents, Arabic, CJK and emoji; LibreOffice, Google Sheets, pandas ("utf-8-sig")
# and Python's csv (with encoding="utf-8-sig") accept the BOM. The machine format has none.
#
# NUL: spreadsheets cut a cell, or the file, at a NUL, so the export writes U+FFFD
# (REPLACEMENT CHARACTER) instead. Names scraped from HTML cannot hold NUL (HTML parsers drop
# or replace it) but a local-import manifest read with Python's csv can, and so can header
# values; the stored index keeps such a NUL, only the export replaces it (not undone on import).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"
EXPORT_ENCODING_BOM = codecs.BOM_UTF8
_NEEDS_GUARD = re.compile(r"'*[=+\-@\t\r]")  # matched at the start of a cell
_HAS_GUARD = re.compile(r"'+[=+\-@\t\r]")


def export_text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns the export treats as text (and so neutralises): all but INT_COLUMNS."""
    return [c for c in frame.columns if c not in INT_COLUMNS]


def neutralise_formula(value: str) -> str:
    """``value`` as the export writes it into a text cell (NUL replacement aside)."""
    return FORMULA_GUARD + value if _NEEDS_GUARD.match(value) else value


def restore_formula(value: str) -> str:
    """Undo ``neutralise_formula``: ``restore_formula(neutralise_formula(v)) == v``."""
    return value[1:] if _HAS_GUARD.match(value) else value


def _export_cell(value: str) -> str:
    return neutralise_formula(value.replace("\x00", "\ufffd"))


def to_export_csv_bytes(frame: pd.DataFrame) -> bytes:
    r"""The index as a CSV for people to open in a spreadsheet (``index export``).

    UTF-8 with BOM, "\n" between records, RFC 4180 quoting; text cells that a spreadsheet
    would run as a formula get a leading ``'``; NUL becomes U+FFFD. Read it back with
    ``from_export_csv_bytes``.
    """
    return EXPORT_ENCODING_BOM + _csv_text(normalise(frame), _export_cell).encode("utf-8")


def from_export_csv_bytes(data: bytes) -> pd.DataFrame:
    """Read a file written by ``to_export_csv_bytes``: the original values (NUL aside)."""
    if data.startswith(EXPORT_ENCODING_BOM):
        data = data[len(EXPORT_ENCODING_BOM):]
    frame = from_csv_bytes(data)
    for column in export_text_columns(frame):
        values = frame[column].tolist()
        if any(isinstance(v, str) and v.startswith(FORMULA_GUARD) for v in values):
            restored = [restore_formula(v) if isinstance(v, str) else v for v in values]
            frame[column] = pd.array(restored, dtype="string")
    return frame


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
