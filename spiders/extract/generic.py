"""Finding person entries (name + portrait, or name + detail link) on an unseen staff page.

Per photo slot: climb from the image to the largest ancestor that holds no other photo slot and
take the first level that contains name candidates; a unique name of the best tier wins, ties are
broken by the image's alt text or file name, otherwise the slot is skipped (precision first).
Photos whose entry has no name at all are paired by layout: alternating photo/name sequences
(flat lists, definition lists) and photo rows above name rows (old tables), checked column by column.
Names that link to a person page become entries to follow when no photo is known for them.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter

from .cjk import keys_disagree
from .dom import Doc, element_text, is_page_link, tag_of
from .images import ImageCandidate
from .entries import (
    FAR_TEXT,
    Entry,
    drop_dated,
    drop_groups_without_people,
    drop_news_context,
    drop_unsupported_singletons,
    filename_key,
    has_contact,
    links_to_news,
    pairing_evidence,
    reject_shared_and_bad,
    signature,
)
from .imageurls import basename_tokens, file_name
from .layout import sequence_pairs, trailing_line_name
from .lexicon import is_known_first_name
from .model import Skips
from .names import clean_name_text, could_be_name_in_slot, name_from_alt, name_key, normalize_space, strip_titles
from .textlines import NameCand, PageText, names_in_text

__all__ = ["Entry", "find_entries", "decide_name", "detail_link_in"]

_MAX_SCOPE_CLIMB = 3


def decide_name(cands: list[NameCand], photo: ImageCandidate | None,
                repeats: Counter | None = None) -> tuple[NameCand | None, str]:
    """Pick the entry's name among *cands*: unique key of the best tier, else alt/file-name tie-break."""
    if not cands:
        return None, "no_name"
    top = max(c.tier for c in cands)
    best = [c for c in cands if c.tier == top]
    keys = {c.key for c in best}
    if len(keys) == 1:
        return best[0], "ok"
    if photo is not None:
        all_keys = {c.key for c in cands}
        for attr in (photo.alt, photo.title):
            alt = name_from_alt(attr)
            if alt:
                ak = name_key(alt)
                hit = [c for c in cands if c.key == ak]
                if hit:
                    return max(hit, key=lambda c: c.tier), "ok"
        fk = filename_key(photo.url, keys) or filename_key(photo.url, all_keys)
        if fk:
            return max((c for c in cands if c.key == fk), key=lambda c: c.tier), "ok"
    # the most prominent heading of the entry is its name ("<h4>Sudhakar M</h4>" above
    # "<h5>Prof. Kamakoti V</h5>", the advisor)
    levels = {c.key: _heading_rank(c.owner) for c in best}
    top_rank = min(levels.values())
    if top_rank < 7 and sum(1 for r in levels.values() if r == top_rank) == 1:
        k = next(k for k, r in levels.items() if r == top_rank)
        return next(c for c in best if c.key == k), "ok"
    # a line repeated across many entries is their unit or advisor, not this entry's own name
    if repeats is not None:
        own = {c.key for c in best if repeats[c.key] < 3}
        if len(own) == 1:
            k = own.pop()
            return next(c for c in best if c.key == k), "ok"
    # exactly one of the tied candidates carries a title or a known given name
    strong = {c.key for c in best if _strong_name(c.display, c.key)}
    if len(strong) == 1:
        k = strong.pop()
        return next(c for c in best if c.key == k), "ok"
    return None, "ambiguous"


def _in_name_list(doc: Doc, text: PageText, level, cand: NameCand) -> bool:
    """Whether *cand* is one name of a line listing several ("A. Author, B. Author, C. Author")."""
    lo, hi = doc.order[level], doc.end[level]
    i = bisect_left(text.multi_orders, lo)
    while i < len(text.multi) and text.multi[i][0] <= hi:
        owner = text.multi[i][1]
        if doc.contains(owner, cand.owner) and len(names_in_text(element_text(owner))) >= 3:
            return True
        i += 1
    return False


_TITLE_CLASS = re.compile(r"^(?:title|name|heading|header|card-title|entry-title|person-name|member-name)$")


