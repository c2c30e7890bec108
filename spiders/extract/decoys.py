"""Decoy rules for photo candidates: logos, icons, sprites, spacers, placeholders, banners, group and
building photos, layout chrome, news context, tiny or hidden images."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from .dom import Doc, class_tokens, tag_of
from .imageurls import basename_tokens, dim, looks_like_spacer_name
from .names import normalize_space

__all__ = ["classify_url", "context_reasons", "declared_tiny", "is_secondary", "PRIORITY", "BANNER_TOKENS"]

_PLACEHOLDER_SUBSTR = ("placeholder", "platzhalter", "nophoto", "noimage", "nopicture", "nopic", "noavatar",
                       "keinbild", "keinfoto", "ohnebild", "ohnefoto", "defaultavatar", "avatardefault",
                       "defaultuser", "userdefault", "defaultprofile", "profiledefault", "defaultperson",
                       "silhouette", "dummy", "blankprofile", "anonymous", "anonym", "mysteryman",
                       "unknownuser", "unknownperson", "genericavatar", "emptyavatar", "fallback")

_PLACEHOLDER_TOKENS = frozenset("default unknown unbekannt nobody missing noimg avatar_placeholder blank".split())

_LOGO_TOKENS = frozenset("logo logos wappen signet emblem wordmark wortmarke bildmarke".split())

_ICON_TOKENS = frozenset(
    """icon icons ico favicon email e-mail mail envelope phone telefon tel fax vcard vcf social twitter
    x-twitter facebook fb linkedin xing instagram youtube mastodon bluesky orcid researchgate github gitlab
    googlescholar lattes rss arrow arrows pfeil chevron caret bullet pdf print drucken external extern
    download search lupe burger hamburger flagge flags language emoji smiley checkmark share
    whatsapp telegram globe marker kalender""".split()
)

_SPRITE_TOKENS = frozenset({"sprite", "sprites", "spritesheet"})

BANNER_TOKENS = frozenset(
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

_DIR_ICON = frozenset({"icons", "icon", "flags", "social", "emoji", "emojis", "pictograms", "piktogramme",
                       "icones", "iconos", "icone", "icônes"})  # pt/es/it/fr

_DIR_LOGO = frozenset({"logos", "logo"})

_DIR_PLACEHOLDER = frozenset({"placeholder", "placeholders", "platzhalter", "dummy", "dummies"})

# Pictures of papers and projects, by the folder they sit in (only the file's own folder counts).
_DIR_WORK = frozenset({"papers", "paper", "publications", "publication", "pubs", "covers", "teaser", "teasers",
                       "projects", "projekte", "posters"})

# Hugo page bundles: "/talk/2019-iitm/featured_hu<md5>_..." is a post's, talk's or paper's
# picture whatever the bundle's own folder is called; people's bundles call theirs "avatar"
_BUNDLE_SECTIONS = _DIR_WORK | {"talk", "talks", "post", "posts", "event", "events", "news", "blog"}

# services that draw an avatar from a name or a hash
_GENERATED_AVATAR_HOSTS = frozenset({"ui-avatars.com", "api.dicebear.com", "avatars.dicebear.com", "robohash.org",
                                     "source.boringavatars.com", "placehold.co", "via.placeholder.com",
                                     "placeholder.com", "dummyimage.com", "placekitten.com", "picsum.photos"})

# folders of people's pictures: a theme's asset folder holding one is content ("_assets/team/y_wei.jpg")
_PEOPLE_DIRS = frozenset({"team", "people", "members", "member", "staff", "faculty", "personen", "mitarbeiter",
                          "portraits", "portrait", "headshots", "photos", "fotos", "authors", "author"})

# pictures of blog posts and news items, by their own folder ("/images/posts/eurovis.jpg")
_DIR_NEWS = frozenset({"posts", "post", "news", "blog", "aktuelles", "neuigkeiten"})

# photo albums ("media/albums/outings/"): outings and events, not anyone's portrait
_DIR_ALBUM = frozenset({"album", "albums", "fotoalbum", "photoalbum"})

_THEME_PATH = re.compile(
    r"/(?:(?:wp-content/themes|sites/all/themes|themes|typo3conf/ext|_assets|\+\+theme\+\+|\+\+resource\+\+|"
    r"assets/(?:img|images)/(?:layout|design|icons|ui))/)",
    re.IGNORECASE,
)

_ALT_GROUP = re.compile(
    r"gruppenfoto|gruppenbild|group\s*(?:photo|picture|shot)|team\s*(?:photo|foto|picture|bild)|teamfoto|"
    r"\bdas team\b|\bour team\b|\bunser team\b|v\.\s?l\.\s?n\.\s?r|von links|from left|\bl\.\s?to\s?r\b|"
    r"\b(?:and|with|und|mit)\s+(?:(?:his|her|their|seiner|ihrer)\s+)?(?:family|familie|kids|children|kinder|"
    r"colleagues|kollegen|friends|students)\b",
    re.IGNORECASE,
)

_ALT_BUILDING = re.compile(r"gebäude|gebaeude|\bbuilding\b|\bcampus\b|außenansicht|hörsaal|lageplan", re.IGNORECASE)

_ALT_ICON = frozenset("e-mail email mail telefon phone tel fax vcard v-card twitter linkedin xing facebook "
                      "instagram youtube orcid researchgate github rss pdf icon print drucken home search lattes "
                      "suche kontakt contact homepage website www".split())

# No placeholder rule on alt text: real sites write "Image placeholder" or "Avatar" into the alt of
# real portraits. A placeholder is known by its file name, or by one picture shown for several
# people (the same URL here; the same bytes or look once downloaded: spiders/index_update.py).

_SOCIAL_HOSTS = ("twitter.com", "x.com", "facebook.com", "linkedin.com", "xing.com", "instagram.com",
                 "youtube.com", "orcid.org", "researchgate.net", "github.com", "scholar.google", "mastodon",
                 "bsky.app", "gitlab.com", "dblp.org", "scopus.com", "webofscience")

_DIM_IN_NAME = re.compile(r"(?:^|[_\-.])(\d{1,3})x(\d{1,3})(?:$|[_\-.])")

PRIORITY = ("data_uri", "logo", "icon", "sprite", "layout_chrome", "spacer", "svg", "placeholder", "tiny",
             "hover", "hidden", "banner", "group_photo", "building", "publication", "post", "news", "no_url")

_SECONDARY_CLASS = re.compile(r"(?:^|[-_\s])(?:hover|flip|back|secondary|alternate|on-hover|img-hover|"
                              r"d-none|hidden|invisible)(?:$|[-_\s])")


# visibility by screen size: "hidden-xs" (Bootstrap 3) and "d-none d-md-block" (Bootstrap 4+) are shown
# on a desktop, so they do not make a picture secondary
_RESPONSIVE_CLASS = re.compile(r"\bhidden-(?:xs|sm|print)\b|\bd-none(?=.*\bd-(?:sm|md|lg|xl|xxl)-"
                               r"(?:block|inline|inline-block|flex|grid|table)\b)")


# a phone's or camera's file name ("WhatsApp-Image-2022-10-10-at-14.53.04", "IMG_20221010_145304"):
# a photo, whatever app name it carries
_CAPTURE_STAMP = re.compile(r"(?:19|20)\d\d[-_ ]?[01]\d[-_ ]?[0-3]\d(?:\D{0,4}[0-2]\d[-_.:]?[0-5]\d)")


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
    toks, joined = basename_tokens(url)
    tokset = set(toks)
    dirs = _dir_tokens(url)
    if tokset & _LOGO_TOKENS or any(t.startswith("logo") and len(t) <= 7 or t.endswith("logo") for t in toks):
        return "logo"
    if any(d in _DIR_LOGO for d in dirs):
        return "logo"
    if dirs and dirs[-1] in _DIR_WORK:
        return "publication"
    if toks and toks[0] == "featured" and set(dirs) & _BUNDLE_SECTIONS:
        return "publication"
    if dirs and dirs[-1] in _DIR_NEWS:
        return "post"
    if set(dirs) & _DIR_ALBUM:
        return "group_photo"
    if (tokset & _ICON_TOKENS or any(t.startswith("icon") or t.startswith("ico") and len(t) <= 5 for t in toks)) \
            and not _CAPTURE_STAMP.search(joined):
        return "icon"
    if toks and all(t in _LANG_CODES for t in toks):
        return "icon"  # language flags
    if any(d in _DIR_ICON for d in dirs):
        return "icon"
    if tokset & _SPRITE_TOKENS or "sprite" in joined:
        return "sprite"
    if looks_like_spacer_name(toks, low.split("?")[0]) and re.search(r"\.(?:gif|png)$", low.split("?")[0]):
        return "spacer"
    if low.split("?")[0].split("#")[0].endswith(".svg") or ".svg?" in low:
        return "svg"
    if any(s in joined for s in _PLACEHOLDER_SUBSTR) or tokset & _PLACEHOLDER_TOKENS:
        return "placeholder"
    if "://" in url and urlsplit(url).hostname in _GENERATED_AVATAR_HOSTS:
        return "placeholder"  # initials or pattern drawn for a name, no photo
    if dirs and dirs[-1] in _DIR_PLACEHOLDER:  # /img/mugshots/placeholders/meerkat.png
        return "placeholder"
    m = _DIM_IN_NAME.search("_".join(toks))
    # 0 stands for "auto" (Hugo's resize "225x" is written 225x0), not for a tiny side
    if m and any(0 < int(d) < 40 for d in m.groups()):
        return "tiny"
    if tokset & BANNER_TOKENS:
        return "banner"
    words = [t for t in toks if not t.isdigit()]
    if any(s in joined for s in _GROUP_SUBSTR) or (tokset & _GROUP_TOKENS and all(t in _GROUP_FILLER for t in words)):
        return "group_photo"
    if any(s in joined for s in _BUILDING_SUBSTR) or tokset & _BUILDING_TOKENS:
        return "building"
    if _THEME_PATH.search(urlsplit(url).path if "://" in url else url) and not set(dirs) & _PEOPLE_DIRS:
        return "placeholder"  # a design asset of the site's theme used where a portrait would be
    return None


def _declared_at_most(el, px: int) -> bool:
    sizes = [dim(el.get(attr)) for attr in ("width", "height")]
    return any(d is not None and d <= px for d in sizes)


def _declared_large(el) -> bool:
    """Width or height of at least 80 px, or a width relative to the layout ("30%")."""
    sizes = [dim(el.get(attr)) for attr in ("width", "height")]
    return any(d is not None and d >= 80 for d in sizes) or (el.get("width") or "").strip().endswith("%")


def declared_tiny(el) -> bool:
    """Width or height declared below 40 px. The style attribute wins over the width/height
    attributes, as in a browser; 0 there means "not given" (Next.js writes width="0" height="0"
    and sizes the picture by CSS)."""
    style = (el.get("style") or "").lower()
    styled = {}
    for prop in ("width", "height"):
        m = re.search(r"(?:^|[;\s])" + prop + r"\s*:\s*(\d+)px", style)
        if m:
            styled[prop] = int(m.group(1))
    if any(v < 40 for v in styled.values()):
        return True
    for attr in ("width", "height"):
        d = dim(el.get(attr))
        if attr not in styled and d is not None and 0 < d < 40:
            return True
    return False


def is_secondary(el) -> bool:
    """A second image of the same entry shown on hover / hidden (not a separate person)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or el.get("hidden") is not None:
        return True
    classes = _RESPONSIVE_CLASS.sub(" ", (el.get("class") or "").lower())
    return bool(_SECONDARY_CLASS.search(classes))


