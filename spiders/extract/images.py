"""Photo candidates of a page: every <img>, <picture> and styled/lazy background with the URL it shows
and, when it is a decoy, the reason (see decoys.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .decoys import BANNER_TOKENS, PRIORITY, classify_url, context_reasons, declared_tiny, is_secondary
from .dom import Doc, class_tokens, tag_of
from .imageurls import BG_ATTRS, IMAGE_EXT, background_urls, best_image_url, is_spacer_url, parse_srcset
from .names import normalize_space

__all__ = [
    "ImageCandidate",
    "parse_srcset",
    "background_urls",
    "best_image_url",
    "collect_candidates",
    "classify_url",
    "SLOT_REASONS",
]

# Reasons that still mark the position of a person's photo (a card with a placeholder avatar is still
# a card); all other reasons are decoration that must not split or claim person entries.
SLOT_REASONS = frozenset({None, "placeholder", "svg", "data_uri"})
_SOFT_CONTEXT = frozenset({"news"})
# On a styled element "cover", "bg" and "background" are CSS utility classes (background-size: cover),
# which portrait tiles use as much as banners do.
_BG_BANNER_TOKENS = BANNER_TOKENS - {"cover", "bg", "background", "backgrounds"}


@dataclass
class ImageCandidate:
    element: object  # the element that marks the photo's position (img, picture or styled element)
    url: str | None  # absolute URL finally chosen (may be a data: URI)
    alt: str = ""
    title: str = ""
    reason: str | None = None  # decoy reason; None when acceptable as a portrait
    source: str = "img"  # img | picture | background
    tiny: bool = False  # declared width/height below 40px
    # "news" when only the surrounding region's class names speak against the image: one word in a
    # class attribute must not drop a whole grid of people (generic.py decides)
    context: str | None = None

    @property
    def is_slot(self) -> bool:
        return self.reason in SLOT_REASONS and not self.tiny


def _make(doc: Doc, anchor, img, raw: str | None, has_lazy: bool, source: str) -> ImageCandidate:
    holder = img if img is not None else anchor
    alt = normalize_space(img.get("alt")) if img is not None else normalize_space(anchor.get("aria-label"))
    title = normalize_space(holder.get("title"))
    if not title:
        # <a href="/team/anna" title="Anna Schulz"><img ...></a>: the link names the picture
        e = anchor.getparent()
        for _ in range(2):
            if e is None:
                break
            if tag_of(e) in ("a", "figure"):
                title = normalize_space(e.get("title") or e.get("aria-label"))
                if title:
                    break
            e = e.getparent()
    url = doc.resolve(raw) if raw else None
    cand = ImageCandidate(element=anchor, url=url, alt=alt, title=title, source=source)
    reasons = context_reasons(doc, anchor, alt, title, url)
    if url is None:
        reasons.add("no_url")
    else:
        r = classify_url(url)
        if r:
            reasons.add(r)
    cand.tiny = declared_tiny(holder)
    if is_secondary(holder):
        reasons.add("hover")
    if doc.hidden.get(anchor):
        reasons.add("hidden")
    if cand.tiny:
        reasons.add("tiny")
    cand.reason = next((r for r in PRIORITY if r in reasons), None)
    if cand.reason in _SOFT_CONTEXT and not reasons - _SOFT_CONTEXT:
        cand.context, cand.reason = cand.reason, None
    return cand


def collect_candidates(doc: Doc, scope=None) -> list[ImageCandidate]:
    """All image candidates of the document (or of *scope*), in document order."""
    root = scope if scope is not None else doc.root
    out: list[ImageCandidate] = []
    img_holders: set = set()
    for el in root.iter():
        tag = tag_of(el)
        if not tag:
            continue
        if tag == "img":
            parent = el.getparent()
            ptag = tag_of(parent) if parent is not None else ""
            if _inside(el, ("template", "svg")):
                continue
            if ptag == "noscript" or _inside(el, ("noscript",)):
                if _has_live_img_sibling(el):
                    continue  # the <noscript> copy of a lazy image next to it
            sources = []
            anchor = el
            source = "img"
            pic = _picture_of(el)
            if pic is not None:
                # libxml2 does not know <source> is void: the <img> may end up inside a <source>
                anchor = pic
                sources = list(pic.iter("source"))
                source = "picture"
            raw, has_lazy = best_image_url(el, sources)
            if (raw is None or is_spacer_url(raw)) and not has_lazy:
                ns = _noscript_fallback(el)
                if ns:
                    raw = ns
            out.append(_make(doc, anchor, el, raw, has_lazy, source))
            _mark_ancestors(el, img_holders)
        elif tag == "picture" and el.find(".//img") is None:
            sources = [s for s in el if tag_of(s) == "source"]
            raw, _ = best_image_url(sources[0], sources[1:]) if sources else (None, False)
            if raw:
                out.append(_make(doc, el, None, raw, True, "picture"))
                _mark_ancestors(el, img_holders)
    # background images / lazy backgrounds on non-img elements (only when they hold no <img>)
    for el in root.iter():
        tag = tag_of(el)
        if not tag or tag in ("img", "picture", "source", "script", "style", "iframe", "video", "audio",
                              "link", "meta", "input", "embed", "object", "html", "body"):
            continue
        style = el.get("style")
        raw = None
        if style and "url(" in style.lower():
            urls = background_urls(style)
            raw = urls[0] if urls else None
        if raw is None:
            for attr in BG_ATTRS + ("data-src",):
                v = (el.get(attr) or "").strip()
                if v:
                    u = background_urls(v)
                    v = u[0] if u else v.split()[0]
                    if IMAGE_EXT.search(v) or "@@images" in v or "/image" in v.lower():
                        raw = v
                        break
        if raw is None or el in img_holders or _inside(el, ("template", "svg", "noscript")):
            continue
        cand = _make(doc, el, None, raw, False, "background")
        if cand.reason is None:
            toks = class_tokens(el)
            if "background-position" in (style or "").lower() and "center" not in (style or "").lower():
                cand.reason = "sprite"
            elif any(t in _BG_BANNER_TOKENS or t.startswith(("hero", "banner", "slider", "stage", "header"))
                     for t in toks):
                cand.reason = "banner"
            elif tag in ("section", "main", "header", "footer") or len(el.xpath("string()")) > 400:
                cand.reason = "banner"
        out.append(cand)
    out.sort(key=lambda c: doc.order.get(c.element, 0))
    return out


def _picture_of(img):
    e = img.getparent()
    for _ in range(4):
        if e is None:
            return None
        t = tag_of(e)
        if t == "picture":
            return e
        if t != "source":
            return None
        e = e.getparent()
    return None


def _inside(el, tags: tuple[str, ...]) -> bool:
    anc = el.getparent()
    while anc is not None:
        if tag_of(anc) in tags:
            return True
        anc = anc.getparent()
    return False


def _mark_ancestors(el, holders: set) -> None:
    anc = el.getparent()
    while anc is not None and anc not in holders:
        holders.add(anc)
        anc = anc.getparent()


def _has_live_img_sibling(img) -> bool:
    ns = img.getparent()
    while ns is not None and tag_of(ns) != "noscript":
        ns = ns.getparent()
    if ns is None or ns.getparent() is None:
        return False
    for other in ns.getparent().iter("img"):
        if not _inside(other, ("noscript",)):
            return True
    return False


def _noscript_fallback(img) -> str | None:
    """The <img> in a <noscript> next to a lazy image whose real URL we could not read."""
    parent = img.getparent()
    if parent is None:
        return None
    for sib in parent:
        if tag_of(sib) == "noscript":
            inner = sib.find(".//img")
            if inner is not None and inner.get("src"):
                return inner.get("src").strip()
            text = sib.text or ""
            m = re.search(r"src=[\"']([^\"']+)", text)
            if m:
                return m.group(1)
    return None
