"""Bad-input fuzzing (hypothesis): the staff-page extractor and the image loaders never crash and
always give a reason.

Targets and their contracts:

- ``spiders.extract.extract_page`` / ``extract_detail`` (what the spider calls on every fetched page):
  a ``PageResult`` (``Person`` or None) for any text; every name is a non-empty, whitespace-normalised
  string without markup, every photo/detail/next-page URL an absolute http(s) URL with a host, no two
  people share a name key or a photo, skip reasons come from the documented set, and there are no more
  photo entries than photo candidates (nor name-only entries than links) on the page.
- ``ml.images.decode_rgb``: never raises; a ``Decoded`` with an RGB image of the size the header
  declared (within the limits, possibly DCT-downscaled or EXIF-rotated) or a reason from
  ``DECODE_REASONS`` with a detail.
- ``spiders.pipelines.validate.inspect_image``: the size and type of an accepted image, or
  ``RejectedImage`` with one of its reasons; nothing else is raised.
- ``ml.crop.FaceCropper.crop``: a ``CropOutcome`` with a crop or a reason from ``REASONS``.

Runs are deterministic (``derandomize=True``, no example database) so CI sees the same examples
every time; found regressions are pinned with ``@example``.
"""
from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from PIL import Image
from w3lib.encoding import html_to_unicode

from ml.images import DECODE_REASONS, Decoded, decode_rgb, to_rgb
from spiders.extract import PageResult, Person, Selectors, extract_detail, extract_page, name_key
from spiders.extract.decoys import PRIORITY
from spiders.extract.dom import Doc, is_page_link, strip_fragment
from spiders.extract.evaluate import read_html
from spiders.extract.images import collect_candidates
from spiders.extract.names import normalize_space
from spiders.pipelines.validate import FORMATS, RejectedImage, inspect_image
from tests.conftest import require_shared_data

# Garbage input makes Pillow warn (corrupt EXIF, truncated tags, huge sizes): expected here, not news.
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")]

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
PAGE_URL = "https://www.uni.example/institut/team/"


