"""Person entries found on a page, and the checks that keep or drop them.

An entry pairs a name with a portrait (or a detail link). A pairing found by proximity alone
is checked here: evidence that ties this photo to this name (title, known given name, alt text,
file name, a shared link), groups of pictures that are not people (news teasers, dated items,
project grids whose captions read like names), and pictures claimed by several people.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from .dom import Doc, class_tokens, element_text, tag_of
from .images import ImageCandidate
from .imageurls import content_fingerprint, file_name
from .lexicon import is_known_first_name
from .model import Skips
from .names import clean_name_text, is_cjk_name, name_from_alt, name_key, strip_titles
from .textlines import NameCand

__all__ = ["Entry", "FAR_TEXT", "drop_dated", "drop_groups_without_people", "drop_news_context",
           "drop_unsupported_singletons", "filename_key", "has_contact", "links_to_news", "pairing_evidence",
           "reject_shared_and_bad", "signature"]

FAR_TEXT = 1200  # characters: a region this large is a page section, not one person's entry
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


def filename_key(url: str | None, keys: set[str]) -> str | None:
    """The one key whose surname appears in the image file name, if exactly one does."""
    base = file_name(url)
    if base is None:
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



_DATE = re.compile(
    r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|"
    r"\b\d{1,2}\.\s(?:januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember)\s(?:19|20)\d{2}\b|"
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\s\d{1,2},\s(?:19|20)\d{2}\b",
    re.IGNORECASE,
)


def drop_dated(doc: Doc, entries: list[Entry], skipped: Skips) -> list[Entry]:
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


_NEWS_SECTIONS = frozenset({"posts", "post", "news", "blog", "events", "event", "aktuelles", "neuigkeiten",
                            "veranstaltungen", "actualites", "noticias", "notizie"})
_PEOPLE_SECTIONS = frozenset({"author", "authors", "people", "team", "staff", "person", "personen", "members",
                              "mitarbeiter", "faculty"})


def links_to_news(url: str | None) -> bool:
    """A link into the site's news or blog section ("/posts/2019.12.06_dr.dana/"): what carries it
    is a teaser about someone, not the person's entry."""
    if not url:
        return False
    parts = [p for p in urlsplit(url).path.lower().split("/") if p]
    if parts and len(parts[0]) == 2:
        parts = parts[1:]  # a language prefix: /en/news/...
    return len(parts) >= 2 and parts[0] in _NEWS_SECTIONS and not set(parts) & _PEOPLE_SECTIONS


def drop_news_context(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """Photos in a region whose class names say news/events/teasers: kept only as a grid of people.

    A class name is weak evidence (a faculty grid styled as 'teaser' cards, an 'index_veranstaltung'
    box per person); what a news list cannot fake is several short undated cards that each hold
    just a person's name, in the same structure."""
    linked = {id(e) for e in entries if e.cand is not None and links_to_news(e.detail_url)}
    flagged = [e for e in entries if e.cand is not None and e.cand.context == "news" and id(e) not in linked]
    if not flagged and not linked:
        return entries
    cards = [e for e in flagged if not e.far and len(element_text(e.container)) <= _CARD_TEXT]
    counts = Counter(signature(e.container) for e in cards)
    grid = {id(e) for e in cards if counts[signature(e.container)] >= 3}
    out = []
    for e in entries:
        if id(e) in linked or (e in flagged and id(e) not in grid):
            skipped.note("news", e.cand.url)
            continue
        out.append(e)
    return out


def signature(el) -> tuple[str, str]:
    cls = [t for t in (el.get("class") or "").lower().split() if not any(ch.isdigit() for ch in t)]
    return tag_of(el), cls[0] if cls else ""


_PERSON_HINTS = ("person", "people", "staff", "member", "mitarbeiter", "employee", "profile", "profil", "vcard",
                 "portrait", "portrat", "team-", "faculty", "kontaktperson", "contact-person", "ansprechp")


def pairing_evidence(doc: Doc, display: str, key: str, photo: ImageCandidate, name: NameCand | None,
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
    if filename_key(photo.url, {key}):
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


def drop_unsupported_singletons(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """An isolated pair (no structurally similar sibling entry) needs independent evidence."""
    counts: Counter = Counter()
    for e in entries:
        for sig in {("o",) + signature(e.outer), ("c",) + signature(e.container)}:
            counts[sig] += 1
    out = []
    for e in entries:
        repeated = counts[("o",) + signature(e.outer)] >= 2 or counts[("c",) + signature(e.container)] >= 2
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


_ROLE_LINE = re.compile(
    r"\b(?:professor(?:in)?|lecturer|postdoc(?:toral)?|ph\.?\s?d\.?\s(?:student|candidate|researcher)|"
    r"research(?:er| fellow| assistant| scientist| associate)|doktorand(?:in)?|"
    r"wissenschaftliche[rn]?\s+mitarbeiter(?:in)?|profesora?|investigador[a]?|chercheur|chercheuse|"
    r"ricercat(?:ore|rice)|(?:master|graduate|doctoral|undergraduate|bachelor)(?:'s)?\s+students?)\b",
    re.IGNORECASE)


def _role_line(e: Entry) -> bool:
    """A short line of its own in the entry names a position ("Assistant Professor", "PhD
    student"): the caption beside it is a person's name, not a project's title."""
    if e.container is None or len(element_text(e.container)) > FAR_TEXT:
        return False
    for el in e.container.iter():
        if not isinstance(el.tag, str):
            continue
        text = element_text(el)
        if len(text) <= 60 and _ROLE_LINE.search(text) and e.display not in text:
            return True
    return False


def _alt_says_person(e: Entry) -> bool:
    """The picture's own alt calls it a portrait ("Porträt", "野中先生の写真": Prof. Nonaka's photo)."""
    return e.cand is not None and bool(_PERSON_ALT.search(e.cand.alt or ""))


def has_contact(name_owner, levels: int = 2) -> bool:
    """An e-mail address (or mailto link) in the block around a name line."""
    block = name_owner
    for _ in range(levels):
        if block.getparent() is None or tag_of(block.getparent()) in ("body", "main"):
            break
        block = block.getparent()
    if len(element_text(block)) > FAR_TEXT:
        return False
    return bool(_EMAIL.search(element_text(block))) or any(
        (a.get("href") or "").lower().startswith("mailto:") for a in block.iter("a"))


def drop_groups_without_people(entries: list[Entry], skipped: Skips) -> list[Entry]:
    """A grid of pictures with two-word captions is not a staff list unless some caption is a
    person's name by its own content (a title, a given name) or comes with an e-mail address:
    project, course and event grids ("Venice Unfolding", "Brandenburg Police") read like names too. Alt texts and file names
    tie a picture to its caption, not the caption to a person, so they do not count here."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in entries:
        groups.setdefault(signature(e.container), []).append(e)
    drop = set()
    for group in groups.values():
        if len(group) >= 2 and not any(_personlike(e.display, e.key) or _person_container(e) or e.contact
                                       or _alt_says_person(e) or _role_line(e) for e in group):
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


def reject_shared_and_bad(entries: list[Entry], skipped: Skips) -> list[Entry]:
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
