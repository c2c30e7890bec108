"""The preprocess stage as plain functions: raw/ -> preprocessed/ (crops, groups, splits).

Steps, each reading only what the previous wrote, so any can be rerun or retried:
crop the raw images not yet processed -> group near-duplicates and people -> split by
group (stable: earlier assignments are kept) -> the Keras folder layout -> data checks.
"""
from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from infra.index import read_merged_index
from infra.privacy import load_denylist
from infra.settings import Settings
from infra.store import KeyNotFound, ObjectStore
from ml.checks import check_index, check_splits, class_balance, raise_if_failed
from ml.crop_stage import CROPS_PREFIX as CROPS
from ml.crop_stage import CropResult, crop_key, crop_stage
from ml.groups import assign_groups, perceptual_hash
from ml.split import SplitConfig, assign_splits

REJECTS = "preprocessed/rejects.csv"
HASHES = "preprocessed/hashes.csv"
GROUPS = "preprocessed/groups.csv"
SPLITS = "preprocessed/splits.csv"
SPLIT_CONFIG = "preprocessed/split_config.json"
SPLIT_NAMES = ("train", "test", "validation")


def layout_key(split: str, category: str, image_id: str) -> str:
    return f"preprocessed/{split}/{category}/{image_id}.jpg"


@dataclass
class PreprocessSummary:
    images: int = 0
    cropped_now: int = 0
    rejected_now: int = 0
    crops_total: int = 0
    rejects_total: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    seconds_crop: float = 0.0
    split_conflicts: list[str] = field(default_factory=list)
    balance: pd.DataFrame | None = None
    roles: pd.DataFrame | None = None  # photos per role class and category: kept and left out

    @property
    def crop_rate(self) -> float:
        done = self.cropped_now + self.rejected_now
        return done / self.seconds_crop if self.seconds_crop else 0.0


def allowed_rows(store: ObjectStore, index: pd.DataFrame) -> pd.DataFrame:
    """The index without anyone a removal request denies (a safety net: `forget` deletes their rows)."""
    denylist = load_denylist(store)
    if not denylist or index.empty:
        return index
    return index[[not denylist.denies_row(row) for row in index.to_dict("records")]]


def csv_frame(data: bytes) -> pd.DataFrame:
    """A stage CSV as strings (empty cells are NA)."""
    return pd.read_csv(io.BytesIO(data), dtype="string", keep_default_na=False, na_values=[""])


def read_csv(store: ObjectStore, key: str, columns: list[str]) -> pd.DataFrame:
    try:
        return csv_frame(store.get_bytes(key))
    except KeyNotFound:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})


def write_csv(store: ObjectStore, key: str, frame: pd.DataFrame) -> None:
    store.put_bytes(key, frame.to_csv(index=False, lineterminator="\n").encode(), "text/csv; charset=utf-8")


def crop_new_images(store: ObjectStore, settings: Settings, index: pd.DataFrame, *, size: int, workers: int | None,
                    on_result: Callable[[CropResult], None] | None, summary: PreprocessSummary) -> pd.DataFrame:
    """Crop ids that have neither a crop nor a reject row; returns the updated rejects."""
    rejects = read_csv(store, REJECTS, ["id", "reason", "detail"])
    done = {o.key[len(CROPS):-4] for o in store.list(CROPS)} | set(rejects["id"])
    todo = index[~index["id"].isin(done)]
    started = time.perf_counter()
    results = crop_stage(settings, zip(todo["id"], todo["image_key"]), workers=workers, size=size,
                         on_result=on_result) if len(todo) else []
    summary.seconds_crop = time.perf_counter() - started
    new_rejects = [{"id": r.id, "reason": r.reason, "detail": r.detail} for r in results
                   if r.reason and r.reason != "storage_error"]  # storage errors are retried next run
    summary.cropped_now = sum(1 for r in results if r.reason is None)
    summary.rejected_now = len(new_rejects)
    if new_rejects:
        rejects = pd.concat([rejects, pd.DataFrame(new_rejects, dtype="string")], ignore_index=True)
        write_csv(store, REJECTS, rejects.drop_duplicates("id", keep="last").sort_values("id"))
    failed = [r.id for r in results if r.reason == "storage_error"]
    if failed:
        raise RuntimeError(f"{len(failed)} image(s) could not be read or written (storage errors), e.g. {failed[:3]}; "
                           "rerun to retry them")
    return rejects


def update_hashes(store: ObjectStore, crop_ids: set[str]) -> dict[str, int]:
    """Perceptual hashes of all crops, computed once per crop and cached in hashes.csv."""
    cached = read_csv(store, HASHES, ["id", "phash"])
    hashes = {i: int(h, 16) for i, h in zip(cached["id"], cached["phash"]) if i in crop_ids}
    missing = sorted(crop_ids - hashes.keys())
    if missing:
        with ThreadPoolExecutor(max_workers=8) as pool:  # I/O bound: one GET per crop
            for image_id, value in zip(missing, pool.map(lambda i: perceptual_hash(store.get_bytes(crop_key(i))), missing)):
                hashes[image_id] = value
        frame = pd.DataFrame({"id": list(hashes), "phash": [f"{h:016x}" for h in hashes.values()]}).sort_values("id")
        write_csv(store, HASHES, frame)
    return hashes


