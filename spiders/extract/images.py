"""Photo candidates: the URL an element really shows (img/picture/srcset/lazy/background) and decoy rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .dom import Doc, class_tokens, tag_of
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

SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "data-original-set", "srcset")
LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-url",
              "data-img", "data-image", "data-hi-res", "data-hires", "data-retina", "lazy-src", "data-lazyload")
BG_ATTRS = ("data-bg", "data-background", "data-background-image", "data-bg-src", "data-bg-image", "data-bgset")

_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|tiff?|svg|jfif|heic)(?:$|[?#])", re.IGNORECASE)
_URL_IN_CSS = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_SPLIT = re.compile(r"[^a-z0-9äöüß]+")

_SPACER = frozenset("blank spacer pixel transparent 1x1 clear empty leer trans px lazy loading loader "
                    "s spc shim".split())
_PLACEHOLDER_SUBSTR = ("placeholder", "platzhalter", "nophoto", "noimage", "nopicture", "nopic", "noavatar",
                       "keinbild", "keinfoto", "ohnebild", "ohnefoto", "defaultavatar", "avatardefault",
                       "defaultuser", "userdefault", "defaultprofile", "profiledefault", "defaultperson",
                       "silhouette", "dummy", "blankprofile", "anonymous", "anonym", "mysteryman",
                       "unknownuser", "unknownperson", "genericavatar", "emptyavatar", "fallback")
_PLACEHOLDER_TOKENS = frozenset("default unknown unbekannt nobody missing noimg avatar_placeholder".split())
_LOGO_TOKENS = frozenset("logo logos wappen signet emblem wordmark wortmarke bildmarke".split())
_ICON_TOKENS = frozenset(
    """icon icons ico favicon email e-mail mail envelope phone telefon tel fax vcard vcf social twitter
    x-twitter facebook fb linkedin xing instagram youtube mastodon bluesky orcid researchgate github gitlab
    googlescholar rss arrow arrows pfeil chevron caret bullet pdf print drucken external extern
    download search lupe burger hamburger flagge flags language emoji smiley checkmark share
    whatsapp telegram globe marker kalender""".split()
)
_SPRITE_TOKENS = frozenset({"sprite", "sprites", "spritesheet"})
_BANNER_TOKENS = frozenset(
    "banner banners header headerbild headerimage hero slider slide slideshow keyvisual key-visual "
    "stage buehne bühne teaser teaserbild cover panorama titelbild kopfbild visual bg background "
    "backgrounds pattern texture divider separator trenner".split()
)
_GROUP_SUBSTR = ("groupphoto", "groupfoto", "grouppicture", "gruppenfoto", "gruppenbild", "teamfoto",
                 "teamphoto", "teambild", "teampicture", "teamimage", "allemitarbeiter", "teamgroup",
                 "lehrstuhlteam", "institutsfoto", "mannschaft", "betriebsausflug", "weihnachtsfeier")
_GROUP_TOKENS = frozenset({"group", "gruppe", "groups", "team", "gruppenfoto", "crew"})
_GROUP_FILLER = frozenset("team group gruppe groups crew photo foto bild picture pic image img all alle lab labor "
                          "lehrstuhl institut institute mitarbeiter staff members people web large small big "
                          "full hires thumb our unser das the of".split())
_BUILDING_SUBSTR = ("gebaeude", "gebäude", "building", "campus", "aussenansicht", "außenansicht",
                    "exterior", "fassade", "facade", "lageplan", "anfahrt", "hoersaal", "hörsaal",
                    "luftbild", "aerial", "institutsgebaeude", "bibliothek", "library", "mensa", "lecturehall")
_BUILDING_TOKENS = frozenset({"map", "karte", "labor", "lab", "room", "raum", "skyline", "city"})
_LANG_CODES = frozenset({"de", "en", "fr", "es", "it", "nl", "gb", "us", "uk", "deutsch", "english"})
_DIR_ICON = frozenset({"icons", "icon", "flags", "social", "emoji", "emojis", "pictograms", "piktogramme"})
_DIR_LOGO = frozenset({"logos", "logo"})
_THEME_PATH = re.compile(
    r"/(?:wp-content/themes|sites/all/themes|themes|typo3conf/ext|_assets|\+\+theme\+\+|\+\+resource\+\+|"
    r"static/(?:img|images)|assets/(?:img|images)/(?:layout|design|icons|ui))/",
    re.IGNORECASE,
)
_ALT_GROUP = re.compile(
    r"gruppenfoto|gruppenbild|group\s*(?:photo|picture|shot)|team\s*(?:photo|foto|picture|bild)|teamfoto|"
    r"\bdas team\b|\bour team\b|\bunser team\b|v\.\s?l\.\s?n\.\s?r|von links|from left|\bl\.\s?to\s?r\b",
    re.IGNORECASE,
)
_ALT_BUILDING = re.compile(r"gebäude|gebaeude|\bbuilding\b|\bcampus\b|außenansicht|hörsaal|lageplan", re.IGNORECASE)
_ALT_ICON = frozenset("e-mail email mail telefon phone tel fax vcard v-card twitter linkedin xing facebook "
                      "instagram youtube orcid researchgate github rss pdf icon print drucken home search "
                      "suche kontakt contact homepage website www".split())
_ALT_PLACEHOLDER = re.compile(r"kein (?:bild|foto)|no (?:photo|image|picture)|platzhalter|placeholder|"
                              r"kein profilbild|default avatar", re.IGNORECASE)
_SOCIAL_HOSTS = ("twitter.com", "x.com", "facebook.com", "linkedin.com", "xing.com", "instagram.com",
                 "youtube.com", "orcid.org", "researchgate.net", "github.com", "scholar.google", "mastodon",
                 "bsky.app", "gitlab.com", "dblp.org", "scopus.com", "webofscience")
_DIM_IN_NAME = re.compile(r"(?:^|[_\-.])(\d{1,3})x(\d{1,3})(?:$|[_\-.])")
_NUM = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class ImageCandidate:
    element: object  # the element that marks the photo's position (img, picture or styled element)
    url: str | None  # absolute URL finally chosen (may be a data: URI)
    alt: str = ""
    title: str = ""
    reason: str | None = None  # decoy reason; None when acceptable as a portrait
    source: str = "img"  # img | picture | background
    tiny: bool = False  # declared width/height below 40px

    @property
    def is_slot(self) -> bool:
        return self.reason in SLOT_REASONS and not self.tiny


# --------------------------------------------------------------------------- URL choice
def parse_srcset(value: str | None) -> list[tuple[str, float, str]]:
    """[(url, size, kind)] from a srcset value; kind is 'w', 'x' or '' (no descriptor = 1x)."""
    out: list[tuple[str, float, str]] = []
    if not value:
        return out
    s = value.strip()
    i, n = 0, len(s)
    while i < n:
        while i < n and (s[i].isspace() or s[i] == ","):
            i += 1
        if i >= n:
            break
        j = i
        while j < n and not s[j].isspace():
            j += 1
        url = s[i:j]
        desc = ""
        if url.endswith(","):
            url = url.rstrip(",")
            i = j
        else:
            k = s.find(",", j)
            if k == -1:
                k = n
            desc = s[j:k].strip()
            i = k + 1
        if not url:
            continue
        size, kind = 1.0, ""
        d = desc.lower().split()
        for part in d:
            m = _NUM.match(part)
            if m and part.endswith("w"):
                size, kind = float(m.group(0)), "w"
            elif m and part.endswith("x"):
                size, kind = float(m.group(0)), "x"
        out.append((url, size, kind))
    return out


def background_urls(style: str | None) -> list[str]:
    if not style or "url(" not in style.lower():
        return []
    return [m.group(2).strip() for m in _URL_IN_CSS.finditer(style) if m.group(2).strip()]


def _is_spacer_url(raw: str) -> bool:
    if raw.lower().startswith("data:"):
        return True
    toks, joined = _basename_tokens(raw)
    if toks and all(t in _SPACER or t.isdigit() for t in toks):
        return True
    return "placeholder" in joined or "lazy" in joined and len(joined) < 20


def best_image_url(el, sources: list | None = None) -> tuple[str | None, bool]:
    """(raw URL, has_lazy) of the image an <img> (plus optional <source>s) really shows.

    Candidates from srcset-like attributes (of the <img> and of <picture> <source>s), lazy attributes
    (data-src, data-lazy-src, data-original, ...) and src are compared by estimated pixel width
    (w descriptor; x descriptor or none times the declared width); the largest wins, ties go to the
    <img>'s own candidates. Placeholder src values (blank.gif, spacer, data: URIs) are ignored when
    a real candidate exists.
    """
    get = el.get
    src = (get("src") or "").strip()
    declared = _dim(get("width"))
    lazy = None
    for attr in LAZY_ATTRS:
        v = (get(attr) or "").strip()
        if v and not _is_spacer_url(v) and not v.startswith("{"):
            lazy = v
            break
    has_lazy = bool(lazy) or any(get(a) for a in SRCSET_ATTRS[:3])
    base_src = lazy or (src if src and not _is_spacer_url(src) else None)
    own: list[tuple[str, float, str]] = []
    for attr in SRCSET_ATTRS:
        own.extend(parse_srcset(get(attr)))
    if base_src:
        own.append((base_src, 1.0, ""))
    from_sources: list[tuple[str, float, str]] = []
    for s_el in sources or ():
        media = (s_el.get("media") or "").lower()
        # without descriptors, a desktop source (min-width) is the larger rendition, a mobile one smaller
        factor = 2.0 if "min-width" in media else 0.5 if "max-width" in media else 1.0
        for attr in SRCSET_ATTRS:
            from_sources.extend((u, sz * factor if k != "w" else sz, k) for u, sz, k in parse_srcset(s_el.get(attr)))
        if not any(s_el.get(a) for a in SRCSET_ATTRS) and s_el.get("src"):
            from_sources.append((s_el.get("src").strip(), factor, ""))
    ranked = []  # (estimated width, priority, index, url); higher is better
    for prio, group in ((1, own), (0, from_sources)):
        for i, (url, size, kind) in enumerate(group):
            if _is_spacer_url(url):
                continue
            if kind == "w":
                width = size
            elif declared:
                width = size * declared
            else:
                width = size * 0.001  # unknown: below any w-described candidate, ordered by density
            ranked.append((width, prio, -i if prio == 0 else 0, url))
    if ranked:
        best = max(ranked, key=lambda r: (r[0], r[1], r[2]))
        return best[3], has_lazy or len(ranked) > 1
    # src missing or a placeholder: any other data-* attribute holding an image URL
    for name, value in el.attrib.items():
        if name.startswith("data-") and value and _IMAGE_EXT.search(value.strip()) and not _is_spacer_url(value):
            return value.strip(), True
    return (src or None), False


# --------------------------------------------------------------------------- decoy rules
def _basename_tokens(url: str) -> tuple[list[str], str]:
    if url.lower().startswith("data:"):
        return [], ""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        path = url
    base = path.rstrip("/").rsplit("/", 1)[-1].lower()
    base = re.sub(r"\.[a-z0-9]{2,5}$", "", base)
    if base.startswith("csm_"):
        base = base[4:]
    # TYPO3 processed-file hash suffix "_3c4f5d6e7a"
    base = re.sub(r"_[0-9a-f]{10}$", "", base)
    toks = [t for t in _SPLIT.split(base) if t]
    return toks, "".join(toks)


def _dir_tokens(url: str) -> list[str]:
    try:
        path = unquote(urlsplit(url).path).lower()
    except ValueError:
        return []
    return [p for p in path.split("/")[:-1] if p]


def classify_url(url: str | None) -> str | None:
    """Reason from the URL alone (logo, icon, sprite, spacer, placeholder, svg, data_uri, tiny, ...)."""
    if not url:
        return "no_url"
    low = url.lower()
    if low.startswith("data:"):
        return "data_uri"
    toks, joined = _basename_tokens(url)
    tokset = set(toks)
    dirs = _dir_tokens(url)
    if tokset & _LOGO_TOKENS or any(t.startswith("logo") and len(t) <= 7 or t.endswith("logo") for t in toks):
        return "logo"
    if any(d in _DIR_LOGO for d in dirs):
        return "logo"
    if tokset & _ICON_TOKENS or any(t.startswith("icon") or t.startswith("ico") and len(t) <= 5 for t in toks):
        return "icon"
    if toks and all(t in _LANG_CODES for t in toks):
        return "icon"  # language flags
    if any(d in _DIR_ICON for d in dirs):
        return "icon"
    if tokset & _SPRITE_TOKENS or "sprite" in joined:
        return "sprite"
    if toks and all(t in _SPACER or t.isdigit() for t in toks) and re.search(r"\.(?:gif|png)$", low.split("?")[0]):
        return "spacer"
    if any(s in joined for s in _PLACEHOLDER_SUBSTR) or tokset & _PLACEHOLDER_TOKENS:
        return "placeholder"
    if low.split("?")[0].split("#")[0].endswith(".svg") or ".svg?" in low:
        return "svg"
    m = _DIM_IN_NAME.search("_".join(toks))
    if m and (int(m.group(1)) < 40 or int(m.group(2)) < 40):
        return "tiny"
    if tokset & _BANNER_TOKENS:
        return "banner"
    words = [t for t in toks if not t.isdigit()]
    if any(s in joined for s in _GROUP_SUBSTR) or (tokset & _GROUP_TOKENS and all(t in _GROUP_FILLER for t in words)):
        return "group_photo"
    if any(s in joined for s in _BUILDING_SUBSTR) or tokset & _BUILDING_TOKENS:
        return "building"
    if _THEME_PATH.search(urlsplit(url).path if "://" in url else url):
        return "placeholder"  # a design asset of the site's theme used where a portrait would be
    return None


def _dim(value: str | None) -> int | None:
    if not value:
        return None
    v = value.strip().lower()
    if v.endswith("%"):
        return None
    m = re.match(r"(\d+)", v)
    return int(m.group(1)) if m else None


def _declared_tiny(el) -> bool:
    for attr in ("width", "height"):
        d = _dim(el.get(attr))
        if d is not None and d < 40:
            return True
    style = (el.get("style") or "").lower()
    if style:
        for prop in ("width", "height"):
            m = re.search(r"(?:^|[;\s])" + prop + r"\s*:\s*(\d+)px", style)
            if m and int(m.group(1)) < 40:
                return True
    return False


_PRIORITY = ("data_uri", "logo", "icon", "sprite", "layout_chrome", "spacer", "placeholder", "svg", "tiny",
             "hover", "banner", "group_photo", "building", "news", "no_url")
_SECONDARY_CLASS = re.compile(r"(?:^|[-_\s])(?:hover|flip|back|secondary|alternate|on-hover|img-hover|"
                              r"d-none|hidden|invisible)(?:$|[-_\s])")


def _is_secondary(el) -> bool:
    """A second image of the same entry shown on hover / hidden (not a separate person)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or el.get("hidden") is not None:
        return True
    return bool(_SECONDARY_CLASS.search((el.get("class") or "").lower()))


