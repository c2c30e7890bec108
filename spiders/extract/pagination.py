"""Pagination links of a listing page: rel=next, "next"/"weiter"/"»", page numbers, A-Z indexes."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from .dom import Doc, class_tokens, strip_fragment, tag_of
from .names import normalize_space

__all__ = ["find_next_pages"]

_NEXT_TEXTS = frozenset(
    """next|next page|nächste|nächste seite|naechste|naechste seite|weiter|vor|vorwärts|»|›|>|>>|→|
    ›|»»|next »|weiter »|older|older entries|more results|weitere ergebnisse|mehr ergebnisse|
    nächste ergebnisse|next results|siguiente|suivant|successivo""".replace("\n", "").split("|")
)
_NEXT_TEXTS = frozenset(t.strip() for t in _NEXT_TEXTS if t.strip())
_PAGER_RE = re.compile(r"pag(?:e|er|ing|ination|inat)|seiten|browse|blaettern|blättern|listingbar|pagenav|"
                       r"resultbrowser|navigator|treffer")
_NEXT_CLASS_RE = re.compile(r"(?:^|[-_])next(?:$|[-_])|(?:^|[-_])weiter(?:$|[-_])")
_PAGE_PARAM = re.compile(r"^(?:page|p|pg|seite|s|offset|start|from|pagenum|pageno|currentpage|paged|b_start|"
                         r"limitstart|pagenumber|pager|seitennr|"
                         r".*\[currentpage\]|.*\[page\]|.*pointer.*|.*\[@widget_\d+\]\[currentpage\])$", re.I)
_PAGE_PATH = re.compile(r"/(?:page|seite|p)/\d+/?$", re.I)
_NEXT_START = re.compile(r"^(?:next|nächste[nr]?|naechste[nr]?|weiter|vorwärts)\b", re.IGNORECASE)
_PAGE_WORDS = frozenset("seite seiten page pages einträge eintraege entries items results ergebnisse treffer "
                        "personen people mitarbeiter".split())
_ARROWS = " \t»«›‹→←>|<.:…"


def _text(a) -> str:
    t = normalize_space(a.xpath("string()"))
    if not t:
        t = normalize_space(a.get("aria-label") or a.get("title") or "")
    return t


def _in_pager(el, hops: int = 4) -> bool:
    e = el
    for _ in range(hops):
        if e is None:
            return False
        toks = " ".join(class_tokens(e))
        label = (e.get("aria-label") or "").lower() if isinstance(e.tag, str) else ""
        if _PAGER_RE.search(toks) or _PAGER_RE.search(label) or "pagination" in (e.get("role") or ""):
            return True
        e = e.getparent()
    return False


def _looks_paged(url: str) -> bool:
    parts = urlsplit(url)
    if _PAGE_PATH.search(parts.path):
        return True
    return any(_PAGE_PARAM.match(k.split(":")[0]) and re.fullmatch(r"\d+", v or "") for k, v in parse_qsl(parts.query))


def _same_listing(url: str, page_url: str) -> bool:
    """Same host and the same directory (or a sub-path of it): /team/ -> /team/seite-2/, ?page=2."""
    a, b = urlsplit(url), urlsplit(page_url)
    if a.netloc.lower() != b.netloc.lower():
        return False
    base = b.path if b.path.endswith("/") else b.path.rsplit("/", 1)[0] + "/"
    return a.path.startswith(base) or a.path == b.path


def find_next_pages(doc: Doc) -> list[str]:
    """Absolute pagination URLs (deduplicated, never the page itself)."""
    here = strip_fragment(doc.url)
    out: list[str] = []
    seen = {here}

    def add(raw: str | None) -> None:
        url = doc.resolve(raw)
        if not url or url.startswith("data:"):
            return
        url = strip_fragment(url)
        if url in seen:
            return
        seen.add(url)
        out.append(url)

    for link in doc.root.iter("link"):
        if "next" in (link.get("rel") or "").lower().split():
            add(link.get("href"))
    letters: dict = {}
    for a in doc.root.iter("a"):
        href = a.get("href")
        if not href or href.strip().startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        rel = (a.get("rel") or "").lower().split()
        if "next" in rel:
            add(href)
            continue
        if "prev" in rel or "previous" in rel:
            continue
        text = _text(a)
        low = text.lower()
        core = low.strip(_ARROWS)
        cls = " ".join(class_tokens(a) + (class_tokens(a.getparent()) if a.getparent() is not None else []))
        label = (a.get("aria-label") or a.get("title") or "").lower()
        if low in _NEXT_TEXTS or core in _NEXT_TEXTS or (core == "" and low and set(low) <= set("»›>→")):
            # a bare "weiter"/"»" also ends news teasers: only next to pagination or within this listing
            url = doc.resolve(href) or ""
            if doc.news.get(a) and not _in_pager(a):
                continue
            if _in_pager(a) or _looks_paged(url) or _NEXT_CLASS_RE.search(cls) or _same_listing(url, doc.url):
                if core not in ("vor",) or _in_pager(a):
                    add(href)
                    continue
        if _NEXT_CLASS_RE.search(cls) and (_in_pager(a) or _looks_paged(doc.resolve(href) or "")):
            add(href)
            continue
        if _NEXT_START.match(core) and len(core.split()) <= 5:
            words = set(re.findall(r"\w+", core))
            if _in_pager(a) or _NEXT_CLASS_RE.search(cls) or low != core or words & _PAGE_WORDS:
                add(href)
                continue
        if re.search(r"\b(?:next|nächste|weiter)\b", label) and "prev" not in label:
            add(href)
            continue
        if re.fullmatch(r"\d{1,3}", core or "-"):
            url = doc.resolve(href) or ""
            if _in_pager(a) or _looks_paged(url):
                add(href)
            continue
        if re.fullmatch(r"[a-zäöü]", core or "-", re.I) and len(core) == 1:
            parent = a.getparent()
            grand = parent.getparent() if parent is not None else None
            key = grand if tag_of(parent) in ("li", "span", "td") and grand is not None else parent
            letters.setdefault(key, []).append(href)
    # an A-Z index of separate pages (at least five letters in one list)
    for key, hrefs in letters.items():
        if len(hrefs) >= 5:
            for h in hrefs:
                add(h)
    return out