def fuzz(n: int, **kw) -> settings:
    """Deterministic, database-less settings with *n* examples (no per-example deadline: CI is slow)."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=False, **kw)


# ============================================================================ HTML extractor
# Skip reasons documented in spiders/extract/__init__.py (photo decoys + entry reasons).
SKIP_REASONS = frozenset(PRIORITY) | {"no_name", "ambiguous", "low_confidence", "not_people", "name_list"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _assert_http_url(url, what: str) -> None:
    assert isinstance(url, str), (what, url)
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https"), (what, url)
    assert parts.hostname, (what, url)
    parts.port  # noqa: B018 - raises ValueError for a port that is no number / out of range


def _assert_name(name) -> None:
    assert isinstance(name, str) and name, name
    assert name == normalize_space(name), name  # whitespace-normalised
    assert "<" not in name and ">" not in name, name  # no markup
    assert not _CONTROL.search(name), name
    assert name_key(name), name


def check_person(p) -> None:
    assert isinstance(p, Person)
    _assert_name(p.name)
    if p.photo_url is not None:
        _assert_http_url(p.photo_url, "photo_url")
    if p.detail_url is not None:
        _assert_http_url(p.detail_url, "detail_url")


def check_page(result, html: str, url: str, generic: bool = True) -> None:
    """The PageResult contract (see the module docstring)."""
    assert isinstance(result, PageResult)
    assert isinstance(result.people, list) and isinstance(result.next_pages, list)
    assert isinstance(result.has_scripts, bool)
    assert isinstance(result.skipped, Counter)
    for reason, count in result.skipped.items():
        assert reason in SKIP_REASONS, reason
        assert isinstance(count, int) and count > 0, (reason, count)
    keys, photos = set(), set()
    for p in result.people:
        check_person(p)
        # an entry is worth something: a photo to fetch or a page to follow
        assert p.photo_url or p.detail_url, p
        key = name_key(p.name)
        assert key not in keys, ("same person twice", p)
        keys.add(key)
        if p.photo_url:
            photo = strip_fragment(p.photo_url)
            assert photo not in photos, ("one photo for two people", p)
            photos.add(photo)
        if generic and p.detail_url:
            assert is_page_link(p.detail_url, url), p  # another page of the same site
    here = strip_fragment(url)
    assert len(set(result.next_pages)) == len(result.next_pages)
    for nxt in result.next_pages:
        _assert_http_url(nxt, "next_page")
        assert nxt == strip_fragment(nxt) and nxt != here, nxt
    # bounded: no more photo entries than photo candidates, no more photo-less ones than links
    doc = Doc(html, url)
    with_photo = sum(1 for p in result.people if p.photo_url)
    assert with_photo <= len(collect_candidates(doc))
    if generic:
        assert len(result.people) - with_photo <= sum(1 for _ in doc.root.iter("a"))


def check_detail(person, url: str) -> None:
    assert person is None or isinstance(person, Person)
    if person is not None:
        check_person(person)
        assert person.photo_url, person


def run_extractors(html: str, url: str = PAGE_URL, expected: str | None = None) -> PageResult:
    result = extract_page(html, url)
    check_page(result, html, url)
    check_detail(extract_detail(html, url, expected), url)
    return result


# ---------------------------------------------------------------------------- strategies
_FIRST = ["Anna", "Ben", "Carla", "Jörg", "Zoë", "Łukasz", "José", "Mei", "O'Brien", "Hans-Peter", "Ana-María",
          "Ümit"]
_LAST = ["Schulz", "Okafor", "Díaz", "Müller-Lüdenscheidt", "von Weizsäcker", "McDonald", "d'Alembert", "Nguyễn",
         "al-Hassan", "Smith"]
_TITLES = ["", "Prof.", "Dr.", "Prof. Dr.", "Dr.-Ing.", "Jun.-Prof. Dr.", "PD Dr. habil.", "Dipl.-Inf.", "M.Sc.",
           "Ph.D.", "Herr", "Frau"]
_WEIRD_TEXT = ["&amp;", "&nbsp;", "&#0;", "&#x110000;", "&#xD800;", "&#55296;", "&bogus;", "&lt;b&gt;", "\x00",
               "\u200b", "\ufeff", "\u00ad", "\u202e", "\r\n", "\t", "   ", "<!-- c -->", "<![CDATA[x]]>",
               "<?php echo 1; ?>", "]]>", "-->", "\x0c", "\x1b", "🙂", "a" * 300, "Anna " * 40, "Lehrstuhl",
               "Sekretariat:", "Team", "Mehr", "Profil", "»", "weiter", "12.03.2024", "Prof. Dr.", "Name:",
               "E-Mail: a@b.de", "Anna Schulz, Ben Okafor und Carla Díaz"]

_URLS = ["img/a.jpg", "/fotos/anna.jpg", "b.png", "../../p/c.webp", "./x/../y.jpeg", "//cdn.example.org/p/d.jpg",
         "http://other.example/e.jpg", "https://www.uni.example/f.jpg?w=300&h=300#crop", "fotos/Müller Jörg.jpg",
         "fotos/%zz%.jpg", "javascript:alert(1)", "JaVaScRiPt:void(0)", "data:image/png;base64,iVBORw0KGgo=",
         "data:,", "mailto:anna@uni.example", "tel:+49", "#", "#top", "", " ", "\x00.jpg", "about:blank",
         "ftp://files.example/a.jpg", "http:///x.jpg", "http://[::1/x.jpg", "http://[x", "https://x:abc/a.jpg",
         "https://x:99999/a.jpg", "//", "///a.jpg", "http://", "https:a.jpg", "{{ photo.url }}", "${img}",
         "url('g.jpg')", "/logo.png", "/icons/mail.svg", "/layout/blank.gif", "/img/placeholder.jpg",
         "/img/team-photo.jpg", "/portrait_30x30.jpg", "x" * 3000 + ".jpg", "a.jpg 300w, b.jpg 600w",
         "a b c.jpg", "\\\\server\\share\\a.jpg", "C:\\fotos\\a.jpg", "http://münchen.example/ä.jpg",
         "https://xn--mnchen-3ya.example/a.jpg", "HTTP://WWW.UNI.EXAMPLE/A.JPG", "/team/anna/", "/team/?page=2",
         "/team/seite/3/", "https://elsewhere.example/people/ben"]


def _txt(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


real_names = st.one_of(
    st.builds(lambda t, f, l: " ".join(x for x in (t, f, l) if x), st.sampled_from(_TITLES),
              st.sampled_from(_FIRST), st.sampled_from(_LAST)),
    st.builds(lambda l, f, t: f"{l}, {f}{t}", st.sampled_from(_LAST), st.sampled_from(_FIRST),
              st.sampled_from(["", ", M.Sc.", " (Sekretariat)", " – Lehrstuhlinhaberin"])),
)
names = st.one_of(real_names, st.sampled_from(_WEIRD_TEXT), _txt())
# scheme x authority x path: most combinations are odd (no host, bad port, broken IPv6, relative)
built_urls = st.builds(
    lambda a, b, c: a + b + c,
    st.sampled_from(["", "", "http:", "https:", "//", "http://", "https://", "HTTPS://", "///", "javascript:",
                     "data:image/jpeg,", "ftp://", " ", "\\"]),
    st.sampled_from(["", "www.uni.example", "cdn.example.org", "[::1]", "[::1", "[x", "x:abc", "x:99999", ":443",
                     "münchen.example", "user:pw@host", "h\x00st", "..", "%41.example"]),
    st.sampled_from(["", "/", "/a.jpg", "a.jpg", "/fotos/Müller Jörg.jpg", "/%zz.jpg", "?x=1#f", "#x", "/logo.png",
                     "/team/anna/", "/../../b.webp", ":8080/c.png"]),
)
urls = st.one_of(st.sampled_from(_URLS), built_urls, _txt(60))
_CLASSES = ["card", "person", "team-member", "staff", "profile", "vcard", "name", "fn", "card-title", "photo",
            "logo", "icon", "hidden", "modal", "sr-only", "news", "teaser", "header", "footer", "nav", "slider",
            "hover", "d-none", "grid", "row", "col", "image", "portrait"]
attr_names = st.sampled_from(["class", "id", "src", "srcset", "data-src", "data-srcset", "data-lazy-src",
                              "data-original", "data-bg", "style", "href", "alt", "title", "width", "height",
                              "rel", "itemprop", "role", "aria-hidden", "aria-label", "hidden", "media", "type",
                              "loading", "onerror", "x\x00y", "1bad", "data-"])


@st.composite
def attr_values(draw, name: str) -> str:
    if name in ("src", "data-src", "data-lazy-src", "data-original", "href", "data-bg"):
        return draw(urls)
    if name in ("srcset", "data-srcset"):
        parts = draw(st.lists(st.tuples(urls, st.sampled_from(["", " 1x", " 2x", " 300w", " 1.5x", " abcw", " 9e99w"])),
                              max_size=4))
        return ", ".join(u + d for u, d in parts)
    if name == "style":
        return draw(st.sampled_from(["background-image:url({})", "background: url('{}') center",
                                     "background-image:url(\"{}\"); width:20px", "display:none; {}",
                                     "width: 30px; height:30px", "url({}", "{}"])).format(draw(urls))
    if name == "class":
        return " ".join(draw(st.lists(st.sampled_from(_CLASSES), max_size=3)))
    if name in ("width", "height"):
        return draw(st.sampled_from(["", "0", "20", "120", "100%", "-5", "1e9", "x", "9" * 40]))
    if name in ("alt", "title", "aria-label"):
        return draw(st.one_of(names, st.sampled_from(["Portrait of Anna Schulz", "Foto: Ben Okafor", "Logo",
                                                      "anna-schulz.jpg", "Gruppenfoto", ""])))
    return draw(st.one_of(st.sampled_from(["", "next", "name", "true", "main", "navigation"]), _txt(20),
                          st.just("A" * 20000)))


@st.composite
def attrs(draw) -> str:
    out = []
    for name in draw(st.lists(attr_names, max_size=3)):
        value = draw(attr_values(name))
        quote = draw(st.sampled_from(['"', "'", "", "'"]))
        if quote:
            out.append(f" {name}={quote}{value.replace(quote, '&quot;' if quote == chr(34) else '&#39;')}{quote}")
        else:
            out.append(f" {name}={value.replace(' ', '%20') or 'x'}")
    if draw(st.booleans()):
        out.append(draw(st.sampled_from([" =", " \"", " '", " <", " /", " class", " src="])))  # broken attribute
    return "".join(out)


_CONTAINERS = ["div", "div", "section", "article", "main", "ul", "ol", "li", "dl", "dt", "dd", "table", "tbody",
               "tr", "td", "th", "figure", "figcaption", "picture", "a", "p", "span", "h2", "h3", "strong", "b",
               "header", "footer", "nav", "noscript", "template", "svg", "font", "center", "label", "button",
               "form", "select", "option", "source", "blink", "x-card", "html", "body", "head", "title", "script",
               "style", "textarea", "iframe", "math"]

leaves = st.one_of(
    names,
    st.builds(lambda a, c: f"<img{a}{c}>", attrs(), st.sampled_from(["", "/", " /", "</img>"])),
    st.builds(lambda a: f"<source{a}>", attrs()),
    st.builds(lambda a, n: f"<a{a}>{n}</a>", attrs(), names),
    st.sampled_from(["<br>", "<br/>", "</br>", "<hr>", "<p>", "</p>", "</div>", "</td>", "</tr></table>", "<li>",
                     "<dt>", "<dd>", "<", ">", "</", "<!", "<!--", "<!DOCTYPE html>", "<meta charset=latin-1>",
                     "<base href='https://cdn.example/'>", "<base href='http://[x'>", "<base href=javascript:x>",
                     "<link rel=next href=/team/?page=2>", "<a rel=next href='http://[::1'>next</a>",
                     "<script>document.write('<img src=x.jpg>')</script>", "<style>.a{background:url(a.jpg)}</style>",
                     "<input type=image src=a.jpg>", "<time>2024</time>", "\x00", "&"]),
)


def _element(children: list[str], tag: str, attributes: str, close: str) -> str:
    end = {"close": f"</{tag}>", "open": "", "wrong": "</div>", "upper": f"</{tag.upper()}>",
           "stray": f"</{tag}></{tag}>"}[close]
    return f"<{tag}{attributes}>{''.join(children)}{end}"


markup = st.recursive(
    leaves,
    lambda inner: st.builds(_element, st.lists(inner, max_size=5), st.sampled_from(_CONTAINERS), attrs(),
                            st.sampled_from(["close", "close", "close", "open", "wrong", "upper", "stray"])),
    max_leaves=15,
)


@st.composite
def staff_pages(draw) -> str:
    body = "".join(draw(st.lists(markup, min_size=1, max_size=3)))
    frame = draw(st.sampled_from(["{}", "<html><body>{}</body></html>",
                                  "<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
                                  "<body><main>{}</main></body></html>",
                                  "<html><body><div class='grid'>{0}{0}</div></body></html>", "<body>{}", "{}</html>"]))
    return frame.format(body)


# Staff-page entries as real sites write them (cards, table rows, lists, definition lists, figures,
# background portraits, <picture>), with fuzzed names/URLs/attributes, then broken: closing tags
# dropped or swapped, junk spliced in.
_ENTRY_TEMPLATES = {
    "div": ["<div class='{cls}'>{img}<h3>{name}</h3><p>{role}</p></div>",
            "<div class='{cls}'><a href='{href}'>{img}</a><div class='name'><a href='{href}'>{name}</a></div></div>",
            "<div class='{cls}' style='background-image:url({url})'><span class='name'>{name}</span></div>",
            "<div class='{cls}'><a href='{href}'><picture><source srcset='{url} 800w'>{img}</picture>{name}</a></div>",
            "<div class='{cls}'><figure>{img}<figcaption>{name}</figcaption></figure></div>"],
    "table": ["<tr><td>{img}</td><td><a href='{href}'>{name}</a><br>{role}</td></tr>",
              "<tr><td>{img}<br><b>{name}</b></td></tr>"],
    "ul": ["<li>{img}<strong>{name}</strong><br>{role}</li>", "<li><a href='{href}'>{name}</a> – {role}</li>"],
    "dl": ["<dt>{img}</dt><dd>{name}</dd>", "<dt>{name}</dt><dd>{img}{role}</dd>"],
}
_WRAPPERS = {"div": "<main><div class='grid team'>{}</div></main>", "table": "<table class='staff'>{}</table>",
             "ul": "<ul class='people'>{}</ul>", "dl": "<dl>{}</dl>"}
_IMG_ATTRS = ["src", "src", "data-src", "data-lazy-src", "srcset", "data-srcset", "style"]


@st.composite
def portrait(draw) -> str:
    attr, url = draw(st.sampled_from(_IMG_ATTRS)), draw(urls)
    if attr == "style":
        first = f" style='background-image:url({url})'"
    elif attr.endswith("srcset"):
        first = f" {attr}='{url} 1x, {draw(urls)} 2x'"
    else:
        first = f" {attr}='{url}'"
    return f"<img{first}{draw(attrs())}>"


@st.composite
def entry_pages(draw) -> str:
    kind = draw(st.sampled_from(sorted(_ENTRY_TEMPLATES)))
    entries = []
    for _ in range(draw(st.integers(1, 5))):
        entries.append(draw(st.sampled_from(_ENTRY_TEMPLATES[kind])).format(
            cls=" ".join(draw(st.lists(st.sampled_from(_CLASSES), min_size=1, max_size=2))),
            img=draw(portrait()), name=draw(st.one_of(real_names, real_names, names)),
            href=draw(urls).replace("'", "%27"),
            url=draw(urls).replace("'", "%27").replace(")", "%29"),
            role=draw(st.sampled_from(["Professor", "Sekretariat", "Doktorand", "", "E-Mail: a@b.de", "12.03.2024"]))))
    html = _WRAPPERS[kind].format("".join(entries))
    for _ in range(draw(st.integers(0, 4))):  # break it
        op = draw(st.sampled_from(["drop_close", "swap_close", "splice", "cut"]))
        closes = [m.span() for m in re.finditer(r"</[a-z0-9]+>", html)]
        if op == "drop_close" and closes:
            a, b = draw(st.sampled_from(closes))
            html = html[:a] + html[b:]
        elif op == "swap_close" and len(closes) >= 2:
            (a, b), (c, d) = sorted(draw(st.lists(st.sampled_from(closes), min_size=2, max_size=2, unique=True)))
            html = html[:a] + html[c:d] + html[b:c] + html[a:b] + html[d:]
        elif op == "splice":
            i = draw(st.integers(0, len(html)))
            html = html[:i] + draw(leaves) + html[i:]
        elif op == "cut":
            html = html[: draw(st.integers(len(html) // 2, len(html)))]
    head = draw(st.sampled_from(["", "<meta charset='utf-8'>", "<base href='https://cdn.example/site/'>",
                                 "<base href='http://[x'>", "<base href=''>", "<link rel=next href='?page=2'>"]))
    return f"<!DOCTYPE html><html><head>{head}</head><body>{html}</body></html>"


page_urls = st.sampled_from([PAGE_URL, "http://uni.example", "https://www.uni.example/team/index.php?id=7#x",
                             "https://xn--mnchen-3ya.example:8443/a/b", "https://uni.example/personen/seite/2/"])


# ---------------------------------------------------------------------------- tests
@fuzz(300)
@given(text=st.text(max_size=3000), url=page_urls)
@example(text="<base href='http://[x'><img src='a.jpg'><h3>Anna Schulz</h3>", url=PAGE_URL)
@example(text="<div class=card><img src='http:///x.jpg'><h3>Anna Schulz</h3></div>", url=PAGE_URL)
@example(text="<a rel=next href='http://x:abc/'>next</a><a rel=next href='https://:443/'>n</a>", url=PAGE_URL)
def test_extract_arbitrary_text(text, url):
    run_extractors(text, url)


@fuzz(200)
@given(raw=st.binary(max_size=3000),
       content_type=st.sampled_from([None, b"text/html", b"text/html; charset=utf-8", b"text/html; charset=latin-1",
                                     b"text/html; charset=utf-16", b"text/html; charset=shift_jis",
                                     b"text/html; charset=bogus"]),
       prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<meta charset='utf-16'>",
                               b"<?xml version='1.0' encoding='koi8-r'?>", b"<html><body><img src=a.jpg><h3>"]))
def test_extract_arbitrary_bytes_decoded_as_a_page(raw, content_type, prefix):
    # the way Scrapy's response.text decodes a body (header, BOM, <meta> charset)
    _, text = html_to_unicode(content_type and content_type.decode(), prefix + raw)
    run_extractors(text)


@fuzz(150, suppress_health_check=[HealthCheck.too_slow])  # nested documents take a while to generate
@given(html=staff_pages(), url=page_urls, expected=st.none() | names)
def test_extract_malformed_staff_markup(html, url, expected):
    run_extractors(html, url, expected)


@fuzz(250)
@given(html=entry_pages(), url=page_urls, expected=st.none() | names)
def test_extract_broken_staff_entries(html, url, expected):
    run_extractors(html, url, expected)


@fuzz(200)
@given(photo=portrait(), href=urls, name=real_names, other=real_names,
       template=st.sampled_from(_ENTRY_TEMPLATES["div"] + _ENTRY_TEMPLATES["ul"]), url=page_urls)
def test_extract_fuzzed_urls_in_well_formed_cards(photo, href, name, other, template, url):
    """One entry with a fuzzed photo / link URL next to a normal one: every URL that comes out is fetchable."""
    fill = dict(cls="card person", role="Professor", href=href.replace("'", "%27"),
                url=href.replace("'", "%27").replace(")", "%29"))
    first = template.format(img=photo, name=name, **fill)
    second = template.format(img="<img src='/fotos/zz-second.jpg'>", name=other, **{**fill, "href": "/team/zz"})
    wrapper = _WRAPPERS["ul" if first.startswith("<li") else "div"]
    run_extractors(f"<html><body>{wrapper.format(first + second)}</body></html>", url, name)


SELECTORS = [
    Selectors(person="div.card"),
    Selectors(person="div.card", name="h3::text", photo="img::attr(src)", detail_link="a", next_page="a[rel=next]"),
    Selectors(person="//li", name="./a", photo="./img/@data-src", detail_link="./a/@href"),
    Selectors(person="td", photo="img", name="strong"),
]


@fuzz(80, suppress_health_check=[HealthCheck.too_slow])
@given(html=st.one_of(staff_pages(), entry_pages()), sel=st.sampled_from(SELECTORS))
def test_extract_with_selectors_on_malformed_markup(html, sel):
    result = extract_page(html, PAGE_URL, sel)
    check_page(result, html, PAGE_URL, generic=False)


@lru_cache(maxsize=1)
def fixture_pages() -> list[tuple[str, str]]:
    """(url, html) of every real fixture page."""
    out = []
    for site in sorted(FIXTURES.glob("*/site.json")):
        meta = json.loads(site.read_text(encoding="utf-8"))
        base = meta.get("base_url") or PAGE_URL
        for url, filename in sorted((meta.get("pages") or {}).items()):
            out.append((urljoin(base, url), read_html(site.parent / filename)))
    assert out, "no fixture pages"
    return out


@st.composite
def mutated_fixture(draw) -> tuple[str, str]:
    url, html = draw(st.sampled_from(fixture_pages()))
    for _ in range(draw(st.integers(1, 4))):
        n = len(html)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + draw(st.sampled_from([1, 10, 200, 5000])))))
        op = draw(st.sampled_from(["truncate", "delete", "duplicate", "insert", "null", "upper", "move"]))
        if op == "truncate":
            html = html[:i]
        elif op == "delete":
            html = html[:i] + html[j:]
        elif op == "duplicate":
            html = html[:j] + html[i:j] + html[i:]
        elif op == "insert":
            html = html[:i] + draw(st.one_of(markup, st.sampled_from(_WEIRD_TEXT))) + html[i:]
        elif op == "null":
            html = html[:i] + "\x00" + html[i + 1:]
        elif op == "upper":
            html = html[:i] + html[i:j].upper() + html[j:]
        else:
            html = html[i:j] + html[:i] + html[j:]  # move a span to the front
    return url, html


@fuzz(200)
@given(page=mutated_fixture())
def test_extract_mutated_fixture_pages(page):
    url, html = page
    run_extractors(html, url)


def test_extract_unmutated_fixture_pages_meet_the_contract():
    for url, html in fixture_pages():
        run_extractors(html, url)


# ============================================================================ image loaders
INSPECT_REASONS = frozenset({"empty", "svg", "decompression_bomb", "unsupported_format", "too_small", "not_an_image",
                             "corrupt_image"})
LIMITS = dict(max_pixels=40_000_000, min_side=48)  # the project's defaults (settings IMAGE_*)
SMALL = dict(max_pixels=2_000_000, min_side=48)  # for garbage headers: a declared 6000x6000 is not allocated


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _sizes_match(image_size, source_size, scaled: bool) -> bool:
    """The decoded size is the stored one, or its 1/2..1/8 DCT scale (JPEG), maybe rotated by EXIF."""
    w, h = source_size
    for s in ((1, 2, 4, 8) if scaled else (1,)):
        dims = (-(-w // s), -(-h // s))
        if tuple(image_size) in (dims, dims[::-1]):
            return True
    return False


def check_decoded(d, *, min_side: int = 48, max_pixels: int = 40_000_000, max_side: int = 1600) -> None:
    assert isinstance(d, Decoded)
    if d.image is None:
        assert d.reason in DECODE_REASONS, d
        assert isinstance(d.detail, str) and d.detail.strip(), d
        return
    assert d.reason is None, d
    assert d.image.mode == "RGB", d
    w, h = d.source_size
    assert min(w, h) >= min_side and w * h <= max_pixels, d
    assert _sizes_match(d.image.size, d.source_size, d.format in ("JPEG", "MPO")), d
    if max(w, h) > max_side:
        assert max(d.image.size) >= max_side, d
    arr = np.asarray(d.image)
    assert arr.dtype == np.uint8 and arr.shape == (d.image.size[1], d.image.size[0], 3)


def check_inspect(data: bytes, **limits) -> str | None:
    """inspect_image's contract; returns the rejection reason or None when accepted."""
    limits = limits or LIMITS
    try:
        width, height, content_type, ext = inspect_image(data, **limits)
    except RejectedImage as exc:
        assert exc.reason in INSPECT_REASONS, exc.reason
        return exc.reason
    assert (content_type, ext) in FORMATS.values()
    assert min(width, height) >= limits["min_side"] and width * height <= limits["max_pixels"]
    return None