def sync_layout(store: ObjectStore, splits: pd.DataFrame) -> tuple[int, int]:
    """Make preprocessed/<split>/<category>/<id>.jpg match splits.csv (copies and removals)."""
    wanted = {layout_key(s, c, i): i for i, c, s in zip(splits["id"], splits["category"], splits["split"])}
    present = {o.key for name in SPLIT_NAMES for o in store.list(f"preprocessed/{name}/")}
    to_copy = [k for k in wanted if k not in present]
    to_remove = [k for k in present if k not in wanted]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda k: store.copy(crop_key(wanted[k]), k), to_copy))
        list(pool.map(store.delete, to_remove))
    return len(to_copy), len(to_remove)


def previous_splits(store: ObjectStore, config: SplitConfig) -> pd.DataFrame | None:
    """Earlier splits, unless they were made with another configuration (then start over)."""
    try:
        old = json.loads(store.get_bytes(SPLIT_CONFIG))
    except KeyNotFound:
        old = None
    if old != config.as_dict():
        return None
    return read_csv(store, SPLITS, ["id", "group", "category", "split"])


def usable_index(store: ObjectStore) -> tuple[pd.DataFrame, pd.DataFrame, set[str], set[str], pd.DataFrame]:
    """(index rows with a crop and no reject, the whole index, crop ids, rejected ids, rejects) as stored now."""
    index = allowed_rows(store, read_merged_index(store))
    rejects = read_csv(store, REJECTS, ["id", "reason", "detail"])
    rejected = set(rejects["id"])
    crop_ids = {o.key[len(CROPS):-4] for o in store.list(CROPS)} & set(index["id"])
    return index[index["id"].isin(crop_ids - rejected)], index, crop_ids, rejected, rejects


def crop_step(store: ObjectStore, settings: Settings, summary: PreprocessSummary, *, size: int = 128,
              workers: int | None = None, on_result: Callable[[CropResult], None] | None = None,
              allowed_categories: set[str] | None = None) -> None:
    index = allowed_rows(store, read_merged_index(store))
    raise_if_failed(check_index(index, allowed_categories))
    summary.images = len(index)
    crop_new_images(store, settings, index, size=size, workers=workers, on_result=on_result, summary=summary)


def group_step(store: ObjectStore) -> int:
    """Group near-duplicate photos and photos of one person; writes groups.csv."""
    usable, *_ = usable_index(store)
    hashes = update_hashes(store, set(usable["id"]))
    groups = assign_groups(usable, hashes, previous=read_csv(store, GROUPS, ["id", "group", "reason"]))
    write_csv(store, GROUPS, groups)
    return groups["group"].nunique()


def split_step(store: ObjectStore, config: SplitConfig, summary: PreprocessSummary) -> None:
    """Split by group (stable), check the data, write splits.csv and the Keras layout."""
    usable, index, crop_ids, rejected, rejects = usable_index(store)
    groups = read_csv(store, GROUPS, ["id", "group", "reason"])
    usable = usable.assign(role_class=usable["role_class"].fillna("unknown"))
    kept = usable["role_class"].isin(config.roles) if config.roles else pd.Series(True, index=usable.index)
    summary.roles = role_counts(usable, kept)
    if config.roles and usable.size and not kept.any():
        found = ", ".join(f"{k} ({v})" for k, v in usable["role_class"].value_counts().items())
        raise RuntimeError(f"no photo is left with roles {list(config.roles)}; the index has: {found}")
    items = usable.loc[kept, ["id", "category", "slug"]].rename(columns={"slug": "department"}).merge(
        groups[["id", "group"]], on="id", how="left")
    if items["group"].isna().any():
        raise RuntimeError("groups.csv is older than the crops: run the group step first")
    splits, summary.split_conflicts = assign_splits(items, config, previous=previous_splits(store, config))
    splits = splits[["id", "group", "category", "split"]].sort_values(["split", "category", "id"])
    raise_if_failed(check_splits(splits, index, rejected, crop_ids, config.roles))
    write_csv(store, SPLITS, splits)
    store.put_bytes(SPLIT_CONFIG, json.dumps(config.as_dict()).encode(), "application/json")
    sync_layout(store, splits)
    summary.crops_total = len(crop_ids)
    summary.rejects_total = len(rejected)
    summary.reject_reasons = {str(k): int(v) for k, v in rejects["reason"].value_counts().items()}
    summary.balance = class_balance(splits)


def role_counts(usable: pd.DataFrame, kept: pd.Series) -> pd.DataFrame:
    """Photos per (role class, category), and whether the split's role filter kept them."""
    frame = usable.assign(kept=kept.to_numpy())
    counts = frame.groupby(["role_class", "category", "kept"]).size().rename("photos").reset_index()
    return counts.sort_values(["kept", "role_class", "category"], ascending=[False, True, True]).reset_index(drop=True)


def preprocess(store: ObjectStore, settings: Settings, *, size: int = 128, workers: int | None = None,
               config: SplitConfig = SplitConfig(), on_result: Callable[[CropResult], None] | None = None,
               allowed_categories: set[str] | None = None) -> PreprocessSummary:
    """All three steps in order (the Prefect flow runs them as separate tasks)."""
    summary = PreprocessSummary()
    crop_step(store, settings, summary, size=size, workers=workers, on_result=on_result,
              allowed_categories=allowed_categories)
    group_step(store)
    split_step(store, config, summary)
    return summary
