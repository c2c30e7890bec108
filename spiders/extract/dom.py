"""Parsed-document helpers shared by the extractors: parsing, URLs, layout chrome, order indexes."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import parsel
from lxml import etree
from w3lib.url import safe_url_string

from .names import looks_like_person_name, normalize_space

__all__ = [
    "Doc",
    "parse_html",
    "class_tokens",
    "element_text",
    "resolve_url",
    "strip_fragment",
    "same_site",
    "is_page_link",
    "BLOCK_TAGS",
    "SKIP_TAGS",
    "HEADING_TAGS",
]

BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre section summary
    table tbody thead tfoot tr td th caption ul legend option select textarea button picture video
    audio iframe object""".split()
)
SKIP_TAGS = frozenset("script style template head title noscript svg math select option textarea button iframe object canvas".split())
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())

_CHROME_TOKENS = frozenset(
    """header site-header siteheader main-header mainheader global-header page-top masthead top-bar topbar
    navbar nav navigation main-nav mainnav main-navigation mainnavigation topnav top-nav subnav sub-nav
    menu main-menu mainmenu menubar breadcrumb breadcrumbs breadcrumb-nav rootline footer site-footer
    sitefooter page-footer pagefooter main-footer global-footer skiplinks skip-links toolbar cookie
    cookie-banner cookiebanner cookie-consent service-nav servicenav meta-nav metanav metanavigation
    language-switch lang-switch languages quicklinks quick-links social-media socialmedia share-buttons""".split()
)
_AMBIGUOUS_CHROME = frozenset({"header", "footer", "nav", "menu", "navigation", "toolbar", "languages"})
_CHROME_ROLES = frozenset({"banner", "navigation", "contentinfo", "menubar", "menu"})
_SECTIONING_CONTENT = frozenset("article main section aside li td dd figure blockquote".split())
_NEWS_TOKENS = frozenset(
    """news news-list newslist news-item newsitem news-teaser newsteaser news-latest latest-news tx-news
    aktuelles aktuelle-meldungen meldungen neuigkeiten pressemitteilungen press-releases events event-list
    veranstaltungen termine blog blog-posts article-teasers""".split()
)

_NEWS_PARTS = frozenset({"news", "aktuelles", "meldungen", "neuigkeiten", "blog", "presse", "ttnews", "newsticker"})
_PERSONISH = frozenset({"person", "persons", "people", "staff", "team", "member", "members", "mitarbeiter",
                        "mitarbeiterin", "profile", "profil", "contact", "kontakt", "employee", "personen", "vcard",
                        "faculty", "speaker", "author", "autor"})
_WS_RE = re.compile(r"\s+")


_DOCUMENT_END = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)


def parse_html(html: str):
    """Parse *html* leniently (lxml via parsel); returns the root element (never raises for junk)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    # A browser ignores </body> and </html> and keeps adding what follows to the body; libxml2
    # stops at a stray early </html> (a template that closes the document after its <head>).
    html = _DOCUMENT_END.sub("", html or "")
    sel = parsel.Selector(text=html or "<html></html>", type="html")
    return sel.root


def class_tokens(el) -> list[str]:
    """Lower-cased class and id tokens of *el*."""
    get = getattr(el, "get", None)
    if get is None:
        return []
    cls = get("class") or ""
    ident = get("id") or ""
    if not cls and not ident:
        return []
    return (cls + " " + ident).lower().split()


def skipped_element(e) -> bool:
    """Not page text: scripts, styles, form controls. A button inside a heading (an accordion's
    trigger, "Ning Bao, Postdoc +") is the heading's text, not a control."""
    tag = e.tag.lower() if isinstance(e.tag, str) else None
    if tag not in SKIP_TAGS:
        return False
    if tag == "button":
        parent = e.getparent()
        return parent is None or tag_of(parent) not in HEADING_TAGS
    return True


