"""Which URL an image element really shows: srcset/picture candidates, lazy attributes, CSS backgrounds."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = [
    "parse_srcset", "background_urls", "best_image_url", "is_spacer_url", "basename_tokens", "dim",
    "SPACER_TOKENS", "SRCSET_ATTRS", "LAZY_ATTRS", "BG_ATTRS", "IMAGE_EXT", "content_fingerprint",
    "looks_like_spacer_name",
]

SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "data-original-set", "srcset")

LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-url",
              "data-img", "data-image", "data-hi-res", "data-hires", "data-retina", "lazy-src", "data-lazyload")

BG_ATTRS = ("data-bg", "data-background", "data-background-image", "data-bg-src", "data-bg-image", "data-bgset")

IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|tiff?|svg|jfif|heic)(?:$|[?#])", re.IGNORECASE)

_URL_IN_CSS = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)

_SPLIT = re.compile(r"[^a-z0-9äöüß]+")

SPACER_TOKENS = frozenset("blank spacer pixel transparent 1x1 clear empty leer trans px lazy loading loader "
                          "s spc shim".split())

_NUM = re.compile(r"\d+(?:\.\d+)?")


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


def basename_tokens(url: str) -> tuple[list[str], str]:
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


def looks_like_spacer_name(toks: list[str], path: str) -> bool:
    """blank.gif, 1x1.png, spacer_2.gif, 0.gif: spacer words (and numbers), or a one- or two-digit
    GIF. A longer number is an ID ("/u/21259611", "people/3.png" is a photo), not a spacer."""
    if not toks:
        return False
    if any(t in SPACER_TOKENS for t in toks):
        return all(t in SPACER_TOKENS or t.isdigit() for t in toks)
    return len(toks) == 1 and toks[0].isdigit() and len(toks[0]) <= 2 and path.lower().endswith(".gif")


def is_spacer_url(raw: str) -> bool:
    if raw.lower().startswith("data:"):
        return True
    toks, joined = basename_tokens(raw)
    if looks_like_spacer_name(toks, raw.split("?")[0].split("#")[0]):
        return True
    return "placeholder" in joined or "lazy" in joined and len(joined) < 20


def dim(value: str | None) -> int | None:
    if not value:
        return None
    v = value.strip().lower()
    if v.endswith("%"):
        return None
    m = re.match(r"(\d+)", v)
    return int(m.group(1)) if m else None


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
    declared = dim(get("width"))
    lazy = None
    for attr in LAZY_ATTRS:
        v = (get(attr) or "").strip()
        if v and not is_spacer_url(v) and not v.startswith("{"):
            lazy = v
            break
    has_lazy = bool(lazy) or any(get(a) for a in SRCSET_ATTRS[:3])
    base_src = lazy or (src if src and not is_spacer_url(src) else None)
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
            if is_spacer_url(url):
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
        if name.startswith("data-") and value and IMAGE_EXT.search(value.strip()) and not is_spacer_url(value):
            return value.strip(), True
    return (src or None), False


# Static-site generators name processed images after a hash of the source image: Hugo writes
# "avatar_hu<md5 of the source>_<bytes>_270x270_fill...jpg" into every author's folder. One such
# fingerprint under several people's URLs is one picture (a default avatar copied per person).
_FINGERPRINT = re.compile(r"(?:^|[_\-.])hu([0-9a-f]{32})_(\d+)(?=[_\-.])", re.IGNORECASE)


def file_name(url: str | None) -> str | None:
    """The decoded last path segment of an image URL; None for data: URIs and broken URLs."""
    if not url or url.startswith("data:"):
        return None
    try:
        return unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    except ValueError:
        return None


def content_fingerprint(url: str | None) -> str | None:
    """The source-image hash a URL's file name carries (Hugo image processing), or None."""
    base = file_name(url)
    if base is None:
        return None
    m = _FINGERPRINT.search(base)
    return f"{m.group(1).lower()}_{m.group(2)}" if m else None
