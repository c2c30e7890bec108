"""Who is in the picture: the academic title on a name, and the class of the printed role.

The rules and lexicon are data (spiders/roles.yaml); this module only applies them. A role
text is what a staff page prints with a person ("Sekretariat", "Wiss. Mitarbeiterin",
"PhD Student"); the class is one of ``ROLE_CLASSES``. Older index rows have no role and
stay ``unknown``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

from spiders.extract.names import clean_name_text, looks_like_person_name, normalize_space, strip_titles

__all__ = ["ROLE_CLASSES", "RoleLexicon", "classify_role", "contact_line", "lexicon", "parse_title", "person_role",
           "resolve_roles"]

LEXICON_FILE = Path(__file__).with_name("roles.yaml")
ROLE_CLASSES = ("professor", "researcher", "doctoral", "lecturer", "admin", "technical", "student", "unknown")
MAX_ROLE_CHARS = 120


@dataclass(frozen=True)
class RoleLexicon:
    rules: tuple[tuple[str, re.Pattern], ...]
    title_rules: tuple[tuple[str, re.Pattern], ...]
    groups: dict[str, tuple[str, ...]]

    def classify(self, role: str | None, title: str | None = None) -> str:
        text = normalize_space(role or "")
        for cls, pattern in self.rules if text else ():
            if pattern.search(text):
                return cls
        for cls, pattern in self.title_rules if title else ():
            if pattern.search(title):
                return cls
        return "unknown"


def _compile(entries: list[dict], where: str) -> tuple[tuple[str, re.Pattern], ...]:
    out = []
    for i, entry in enumerate(entries or []):
        cls = entry.get("class")
        if cls not in ROLE_CLASSES:
            raise ValueError(f"{where}[{i}]: unknown role class {cls!r}; choose from {ROLE_CLASSES}")
        # folded YAML (>-) joins lines with spaces: a pattern's alternatives may be broken over lines
        source = re.sub(r"\|\s+", "|", str(entry.get("pattern", "")).strip())
        try:
            out.append((cls, re.compile(source, re.IGNORECASE)))
        except re.error as exc:
            raise ValueError(f"{where}[{i}] ({cls}): bad pattern: {exc}") from None
    return tuple(out)


def load_lexicon(path: Path = LEXICON_FILE) -> RoleLexicon:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups = {name: tuple(members) for name, members in (data.get("groups") or {}).items()}
    for name, members in groups.items():
        bad = sorted(set(members) - set(ROLE_CLASSES))
        if bad:
            raise ValueError(f"{path.name}: group {name!r} names unknown classes {bad}")
    return RoleLexicon(_compile(data.get("rules"), "rules"), _compile(data.get("title_rules"), "title_rules"), groups)


@lru_cache(maxsize=1)
def lexicon() -> RoleLexicon:
    return load_lexicon()


def classify_role(role: str | None, title: str | None = None) -> str:
    """The class of a printed role; the title decides only when the role says nothing."""
    return lexicon().classify(role, title)


def parse_title(name: str) -> str:
    """The academic titles and degrees on a displayed name: 'Prof. Dr.-Ing. Hans Müller, M.Sc.'
    -> 'Prof. Dr.-Ing., M.Sc.'; '' when there are none."""
    shown = normalize_space(name)
    bare = strip_titles(shown)
    if not bare or bare == shown:
        return ""
    words = bare.split()
    tokens = shown.replace(",", " , ").split()
    first = next((i for i, t in enumerate(tokens) if t == words[0]), None)
    last = next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i] == words[-1]), None)
    if first is None or last is None or last < first:
        return ""
    lead = " ".join(t for t in tokens[:first] if t != ",")
    trail = " ".join(t for t in tokens[last + 1:] if t != ",")
    return ", ".join(p for p in (lead, trail) if p)


_CONTACT = re.compile(
    r"@|https?://|www\.|\d[\d\s/().-]{5,}\d|^(?:office|büro|raum|room|tel|phone|fax|e-?mail|mail|sprechstunde|"
    r"sprechzeit|office hours|address|adresse|website|homepage|web|orcid|google scholar)\b",
    re.IGNORECASE,
)


_NOT_ROLE = re.compile(r"^(?:(?:research|current|main)\s+)?(?:interests?|topics?|areas?)\b|^forschungs(?:interessen|"
                       r"schwerpunkte|gebiete)|^(?:arbeits|forschungs)?schwerpunkte?\b|^keywords\b", re.IGNORECASE)


def contact_line(text: str) -> bool:
    """An address, phone, room or link line, or a list of interests: never a role, even when it
    says 'Office' or 'Research'."""
    return bool(_CONTACT.search(text) or _NOT_ROLE.search(text))


_LABEL = re.compile(r"^([^:]{2,40}):\s*(.*)$")
_ROLE_LABELS = frozenset({"funktion", "position", "role", "rolle", "title", "titel", "status", "stelle",
                          "job title", "function", "tätigkeit", "aufgabe", "aufgaben"})


def _role_part(text: str) -> str | None:
    """'Funktion: Sekretariat' -> 'Sekretariat'; 'Forschungsschwerpunkte: ...' (another label) -> None."""
    m = _LABEL.match(text)
    if not m:
        return text
    return m.group(2).strip() if m.group(1).strip().casefold() in _ROLE_LABELS else None


def role_from_lines(lines: Iterable[str], name: str) -> str | None:
    """The first line printed with a person that reads as a role (not the name, not contact
    details); the part after the name when name and role share a line ('Anna Berg, Sekretariat')."""
    shown = normalize_space(name)
    for line in lines:
        text = normalize_space(line)
        if shown and text.startswith(shown):
            text = text[len(shown):].strip(" ,;:|–—-()")
        text = _role_part(text) or ""
        if not text or len(text) > MAX_ROLE_CHARS or contact_line(text) or strip_titles(text) == strip_titles(shown):
            continue
        if looks_like_person_name(clean_name_text(text)):
            continue  # somebody's name ("Prof. Dr. Eva Braun" as a co-advisor), not a role
        if classify_role(text) != "unknown":
            return text
    return None


def person_role(name: str, role: str | None) -> dict[str, str | None]:
    """The index's role columns for a person: title parsed off the name, role text, role class."""
    title = parse_title(name)
    role = normalize_space(role or "")[:MAX_ROLE_CHARS] or None
    return {"title": title or None, "role": role, "role_class": classify_role(role, title)}


def resolve_roles(wanted: str | Iterable[str] | None) -> tuple[str, ...]:
    """'academic' / 'all' / 'admin,student' / a list -> the role classes kept (sorted, unique).

    Raises ValueError naming the unknown parts."""
    items = [t.strip() for t in (wanted.split(",") if isinstance(wanted, str) else wanted or []) if t.strip()]
    if not items or items == ["all"]:
        return ()
    groups = lexicon().groups
    out: set[str] = set()
    unknown = []
    for item in items:
        if item in groups:
            out.update(groups[item])
        elif item in ROLE_CLASSES:
            out.add(item)
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; choose from {list(ROLE_CLASSES)}, a group "
                         f"{sorted(groups)} or 'all'")
    return tuple(sorted(out))