def _heading_rank(el) -> int:
    """1..6 for a name inside <h1>..<h6> (up to three levels up), 6 for an element whose own class
    calls it the title or name (<div class="title">), 7 otherwise."""
    own = el
    for _ in range(4):
        if el is None:
            break
        t = tag_of(el)
        if len(t) == 2 and t[0] == "h" and t[1] in "123456":
            return int(t[1])
        el = el.getparent()
    if own is not None and any(_TITLE_CLASS.match(c) for c in (own.get("class") or "").lower().split()):
        return 6
    return 7


def _strong_name(display: str, key: str) -> bool:
    if strip_titles(display) != clean_name_text(display).strip(" ,"):
        return True
    toks = key.split()
    return bool(toks) and is_known_first_name(toks[0])


def detail_link_in(doc: Doc, text: PageText, container, key: str, photo_el=None, name: NameCand | None = None):
    """The person's own page linked from the entry: the name link, a link around the photo, a 'more' link."""
    if name is not None and name.href:
        return name.href
    if photo_el is not None:
        e = photo_el
        stop = container.getparent()
        while e is not None and e is not stop:
            if tag_of(e) == "a":
                url = doc.resolve(e.get("href"))
                if is_page_link(url, doc.url):
                    return url
            e = e.getparent()
    for n in text.names_in(doc, container):
        if n.key == key and n.href:
            return n.href
    more = {m.href for m in text.more_in(doc, container)}
    if len(more) == 1:
        return more.pop()
    return None


def _max_container(anchor, slot_count: dict):
    levels = [anchor]
    node = anchor
    while True:
        parent = node.getparent()
        if parent is None or slot_count.get(parent, 0) > 1 or tag_of(parent) in ("html",):
            break
        node = parent
        levels.append(node)
        if tag_of(node) == "body":
            break
    return levels