def check_all(data: bytes, **limits) -> tuple[Decoded, str | None]:
    limits = limits or LIMITS
    d = decode_rgb(data, **limits)
    check_decoded(d, **limits)
    return d, check_inspect(data, **limits)


@lru_cache(maxsize=1)
def corpus() -> list[bytes]:
    """Real photos and decoys (small ones) plus one LFW face re-encoded in every format a page may serve."""
    data = require_shared_data()
    lfw = sorted((data / "faces" / "lfw").glob("*/*.jpg"))[:4]
    nonface = data / "nonface"
    files = [p.read_bytes() for p in lfw]
    files += [(nonface / n).read_bytes() for n in ("default-avatar.png", "default-avatar.svg", "phantom.png",
                                                    "microaneurysms.png", "horse.png", "page.png", "rocket.jpg")
              if (nonface / n).exists()]
    face = Image.open(lfw[0]).convert("RGB").resize((96, 80))
    files += [encode(face, "PNG", optimize=True), encode(face, "PNG"),
              encode(face.convert("P"), "GIF"), encode(face, "WEBP", quality=70), encode(face, "WEBP", lossless=True),
              encode(face, "BMP"), encode(face, "TIFF"), encode(face, "TIFF", compression="tiff_lzw"),
              encode(face, "JPEG", progressive=True), encode(face.convert("L"), "JPEG"), encode(face, "ICO"),
              encode(face, "PPM"), encode(face, "JPEG2000"), encode(face.convert("RGBA"), "PNG"),
              encode(face, "MPO", save_all=True, append_images=[face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])]
    try:
        files.append(encode(face, "AVIF"))
    except Exception:  # noqa: BLE001 - AVIF encoding is missing from some Pillow builds
        pass
    return files


