"""Optional per-site selector overrides (from the department registry) and their application."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import parsel
from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from .dom import Doc, element_text, strip_fragment, tag_of
from .generic import decide_name, detail_link_in
from .images import ImageCandidate, background_urls, best_image_url, classify_url, parse_srcset
from .model import Person, Skips
from .names import looks_like_person_name, name_key, normalize_space
from .textlines import PageText

__all__ = ["Selectors", "extract_with_selectors", "select_next_pages"]

_TRANSLATOR = HTMLTranslator()
_FATAL = frozenset({"data_uri", "svg", "placeholder", "spacer", "no_url", "tiny"})


def is_xpath(expr: str) -> bool:
    """XPath when it starts with '/', '(' (or a relative './', '../', '@'); CSS otherwise."""
    return expr.startswith(("/", "(", "./", "../", "@"))


@dataclass(frozen=True)
class Selectors:
    """Per-site override. CSS, or XPath when the expression starts with "/" or "("."""

    person: str | None = None  # one match per person entry
    name: str | None = None  # relative to person
    photo: str | None = None  # relative to person: an element or an attribute (::attr(x) / @x)
    detail_link: str | None = None  # relative to person
    next_page: str | None = None  # page level

    @classmethod
    def from_mapping(cls, data: Mapping | None) -> Selectors | None:
        """Build from a registry mapping; ValueError for unknown keys or invalid selectors."""
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise ValueError(f"selectors must be a mapping, got {type(data).__name__}")
        fields = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            raise ValueError(f"unknown selector key(s): {', '.join(unknown)} (allowed: {', '.join(fields)})")
        values: dict[str, str | None] = {}
        for key in fields:
            value = data.get(key)
            if value is None:
                values[key] = None
                continue
            if not isinstance(value, str):
                raise ValueError(f"selector {key!r} must be a string, got {type(value).__name__}")
            value = value.strip()
            if not value:
                raise ValueError(f"selector {key!r} is empty")
            _validate(key, value)
            values[key] = value
        if not any(values.values()):
            return None
        dependent = [k for k in ("name", "photo", "detail_link") if values[k]]
        if dependent and not values["person"]:
            raise ValueError(f"selector(s) {', '.join(dependent)} are relative to 'person', which is missing")
        return cls(**values)


def _validate(key: str, expr: str) -> None:
    try:
        if is_xpath(expr):
            etree.XPath(_relative(expr) if key in ("name", "photo", "detail_link") else expr)
        else:
            _TRANSLATOR.css_to_xpath(expr)
    except (SelectorError, etree.XPathError, SyntaxError) as exc:
        kind = "XPath" if is_xpath(expr) else "CSS"
        raise ValueError(f"invalid {kind} selector for {key!r}: {expr!r} ({exc})") from exc


def _relative(expr: str) -> str:
    if expr.startswith("//"):
        return "." + expr
    if expr.startswith("/"):
        return "." + expr
    return expr


def _run(sel: parsel.Selector, expr: str, relative: bool) -> parsel.SelectorList:
    if is_xpath(expr):
        return sel.xpath(_relative(expr) if relative else expr)
    return sel.css(expr)


def _values(results: parsel.SelectorList):
    for r in results:
        yield r.root


def _url_from_attr(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    urls = background_urls(value)
    if urls:
        return urls[0]
    if "," in value or " " in value:
        cands = parse_srcset(value)
        if cands:
            if any(k == "w" for _, _, k in cands):
                cands = [c for c in cands if c[2] == "w"]
            return max(cands, key=lambda c: c[1])[0]
    return value


def _photo_from_element(doc: Doc, el, by_el: dict) -> ImageCandidate | None:
    probe = el
    for _ in range(4):  # the element itself, or its <picture> (an <img> may sit inside a <source>)
        if probe is None:
            break
        if probe in by_el:
            return by_el[probe]
        probe = probe.getparent()
    inner = [c for el2, c in by_el.items() if doc.contains(el, el2)]
    if inner:
        inner.sort(key=lambda c: (c.reason is not None, doc.order[c.element]))
        return inner[0]
    if tag_of(el) == "source" and el.getparent() is not None:
        raw, _ = best_image_url(el, [])
    elif tag_of(el) == "img":
        raw, _ = best_image_url(el, [])
    else:
        urls = background_urls(el.get("style"))
        raw = urls[0] if urls else None
    if not raw:
        return None
    url = doc.resolve(raw)
    return ImageCandidate(element=el, url=url, reason=classify_url(url) if url else "no_url")


def extract_with_selectors(doc: Doc, text: PageText, cands: list[ImageCandidate], sels: Selectors,
                           skipped: Skips) -> list[Person]:
    root = parsel.Selector(root=doc.root)
    by_el = {c.element: c for c in cands}
    found: list[tuple[str, str, str | None, str | None, object]] = []  # display, key, url, detail, element
    for person in _run(root, sels.person or "", relative=False):
        el = person.root
        if isinstance(el, str) or not isinstance(getattr(el, "tag", None), str):
            continue
        # photo
        photo: ImageCandidate | None = None
        url = None
        reason = None
        if sels.photo:
            for value in _values(_run(person, sels.photo, relative=True)):
                if isinstance(value, str):
                    raw = _url_from_attr(value)
                    url = doc.resolve(raw) if raw else None
                    reason = classify_url(url) if url else "no_url"
                    photo = ImageCandidate(element=el, url=url, reason=reason)
                else:
                    photo = _photo_from_element(doc, value, by_el)
                if photo is not None:
                    break
        else:
            inner = [c for c in cands if doc.contains(el, c.element) and c.is_slot]
            inner.sort(key=lambda c: (c.reason is not None, doc.order[c.element]))
            photo = inner[0] if inner else None
        if photo is not None:
            url = photo.url
            reason = photo.reason if photo.reason in _FATAL else None
            if getattr(photo, "tiny", False):
                reason = "tiny"
        # name
        display = None
        name_cand = None
        if sels.name:
            for value in _values(_run(person, sels.name, relative=True)):
                t = normalize_space(value if isinstance(value, str) else element_text(value))
                if t:
                    display = t
                    break
        else:
            name_cand, _ = decide_name(text.names_in(doc, el), photo)
            display = name_cand.display if name_cand else None
        if not display or not (looks_like_person_name(display) or len(name_key(display).split()) >= 2):
            skipped["no_name"] += 1
            continue
        key = name_key(display)
        # detail link
        detail = None
        if sels.detail_link:
            for value in _values(_run(person, sels.detail_link, relative=True)):
                href = value if isinstance(value, str) else (value.get("href") or _first_href(value))
                if href:
                    detail = doc.resolve(href)
                    if detail:
                        break
        else:
            detail = detail_link_in(doc, text, el, key, photo.element if photo else None, name_cand)
        if photo is None:
            url = None
        elif reason is not None:
            skipped.note(reason, url)
            url = None
            detail = None if sels.detail_link is None else detail
        found.append((display, key, url, detail, el))

    keys_by_url: dict[str, set[str]] = {}
    for display, key, url, _, _ in found:
        if url:
            keys_by_url.setdefault(strip_fragment(url), set()).add(key)
    people: list[Person] = []
    seen: set[str] = set()
    for display, key, url, detail, _ in found:
        if url and len(keys_by_url[strip_fragment(url)]) >= 2:
            skipped.note("placeholder", url)
            url = None
            detail = None
        if key in seen or (url is None and detail is None):
            continue
        seen.add(key)
        people.append(Person(name=display, photo_url=url, detail_url=detail))
    return people


def _first_href(el) -> str | None:
    for a in el.iter("a"):
        if a.get("href"):
            return a.get("href")
    return None


def select_next_pages(doc: Doc, expr: str) -> list[str]:
    root = parsel.Selector(root=doc.root)
    here = strip_fragment(doc.url)
    out: list[str] = []
    for value in _values(_run(root, expr, relative=False)):
        href = value if isinstance(value, str) else (value.get("href") or _first_href(value))
        url = doc.resolve(href) if href else None
        if url and not url.startswith("data:"):
            url = strip_fragment(url)
            if url != here and url not in out:
                out.append(url)
    return out