# --------------------------------------------------------------------------- main
def find_entries(doc: Doc, text: PageText, cands: list[ImageCandidate], skipped: Skips) -> tuple[list[Entry], list[Entry]]:
    """(photo entries, name-only entries with a detail link) of a page; fills *skipped*."""
    slots = [c for c in cands if c.is_slot]
    for c in cands:
        if not c.is_slot:
            skipped.note(c.reason or "tiny", c.url)
    # pictures per element, by URL: a card showing one picture twice (light and dark theme
    # copies) is still one person's card
    pictures: dict = {}
    for s in slots:
        e = s.element
        while e is not None:
            pictures.setdefault(e, set()).add(s.url)
            e = e.getparent()
    slot_count = {e: len(urls) for e, urls in pictures.items()}

    entries: list[Entry] = []
    pending: list[tuple[ImageCandidate, list]] = []
    used_containers: list = []
    repeats = Counter(n.key for n in text.names)  # lines repeated in many entries ("LG Lebenslanges Lernen")
    for s in slots:
        levels = _max_container(s.element, slot_count)
        chosen = None
        status = "no_name"
        for level in levels:
            cs = text.names_in(doc, level)
            if not cs:
                if text.multi_in(doc, level):
                    status = "group_photo"
                    break
                continue
            chosen, status = decide_name(cs, s, repeats)
            if status == "ambiguous" and level is not levels[-1]:
                continue  # names in a bio compete; the entry's wider box may hold its title
            far = len(element_text(level)) > FAR_TEXT
            if chosen is not None and _in_name_list(doc, text, level, chosen):
                # one name of an author or participant list: a paper's or an event's picture
                chosen, status = None, "name_list"
                break
            if chosen is not None and far:
                # a name found only in a large region loses against an alt text naming someone else
                named = name_from_alt(s.alt) or name_from_alt(s.title)
                if named and name_key(named) != chosen.key:
                    chosen, status = None, "no_name"
            ev = chosen is not None and pairing_evidence(doc, chosen.display, chosen.key, s, chosen, strong_only=far)
            if chosen is not None and far and not ev and level is not levels[-1]:
                continue  # a lone name in a long bio ("EMI Music Italy"): the wider box may hold the title
            if chosen is not None:
                url = detail_link_in(doc, text, level, chosen.key, s.element, chosen)
                entries.append(Entry(chosen.display, chosen.key, s, level, doc.order[s.element], url, levels[-1], ev,
                                     far, has_contact(chosen.owner)))
                used_containers.append(level)
            break
        if chosen is not None:
            continue
        if status in ("group_photo", "ambiguous", "name_list"):
            skipped.note(status, s.url)
            used_containers.append(levels[-1])
            continue
        words = frozenset(basename_tokens(s.url)[0])
        alt = name_from_alt(s.alt, words) or name_from_alt(s.title, words) or _cjk_file_name(s, levels[-1])
        pending.append((s, levels, alt))

    pending = _fill_by_structure(doc, text, entries, pending, used_containers)

    # photos without a name of their own: pair by layout, then fall back to the alt text
    by_scope: dict = {}
    for s, levels, alt in pending:
        scope = levels[-1].getparent()
        hops = 0
        while scope is not None and hops < _MAX_SCOPE_CLIMB and not text.names_in(doc, scope):
            scope = scope.getparent()
            hops += 1
        if scope is None:
            continue
        by_scope.setdefault(scope, []).append((s, levels, alt))
    paired: dict = {}
    for scope, items in by_scope.items():
        free = [n for n in text.names_in(doc, scope) if not any(doc.contains(c, n.owner) for c in used_containers)]
        alts = {id(s): alt for s, _, alt in items}
        alt_keys = {k: name_key(v) for k, v in alts.items() if v}
        pairs = sequence_pairs(doc, scope, [s for s, _, _ in items], free, alt_keys)
        if any(alts[id(s)] and keys_disagree(name_key(alts[id(s)]), n.key) for s, n in pairs):
            pairs = []  # the layout pairing contradicts the alt texts: trust neither
        for s, n in pairs:
            paired[id(s)] = n
    for s, levels, alt in pending:
        n = paired.get(id(s))
        inline = trailing_line_name(s.element) if n is None else None
        if inline:
            # "<img> Zhuyi Xue, computational biologist<br><img> ...": one text block whose lines each
            # start with a photo; the line that begins right after the photo is its caption
            key = name_key(inline)
            url = detail_link_in(doc, text, levels[-1], key, s.element, None)
            entries.append(Entry(inline, key, s, levels[-1], doc.order[s.element], url, levels[-1], True))
        elif n is not None:
            url = detail_link_in(doc, text, levels[-1], n.key, s.element, n)
            entries.append(Entry(n.display, n.key, s, levels[-1], doc.order[s.element], url, levels[-1], True,
                                 contact=has_contact(n.owner)))
        elif alt:
            key = name_key(alt)
            url = detail_link_in(doc, text, levels[-1], key, s.element, None)
            ev = pairing_evidence(doc, alt, key, s, None)
            entries.append(Entry(alt, key, s, levels[-1], doc.order[s.element], url, levels[-1], ev))
        else:
            skipped.note("no_name", s.url)

    entries.sort(key=lambda e: e.order)
    entries = drop_dated(doc, entries, skipped)
    entries = drop_news_context(entries, skipped)
    entries = drop_unsupported_singletons(entries, skipped)
    entries = drop_groups_without_people(entries, skipped)
    entries = reject_shared_and_bad(entries, skipped)
    name_only = _name_only_entries(doc, text, entries, used_containers)
    return entries, name_only


_CJK_STEM = re.compile(r"[\u4e00-\u9fff\uac00-\ud7a3]{2,4}")


_CJK = "\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3"
_JA_PHOTO_OF = re.compile(rf"^([{_CJK}]{{1,4}}?)(?:先生|教授|准教授|助教|さん|氏)?の(?:写真|顔写真|画像)$")


