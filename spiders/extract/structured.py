"""People a page declares itself: schema.org ``Person`` in JSON-LD, microdata or RDFa (via extruct).

A site that marks up its staff this way names each person and their image explicitly, so these
pairs need no layout guessing. Only syntaxes the page visibly uses are parsed (RDFa parsing is
slow on large pages). Images that are decoys by their URL (spacers of lazy loading, placeholders,
logos) are left out; the generic extractor then decides for that person.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from .decoys import classify_url
from .dom import Doc
from .names import clean_name_text, looks_like_person_name, normalize_space

__all__ = ["structured_people"]

logger = logging.getLogger(__name__)

_PERSON = re.compile(r"(?:^|[/#:])Person$")
_ACCEPTED_URL_REASONS = {None}


def _values(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(value) -> str:
    for v in _values(value):
        if isinstance(v, dict):
            v = v.get("@value") or v.get("name")
        if isinstance(v, str) and v.strip():
            return normalize_space(v)
    return ""


def _image_urls(value) -> list[str]:
    out = []
    for v in _values(value):
        if isinstance(v, dict):
            v = v.get("contentUrl") or v.get("url") or v.get("@id") or v.get("http://schema.org/contentUrl") \
                or v.get("http://schema.org/url")
            if isinstance(v, list):  # RDFa: [{'@id': ...}]
                v = next((x.get("@id") or x.get("@value") for x in v if isinstance(x, dict)), None)
        if isinstance(v, str) and v.strip():
            out.append(v.strip())
    return out


def _get(item: dict, prop: str):
    return item.get(prop, item.get(f"http://schema.org/{prop}", item.get(f"https://schema.org/{prop}")))


def _is_person(item: dict) -> bool:
    return any(isinstance(t, str) and _PERSON.search(t) for t in _values(item.get("@type")))


def _walk(items: Iterable) -> Iterable[dict]:
    """Every dict in the extracted data, nested ones (ItemList, @graph, employee, member) included."""
    stack = list(items)
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item
        elif isinstance(item, dict):
            yield item
            stack[:0] = [v for v in item.values() if isinstance(v, (dict, list))]


def structured_people(doc: Doc, html: str) -> list[tuple[str, str]]:
    """[(name, absolute image URL)] of the schema.org Persons the page declares with an image."""
    low = html.lower()
    syntaxes = [s for s, marker in (("json-ld", "application/ld+json"), ("microdata", "itemscope"),
                                    ("rdfa", "typeof=")) if marker in low]
    if not syntaxes or "person" not in low:
        return []
    try:
        import extruct

        data = extruct.extract(html, base_url=doc.base, syntaxes=syntaxes, uniform=True, errors="ignore")
    except Exception as exc:  # malformed JSON-LD, odd RDFa: the page still has its markup
        logger.debug("structured data unreadable on %s: %s", doc.url, exc)
        return []
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in _walk(data.values()):
        if not _is_person(item):
            continue
        name = _text(_get(item, "name"))
        if not name:
            name = " ".join(filter(None, (_text(_get(item, "givenName")), _text(_get(item, "familyName")))))
        name = clean_name_text(name).strip(" ,")
        if not name or not looks_like_person_name(name):
            continue
        for raw in _image_urls(_get(item, "image")):
            url = doc.resolve(raw)
            if url and classify_url(url) in _ACCEPTED_URL_REASONS and url not in seen:
                seen.add(url)
                out.append((name, url))
                break
    return out
