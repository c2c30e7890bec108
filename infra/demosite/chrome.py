"""Page chrome shared by the demo site: header with logo, navigation, sidebar, footer.

Two CMS flavours, as German universities use them: TYPO3 (cs, german, intern) and
WordPress (econ); the JavaScript department uses a Bootstrap-style single page.
The chrome is full of images that are not people (logos, icons, teasers) on purpose.
"""

from __future__ import annotations

import html

UNIVERSITY = "Demo University of Testing"
UNIVERSITY_DE = "Demo-Universität für Testwesen"

# Fixed asset URLs (written by the generator; all of them are decoys).
LOGO = "/assets/img/logo.png"
PARTNER_LOGOS = ("/assets/img/logo_doc_static.png", "/assets/img/horse.png")
ICON_MAIL = "/assets/icons/mail.png"
ICON_PHONE = "/assets/icons/phone.png"
ICON_PDF = "/assets/icons/pdf.png"
ICON_EXTERNAL = "/assets/icons/external.png"
ICON_SEARCH = "/assets/icons/search.png"
BLANK_GIF = "/assets/blank.gif"
AVATAR_PNG = "/assets/img/default-avatar.png"
AVATAR_SVG = "/assets/img/default-avatar.svg"
CSS = "/assets/css/main.css"

MAIN_NAV = (
    ("Informatik", "/cs/index.html"),
    ("Wirtschaftswissenschaften", "/econ/index.html"),
    ("Germanistik", "/german/index.html"),
    ("Maschinenbau", "/mechanical/index.html"),
)


def esc(text: str) -> str:
    """HTML-escape text and attribute values."""
    return html.escape(text, quote=True)


def icon(url: str, alt: str = "") -> str:
    return f'<img class="icon" src="{url}" width="16" height="16" alt="{esc(alt)}">'


def teaser(img_url: str, title: str, text: str, href: str = "#") -> str:
    """A news teaser box with an (unrelated) image, as in most CMS sidebars."""
    return (
        '<div class="news-teaser">'
        f'<a href="{esc(href)}"><img src="{esc(img_url)}" width="260" alt="{esc(title)}"></a>'
        f"<h4>{esc(title)}</h4><p>{esc(text)}</p></div>"
    )


def _footer(cms: str) -> str:
    logos = "".join(f'<a href="#"><img src="{u}" alt="Partnerlogo"></a> ' for u in PARTNER_LOGOS)
    return f"""
<footer id="page-footer" class="{cms}-footer">
 <div class="container">
  <div class="footer-address"><strong>{esc(UNIVERSITY_DE)}</strong><br>Musterstraße 1<br>12345 Teststadt</div>
  <div class="footer-partner">{logos}</div>
  <ul class="footer-links">
   <li><a href="/impressum.html">Impressum</a></li>
   <li><a href="/datenschutz.html">Datenschutz</a></li>
   <li><a href="/barrierefreiheit.html">Barrierefreiheit</a></li>
  </ul>
  <p class="copyright">&copy; 2024 {esc(UNIVERSITY)}</p>
 </div>
</footer>"""


def _main_nav(active: str) -> str:
    items = "".join(
        f'<li class="{"active" if href.startswith(active) and active else ""}"><a href="{href}">{esc(label)}</a></li>'
        for label, href in MAIN_NAV
    )
    return f'<nav class="mainnav" aria-label="Hauptnavigation"><ul>{items}</ul></nav>'


