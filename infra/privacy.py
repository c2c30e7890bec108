"""The permanent denylist of removal requests (`privacy/denylist.csv`) and the audit log.

Entries hold no clear names or URLs: a person is the SHA-256 of (university, name key),
a URL the SHA-256 of the URL, a photo its content id. That lets every stage recognise a
denied person, URL or photo without the list itself being a list of names (a hash of a
known name can still be checked against it: it is a filter, not a secret).

Spiders never request a denied URL or person and never store a denied photo; the
preprocess stage drops denied ids before cropping and splitting. The audit log is one
object per action under `privacy/audit/` (no read-modify-write: concurrent writers never
lose an entry), with counts and hashes, never the removed data.
"""
from __future__ import annotations

import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from infra.store import KeyNotFound, ObjectStore, keys

AUDIT_PREFIX = "privacy/audit/"
ANY_UNIVERSITY = "*"
COLUMNS = ["kind", "value", "added_at", "reason"]  # kind: id | person | url


def person_hash(university: str | None, name_key: str) -> str:
    place = ANY_UNIVERSITY if university in (None, "", ANY_UNIVERSITY) else university.casefold().strip()
    return hashlib.sha256(f"{place}\x1f{name_key}".encode()).hexdigest()


def pseudonym(key: str, name_key: str) -> str:
    """A stable stand-in for a name: keyed (HMAC-SHA-256), so it cannot be reversed or checked
    against a guessed name without the key. The same person gets the same pseudonym."""
    import hmac

    return "person-" + hmac.new(key.encode(), name_key.encode(), hashlib.sha256).hexdigest()[:20]


def url_hash(url: str) -> str:
    return hashlib.sha256(url.strip().encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Denylist:
    ids: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    rows: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ids or self.people or self.urls)

    def denies_id(self, image_id: str) -> bool:
        return image_id in self.ids

    def denies_url(self, url: str | None) -> bool:
        return bool(url) and url_hash(url) in self.urls

    def denies_person(self, university: str | None, name_key: str | None) -> bool:
        if not name_key:
            return False
        return person_hash(university, name_key) in self.people or person_hash(None, name_key) in self.people

    def denies_row(self, row: dict) -> bool:
        """An index row (id, university, name_key, image_url) that must not be kept."""
        return (self.denies_id(str(row.get("id", ""))) or self.denies_url(row.get("image_url"))
                or self.denies_person(row.get("university"), row.get("name_key")))

    def add(self, kind: str, value: str, reason: str) -> bool:
        target = {"id": self.ids, "person": self.people, "url": self.urls}[kind]
        if value in target:
            return False
        target.add(value)
        self.rows.append({"kind": kind, "value": value, "added_at": now_iso(), "reason": reason})
        return True


def load_denylist(store: ObjectStore) -> Denylist:
    import csv

    try:
        text = store.get_bytes(keys.DENYLIST).decode("utf-8")
    except KeyNotFound:
        return Denylist()
    denylist = Denylist()
    for row in csv.DictReader(io.StringIO(text)):
        denylist.add(row["kind"], row["value"], row.get("reason", ""))
        denylist.rows[-1]["added_at"] = row.get("added_at", "")
    return denylist


def save_denylist(store: ObjectStore, denylist: Denylist) -> None:
    """One PUT: readers see the old list or the new one, never half of it."""
    import csv

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(denylist.rows)
    store.put_bytes(keys.DENYLIST, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8")


def write_audit(store: ObjectStore, entry: dict) -> str:
    key = f"{AUDIT_PREFIX}{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}.json"
    store.put_bytes(key, json.dumps({"at": now_iso(), **entry}, indent=1, sort_keys=True).encode(),
                    "application/json")
    return key


def read_audit(store: ObjectStore) -> list[dict]:
    return [json.loads(store.get_bytes(o.key)) for o in sorted(store.list(AUDIT_PREFIX), key=lambda o: o.key)]
