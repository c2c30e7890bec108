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
import unicodedata
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .dom import Doc, class_tokens, element_text, is_page_link, tag_of
from .images import ImageCandidate
from .imageurls import basename_tokens, content_fingerprint
from .layout import sequence_pairs
from .lexicon import is_known_first_name
from .model import Skips
from .names import clean_name_text, could_be_name_in_slot, is_cjk_name, name_from_alt, name_key, normalize_space, strip_titles
from .textlines import NameCand, PageText, names_in_text

__all__ = ["Entry", "find_entries", "decide_name", "detail_link_in"]

_MAX_SCOPE_CLIMB = 3
_FAR_TEXT = 1200  # characters: a region this large is a page section, not one person's entry
_PARTICLES = {"von", "van", "der", "den", "de", "zu", "vom", "zur", "di", "da", "del", "la", "le", "du"}


@dataclass
class Entry:
    display: str
    key: str
    cand: ImageCandidate | None
    container: object
    order: int
    detail_url: str | None = None
    outer: object = None  # the largest ancestor of the photo holding no other photo
    evidence: bool = False  # independent support for the pairing (layout, title, alt, file name, ...)
    far: bool = False  # the name was only found in a large region around the photo
    contact: bool = False  # an e-mail address next to the name: a person's entry, not a project's


# --------------------------------------------------------------------------- helpers
def _ascii_fold(s: str) -> str:
    s = s.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def _filename_key(url: str | None, keys: set[str]) -> str | None:
    """The one key whose surname appears in the image file name, if exactly one does."""
    if not url or url.startswith("data:"):
        return None
    try:
        base = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    except ValueError:
        return None
    folded = _ascii_fold(base)
    toks = set(re.split(r"[^a-z0-9]+", folded))
    hits = []
    for key in keys:
        parts = [p for p in re.split(r"[\s\-']+", _ascii_fold(key)) if p and p not in _PARTICLES]
        if not parts:
            continue
        last, first = parts[-1], parts[0]
        if last in toks or (len(last) >= 5 and last in folded) or (len(first) >= 4 and first in toks):
            hits.append(key)  # "richardson.jpg", "Anthony.jpg"
    return hits[0] if len(hits) == 1 else None


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
        fk = _filename_key(photo.url, keys) or _filename_key(photo.url, all_keys)
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


def _heading_rank(el) -> int:
    """1..6 for a name inside <h1>..<h6> (up to three levels up), 7 otherwise."""
    for _ in range(4):
        if el is None:
            break
        t = tag_of(el)
        if len(t) == 2 and t[0] == "h" and t[1] in "123456":
            return int(t[1])
        el = el.getparent()
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
            far = len(element_text(level)) > _FAR_TEXT
            if chosen is not None and _in_name_list(doc, text, level, chosen):
                # one name of an author or participant list: a paper's or an event's picture
                chosen, status = None, "name_list"
                break
            if chosen is not None and far:
                # a name found only in a large region loses against an alt text naming someone else
                named = name_from_alt(s.alt) or name_from_alt(s.title)
                if named and name_key(named) != chosen.key:
                    chosen, status = None, "no_name"
            if chosen is not None:
                url = detail_link_in(doc, text, level, chosen.key, s.element, chosen)
                ev = _evidence(doc, chosen.display, chosen.key, s, chosen, strong_only=far)
                entries.append(Entry(chosen.display, chosen.key, s, level, doc.order[s.element], url, levels[-1], ev,
                                     far, _has_contact(chosen.owner)))
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
        if any(alts[id(s)] and name_key(alts[id(s)]) != n.key for s, n in pairs):
            pairs = []  # the layout pairing contradicts the alt texts: trust neither
        for s, n in pairs:
            paired[id(s)] = n
    for s, levels, alt in pending:
        n = paired.get(id(s))
        if n is not None:
            url = detail_link_in(doc, text, levels[-1], n.key, s.element, n)
            entries.append(Entry(n.display, n.key, s, levels[-1], doc.order[s.element], url, levels[-1], True,
                                 contact=_has_contact(n.owner)))
        elif alt:
            key = name_key(alt)
            url = detail_link_in(doc, text, levels[-1], key, s.element, None)
            ev = _evidence(doc, alt, key, s, None)
            entries.append(Entry(alt, key, s, levels[-1], doc.order[s.element], url, levels[-1], ev))
        else:
            skipped.note("no_name", s.url)

    entries.sort(key=lambda e: e.order)
    entries = _drop_dated(doc, entries, skipped)
    entries = _drop_news_context(entries, skipped)
    entries = _drop_unsupported_singletons(entries, skipped)
    entries = _drop_groups_without_people(entries, skipped)
    entries = _reject_shared_and_bad(entries, skipped)
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
    stem = unquote(urlsplit(photo.url).path.rsplit("/", 1)[-1]).rsplit(".", 1)[0]
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
            paths.setdefault(_signature(e.container), Counter())[path] += 1
    rest = []
    for s, levels, alt in pending:
        found = None
        for level in levels:
            votes = paths.get(_signature(level))
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


