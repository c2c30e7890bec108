"""Stage ledger: skip a pipeline stage whose inputs did not change since it last succeeded.

A stage's fingerprint is a SHA-256 over what it reads (the content of its input objects,
minus bookkeeping that changes on every crawl, like `last_seen`) and its parameters. After
a stage succeeds, ``pipeline/stages/<stage>.json`` records the fingerprint and the stage's
outputs (one PUT: atomic). The next run computes the fingerprint again; when it matches
and the recorded outputs still exist, the stage is skipped and its outputs reused.

This is the project's own equivalent of Prefect's input-hash caching: the record lives in
the object store every worker shares, so any worker on any machine can skip the stage.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from infra.store import KeyNotFound, ObjectStore

STAGES_PREFIX = "pipeline/stages/"
# Index columns the later stages depend on; crawl bookkeeping (last_seen, etag, ...) is left out.
INDEX_CONTENT = ("id", "category", "university", "department", "slug", "name_key", "image_key", "status")


@dataclass
class StageRecord:
    stage: str
    fingerprint: str
    outputs: dict[str, Any] = field(default_factory=dict)
    finished_at: str = ""
    seconds: float = 0.0


def stage_key(stage: str) -> str:
    return f"{STAGES_PREFIX}{stage}.json"


def digest(*parts: Any) -> str:
    """SHA-256 of JSON-encoded parts (sorted keys: the same inputs give the same digest)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def object_digest(store: ObjectStore, key: str) -> str:
    """SHA-256 of an object's bytes ("missing" when absent)."""
    try:
        return hashlib.sha256(store.get_bytes(key)).hexdigest()
    except KeyNotFound:
        return "missing"


def index_digest(store: ObjectStore, key: str) -> str:
    """Fingerprint of a merged index: only the columns later stages read, in a stable order."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(store.get_bytes(key)), dtype="string", keep_default_na=False)
    except KeyNotFound:
        return "missing"
    columns = [c for c in INDEX_CONTENT if c in frame.columns]
    rows = frame[columns].sort_values(columns).to_csv(index=False)
    return hashlib.sha256(rows.encode()).hexdigest()


def read_record(store: ObjectStore, stage: str) -> StageRecord | None:
    try:
        return StageRecord(**json.loads(store.get_bytes(stage_key(stage))))
    except (KeyNotFound, ValueError, TypeError):
        return None  # never recorded, or an unreadable record: run the stage


def current_record(store: ObjectStore, stage: str, fingerprint: str,
                   outputs_exist: Callable[[dict], bool] = lambda outputs: True,
                   max_age_hours: float | None = None) -> StageRecord | None:
    """The record of the stage's last success when it had these inputs, its outputs still
    exist and (with `max_age_hours`) it is recent enough."""
    record = read_record(store, stage)
    if record is None or record.fingerprint != fingerprint:
        return None
    if max_age_hours is not None:
        age = datetime.now(timezone.utc) - datetime.fromisoformat(record.finished_at)
        if age.total_seconds() > max_age_hours * 3600:
            return None
    return record if outputs_exist(record.outputs) else None


def write_record(store: ObjectStore, stage: str, fingerprint: str, outputs: dict, seconds: float) -> StageRecord:
    record = StageRecord(stage, fingerprint, outputs, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         round(seconds, 2))
    store.put_bytes(stage_key(stage), json.dumps(asdict(record), indent=1, default=str).encode(), "application/json")
    return record