def _photograph(el, url: str | None) -> bool:
    """Laid out large, or a JPEG: what a mail link wraps is then a portrait, not an envelope icon."""
    path = urlsplit(url).path.lower() if url and "://" in url else (url or "").lower()
    return _declared_large(el) or path.endswith((".jpg", ".jpeg"))


def context_reasons(doc: Doc, el, alt: str, title: str, url: str | None = None) -> set[str]:
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
    if re.search(r"(?:^|[\s_-])(?:logo|logos|brand|wappen|partner|partners|sponsor|sponsors|sponsoren|"
                 r"kooperationspartner|foerderer|förderer|funding|funders|clients|kunden)(?:$|[\s_-])", flat):
        reasons.add("logo")
    if link_href:
        if link_href.startswith(("mailto:", "tel:", "fax:", "callto:")) or link_href.endswith(".vcf"):
            if not _photograph(el, url):
                reasons.add("icon")
        elif any(h in link_href for h in _SOCIAL_HOSTS) and _declared_at_most(el, 64):
            # a small picture linking to a social profile is its icon; a portrait linking to the
            # person's Scholar or LinkedIn page is common on lab pages (icons name themselves in
            # their file names, which classify_url reads)
            reasons.add("icon")
    if re.search(r"(?:^|[\s_-])(?:icon|icons|icone|icones|icono|iconos|icona|fa|social|social-links|share|sprite)"
                 r"(?:$|[\s_-])",
                 " ".join(class_tokens(el))):
        reasons.add("icon")  # "icon", "fa-user", "svg-icon"
    low_alt = normalize_space(alt).lower()
    if low_alt:
        if re.search(r"\blogo\b|\bwappen\b", low_alt):
            reasons.add("logo")
        if low_alt.strip(" :.") in _ALT_ICON and not _declared_large(el):
            reasons.add("icon")  # alt "Contact" on a picture laid out large is a copied alt, not an icon
        if _ALT_GROUP.search(low_alt):
            reasons.add("group_photo")
        if _ALT_BUILDING.search(low_alt):
            reasons.add("building")
    if title and _ALT_GROUP.search(title):
        reasons.add("group_photo")
    return reasons
