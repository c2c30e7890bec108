"""Import photos from a local folder into raw/ as if a department had been crawled.

For photo collections people already have (and for tests and demos with LFW): a
manifest CSV with columns ``path,name,category`` (optional ``university``,
``department``; paths relative to the manifest) becomes one index shard ``raw/index/<slug>.csv``
with the same schema, checks and content addresses as a crawl.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from infra.index import read_shard, rebuild_merged_index, write_shard
from infra.store import ObjectStore, content_id, keys
from infra.privacy import Denylist, pseudonym
from spiders.extract import name_key
from spiders.index_update import update_shard
from spiders.pipelines.validate import RejectedImage, inspect_image
from spiders.registry import CATEGORY_RE, SLUG_RE

REQUIRED = ("path", "name", "category")


class ManifestError(ValueError):
    pass


@dataclass
class ImportSummary:
    imported: int = 0
    unchanged: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def read_manifest(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {missing}; needs {REQUIRED}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if not CATEGORY_RE.match(row["category"] or ""):
            raise ManifestError(f"{path}:{line}: category {row['category']!r} is not a short lowercase label")
        if not (row["name"] or "").strip():
            raise ManifestError(f"{path}:{line}: empty name")
    return rows


def import_photos(store: ObjectStore, manifest: Path, slug: str, *, university: str = "local import",
                  max_pixels: int = 40_000_000, min_side: int = 64, pseudonym_key: str | None = None,
                  denylist: Denylist | None = None) -> ImportSummary:
    """Import the manifest's photos; denied people/photos are skipped (reason `denied`), and with
    `pseudonym_key` names are stored as keyed pseudonyms."""
    if not SLUG_RE.match(slug):
        raise ManifestError(f"slug must be lowercase letters, digits and '-', got {slug!r}")
    rows = read_manifest(manifest)
    summary = ImportSummary()
    previous = read_shard(store, slug)
    known = set(previous["id"].dropna())
    sightings = []
    for row in rows:
        file = (manifest.parent / row["path"]).resolve()
        try:
            data = file.read_bytes()
            width, height, content_type, ext = inspect_image(data, max_pixels=max_pixels, min_side=min_side)
        except (OSError, RejectedImage) as exc:
            reason = getattr(exc, "reason", "unreadable_file")
            summary.rejected[reason] = summary.rejected.get(reason, 0) + 1
            continue
        image_id, digest = content_id(data)
        person = name_key(row["name"])
        place = row.get("university") or university
        if denylist is not None and (denylist.denies_id(image_id) or denylist.denies_person(place, person)):
            summary.rejected["denied"] = summary.rejected.get("denied", 0) + 1
            continue
        shown = row["name"].strip()
        if pseudonym_key:
            shown = person = pseudonym(pseudonym_key, person)
        key = keys.raw_image(image_id, ext)
        if not store.exists(key):
            store.put_bytes(key, data, content_type, metadata={"source-file": file.name[:200]})
        summary.imported += image_id not in known
        summary.unchanged += image_id in known
        sightings.append({
            "id": image_id, "category": row["category"], "image_url": file.as_uri(), "name": shown,
            "page_url": manifest.resolve().as_uri(), "department": row.get("department") or slug,
            "university": place, "slug": slug, "name_key": person,
            "sha256": digest, "width": width, "height": height, "content_type": content_type,
            "bytes": len(data), "image_key": key, "etag": None, "last_modified": None,
        })
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    # Photos shared by different people are placeholders, exactly as in a crawl.
    update = update_shard(previous, sightings, now, complete=True)
    for reason in update.dropped.values():
        summary.rejected[reason] = summary.rejected.get(reason, 0) + 1
    write_shard(store, slug, update.frame)
    rebuild_merged_index(store)
    return summary