def typo3_page(
    *,
    title: str,
    content: str,
    dept_label: str = "",
    active: str = "",
    subnav: tuple[tuple[str, str], ...] = (),
    sidebar: str = "",
    charset: str = "utf-8",
    base_href: str | None = None,
    page_id: int = 1,
) -> str:
    """A TYPO3-style page (bootstrap_package-like markup, no semantic person classes)."""
    base = f'<base href="{esc(base_href)}">\n' if base_href else ""
    sub = "".join(f'<li><a href="{esc(h)}">{esc(label)}</a></li>' for label, h in subnav)
    crumb = f'<li><a href="/index.html">Startseite</a></li><li>{esc(dept_label)}</li>' if dept_label else ""
    return f"""<!DOCTYPE html>
<html lang="de" dir="ltr">
<head>
<meta charset="{charset}">
{base}<!--
	This website is powered by TYPO3 - inspiring people to share!
-->
<title>{esc(title)} | {esc(UNIVERSITY_DE)}</title>
<meta name="generator" content="TYPO3 CMS">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{CSS}" media="all">
<link rel="icon" href="/assets/icons/search.png" type="image/png">
</head>
<body id="p{page_id}" class="page-{page_id} pagelevel-2 language-0 backendlayout-subnavigation_left layout-default">
<a class="sr-only sr-only-focusable" href="#page-content">Zum Hauptinhalt springen</a>
<header id="page-header" class="bp-page-header navbar navbar-mainnavigation">
 <div class="container">
  <a class="navbar-brand navbar-brand-image" href="/index.html" title="{esc(UNIVERSITY_DE)}">
   <img class="navbar-brand-logo-normal" src="{LOGO}" alt="{esc(UNIVERSITY)} Logo" height="52" width="180">
  </a>
  <ul class="metanav"><li><a href="/index.html">Startseite</a></li><li><a href="/impressum.html">Kontakt</a></li>
   <li><form action="/index.html" method="get"><input name="q" type="search"> {icon(ICON_SEARCH, "Suche")}</form></li></ul>
  {_main_nav(active)}
 </div>
</header>
<nav class="breadcrumb-section"><div class="container"><ol class="breadcrumb">{crumb}</ol></div></nav>
<div id="page-content" class="bp-page-content main-section">
 <div class="container"><div class="row">
  <div class="col-side section-subnavigation"><nav class="subnav"><ul>{sub}</ul></nav></div>
  <main class="col-main section-main" role="main">
{content}
  </main>
  <aside class="col-side section-aside">{sidebar}</aside>
 </div></div>
</div>
{_footer("typo3")}
</body>
</html>
"""


def wordpress_page(*, title: str, content: str, active: str = "", sidebar: str = "", page_id: int = 2) -> str:
    """A WordPress-style page (theme markup, block editor classes)."""
    return f"""<!doctype html>
<html lang="de-DE">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} &#8211; Fachbereich Wirtschaftswissenschaften</title>
<meta name="generator" content="WordPress 6.4.3">
<link rel="stylesheet" id="theme-style-css" href="{CSS}?ver=6.4.3" media="all">
</head>
<body class="page-template-default page page-id-{page_id} wp-embed-responsive">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Zum Inhalt springen</a>
<header id="masthead" class="site-header">
 <div class="site-branding">
  <a href="/index.html" class="custom-logo-link" rel="home"><img src="{LOGO}" class="custom-logo" alt="{esc(UNIVERSITY)}" width="180" height="52" decoding="async"></a>
  <p class="site-title"><a href="/econ/index.html" rel="home">Fachbereich Wirtschaftswissenschaften</a></p>
 </div>
 {_main_nav(active)}
</header>
<div id="content" class="site-content">
<div id="primary" class="content-area"><main id="main" class="site-main">
<article class="page type-page status-publish hentry">
<header class="entry-header"><h1 class="entry-title">{esc(title)}</h1></header>
<div class="entry-content">
{content}
</div>
</article>
</main></div>
<aside id="secondary" class="widget-area">
 <section class="widget widget_text">{sidebar}</section>
</aside>
</div>
{_footer("wp")}
</div>
</body>
</html>
"""


def app_page(*, title: str, content: str, script: str, active: str = "") -> str:
    """A Bootstrap single-page style: the content arrives from a script."""
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} - Fakultät für Maschinenbau</title>
<link rel="stylesheet" href="{CSS}">
</head>
<body>
<header class="site-header">
 <div class="container d-flex">
  <a href="/index.html"><img src="{LOGO}" alt="{esc(UNIVERSITY)}" height="52"></a>
  <span class="faculty-name">Fakultät für Maschinenbau</span>
 </div>
 {_main_nav(active)}
</header>
<main class="container py-4">
{content}
</main>
{_footer("app")}
<script>
{script}
</script>
</body>
</html>
"""