def draw_file(data) -> bytes:
    files = corpus()
    return files[data.draw(st.integers(0, len(files) - 1), label="corpus index")]


_MAGIC = [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb", b"\x89PNG\r\n\x1a\n",
          b"GIF87a", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\xff\xff\xff\xffWEBPVP8X", b"BM", b"II*\x00",
          b"MM\x00*", b"II+\x00", b"\x00\x00\x01\x00", b"\x00\x00\x02\x00", b"P6\n", b"P5 1 1 255\n",
          b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ", b"\x00\x00\x00\x1cftypavif", b"\x00\x00\x00\x18ftypheic",
          b"%PDF-1.4", b"%!PS-Adobe", b"<svg", b"<?xml version='1.0'?><svg", b"<!DOCTYPE html>", b"8BPS",
          b"SIMPLE  =", b"qoif", b"DDS ", b"icns", b"\x0a\x05\x01\x08", b"\x59\xa6\x6a\x95", b"\x01\xda",
          b"\xd7\xcd\xc6\x9a", b"BLP2", b"FORM", b"\x76\x2f\x31\x01", b"/* XPM */", b"#define", b"\xef\xbb\xbf"]


@fuzz(300)
@given(data=st.binary(max_size=2048))
@example(data=b"")
@example(data=b"\x00" * 64)
def test_random_bytes_get_a_reason(data):
    d, reason = check_all(data, **SMALL)
    assert d.image is None and reason is not None


