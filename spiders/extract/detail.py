"""The main person of a per-person detail page: name from the heading, portrait near it."""

from __future__ import annotations

from collections import Counter

from .dom import HEADING_TAGS, Doc, class_tokens, tag_of
from .generic import _filename_key, find_entries
from .images import collect_candidates
from .model import Person
from .names import name_from_alt, name_key
from .textlines import build_page_text

__all__ = ["extract_detail"]

_MAIN_XPATH = (
    "//main | //*[@role='main'] | //*[@id='content' or @id='main' or @id='main-content' or @id='maincontent' "
    "or @id='inhalt' or @id='page-content' or @id='primary' or @id='col3' or @id='content-main'] "
    "| //article"
)
_PORTRAIT_HINT = ("portrait", "portrait", "photo", "foto", "bild", "image", "avatar", "person", "profile", "profil",
                  "staff", "mitarbeiter", "team", "member", "vcard", "contact", "kontakt", "headshot", "picture")


def _main_region(doc: Doc):
    for el in doc.root.xpath(_MAIN_XPATH):
        if not doc.chrome.get(el):
            return el
    return doc.body()


def extract_detail(html: str, url: str, expected_name: str | None = None) -> Person | None:
    """The person a detail page is about, with their portrait; None when no portrait is found."""
    doc = Doc(html, url)
    text = build_page_text(doc)
    main = _main_region(doc)
    expected_key = name_key(expected_name) if expected_name else ""

    # -- name: the first heading in the main region that is a person's name
    heading = None
    for n in text.names_in(doc, main):
        if tag_of(n.owner) in HEADING_TAGS or _heading_ancestor(n.owner):
            heading = n
            break
    if heading is None:
        for n in text.names:
            if (tag_of(n.owner) in HEADING_TAGS or _heading_ancestor(n.owner)) and not doc.chrome.get(n.owner):
                heading = n
                break
    name = None
    key = ""
    if heading is not None and (not expected_key or heading.key == expected_key):
        name, key = heading.display, heading.key
    elif expected_key:
        # the listing's name counts only when the page shows it (as a name) somewhere
        match = next((n for n in text.names if n.key == expected_key), None)
        if match is not None:
            name, key = match.display, match.key
        elif heading is not None:
            name, key = heading.display, heading.key
    if not name:
        return None

    # -- portrait: a photo paired with this name, else the best unpaired photo in the main region
    cands = collect_candidates(doc)
    skipped: Counter = Counter()
    entries, _ = find_entries(doc, text, cands, skipped)
    paired_ids = {}
    for e in entries:
        if e.cand is not None:
            paired_ids[id(e.cand)] = e.key
    for e in entries:
        if e.cand is not None and e.key == key:
            return Person(name=name, photo_url=e.cand.url, detail_url=url)
    # an entry whose photo was rejected as a placeholder etc. means: no portrait for this person
    if any(e.key == key and e.cand is None for e in entries):
        return None
    pool = [c for c in cands if c.reason is None and id(c) not in paired_ids and doc.contains(main, c.element)
            and not _in_sidebar(c.element, main)]
    if not pool:
        return None
    anchor_order = doc.order[heading.owner] if heading is not None and heading.key == key else doc.order[main]

    def score(c) -> tuple:
        s = 0.0
        alt = name_from_alt(c.alt) or name_from_alt(c.title)
        if alt and name_key(alt) == key:
            s += 5
        elif alt:
            s -= 5  # the alt names somebody else
        if _filename_key(c.url, {key}):
            s += 3
        hint = " ".join(class_tokens(c.element) + _anc_tokens(c.element))
        if any(h in hint for h in _PORTRAIT_HINT):
            s += 2
        dist = abs(doc.order[c.element] - anchor_order)
        return (s, -dist)

    pool.sort(key=score, reverse=True)
    best = pool[0]
    if score(best)[0] < 0:
        return None
    return Person(name=name, photo_url=best.url, detail_url=url)


_SIDEBAR = ("sidebar", "aside", "portlet", "widget", "marginal", "teaser", "related", "randspalte", "col2",
            "column-two", "secondary", "complementary", "banner", "carousel", "slider")


def _in_sidebar(el, main) -> bool:
    e = el.getparent()
    while e is not None and e is not main:
        if tag_of(e) == "aside" or (e.get("role") or "") == "complementary":
            return True
        if any(any(s in t for s in _SIDEBAR) for t in class_tokens(e)):
            return True
        e = e.getparent()
    return False


def _heading_ancestor(el) -> bool:
    e = el.getparent()
    for _ in range(3):
        if e is None:
            return False
        if tag_of(e) in HEADING_TAGS:
            return True
        e = e.getparent()
    return False


def _anc_tokens(el) -> list[str]:
    out: list[str] = []
    e = el.getparent()
    for _ in range(3):
        if e is None:
            break
        out.extend(class_tokens(e))
        e = e.getparent()
    return out
