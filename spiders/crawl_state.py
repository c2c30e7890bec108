"""Photo URLs a department's crawl rejected, remembered so a recrawl does not fetch them
again: with their validators it asks conditionally (304 = still rejected); without (e.g.
an oversized download that was cut off) it waits `recheck_days` before trying again."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from infra.store import KeyNotFound, ObjectStore, keys


class RejectedPhotos:
    def __init__(self, entries: dict[str, dict] | None = None, recheck_days: float = 30.0):
        self.entries = entries or {}
        self.recheck = timedelta(days=recheck_days)

    @classmethod
    def load(cls, store: ObjectStore, slug: str, recheck_days: float = 30.0) -> "RejectedPhotos":
        try:
            data = json.loads(store.get_bytes(keys.crawl_state(slug)))
        except (KeyNotFound, ValueError):
            data = {}
        return cls(data.get("rejected_photos", {}), recheck_days)

    def save(self, store: ObjectStore, slug: str) -> None:
        body = json.dumps({"rejected_photos": self.entries}, indent=1, sort_keys=True).encode()
        store.put_bytes(keys.crawl_state(slug), body, "application/json")

    def remember(self, url: str, reason: str, etag: str | None = None, last_modified: str | None = None) -> None:
        self.entries[url] = {"reason": reason, "etag": etag, "last_modified": last_modified,
                             "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    def forget(self, url: str) -> None:
        self.entries.pop(url, None)

    def get(self, url: str) -> dict | None:
        return self.entries.get(url)

    def still_fresh(self, entry: dict) -> bool:
        """A rejection without validators is trusted for `recheck_days`."""
        return datetime.now(timezone.utc) - datetime.fromisoformat(entry["at"]) < self.recheck