@fuzz(300)
@given(magic=st.sampled_from(_MAGIC), tail=st.binary(max_size=1024))
def test_valid_magic_then_garbage_gets_a_reason(magic, tail):
    check_all(magic + tail, **SMALL)


@fuzz(250)
@given(data=st.data())
def test_truncated_real_images(data):
    blob = draw_file(data)
    cut = data.draw(st.integers(0, len(blob)), label="cut")
    d, reason = check_all(blob[:cut])
    if cut < 8:
        assert d.image is None and reason is not None


@fuzz(250)
@given(data=st.data())
def test_real_header_then_garbage_or_flipped_bytes(data):
    blob = bytearray(draw_file(data))
    if data.draw(st.booleans(), label="garbage tail"):
        keep = data.draw(st.integers(0, min(len(blob), 600)), label="keep")
        blob = blob[:keep] + data.draw(st.binary(min_size=1, max_size=2048), label="tail")
    else:
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] = data.draw(st.integers(0, 255))
    check_all(bytes(blob))


def test_corrupt_avif_header_is_rejected_with_a_reason():
    """Regression (found by fuzzing): a flipped byte in an AVIF header made Pillow's AVIF plugin raise
    RuntimeError, which inspect_image let through instead of rejecting the bytes as corrupt_image."""
    require_shared_data()
    try:
        avif = bytearray(encode(_pattern("RGB", (96, 80), 0), "AVIF"))
    except Exception:  # noqa: BLE001
        pytest.skip("no AVIF encoder in this Pillow build")
    reasons = set()
    for i in range(8, min(len(avif), 200)):
        blob = bytearray(avif)
        blob[i] = 1
        reasons.add(check_all(bytes(blob))[1])
    assert "corrupt_image" in reasons


