"""The role printed with each person on a listing: a line of their entry, else their section's heading.

What a line means is decided by the lexicon (spiders.roles); here only where to look: the
person's own entry first ("Anna Berg / Sekretariat"), then the nearest heading above the entry
that is not somebody's name ("Doktorandinnen und Doktoranden" over a grid of cards).
"""
from __future__ import annotations

from bisect import bisect_right

from .dom import Doc
from .names import clean_name_text, looks_like_person_name, name_key
from .textlines import PageText

__all__ = ["entry_role", "lines_after", "profile_role"]

FOLLOWING_LINES = 3
PROFILE_LINES = 6


def _box(doc: Doc, entry):
    """The region that is this person's entry: the box holding name and photo, or, when that
    box is a whole page section (far), the photo's own box."""
    box = entry.outer if entry.far and entry.outer is not None else entry.container
    return box if box is not None and box in doc.order else None


def _own_lines(lines: list[str], key: str) -> list[str]:
    """The lines of a box that belong to this person: all of them, or, when the box also names
    others (a table row of two, a card with a co-advisor), those from this name to the next."""
    named = [name_key(clean_name_text(line)) if looks_like_person_name(clean_name_text(line)) else None
             for line in lines]
    others = [i for i, k in enumerate(named) if k and k != key]
    if not others:
        return lines
    mine = next((i for i, line in enumerate(lines) if named[i] == key or key in name_key(line)), None)
    if mine is None:
        return []
    stop = next((i for i in others if i > mine), len(lines))
    return lines[mine:stop]


def lines_after(text: PageText, order: int, most: int = FOLLOWING_LINES) -> list[str]:
    """The few lines right after a position, up to the next person's name or heading: where a
    role sits when the markup closes the entry before it (<dt>name</dt><dd>role</dd>,
    <figure>photo + caption</figure><p>role</p>)."""
    out = []
    start = bisect_right(text.line_orders, order)
    for _, line, heading in text.lines[start:start + most]:  # a slice of `most`, not a copy of the page's tail
        if heading or looks_like_person_name(clean_name_text(line)):
            break
        out.append(line)
    return out


def entry_role(doc: Doc, text: PageText, entry) -> str | None:
    # imported here: spiders.roles itself imports this package's name rules
    from spiders.roles import classify_role, contact_line, role_from_lines

    box = _box(doc, entry)
    if box is None:
        return None
    role = role_from_lines(_own_lines([line for _, line, _ in text.lines_in(doc, box)], entry.key), entry.display)
    if role:
        return role
    role = role_from_lines(lines_after(text, doc.end[box]), entry.display)
    if role:
        return role
    for heading in text.headings_before(doc.order[box]):
        if looks_like_person_name(clean_name_text(heading)):
            continue  # the name heading of the entry before
        if classify_role(heading) != "unknown" and not contact_line(heading):
            return heading
        return None  # a section of another kind ("Publications", "Contact") ends the search
    return None


def profile_role(doc: Doc, text: PageText, name: str) -> str | None:
    """The role on a person's own page: in the lines right after their name ("Funktion" /
    "Wissenschaftlicher Mitarbeiter" under the h1)."""
    from spiders.roles import role_from_lines

    key = name_key(name)
    shown = next((n for n in text.names if n.key == key), None)
    if shown is None:
        return None
    return role_from_lines(lines_after(text, doc.end[shown.owner], most=PROFILE_LINES), name)