def _context_reasons(doc: Doc, el, alt: str, title: str) -> set[str]:
    """Reasons from the element and its surroundings (chrome, logo/icon containers, mail links, alt)."""
    reasons: set[str] = set()
    if doc.chrome.get(el):
        reasons.add("layout_chrome")
    if doc.news.get(el):
        reasons.add("news")
    own = list(class_tokens(el))
    anc = el.getparent()
    hops = 0
    link_href = None
    while anc is not None and hops < 3:
        if tag_of(anc) == "a" and link_href is None:
            link_href = (anc.get("href") or "").strip().lower()
        own.extend(class_tokens(anc))
        anc = anc.getparent()
        hops += 1
    flat = " ".join(own)
    if re.search(r"(?:^|[\s_-])(?:logo|logos|brand|wappen)(?:$|[\s_-])", flat):
        reasons.add("logo")
    if link_href:
        if link_href.startswith(("mailto:", "tel:", "fax:", "callto:")) or link_href.endswith(".vcf"):
            reasons.add("icon")
        elif any(h in link_href for h in _SOCIAL_HOSTS):
            reasons.add("icon")
    if re.search(r"(?:^|\s)(?:icon|icons|fa|social|social-links|share|sprite)(?:$|\s|-)", " ".join(class_tokens(el))):
        reasons.add("icon")
    low_alt = normalize_space(alt).lower()
    if low_alt:
        if re.search(r"\blogo\b|\bwappen\b", low_alt):
            reasons.add("logo")
        if low_alt.strip(" :.") in _ALT_ICON:
            reasons.add("icon")
        if _ALT_PLACEHOLDER.search(low_alt):
            reasons.add("placeholder")
        if _ALT_GROUP.search(low_alt):
            reasons.add("group_photo")
        if _ALT_BUILDING.search(low_alt):
            reasons.add("building")
    if title and _ALT_GROUP.search(title):
        reasons.add("group_photo")
    return reasons