_DATE = re.compile(
    r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|"
    r"\b\d{1,2}\.\s(?:januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember)\s(?:19|20)\d{2}\b|"
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\s\d{1,2},\s(?:19|20)\d{2}\b",
    re.IGNORECASE,
)


def _drop_dated(doc: Doc, entries: list[Entry], skipped: Skips) -> list[Entry]:
    """A dated teaser (news, event) is not a staff entry, even without a 'news' class."""
    out = []
    for e in entries:
        box = e.container
        if box is not None and tag_of(box) not in ("body", "html") and (
            box.find(".//time") is not None or _DATE.search(element_text(box)[:2000])
        ):
            skipped.note("news", e.cand.url if e.cand else None)
            continue
        out.append(e)
    return out


_CARD_TEXT = 300  # characters: a person's card; a teaser with a headline and a paragraph is longer


def _drop_news_context(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """Photos in a region whose class names say news/events/teasers: kept only as a grid of people.

    A class name is weak evidence (a faculty grid styled as 'teaser' cards, an 'index_veranstaltung'
    box per person); what a news list cannot fake is several short undated cards that each hold
    just a person's name, in the same structure."""
    flagged = [e for e in entries if e.cand is not None and e.cand.context == "news"]
    if not flagged:
        return entries
    cards = [e for e in flagged if not e.far and len(element_text(e.container)) <= _CARD_TEXT]
    counts = Counter(_signature(e.container) for e in cards)
    grid = {id(e) for e in cards if counts[_signature(e.container)] >= 3}
    out = []
    for e in entries:
        if e in flagged and id(e) not in grid:
            skipped.note("news", e.cand.url)
            continue
        out.append(e)
    return out


def _signature(el) -> tuple[str, str]:
    cls = [t for t in (el.get("class") or "").lower().split() if not any(ch.isdigit() for ch in t)]
    return tag_of(el), cls[0] if cls else ""


_PERSON_HINTS = ("person", "people", "staff", "member", "mitarbeiter", "employee", "profile", "profil", "vcard",
                 "portrait", "portrat", "team-", "faculty", "kontaktperson", "contact-person", "ansprechp")


def _evidence(doc: Doc, display: str, key: str, photo: ImageCandidate, name: NameCand | None,
              strong_only: bool = False) -> bool:
    """Support for a photo/name pair beyond proximity: a title, a known given name, alt/file name, link.

    With *strong_only* only what ties this very photo to this very name counts (alt text, file name,
    the same link around photo and name)."""
    if not strong_only:
        if strip_titles(display) != clean_name_text(display).strip(" ,"):
            return True
        toks = key.split()
        if toks and is_known_first_name(toks[0]):
            return True
    for attr in (photo.alt, photo.title):
        alt = name_from_alt(attr)
        if alt and name_key(alt) == key:
            return True
    if _filename_key(photo.url, {key}):
        return True
    e = photo.element
    for _ in range(0 if strong_only else 6):  # a container that calls itself a person/staff/team entry
        if e is None or tag_of(e) in ("body", "main"):
            break
        if any(p in t for t in class_tokens(e) for p in _PERSON_HINTS):
            return True
        e = e.getparent()
    if name is not None and name.href:
        e = photo.element
        for _ in range(4):
            if e is None:
                break
            if tag_of(e) == "a" and doc.resolve(e.get("href")) == name.href:
                return True
            e = e.getparent()
    return False


def _drop_unsupported_singletons(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """An isolated pair (no structurally similar sibling entry) needs independent evidence."""
    counts: Counter = Counter()
    for e in entries:
        for sig in {("o",) + _signature(e.outer), ("c",) + _signature(e.container)}:
            counts[sig] += 1
    out = []
    for e in entries:
        repeated = counts[("o",) + _signature(e.outer)] >= 2 or counts[("c",) + _signature(e.container)] >= 2
        # in a large region, a repeated entry still needs a tie: evidence, or a photo whose own
        # class calls it a person's picture ("img-faculty")
        if (repeated and (not e.far or _person_photo(e))) or e.evidence:
            out.append(e)
        else:
            skipped.note("low_confidence", e.cand.url if e.cand else None)
    return out


def _personlike(display: str, key: str) -> bool:
    """The name itself says person: an academic title, or a common given name among its words."""
    if strip_titles(display) != clean_name_text(display).strip(" ,") or is_cjk_name(key):
        return True
    return any(is_known_first_name(t) for t in key.split())


def _person_photo(e: Entry) -> bool:
    return e.cand is not None and any(p in t for t in class_tokens(e.cand.element) for p in _PERSON_HINTS)


def _person_container(e: Entry) -> bool:
    """The entry's own box calls itself a person/member/staff card (class names, up to 3 levels)."""
    el = e.container
    for _ in range(3):
        if el is None or tag_of(el) in ("body", "main", "html"):
            break
        if any(p in t for t in class_tokens(el) for p in _PERSON_HINTS):
            return True
        el = el.getparent()
    return False


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[at\]|\(at\)")


_PERSON_ALT = re.compile(r"\b(?:portrait|headshot|porträt|portraitfoto|passfoto)\b|(?:先生|教授|さん|氏)の(?:写真|顔写真)",
                         re.IGNORECASE)


def _alt_says_person(e: Entry) -> bool:
    """The picture's own alt calls it a portrait ("Porträt", "野中先生の写真": Prof. Nonaka's photo)."""
    return e.cand is not None and bool(_PERSON_ALT.search(e.cand.alt or ""))


def _has_contact(name_owner, levels: int = 2) -> bool:
    """An e-mail address (or mailto link) in the block around a name line."""
    block = name_owner
    for _ in range(levels):
        if block.getparent() is None or tag_of(block.getparent()) in ("body", "main"):
            break
        block = block.getparent()
    if len(element_text(block)) > _FAR_TEXT:
        return False
    return bool(_EMAIL.search(element_text(block))) or any(
        (a.get("href") or "").lower().startswith("mailto:") for a in block.iter("a"))


def _drop_groups_without_people(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """A grid of pictures with two-word captions is not a staff list unless some caption is a
    person's name by its own content (a title, a given name) or comes with an e-mail address:
    project, course and event grids ("Venice Unfolding", "Brandenburg Police") read like names too. Alt texts and file names
    tie a picture to its caption, not the caption to a person, so they do not count here."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in entries:
        groups.setdefault(_signature(e.container), []).append(e)
    drop = set()
    for group in groups.values():
        if len(group) >= 2 and not any(_personlike(e.display, e.key) or _person_container(e) or e.contact
                                       or _alt_says_person(e) for e in group):
            drop |= {id(e) for e in group}
    out = []
    for e in entries:
        if id(e) in drop:
            skipped.note("not_people", e.cand.url if e.cand else None)
        else:
            out.append(e)
    return out


def _picture_ids(url: str) -> list[str]:
    """What identifies the picture behind a URL: the URL, and a content hash in its file name."""
    fingerprint = content_fingerprint(url)
    return [url.split("#")[0]] + ([f"fingerprint:{fingerprint}"] if fingerprint else [])


def _reject_shared_and_bad(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """Drop decoy photos, and pictures shown for several people (placeholders); one entry per person."""
    keys_by_picture: dict[str, set[str]] = {}
    for e in entries:
        if e.cand is not None and e.cand.url:
            for pid in _picture_ids(e.cand.url):
                keys_by_picture.setdefault(pid, set()).add(e.key)
    for e in entries:
        url = e.cand.url.split("#")[0] if e.cand is not None and e.cand.url else None
        reason = e.cand.reason if e.cand is not None else None
        if url and any(len(keys_by_picture.get(pid, ())) >= 2 for pid in _picture_ids(url)):
            reason = "placeholder"
        if reason is not None:
            skipped.note(reason, url)
            e.cand = None
            e.detail_url = None  # a listed person without a usable photo: nothing to follow
    with_photo = {e.key for e in entries if e.cand is not None}
    out: list[Entry] = []
    seen: set[str] = set()
    for e in entries:
        if e.key in seen or (e.cand is None and e.key in with_photo):
            continue
        seen.add(e.key)
        out.append(e)
    return out


def _name_only_entries(doc: Doc, text: PageText, entries: list[Entry], used: list) -> list[Entry]:
    known = {e.key for e in entries}
    out: list[Entry] = []
    for n in text.names:
        if not n.href or n.tier < 1 or n.key in known or doc.news.get(n.owner):
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