def test_real_images_are_accepted():
    for blob in corpus():
        if blob.lstrip().startswith(b"<"):
            continue  # the SVG decoy
        d, reason = check_all(blob)
        assert d.image is not None, d
        if d.format in FORMATS:  # inspect_image stores these (ICO, PPM, JPEG 2000, AVIF: not)
            assert reason is None, (d.format, reason)


def test_multi_picture_jpeg_is_accepted_as_jpeg():
    """Regression (found by fuzzing): a JPEG with an MPF index (Pillow's "MPO": phone cameras, Ultra HDR
    gain maps) was decoded by ml.images but rejected by inspect_image as unsupported_format (found while
    writing the format-coverage properties here)."""
    frames = [_pattern("RGB", (100, 90), i) for i in range(2)]
    blob = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    d, reason = check_all(blob)
    assert d.format == "MPO" and d.image.size == (100, 90)
    assert reason is None and inspect_image(blob, **LIMITS) == (100, 90, "image/jpeg", "jpg")


# ---------------------------------------------------------------------------- every mode
_MODES = ["1", "L", "P", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I;16", "I;16B", "I;16L", "I", "F",
          "LA", "La", "PA", "RGBa"]
_FORMATS = ["PNG", "TIFF", "BMP", "GIF", "JPEG", "WEBP", "ICO", "PPM", "JPEG2000"]