def _make(doc: Doc, anchor, img, raw: str | None, has_lazy: bool, source: str) -> ImageCandidate:
    holder = img if img is not None else anchor
    alt = normalize_space(img.get("alt")) if img is not None else normalize_space(anchor.get("aria-label"))
    title = normalize_space(holder.get("title"))
    url = doc.resolve(raw) if raw else None
    cand = ImageCandidate(element=anchor, url=url, alt=alt, title=title, source=source)
    reasons = _context_reasons(doc, anchor, alt, title)
    if url is None:
        reasons.add("no_url")
    else:
        r = classify_url(url)
        if r:
            reasons.add(r)
    cand.tiny = _declared_tiny(holder)
    if _is_secondary(holder):
        reasons.add("hover")
    if cand.tiny:
        reasons.add("tiny")
    cand.reason = next((r for r in _PRIORITY if r in reasons), None)
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
            if (raw is None or _is_spacer_url(raw)) and not has_lazy:
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
                    if _IMAGE_EXT.search(v) or "@@images" in v or "/image" in v.lower():
                        raw = v
                        break
        if raw is None or el in img_holders or _inside(el, ("template", "svg", "noscript")):
            continue
        cand = _make(doc, el, None, raw, False, "background")
        if cand.reason is None:
            toks = class_tokens(el)
            if "background-position" in (style or "").lower() and "center" not in (style or "").lower():
                cand.reason = "sprite"
            elif any(t in _BANNER_TOKENS or t.startswith(("hero", "banner", "slider", "stage", "header"))
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