def _cjk_file_name(photo: ImageCandidate, box) -> str | None:
    """The name of a picture tied to its person in CJK script, when that name is written next to it
    (CJK names pass no name test on their own): the file is named after the person
    ("/members/王韵.jpg"), or the alt says whose photo it is ("野中先生の写真", Prof. Nonaka's photo)
    and a cell nearby holds that family name and a given name ("野中 千穂")."""
    stem = (file_name(photo.url) or "").rsplit(".", 1)[0]
    family = _JA_PHOTO_OF.match(normalize_space(photo.alt or ""))
    if _CJK_STEM.fullmatch(stem):
        wanted = re.compile(rf"(?<![{_CJK}]){stem}(?![{_CJK}])")
    elif family:
        wanted = re.compile(rf"^{family.group(1)}[ \u3000][{_CJK}]{{1,4}}$")
    else:
        return None
    scope = box.getparent() if box.getparent() is not None else box
    for _ in range(2):
        if family is None and wanted.search(element_text(scope)):
            return stem
        if family is not None:
            for el in scope.iter("td", "th", "a", "span", "p", "div", "b", "strong", "dd", "li"):
                line = normalize_space(element_text(el))
                if wanted.match(line):
                    return line
        if scope.getparent() is None:
            break
        scope = scope.getparent()
    return None


def _path_below(container, el) -> tuple[str, ...] | None:
    """Tags from *container* (exclusive) down to *el*, or None when *el* is not below it."""
    tags = []
    while el is not None and el is not container:
        tags.append(tag_of(el))
        el = el.getparent()
    return tuple(reversed(tags)) if el is container else None


def _fill_by_structure(doc: Doc, text: PageText, entries: list[Entry], pending: list, used: list) -> list:
    """Name photos that found none from the element their siblings' names sit in.

    In a grid of entries built alike (same container tag and class), the name is where the
    other entries have theirs: "Prof. Dr. Faeskorn-Woyke" or "Franz-L. Jaspers" read less like
    a name than "Martin Eisemann", but they fill the same slot of the same template. Needs at
    least two entries of the template named by the text rules, all agreeing on the name's place."""
    if not pending or len(entries) < 2:
        return pending
    paths: dict[tuple, Counter] = {}
    for e in entries:
        if e.far or e.container is None:
            continue
        owner = next((n.owner for n in text.names_in(doc, e.container) if n.key == e.key), None)
        path = _path_below(e.container, owner) if owner is not None else None
        if path:
            paths.setdefault(signature(e.container), Counter())[path] += 1
    rest = []
    for s, levels, alt in pending:
        found = None
        for level in levels:
            votes = paths.get(signature(level))
            if not votes or tag_of(level) in ("body", "html"):
                continue
            (path, n), = votes.most_common(1)
            if n < 2 or n != sum(votes.values()):
                continue
            el = next(iter(level.xpath("./" + "/".join(path))), None)
            raw = normalize_space(element_text(el)) if el is not None else ""
            name = re.sub(r"\s*\([^)]*\)\s*$", "", clean_name_text(raw)).strip(" ,")
            if name and could_be_name_in_slot(name):
                found = (level, name)
            break
        if found is None:
            rest.append((s, levels, alt))
            continue
        level, name = found
        key = name_key(name)
        if not key or any(e.key == key for e in entries):
            rest.append((s, levels, alt))
            continue
        url = detail_link_in(doc, text, level, key, s.element, None)
        entries.append(Entry(name, key, s, level, doc.order[s.element], url, levels[-1], True))
        used.append(level)
    return rest


def _name_only_entries(doc: Doc, text: PageText, entries: list[Entry], used: list) -> list[Entry]:
    known = {e.key for e in entries}
    out: list[Entry] = []
    for n in text.names:
        if not n.href or n.tier < 1 or n.key in known or doc.news.get(n.owner) or links_to_news(n.href):
            continue
        known.add(n.key)
        out.append(Entry(n.display, n.key, None, n.owner, n.order, n.href))
    # "Profil"/"mehr" links next to a plain name
    for m in text.more_links:
        if doc.news.get(m.element) or any(doc.contains(c, m.element) for c in used):
            continue
        e = m.element.getparent()
        for _ in range(4):
            if e is None or tag_of(e) in ("body", "html"):
                break
            names = [n for n in text.names_in(doc, e) if n.tier >= 1]
            links = {x.href for x in text.more_in(doc, e)}
            if len(links) > 1:
                break
            keys = {n.key for n in names}
            if len(keys) == 1:
                n = names[0]
                if n.key not in known:
                    known.add(n.key)
                    out.append(Entry(n.display, n.key, None, e, n.order, m.href))
                break
            if len(keys) > 1:
                break
            e = e.getparent()
    out.sort(key=lambda x: x.order)
    return out
