"""Rendered text lines of a page and the person-name candidates among them.

A "line" is what a browser would show on one line: text between block boundaries and <br>s.
Each name candidate records how strongly the markup marks it as a name (its tier):

3  heading, figcaption, dt, caption or an element whose class/itemprop says "name"
2  a whole line in strong/b/a/th/label, or a line starting with an academic title
1  a plain whole line (or the name part of "Name, Role")
0  a name inside a longer line (an inline element), used only when nothing better exists
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .dom import BLOCK_TAGS, HEADING_TAGS, Doc, element_text, is_page_link, skipped_element, tag_of
from .names import (
    clean_name_text,
    is_title_only,
    looks_like_person_name,
    name_key,
    normalize_space,
    split_name_prefix,
)

__all__ = ["NameCand", "MoreLink", "PageText", "build_page_text", "names_in_text"]

_INLINE_NAME_TAGS = frozenset("a strong b span em i font u small big cite abbr label".split())
_EMPH_TAGS = frozenset("strong b th label font".split())
_SEMANTIC3 = frozenset({"figcaption", "dt", "caption", "legend", "summary"}) | HEADING_TAGS
_NAME_CLASS = re.compile(
    r"(?:^|[-_])(?:name|names|fullname|full-name|fn|personname|person-name|staff-name|member-name|"
    r"card-title|title|heading|headline|nachname|vorname)(?:$|[-_])"
)
_NOT_NAME_CLASS = re.compile(r"job|position|role|funktion|function|sub|page|site|section|news|org|"
                             r"department|institut|photo|image|img|bild|foto|file|mail|phone|room")
_HIDDEN_CLASS = frozenset({"sr-only", "visually-hidden", "screen-reader-text", "element-invisible", "visuallyhidden",
                           "a11y-hidden", "show-for-sr", "modal"})
_MORE_SET = frozenset(
    t.strip()
    for t in """mehr|more|details|detail|profil|profile|info|infos|homepage|webseite|website|vita|cv|
    zum profil|zur person|zur personenseite|personenseite|persönliche seite|persönliche homepage|
    mehr erfahren|mehr informationen|weitere informationen|more information|more info|read more|
    weiterlesen|view profile|see profile|full profile|visitenkarte|personal page|personal website|
    profil anzeigen|zum mitarbeiterprofil|mitarbeiterprofil|mehr zur person|detailansicht|
    zur detailseite|details anzeigen|show details|learn more|mehr über|more about|kontaktdaten|
    zur homepage|zur webseite|persönliche webseite|personal homepage""".split("|")
)
_NAME_LABEL = re.compile(r"^(?:name|vorname|nachname|full name|person)\s*:$", re.IGNORECASE)
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\bund\b|\band\b|/|\||•|·)\s*", re.IGNORECASE)


@dataclass
class NameCand:
    display: str
    key: str
    tier: int
    owner: object  # deepest element holding the whole name
    order: int  # document order of owner
    href: str | None = None  # page link the name is (inside)


@dataclass
class MoreLink:
    href: str
    element: object
    order: int


@dataclass
class PageText:
    names: list[NameCand]  # sorted by order
    orders: list[int]
    multi: list[tuple[int, object]]  # (order, owner) of lines listing several names (group captions)
    multi_orders: list[int]
    more_links: list[MoreLink]
    more_orders: list[int]
    lines: list[tuple[int, str, bool]] = None  # (order of owner, text, in a heading) of every short line
    line_orders: list[int] = None

    def names_in(self, doc: Doc, container) -> list[NameCand]:
        lo, hi = doc.order[container], doc.end[container]
        return self.names[bisect_left(self.orders, lo): bisect_right(self.orders, hi)]

    def multi_in(self, doc: Doc, container) -> int:
        lo, hi = doc.order[container], doc.end[container]
        return bisect_right(self.multi_orders, hi) - bisect_left(self.multi_orders, lo)

    def lines_in(self, doc: Doc, container) -> list[tuple[int, str, bool]]:
        lo, hi = doc.order[container], doc.end[container]
        return self.lines[bisect_left(self.line_orders, lo): bisect_right(self.line_orders, hi)]

    def headings_before(self, order: int, limit: int = 400):
        """Heading lines before document position `order`, nearest first (the section a person is in)."""
        start = bisect_left(self.line_orders, order)
        for i in range(start - 1, max(-1, start - 1 - limit), -1):
            if self.lines[i][2]:
                yield self.lines[i][1]

    def more_in(self, doc: Doc, container) -> list[MoreLink]:
        lo, hi = doc.order[container], doc.end[container]
        return self.more_links[bisect_left(self.more_orders, lo): bisect_right(self.more_orders, hi)]


def names_in_text(text: str) -> list[str]:
    """Person names in a list-like text ('Anna Schulz, Hans Meier und Eva Braun')."""
    s = normalize_space(text)
    s = re.sub(r"^(?:v\.\s?l\.\s?n\.\s?r\.?|von links(?: nach rechts)?|from left(?: to right)?)\s*:?\s*", "", s,
               flags=re.IGNORECASE)
    return [p for p in _NAME_SPLIT.split(s) if p and looks_like_person_name(p)]


def _is_hidden(el) -> bool:
    """Text meant for screen readers only, or a closed modal dialog (it repeats the visible entry).

    Collapsed accordions and inactive tabs (display:none, hidden) are real content and stay."""
    if (el.get("aria-hidden") or "").lower() == "true":
        return True
    cls = (el.get("class") or "").lower().split()
    return any(c in _HIDDEN_CLASS for c in cls)


def _name_class(el) -> bool:
    if (el.get("itemprop") or "").lower() in ("name", "givenname familyname", "familyname givenname"):
        return True
    for t in (el.get("class") or "").lower().split():
        if t in ("fn", "n", "name"):
            return True
        if t.startswith("field--name-") or t.startswith("field-name-"):
            rest = t.split("name-", 1)[1]
            if ("name" in rest or rest.endswith("title")) and "job" not in rest:
                return True
            continue
        if _NAME_CLASS.search(t) and not _NOT_NAME_CLASS.search(t):
            return True
    return False


def _lca(elements: list) -> object:
    first = elements[0]
    chain = []
    e = first
    while e is not None:
        chain.append(e)
        e = e.getparent()
    pos = {id(x): i for i, x in enumerate(chain)}
    best = 0
    for other in elements[1:]:
        e = other
        while e is not None and id(e) not in pos:
            e = e.getparent()
        if e is None:
            return chain[-1]
        best = max(best, pos[id(e)])
    return chain[best]


def _line_tier(owner, doc: Doc) -> tuple[int, str | None]:
    tier = 1
    href = None
    e = owner
    hops = 0
    while e is not None and hops < 6:
        tag = tag_of(e)
        if tag in _SEMANTIC3 or _name_class(e):
            tier = 3
        elif tag == "a" and e.get("href"):
            url = doc.resolve(e.get("href"))
            if is_page_link(url, doc.url):
                href = href or url
                tier = max(tier, 2)
        elif tag in _EMPH_TAGS and (tag != "font" or e.find(".//b") is not None):
            tier = max(tier, 2)
        if tag in BLOCK_TAGS:
            break
        e = e.getparent()
        hops += 1
    return tier, href


def _in_heading(el) -> bool:
    for _ in range(3):
        if el is None:
            return False
        if tag_of(el) in HEADING_TAGS:
            return True
        el = el.getparent()
    return False


def _is_more_piece(text: str, el) -> bool:
    """'Profil' / 'mehr' link text trailing a name on the same line."""
    return tag_of(el) == "a" and normalize_space(text).lower().strip(" .»›→>:…") in _MORE_SET


def build_page_text(doc: Doc) -> PageText:
    names: list[NameCand] = []
    multi: list[tuple[int, object]] = []
    more: list[MoreLink] = []
    lines: list[tuple[int, str, bool]] = []
    pieces: list[tuple[str, object]] = []
    pending_title: list[str] = []  # "Prof. Dr." on its own line, glued to the next line
    leading: set = set()
    visible: set = set()
    prev_line = [""]  # the previous line's text (a label like "Sekretariat:" demotes the next name)
    order = doc.order

    def flush() -> None:
        if not pieces:
            return
        kept = [(t, e) for t, e in pieces if not _is_more_piece(t, e)] or pieces[:]
        e = kept[0][1]
        while e is not None and tag_of(e) not in BLOCK_TAGS:
            leading.add(e)  # inline elements whose text starts this line
            e = e.getparent()
        text = normalize_space(" ".join(t for t, _ in kept))
        els = [e for _, e in kept]
        pieces.clear()
        if not text:
            return
        owner = _lca(els) if len(els) > 1 else els[0]
        if doc.chrome.get(owner):
            pending_title.clear()
            return
        if is_title_only(text):
            pending_title.append(text)
            return
        if pending_title:
            text = " ".join(pending_title + [text])
            pending_title.clear()
        labelled = prev_line[0].endswith(":") and not _NAME_LABEL.match(prev_line[0])
        prev_line[0] = text
        if len(text) <= 160:
            lines.append((order[owner], text, _in_heading(owner)))
        _add_line(text, owner, labelled)

    def _add_line(text: str, owner, labelled: bool = False) -> None:
        if len(text) > 160:
            return
        tier, href = _line_tier(owner, doc)
        if labelled and not _in_heading(owner):
            # "Sekretariat:" / "Vertretung:" on the line before: somebody else's contact (a heading
            # starts a section of its own: "Contact me:" on a hover overlay labels nothing after it)
            tier = 0
        cleaned = clean_name_text(text)
        if looks_like_person_name(cleaned):
            if re.match(r"(?i)^(?:prof\b|dr\b|pd\b|jun\.|apl\b|priv\b|univ\b|dipl\b)", cleaned):
                tier = max(tier, 2)
            names.append(NameCand(cleaned, name_key(cleaned), tier, owner, order[owner], href))
            return
        found = names_in_text(cleaned)
        if len(found) >= 2:
            multi.append((order[owner], owner))
            return
        prefix = split_name_prefix(cleaned)
        if prefix:
            names.append(NameCand(prefix, name_key(prefix), tier, owner, order[owner], href))

    def walk(el) -> None:
        tag = tag_of(el)
        if skipped_element(el) or _is_hidden(el):
            return
        visible.add(el)
        block = tag in BLOCK_TAGS
        if block or tag == "br":
            flush()
        if tag == "img":
            return
        if el.text and el.text.strip():
            pieces.append((el.text, el))
        for child in el:
            if isinstance(child.tag, str):
                walk(child)
                if tag_of(child) in BLOCK_TAGS:
                    flush()
            if child.tail and child.tail.strip():
                pieces.append((child.tail, el))
        if block:
            flush()
            pending_title.clear()

    body = doc.body()
    walk(body)
    flush()

    # names inside longer lines (inline elements), e.g. "<a class=card><span>Name</span> Role</a>"
    seen = {(id(n.owner), n.key) for n in names}
    for el in body.iter(*_INLINE_NAME_TAGS):
        if doc.chrome.get(el) or len(el) > 6 or el not in visible:
            continue
        raw_text = element_text(el)
        if tag_of(el) == "a" and el.get("href"):
            low = normalize_space(raw_text).lower().strip(" .»›→>:…")
            if low in _MORE_SET:
                url = doc.resolve(el.get("href"))
                if is_page_link(url, doc.url):
                    more.append(MoreLink(url, el, order[el]))
                continue
        text = clean_name_text(raw_text)
        if not text or len(text) > 80 or not looks_like_person_name(text):
            continue
        key = name_key(text)
        if (id(el), key) in seen:
            continue
        seen.add((id(el), key))
        href = None
        if tag_of(el) == "a":
            url = doc.resolve(el.get("href"))
            href = url if is_page_link(url, doc.url) else None
        tier = 3 if _name_class(el) else 1 if el in leading else 0
        names.append(NameCand(text, key, tier, el, order[el], href))

    # a heading that breaks a name over two lines ("<h2>Adriano<br>C. M. Pereira</h2>") names one
    # person; its parts alone read as a given name and a shorter name
    for el in body.iter(*HEADING_TAGS):
        if el not in visible or doc.chrome.get(el) or not any(tag_of(c) == "br" for c in el.iter()):
            continue
        text = clean_name_text(element_text(el))
        if not text or len(text) > 80 or not looks_like_person_name(text):
            continue
        key = name_key(text)
        if (id(el), key) not in seen:
            seen.add((id(el), key))
            inside = {id(x) for x in el.iter()}
            names[:] = [n for n in names if id(n.owner) not in inside]  # its parts are no names of their own
            names.append(NameCand(text, key, 3, el, order[el], None))

    names.sort(key=lambda n: n.order)
    multi.sort(key=lambda m: m[0])
    more.sort(key=lambda m: m.order)
    return PageText(
        names=names,
        orders=[n.order for n in names],
        multi=multi,
        multi_orders=[m[0] for m in multi],
        more_links=more,
        more_orders=[m.order for m in more],
        lines=sorted(lines, key=lambda line: line[0]),
        line_orders=sorted(line[0] for line in lines),
    )
