"""Fold one crawl's sightings into a department's index shard (pure functions, no I/O).

Rules:
- a photo seen now is `present`; it keeps its `first_seen` and gets `last_seen` = now;
- the same photo bytes, or the same picture re-encoded (equal perceptual hashes, the
  sighting's `look`), shown for two or more different people is a placeholder avatar:
  every such row is dropped (reason `shared_placeholder`);
- after a complete crawl, a row not seen again becomes `replaced` when its person is
  still present with another photo, else `vanished` (rows are marked, never deleted);
- after an incomplete crawl (errors, interrupted) unseen rows are carried unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from infra.index import COLUMNS, empty_index, normalise


@dataclass
class ShardUpdate:
    frame: pd.DataFrame
    dropped: dict[str, str] = field(default_factory=dict)  # id -> reason
    new_ids: set[str] = field(default_factory=set)
    unchanged_ids: set[str] = field(default_factory=set)


def placeholder_ids(sightings: list[dict]) -> set[str]:
    people: dict[str, set[str]] = {}
    by_look: dict[str, set[str]] = {}
    for row in sightings:
        people.setdefault(row["id"], set()).add(row["name_key"])
        if row.get("look"):
            by_look.setdefault(row["look"], set()).add(row["id"])
    shared = {image_id for image_id, names in people.items() if len(names) > 1}
    for ids in by_look.values():
        if len(set().union(*(people[i] for i in ids))) > 1:
            shared |= ids
    return shared


def update_shard(previous: pd.DataFrame, sightings: list[dict], now: str, complete: bool,
                 placeholder_urls: frozenset[str] = frozenset()) -> ShardUpdate:
    """`placeholder_urls`: image URLs the crawl saw claimed by several people."""
    previous = normalise(previous) if len(previous) else empty_index()
    old = {row["id"]: row for row in previous.to_dict("records")}
    placeholders = placeholder_ids(sightings) | {r["id"] for r in sightings if r["image_url"] in placeholder_urls}
    update = ShardUpdate(frame=previous, dropped={i: "shared_placeholder" for i in placeholders})

    current: dict[str, dict] = {}
    for row in sightings:
        image_id = row["id"]
        if image_id in placeholders or image_id in current:
            continue  # one row per photo: the first page it was found on wins
        merged = {**old.get(image_id, {}), **{k: v for k, v in row.items() if v is not None}}
        merged["first_seen"] = old[image_id]["first_seen"] if image_id in old else now
        merged["last_seen"] = now
        merged["status"] = "present"
        (update.unchanged_ids if image_id in old else update.new_ids).add(image_id)
        current[image_id] = merged

    present_people = {row["name_key"] for row in current.values()}
    for image_id, row in old.items():
        if image_id in current or image_id in placeholders:
            continue
        row = dict(row)
        if complete and row["status"] == "present":
            row["status"] = "replaced" if row["name_key"] in present_people else "vanished"
        current[image_id] = row

    frame = pd.DataFrame(list(current.values()), columns=COLUMNS) if current else empty_index()
    update.frame = normalise(frame)
    return update