def _pattern(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    """A noisy test image in *mode* (values spread over the mode's range)."""
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = rng.integers(0, 65536, (size[1], size[0])).astype(np.float32 if mode == "F" else np.int32)
        im = Image.fromarray(arr.astype(np.float32) / 65535.0 if mode == "F" else arr, "F" if mode == "F" else "I")
        return im if mode in ("I", "F") else im.convert(mode) if mode == "I;16" else Image.frombytes(
            mode, size, im.convert("I;16").tobytes("raw", "I;16"))
    if mode == "PA":
        return rgb.convert("P").convert("PA")
    premultiplied = {"La": "LA", "RGBa": "RGBA"}
    return rgb.convert(premultiplied[mode]).convert(mode) if mode in premultiplied else rgb.convert(mode)


@lru_cache(maxsize=1)
def encodable() -> list[tuple[str, str]]:
    """(mode, format) pairs Pillow can write, so that decoding them is a fair test."""
    out = []
    for mode in _MODES:
        try:
            im = _pattern(mode, (8, 8), 0)
        except Exception:  # noqa: BLE001
            continue
        for fmt in _FORMATS:
            try:
                encode(im, fmt)
            except Exception:  # noqa: BLE001 - this format cannot hold this mode
                continue
            out.append((mode, fmt))
    return out


# modes a page's photo can come in; decode_rgb and inspect_image must accept these
_COMMON = {"1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "LA", "PA"}


@fuzz(150)
@given(pair=st.sampled_from(encodable()), w=st.integers(48, 160), h=st.integers(48, 160), seed=st.integers(0, 9))
def test_every_mode_and_format_decodes_to_rgb(pair, w, h, seed):
    mode, fmt = pair
    blob = encode(_pattern(mode, (w, h), seed), fmt)
    d, reason = check_all(blob)
    if mode in _COMMON and fmt not in ("ICO",):  # ICO keeps only square icon sizes
        assert d.image is not None and d.image.size == (w, h), (mode, fmt, d)
        if fmt in ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"):
            assert reason is None, (mode, fmt, reason)


@fuzz(150)
@given(mode=st.sampled_from(_MODES), w=st.integers(1, 64), h=st.integers(1, 64), seed=st.integers(0, 9))
def test_to_rgb_any_mode(mode, w, h, seed):
    im = _pattern(mode, (w, h), seed)
    try:
        out = to_rgb(im)
    except (ValueError, OSError):  # decode_rgb turns these into "unsupported_format"
        assert mode not in _COMMON, mode
        return
    assert out.mode == "RGB" and out.size == (w, h)


@pytest.mark.parametrize("mode, value, expected", [
    ("L", 77, (77, 77, 77)), ("1", 1, (255, 255, 255)), ("RGBA", (10, 20, 30, 0), (255, 255, 255)),
    ("LA", (0, 255), (0, 0, 0)), ("I;16", 65535, (255, 255, 255)), ("I;16", 257 * 40, (40, 40, 40)),
    ("F", 0.5, (127, 127, 127)), ("I", 300 * 257, (255, 255, 255)), ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
])
def test_to_rgb_values(mode, value, expected):
    px = to_rgb(Image.new(mode, (3, 2), value)).getpixel((1, 1))
    assert all(abs(a - b) <= 1 for a, b in zip(px, expected)), px


# ---------------------------------------------------------------------------- EXIF, tiny, bombs
@fuzz(100)
@given(w=st.integers(48, 120), h=st.integers(48, 120),
       orientation=st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 65535]),
       fmt=st.sampled_from(["JPEG", "PNG", "WEBP", "TIFF"]))