def element_text(el) -> str:
    """Visible-ish text of *el* (script/style skipped), whitespace-normalised."""
    parts: list[str] = []

    def walk(e):
        tag = e.tag if isinstance(e.tag, str) else None
        if tag is not None and not skipped_element(e):
            if e.text:
                parts.append(e.text)
            for c in e:
                walk(c)
        if e.tail and e is not el:
            parts.append(e.tail)

    walk(el)
    return normalize_space(" ".join(parts))


def resolve_url(base: str, raw: str | None) -> str | None:
    """Join *raw* with *base*; returns an absolute URL (fragment kept) or None for junk."""
    if raw is None:
        return None
    raw = raw.strip().strip("'\"").strip()
    if not raw:
        return None
    low = raw[:11].lower()
    if low.startswith("data:"):
        return raw
    if low.startswith(("javascript:", "mailto:", "tel:", "about:", "#")):
        return None
    try:
        joined = urljoin(base, raw)
    except ValueError:
        return None
    if not joined.lower().startswith(("http://", "https://")):
        return None
    try:
        # no host ("http:///a.jpg") or a bad port ("http://x:abc/") cannot be fetched: junk (found by fuzzing)
        parts = urlsplit(joined)
        if not parts.hostname:
            return None
        parts.port  # noqa: B018 - raises ValueError
    except ValueError:
        return None
    try:
        return safe_url_string(joined)
    except Exception:  # pragma: no cover - defensive
        return joined


