"""Removal requests: forget a photo (`id`), a person (`name`, optionally at one university)
or a URL everywhere, and never collect them again.

Deleted: the raw image, its crop and every derived copy (Keras layout, blurred control
crops, cached embeddings and their packs), its rows in the index shards (the merged index
is rebuilt), in rejects/hashes/groups/splits, and report pictures that showed it. Added:
permanent denylist entries (infra/privacy.py) and one audit entry. Trained models cannot
be untrained: the runs whose `data_ids.txt` lists a removed photo are reported, with the
command that retrains. Every object is deleted with one request; CSVs are rewritten with
one PUT each; the denylist is saved first, so a crash half-way never lets the person back
in and a rerun finishes the job.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd

from infra.index import read_shard, rebuild_merged_index, shard_slugs, write_shard
from infra.privacy import (Denylist, load_denylist, person_hash, pseudonym, save_denylist, url_hash,
                           write_audit)
from infra.store import KeyNotFound, ObjectStore, keys
from ml.embeddings import PREFIX as EMBEDDINGS
from ml.evaluate import REPORTS
from ml.preprocess import GROUPS, HASHES, REJECTS, SPLITS, csv_frame, write_csv
from ml.runs import MODELS, list_runs
from ml.train import DATA_IDS

STAGE_CSVS = (REJECTS, HASHES, GROUPS, SPLITS)
REPORT_PICTURES = ("report.html", "report.md")  # they embed or link the example faces


class ForgetError(ValueError):
    pass


@dataclass
class ForgetResult:
    query: dict
    ids: list[str] = field(default_factory=list)
    index_rows: int = 0
    objects: list[str] = field(default_factory=list)  # deleted (or, in a dry run, to delete)
    csv_rows: dict[str, int] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)  # runs whose report showed a removed photo
    runs: list[str] = field(default_factory=list)  # runs trained on a removed photo
    runs_unknown: list[str] = field(default_factory=list)  # runs without data_ids.txt
    denylist_added: int = 0
    dry_run: bool = False
    audit_key: str | None = None

    def counts(self) -> dict:
        kinds: dict[str, int] = {}
        for key in self.objects:
            kind = "/".join(key.split("/")[:2])
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds


def _matches(frame: pd.DataFrame, *, ids: set[str], name_key: str | None, university: str | None,
             url: str | None) -> pd.Series:
    hit = frame["id"].isin(ids)
    if name_key:
        same = frame["name_key"] == name_key
        if university:
            same &= frame["university"].str.casefold() == university.casefold()
        hit |= same
    if url:
        hit |= (frame["image_url"] == url) | (frame["page_url"] == url)
    return hit


def forget(store: ObjectStore, *, image_id: str | None = None, name: str | None = None,
           university: str | None = None, url: str | None = None, dry_run: bool = False,
           reason: str = "removal request", pseudonym_key: str | None = None) -> ForgetResult:
    from spiders.extract import name_key as make_name_key

    if sum(v is not None for v in (image_id, name, url)) != 1:
        raise ForgetError("give exactly one of --id, --name or --url")
    key = make_name_key(name) if name else None
    if name is not None and not key:
        raise ForgetError(f"{name!r} is not a name")
    query = ({"kind": "id", "value": image_id} if image_id else
             {"kind": "person", "value": person_hash(university, key)} if name else
             {"kind": "url", "value": url_hash(url)})
    result = ForgetResult(query=query, dry_run=dry_run)
    if key and pseudonym_key:  # the index keeps pseudonyms: match on the person's pseudonym
        key = pseudonym(pseudonym_key, key)

    shards = {slug: read_shard(store, slug) for slug in shard_slugs(store)}
    wanted = {image_id} if image_id else set()
    hits = {slug: _matches(f, ids=wanted, name_key=key, university=university, url=url) for slug, f in shards.items()}
    matched = pd.concat([shards[s][h] for s, h in hits.items()]) if shards else pd.DataFrame()
    result.ids = sorted(wanted | set(matched.get("id", [])))
    result.index_rows = int(sum(h.sum() for h in hits.values()))

    denylist = load_denylist(store)
    result.denylist_added = _deny(denylist, query, matched, reason)
    ids = set(result.ids)
    result.objects = _derived_objects(store, ids, matched)
    result.reports = _reports_showing(store, ids)
    result.runs, result.runs_unknown = _runs_trained_on(store, ids)
    if dry_run:
        result.csv_rows = {k: _count_rows(store, k, ids) for k in STAGE_CSVS}
        return result

    save_denylist(store, denylist)  # first: from now on nothing collects or uses them again
    for slug, hit in hits.items():
        if hit.any():
            write_shard(store, slug, shards[slug][~hit])
    rebuild_merged_index(store)
    result.csv_rows = {k: _drop_rows(store, k, ids) for k in STAGE_CSVS}
    _rewrite_packs(store, ids)
    for report_run in result.reports:
        _strip_report(store, report_run, ids)
    for obj_key in result.objects:
        store.delete(obj_key)
    result.audit_key = write_audit(store, {
        "action": "forget", "query": query, "reason": reason, "images": len(ids), "index_rows": result.index_rows,
        "objects_deleted": result.counts(), "csv_rows_deleted": result.csv_rows, "reports_redacted": result.reports,
        "runs_trained_on_removed_data": result.runs, "runs_without_id_list": result.runs_unknown,
        "denylist_entries_added": result.denylist_added})
    return result


def _deny(denylist: Denylist, query: dict, matched: pd.DataFrame, reason: str) -> int:
    added = denylist.add(query["kind"], query["value"], reason)
    for row in matched.to_dict("records"):
        added += denylist.add("id", str(row["id"]), reason)
        if row.get("image_url"):
            added += denylist.add("url", url_hash(row["image_url"]), reason)
        if query["kind"] == "person":  # the person at every university where they were found
            added += denylist.add("person", person_hash(row.get("university"), row.get("name_key", "")), reason)
    return int(added)


def _derived_objects(store: ObjectStore, ids: set[str], matched: pd.DataFrame) -> list[str]:
    """Every object named by one of the ids: raw images and everything under preprocessed/."""
    if not ids:
        return []
    found = {o.key for prefix in (keys.RAW_IMAGES, "preprocessed/") for o in store.list(prefix)
             if PurePosixPath(o.key).stem in ids}
    found |= {k for k in matched.get("image_key", []) if isinstance(k, str) and store.exists(k)}
    return sorted(found)


def _count_rows(store: ObjectStore, key: str, ids: set[str]) -> int:
    try:
        return int(csv_frame(store.get_bytes(key))["id"].isin(ids).sum())
    except KeyNotFound:
        return 0


def _drop_rows(store: ObjectStore, key: str, ids: set[str]) -> int:
    try:
        frame = csv_frame(store.get_bytes(key))
    except KeyNotFound:
        return 0
    hit = frame["id"].isin(ids)
    if hit.any():
        write_csv(store, key, frame[~hit])
    return int(hit.sum())


def _rewrite_packs(store: ObjectStore, ids: set[str]) -> None:
    import io

    import numpy as np

    for obj in list(store.list(EMBEDDINGS, recursive=False)):
        if not obj.key.endswith(".pack.npz"):
            continue
        with np.load(io.BytesIO(store.get_bytes(obj.key)), allow_pickle=False) as pack:
            pack_ids, vectors = pack["ids"], pack["vectors"]
        keep = np.array([str(i) not in ids for i in pack_ids], dtype=bool)
        if not keep.all():
            out = io.BytesIO()
            np.savez(out, ids=pack_ids[keep], vectors=vectors[keep])
            store.put_bytes(obj.key, out.getvalue())


def _reports_showing(store: ObjectStore, ids: set[str]) -> list[str]:
    runs = []
    for obj in store.list(REPORTS):
        if obj.key.endswith("/metrics.json"):
            metrics = json.loads(store.get_bytes(obj.key))
            examples = metrics.get("examples", {})
            shown = {row["id"] for per_class in examples.values() for rows in per_class.values() for row in rows}
            shown |= set((metrics.get("saliency") or {}).get("examples", []))
            if shown & ids:
                runs.append(obj.key[len(REPORTS):].split("/", 1)[0])
    return sorted(runs)


def _strip_report(store: ObjectStore, run_id: str, ids: set[str]) -> None:
    """Remove the example rows and the pictures/pages that showed the removed photos."""
    key = f"{REPORTS}{run_id}/metrics.json"
    metrics = json.loads(store.get_bytes(key))
    for per_class in metrics.get("examples", {}).values():
        for kind, rows in per_class.items():
            per_class[kind] = [r for r in rows if r["id"] not in ids]
    if metrics.get("saliency"):
        metrics["saliency"]["examples"] = [i for i in metrics["saliency"].get("examples", []) if i not in ids]
    metrics["redacted"] = "examples removed on request; rerun `academic-faces evaluate` for a new report"
    store.put_bytes(key, json.dumps(metrics, indent=1).encode(), "application/json")
    for obj in list(store.list(f"{REPORTS}{run_id}/")):
        name = obj.key.rsplit("/", 1)[-1]
        if name in REPORT_PICTURES or name.startswith(("examples-", "saliency-examples")):
            store.delete(obj.key)


def _runs_trained_on(store: ObjectStore, ids: set[str]) -> tuple[list[str], list[str]]:
    trained, unknown = [], []
    for run_id in list_runs(store):
        try:
            learned = set(store.get_bytes(f"{MODELS}{run_id}/{DATA_IDS}").decode().split())
        except KeyNotFound:
            unknown.append(run_id)
            continue
        if learned & ids:
            trained.append(run_id)
    return trained, unknown
