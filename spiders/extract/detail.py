"""The main person of a per-person detail page: name from the heading, portrait near it."""

from __future__ import annotations

import re
from dataclasses import replace

from .dom import HEADING_TAGS, Doc, class_tokens, element_text, tag_of
from .entries import filename_key
from .generic import find_entries
from .images import collect_candidates
from .model import Person, Skips
from .names import clean_name_text, looks_like_person_name, name_from_alt, name_key, normalize_space
from .structured import structured_people
from .textlines import PageText, build_page_text

__all__ = ["extract_detail", "page_person"]

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
    person = page_person(doc, text, structured_people(doc, html), expected_name)
    return with_profile_role(doc, text, person)


def with_profile_role(doc: Doc, text: PageText, person: Person | None) -> Person | None:
    from .roles import profile_role  # not at the top: roles imports this package's text lines

    if person is None or person.role:
        return person
    return replace(person, role=profile_role(doc, text, person.name))


def page_person(doc: Doc, text: PageText, declared: list[tuple[str, str]], expected_name: str | None = None,
                cands: list | None = None, entries: list | None = None) -> Person | None:
    """extract_detail on a page already parsed: *declared* are its schema.org (name, image) pairs;
    *cands* and *entries* may come from an extraction of the same page (they are found again if not)."""
    url = doc.url
    main = _main_region(doc)
    if not expected_name:  # a profile's <title> or og:title names its person more surely than headings do
        expected_name = _name_from_title(doc)
    expected_key = name_key(expected_name) if expected_name else ""

    # -- name: the most prominent heading (h1 before h2 ...) that is a person's name
    heading = _best_heading([n for n in text.names_in(doc, main)])
    if heading is None:
        heading = _best_heading([n for n in text.names if not doc.chrome.get(n.owner)])
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
        title = _name_from_title(doc)
        if title and (not expected_key or name_key(title) == expected_key):
            name, key = title, name_key(title)
    if not name:
        return None

    # -- portrait: the one the page declares (schema.org Person), a photo paired with this name, else
    # the best unpaired photo in the main region
    for declared_name, declared_url in declared:
        if name_key(declared_name) == key:
            return Person(name=name, photo_url=declared_url, detail_url=url)
    if cands is None or entries is None:
        cands = collect_candidates(doc)
        entries, _ = find_entries(doc, text, cands, Skips())
    paired_ids = {}
    for e in entries:
        if e.cand is not None:
            paired_ids[id(e.cand)] = e.key
    name_el = heading.owner if heading is not None and heading.key == key else None
    if name_el is None:  # named by the title or the listing: where the page itself shows the name
        shown = max((n for n in text.names if n.key == key and not doc.chrome.get(n.owner)),
                    key=lambda n: n.tier, default=None)
        if shown is not None:
            name_el = shown.owner
            if not doc.contains(main, name_el):
                main = doc.body()  # the "main" region found was a teaser elsewhere on the page
    for e in entries:
        if e.cand is not None and e.key == key:
            if _landscape(e.cand) and not _named(e.cand, key):
                return None  # a wide picture (talk, lab, poster) with nothing tying it to the person
            if not _belongs(doc, main, e.cand, name_el if name_el is not None else e.container, key):
                break  # a sidebar/teaser picture that merely sits on the same page
            return Person(name=name, photo_url=e.cand.url, detail_url=url)
    # an entry whose photo was rejected as a placeholder etc. means: no portrait for this person
    if any(e.key == key and e.cand is None for e in entries):
        return None
    pool = [c for c in cands if c.reason is None and id(c) not in paired_ids
            and _belongs(doc, main, c, name_el if name_el is not None else main, key)]
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
        if filename_key(c.url, {key}):
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
    if _landscape(best) and not _named(best, key):
        return None  # a wide picture (talk, lab, poster) with nothing tying it to the person
    return Person(name=name, photo_url=best.url, detail_url=url)


_SIDEBAR = ("sidebar", "aside", "portlet", "widget", "marginal", "teaser", "related", "randspalte", "col2",
            "column-two", "secondary", "complementary", "banner", "carousel", "slider", "rechts", "right", "news",
            "aktuell", "event", "box-", "infobox", "publication", "publikation", "book", "buch", "cover")


def _in_sidebar(el, stop) -> bool:
    """Inside an aside/teaser/widget region below *stop* (a portrait container does not count)."""
    e = el.getparent()
    while e is not None and e is not stop:
        toks = class_tokens(e)
        if any(any(h in t for h in _PORTRAIT_HINT) for t in toks):
            return False
        if tag_of(e) == "aside" or (e.get("role") or "") == "complementary":
            return True
        if any(any(s in t for s in _SIDEBAR) for t in toks):
            return True
        e = e.getparent()
    return False


def _belongs(doc: Doc, main, cand, name_el, key: str) -> bool:
    """The picture is part of the person's own content: inside the main region (when the page has
    one) and not in a sidebar/teaser box there, or close to the name; an alt text naming the person
    always counts."""
    if _named(cand, key):
        return True
    el = cand.element
    if tag_of(main) not in ("body", "html"):
        return doc.contains(main, el) and not _in_sidebar(el, main)
    lca = _common_ancestor(el, name_el)
    if lca is None or tag_of(lca) in ("body", "html"):
        return False
    return len(element_text(lca)) <= 2500 and not _in_sidebar(el, lca)


def _common_ancestor(a, b):
    chain = set()
    e = a
    while e is not None:
        chain.add(e)
        e = e.getparent()
    e = b
    while e is not None and e not in chain:
        e = e.getparent()
    return e


def _named(cand, key: str) -> bool:
    alt = name_from_alt(cand.alt) or name_from_alt(cand.title)
    return bool(alt and name_key(alt) == key)


def _landscape(cand) -> bool:
    el = cand.element
    if tag_of(el) == "picture":
        el = el.find(".//img") if el.find(".//img") is not None else el
    try:
        w = int((el.get("width") or "0").strip().rstrip("px") or 0)
        h = int((el.get("height") or "0").strip().rstrip("px") or 0)
    except ValueError:
        return False
    return w > 0 and h > 0 and w / h >= 1.3


def _heading_level(el) -> int:
    """1..6 for a name inside <h1>..<h6> (up to three levels up), 0 otherwise."""
    e = el
    for _ in range(4):
        if e is None:
            return 0
        t = tag_of(e)
        if t in HEADING_TAGS:
            return int(t[1])
        e = e.getparent()
    return 0


def _best_heading(names: list):
    best, best_level = None, 7
    for n in names:
        level = _heading_level(n.owner)
        if level and level < best_level:
            best, best_level = n, level
    return best


def _name_from_title(doc: Doc) -> str | None:
    """'Prof. Dr. Anna Schulz – Institut für X' in <title> or og:title."""
    texts = [t.text or "" for t in doc.root.iter("title")]
    texts += [m.get("content") or "" for m in doc.root.iter("meta") if (m.get("property") or "") == "og:title"]
    for t in texts:
        for part in re.split(r"\s+[|–—:-]\s+|\s*\|\s*", normalize_space(t)):
            if looks_like_person_name(part):
                return clean_name_text(part)
    return None


def _anc_tokens(el) -> list[str]:
    out: list[str] = []
    e = el.getparent()
    for _ in range(3):
        if e is None:
            break
        out.extend(class_tokens(e))
        e = e.getparent()
    return out
