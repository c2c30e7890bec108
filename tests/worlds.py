"""Shared test worlds: object-store states that are expensive to build (real photos
imported, cropped, split and embedded) are built once per test session and kept as a
snapshot on disk; each test restores one into a bucket of its own and may change it.

The snapshot lives in the session's temporary root, which all pytest-xdist workers share;
a file lock makes the first worker that needs a world build it while the others wait, and
a snapshot is complete only once its `keys.json` exists (written last, atomically).
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from infra.settings import Settings, settings_env
from infra.store import ObjectStore

ROOT = Path(__file__).resolve().parent.parent
IO_THREADS = 8


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between the processes of one test session (xdist workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Snapshot:
    """Every object of a bucket as files under `folder/objects/`, listed in `folder/keys.json`."""

    def __init__(self, folder: Path):
        self.folder = folder

    @property
    def complete(self) -> bool:
        return (self.folder / "keys.json").is_file()

    def capture(self, store: ObjectStore) -> None:
        objects = self.folder / "objects"
        keys = [o.key for o in store.list("")]

        def save(key: str) -> str:
            target = objects / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.get_bytes(key))
            return store.stat(key).content_type or "application/octet-stream"
        with ThreadPoolExecutor(IO_THREADS) as pool:
            types = dict(zip(keys, pool.map(save, keys)))
        tmp = self.folder / "keys.json.tmp"
        tmp.write_text(json.dumps({"keys": types}))
        tmp.replace(self.folder / "keys.json")

    def restore(self, store: ObjectStore) -> None:
        """Put every object of the snapshot into `store` (its bucket should be empty)."""
        listed = json.loads((self.folder / "keys.json").read_text())
        store.ensure_bucket()

        def put(item: tuple[str, str]) -> None:
            key, content_type = item
            store.put_file(key, self.folder / "objects" / key, content_type)
        with ThreadPoolExecutor(IO_THREADS) as pool:
            list(pool.map(put, listed["keys"].items()))


def shared_world(cache: Path, name: str, store_for: Callable[[str], ObjectStore],
                 build: Callable[[ObjectStore], None]) -> Snapshot:
    """The snapshot of world `name`, built by `build(store)` into a scratch bucket if no
    worker of this session has built it yet."""
    snapshot = Snapshot(cache / name)
    with file_lock(cache / f"{name}.lock"):
        if not snapshot.complete:
            scratch = store_for("w-" + uuid.uuid4().hex[:12])
            scratch.ensure_bucket()
            build(scratch)
            snapshot.capture(scratch)
    return snapshot


# -- the gender world ---------------------------------------------------------------------------
GENDER_PER_CLASS = 175  # ~350 photos of ~150 people: enough for the probe's >= 0.90 and its interval


def _order(identity: str) -> bytes:
    return hashlib.blake2b(identity.encode(), digest_size=8).digest()


def sample_lfw(data: Path, per_gender: int = GENDER_PER_CLASS) -> pd.DataFrame:
    """Deterministic sample: identities in hash order, all their photos, ~per_gender a gender."""
    labels = pd.read_csv(data / "faces" / "lfw_labels.csv", dtype=str).dropna(subset=["gender"])
    labels = labels[labels["gender"].str.strip() != ""]
    chosen = []
    for _, rows in labels.groupby("gender"):
        taken = 0
        for identity in sorted(rows["identity"].unique(), key=_order):
            photos = rows[rows["identity"] == identity].sort_values("path")
            chosen.append(photos.head(per_gender - taken))
            taken += min(len(photos), per_gender - taken)
            if taken >= per_gender:
                break
    return pd.concat(chosen, ignore_index=True)


def build_gender_world(store: ObjectStore, settings: Settings, data: Path, folder: Path) -> None:
    """LFW photos labelled female/male imported and preprocessed through the CLI (as a user
    would), then every crop embedded (the probe's cache)."""
    from ml.crop_stage import crop_key
    from ml.embeddings import embed_crops
    from ml.preprocess import SPLITS, csv_frame

    sample = sample_lfw(data)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "gender.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "name", "category"])
        for path, identity, gender in zip(sample["path"], sample["identity"], sample["gender"]):
            writer.writerow([str(data / "faces" / path), identity.replace("_", " "), gender])
    env = {**os.environ, **settings_env(settings.replace(bucket=store.bucket))}
    for args in (["import", str(manifest), "--slug", "lfw-gender", "--university", "LFW"],
                 ["preprocess", "--workers", "2"]):
        done = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"gender world: {args[0]} failed\n{done.stderr[-3000:]}"
    splits = csv_frame(store.get_bytes(SPLITS))
    embed_crops(store, splits["id"], crop_key=crop_key, workers=2)


# -- one Prefect server for the session ------------------------------------------------------------
def shared_prefect_server(cache: Path, timeout: float = 180) -> str:
    """API URL of the session's Prefect server (SQLite, no UI), started by the first worker
    that needs it; `stop_shared_prefect_server` (the controller, at the session's end) stops it."""
    from infra.seaweed import alive
    from infra.stack import api_healthy, free_port, start_prefect_server

    info = cache / "prefect.json"
    with file_lock(cache / "prefect.lock"):
        if info.is_file():
            known = json.loads(info.read_text())
            if alive(known["pid"]) and api_healthy(known["api_url"]):
                return known["api_url"]
        started = start_prefect_server(cache / "prefect-home", free_port(), cache / "prefect-server.log",
                                       timeout, ui=False)
        info.write_text(json.dumps(started))
        return started["api_url"]


def stop_shared_prefect_server(cache: Path) -> None:
    from infra.stack import stop_process

    info = cache / "prefect.json"
    if info.is_file():
        stop_process(json.loads(info.read_text())["pid"], signal.SIGINT, timeout=15)
        info.unlink()