def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _site(host: str) -> str:
    host = (host or "").lower().split(":")[0]
    if host.startswith("www."):
        host = host[4:]
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in {"co", "ac", "com", "org", "gov", "edu", "net"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(a: str, b: str) -> bool:
    try:
        return _site(urlsplit(a).hostname or "") == _site(urlsplit(b).hostname or "")
    except ValueError:
        return False


_FILE_EXT = re.compile(
    r"\.(?:pdf|jpe?g|png|gif|webp|svg|bmp|tiff?|avif|docx?|pptx?|xlsx?|odt|zip|gz|tgz|rar|vcf|ics|txt|bib|"
    r"tex|mp4|mp3|m4a|wav|avi|mov|ps|eps|csv|xml|json|rss)$",
    re.IGNORECASE,
)


def is_page_link(url: str | None, page_url: str) -> bool:
    """A same-site HTML page other than *page_url* (not a file, mail or anchor)."""
    if not url or not url.startswith(("http://", "https://")):
        return False
    if strip_fragment(url) == strip_fragment(page_url):
        return False
    if not same_site(url, page_url):
        return False
    path = urlsplit(url).path
    return not _FILE_EXT.search(path)


class Doc:
    """A parsed page with document-order indexes and per-element context flags."""

    def __init__(self, html: str, url: str):
        self.url = url
        self.root = parse_html(html)
        base_el = self.root.find(".//base[@href]")
        base = url
        if base_el is not None:
            href = (base_el.get("href") or "").strip()
            if href:
                try:
                    base = urljoin(url, href)
                except ValueError:  # <base href="http://[x">: ignore it, like a browser (found by fuzzing)
                    base = url
        self.base = base
        self.order: dict = {}
        self.end: dict = {}
        self.chrome: dict = {}
        self.news: dict = {}
        self.hidden: dict = {}  # inside a closed modal dialog or screen-reader-only text
        self.elements: list = []
        self._index()

    # ------------------------------------------------------------------ indexing
    def _index(self) -> None:
        order, chrome, news, elements = self.order, self.chrome, self.news, self.elements
        hidden = self.hidden
        depth: dict = {}
        sect: dict = {}
        for i, el in enumerate(self.root.iter()):
            order[el] = i
            elements.append(el)
            parent = el.getparent()
            if parent is None:
                depth[el], sect[el], chrome[el], news[el], hidden[el] = 0, False, False, False, False
                continue
            if not isinstance(el.tag, str):
                chrome[el] = chrome[parent]
                news[el] = news[parent]
                hidden[el] = hidden[parent]
                continue
            tag = el.tag.lower()
            d = depth[parent] + 1
            depth[el] = d
            in_sect = sect[parent]
            sect[el] = in_sect or tag in _SECTIONING_CONTENT
            chrome[el] = chrome[parent] or self._is_chrome_root(el, tag, d, in_sect)
            news[el] = news[parent] or self._is_news_root(el)
            hidden[el] = hidden[parent] or (tag != "img" and _is_hidden_root(el))
        end = self.end
        for el in reversed(elements):
            n = len(el)
            end[el] = end[el[n - 1]] if n else order[el]
        self._release_person_grids()

    def _release_person_grids(self) -> None:
        """A region taken for header/footer/menu by its tag or class that holds a grid of people
        (several portraits and several names) is content: one class word must not hide it."""
        from .decoys import classify_url  # decoys imports this module

        roots = [el for el in self.elements if self.chrome.get(el) and isinstance(el.tag, str)
                 and not self.chrome.get(el.getparent(), False) and el.tag.lower() != "nav"
                 and (el.get("role") or "").lower() != "navigation"]
        for root in roots:
            photos = set()
            for img in root.iter("img"):
                raw = img.get("data-src") or img.get("data-original") or img.get("src")
                url = self.resolve(raw)
                if url and classify_url(url) is None:
                    photos.add(url)
            if len(photos) < 3:
                continue
            names = set()
            for el in root.iter():
                if isinstance(el.tag, str) and el.tag.lower() not in SKIP_TAGS and len(el) <= 3:
                    text = element_text(el)
                    if len(text) <= 80 and looks_like_person_name(text):
                        names.add(text)
            if len(names) >= 3:
                start, stop = self.order[root], self.end[root]
                for el in self.elements[start:stop + 1]:
                    self.chrome[el] = False

    @staticmethod
    def _is_chrome_root(el, tag: str, depth: int, in_sectioning: bool) -> bool:
        if tag in ("body", "html", "main", "article"):
            return False
        page_level = not in_sectioning and depth <= 5
        if tag == "nav":
            return True
        if tag in ("header", "footer"):
            return page_level
        role = (el.get("role") or "").lower()
        if role in _CHROME_ROLES:
            return True
        ident = (el.get("id") or "").lower()
        if ident and ident in _CHROME_TOKENS:
            return True
        cls = (el.get("class") or "").lower().split()
        for t in cls:
            if t in _CHROME_TOKENS:
                if t in _AMBIGUOUS_CHROME:
                    if page_level:
                        return True
                else:
                    return True
        return False

    @staticmethod
    def _is_news_root(el) -> bool:
        toks = class_tokens(el)
        if not toks:
            return False
        parts = {p for t in toks for p in re.split(r"[-_]+", t) if p}
        if parts & _PERSONISH:
            return False
        for t in toks:
            if t in _NEWS_TOKENS:
                return True
            if "news" in t and "newsletter" not in t:
                return True
        return bool(parts & (_NEWS_PARTS | {"teaser", "teasers", "event", "events", "veranstaltung", "termin"}))

    # ------------------------------------------------------------------ queries
    def contains(self, container, el) -> bool:
        o = self.order.get(el)
        if o is None:
            return False
        return self.order[container] <= o <= self.end[container]

    def body(self):
        b = self.root.find("body")
        return b if b is not None else self.root

    def resolve(self, raw: str | None) -> str | None:
        return resolve_url(self.base, raw)

    def has_scripts(self) -> bool:
        for s in self.root.iter("script"):
            typ = (s.get("type") or "").strip().lower()
            if typ in ("", "text/javascript", "application/javascript", "module", "text/ecmascript"):
                return True
        return False


_HIDDEN_TOKENS = frozenset({"modal", "visually-hidden", "sr-only", "screen-reader-text", "element-invisible"})


def _is_hidden_root(el) -> bool:
    """A closed modal dialog or screen-reader-only text (collapsed accordions and tabs are real content)."""
    cls = el.get("class")
    return bool(cls) and any(t in _HIDDEN_TOKENS for t in cls.lower().split())


def tag_of(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def is_comment(el) -> bool:
    return not isinstance(el.tag, str) or el.tag is etree.Comment