def test_exif_orientation(w, h, orientation, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    blob = encode(_pattern("RGB", (w, h), 1), fmt, exif=exif.tobytes())
    d, reason = check_all(blob)
    assert d.image is not None and reason is None, d
    assert d.image.size == ((h, w) if orientation in (5, 6, 7, 8) else (w, h)), (orientation, d.image.size)


def _jpeg_with_segment(marker: int, payload: bytes, w: int = 64, h: int = 64) -> bytes:
    jpeg = encode(_pattern("RGB", (w, h), 2), "JPEG")
    seg = struct.pack(">HH", marker, len(payload) + 2) + payload
    return jpeg[:2] + seg + jpeg[2:]


@fuzz(200)
@given(kind=st.sampled_from([(0xFFE1, b"Exif\x00\x00"), (0xFFE1, b"Exif\x00\x00II*\x00"),
                             (0xFFE1, b"Exif\x00\x00MM\x00*"),
                             (0xFFE2, b"MPF\x00"), (0xFFE2, b"MPF\x00II*\x00\x08\x00\x00\x00"),
                             (0xFFE2, b"ICC_PROFILE\x00\x01\x01"), (0xFFEE, b"Adobe"), (0xFFE0, b"JFIF\x00")]),
       body=st.binary(max_size=300))
def test_jpeg_with_broken_metadata_segment(kind, body):
    marker, head = kind
    d, reason = check_all(_jpeg_with_segment(marker, head + body))
    # broken metadata must not lose an otherwise good photo, nor crash anything
    if marker == 0xFFE1:
        assert d.image is not None, d


@fuzz(100)
@given(w=st.integers(1, 60), h=st.integers(1, 60), fmt=st.sampled_from(["PNG", "GIF", "JPEG", "BMP", "WEBP", "TIFF"]))
def test_tiny_images_are_too_small(w, h, fmt):
    d, reason = check_all(encode(_pattern("RGB", (w, h), 3), fmt))
    if min(w, h) < 48:
        assert d.reason == "too_small" and reason == "too_small", (d, reason)
    else:
        assert d.image is not None and reason is None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb(fmt: str, w: int, h: int) -> bytes:
    """A small file whose header declares a w x h image."""
    if fmt == "PNG":
        return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))
    if fmt == "GIF":
        return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0) + b"," + struct.pack("<HHHHB", 0, 0, w, h, 0)
                + b"\x02\x02\x4c\x01\x00;")
    if fmt == "BMP":
        info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
        return b"BM" + struct.pack("<IHHI", 14 + len(info) + 64, 0, 0, 14 + len(info)) + info + b"\0" * 64
    if fmt == "JPEG":
        sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
        sos = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
        return b"\xff\xd8" + sof + sos + b"\0" * 64
    if fmt == "TIFF":
        entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
                   (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, 64)]
        ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
        return b"II*\x00" + struct.pack("<I", 8 + 64) + b"\0" * 64 + ifd
    if fmt == "WEBP":
        vp8x = (b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (w - 1).to_bytes(3, "little")
                + (h - 1).to_bytes(3, "little"))
        body = b"WEBP" + vp8x + b"VP8 " + struct.pack("<I", 16) + b"\0" * 16
        return b"RIFF" + struct.pack("<I", len(body)) + body
    raise ValueError(fmt)


@fuzz(150)
@given(fmt=st.sampled_from(["PNG", "GIF", "BMP", "JPEG", "TIFF", "WEBP"]), w=st.integers(1, 65535),
       h=st.integers(1, 65535))
@example(fmt="PNG", w=30000, h=30000)
@example(fmt="PNG", w=7000, h=7000)
def test_decompression_bomb_headers(fmt, w, h):
    if fmt == "WEBP":
        w, h = min(w, 16384), min(h, 16384)
    if w * h <= LIMITS["max_pixels"]:
        w = max(w, LIMITS["max_pixels"] // h + 1)  # always over the limit ...
        if fmt in ("GIF", "JPEG", "WEBP"):
            w = min(w, 65535 if fmt != "WEBP" else 16384)
        if w * h <= LIMITS["max_pixels"]:
            h = LIMITS["max_pixels"] // w + 1
    assert w * h > LIMITS["max_pixels"]
    d, reason = check_all(bomb(fmt, w, h))
    # ... and never decoded: a reason, not a 40+ MP allocation
    assert d.image is None and reason is not None, (d, reason)
    if fmt != "WEBP":  # (the WebP stub's VP8 data is refused before its size is checked)
        assert d.reason == "too_large" and reason == "decompression_bomb", (d.reason, reason)


@fuzz(150)
@given(fmt=st.sampled_from(["PNG", "GIF", "BMP", "JPEG", "TIFF", "WEBP"]), w=st.integers(0, 3000),
       h=st.integers(0, 3000), tail=st.binary(max_size=64))
def test_declared_sizes_with_garbage_data(fmt, w, h, tail):
    """Any declared size (zero included) with too little data: a reason, never a crash."""
    w, h = (max(1, w), max(1, h)) if fmt == "WEBP" else (w, h)
    d, reason = check_all(bomb(fmt, w, h) + tail, **SMALL)


# ============================================================================ face cropper
@pytest.fixture(scope="module")
def cropper():
    from ml.crop import FaceCropper

    return FaceCropper()


@fuzz(40)
@given(data=st.data())
def test_cropper_random_and_truncated_bytes(cropper, data):
    from ml.crop import REASONS, CropOutcome

    if data.draw(st.booleans(), label="random"):
        blob = data.draw(st.one_of(st.binary(max_size=1024), st.builds(bytes.__add__, st.sampled_from(_MAGIC),
                                                                         st.binary(max_size=512))), label="bytes")
    else:
        real = draw_file(data)
        blob = real[: data.draw(st.integers(0, len(real)), label="cut")]
    out = cropper.crop(blob)
    assert isinstance(out, CropOutcome)
    if out.crop is None:
        assert out.reason in REASONS and isinstance(out.detail, str), out
    else:
        assert out.reason is None and out.faces >= 1
        assert Image.open(io.BytesIO(out.crop)).size == (cropper.size, cropper.size)
