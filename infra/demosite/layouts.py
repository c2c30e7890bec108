"""HTML for the department pages: table, card grid, listing + detail, JavaScript app.

Renderers only turn ``Entry`` rows into markup; which URL each photo has, and whether
the person counts, is decided by ``generator``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from .chrome import (
    BLANK_GIF,
    ICON_EXTERNAL,
    ICON_MAIL,
    ICON_PDF,
    ICON_PHONE,
    app_page,
    esc,
    icon,
    typo3_page,
    wordpress_page,
)


@dataclass
class Entry:
    """One person row/card as rendered; ``img`` is the URL exactly as written in HTML."""

    name: str
    role: str
    email: str
    phone: str
    room: str
    img: str | None = None
    variant: str = "plain"
    img_2x: str = ""
    href: str = ""


def _mail(e: Entry) -> str:
    # TYPO3-style "(at)" spam protection in the link text, a real mailto behind it.
    shown = e.email.replace("@", "(at)")
    return f'{icon(ICON_MAIL, "E-Mail")} <a href="mailto:{esc(e.email)}">{esc(shown)}</a>'


def _phone(e: Entry) -> str:
    return f'{icon(ICON_PHONE, "Telefon")} {esc(e.phone)}'


# -- cs: TYPO3 content table, two pages ----------------------------------------------------
CS_SUBNAV = (("Startseite", "/cs/index.html"), ("Mitarbeitende", "/cs/staff.html"), ("Lehre", "/cs/index.html#lehre"))


def cs_table(entries: list[Entry], *, page: int, pages: int, sidebar: str) -> str:
    """Staff table: photo | name + role | contact | room. Page 2 is deliberately malformed."""
    malformed = page == 2
    rows = []
    for e in entries:
        photo = f'<img src="{esc(e.img)}" width="90" height="90" alt="">' if e.img else "&nbsp;"
        if malformed:
            # Unclosed <td>/<tr>/<p>, stray closing tags: browsers and lxml recover.
            rows.append(
                f"<tr><td>{photo}<td><p><b>{esc(e.name)}</b><br>{esc(e.role)}\n"
                f"<td>{_mail(e)}<br>{_phone(e)}</span>\n<td>Raum {esc(e.room)}</div>\n"
            )
        else:
            rows.append(
                f"<tr>\n <td>{photo}</td>\n <td><strong>{esc(e.name)}</strong><br>{esc(e.role)}</td>\n"
                f" <td>{_mail(e)}<br>{_phone(e)}</td>\n <td>Raum {esc(e.room)}</td>\n</tr>"
            )
    nav = ['<ul class="f3-widget-paginator pagination">']
    if page > 1:
        nav.append('<li class="previous"><a href="staff.html">&laquo; Zur&uuml;ck</a></li>')
    for i in range(1, pages + 1):
        href = "staff.html" if i == 1 else f"staff-{i}.html"
        nav.append(f'<li class="current">{i}</li>' if i == page else f'<li><a href="{href}">{i}</a></li>')
    if page < pages:
        nav.append(f'<li class="next"><a href="staff-{page + 1}.html" rel="next">Weiter &raquo;</a></li>')
    nav.append("</ul>")
    stray = "</div></div>\n" if malformed else ""
    content = f"""<div id="c{310 + page}" class="frame frame-default frame-type-text">
<h1>Mitarbeiterinnen und Mitarbeiter</h1>
<p>Hier finden Sie die Beschäftigten des Instituts für Informatik (Seite {page} von {pages}).
<a href="/cs/files/organigramm.pdf">{icon(ICON_PDF, "PDF")} Organigramm</a></p>
</div>
{stray}<div id="c{320 + page}" class="frame frame-default frame-type-table">
<table class="contenttable contenttable-1">
<thead><tr><th scope="col">Foto</th><th scope="col">Name</th><th scope="col">Kontakt</th><th scope="col">Raum</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{"".join(nav)}
</div>"""
    if malformed:
        content += "\n<div class=\"frame\"><p>Stand: <i>Oktober 2024\n</div></section>"
    return typo3_page(
        title="Mitarbeitende", content=content, dept_label="Informatik", active="/cs/",
        subnav=CS_SUBNAV, sidebar=sidebar, page_id=310 + page,
    )


# -- econ: WordPress card grid ---------------------------------------------------------
def _econ_card(e: Entry) -> str:
    name, alt = esc(e.name), esc(e.name)
    v = e.variant
    if v == "background":
        return (
            '<div class="team-card">'
            f'<div class="team-card__photo" style="background-image:url(\'{esc(e.img)}\')" role="img" aria-label="{alt}"></div>'
            f'<h3 class="team-card__name">{name}</h3><p class="team-card__role">{esc(e.role)}</p>'
            f"<p>{_mail(e)}</p></div>"
        )
    if v == "lazy":
        img = f'<img src="{BLANK_GIF}" data-src="{esc(e.img)}" class="lazyload wp-image-{zlib.crc32(e.email.encode()) % 900 + 100}" width="250" height="250" alt="{alt}">'
    elif v == "srcset":
        img = f'<img src="{esc(e.img)}" srcset="{esc(e.img)} 1x, {esc(e.img_2x)} 2x" width="250" height="250" alt="" loading="lazy" decoding="async">'
    elif v == "picture":
        img = (f'<picture><source media="(min-width: 768px)" srcset="{esc(e.img)}">'
               f'<img src="{esc(e.img)}" width="250" height="250" alt="{alt}"></picture>')
    else:  # plain, figure, and all the bad inputs
        img = f'<img src="{esc(e.img)}" width="250" height="250" alt="" loading="lazy">'
    if v == "figure":
        return (
            '<div class="wp-block-column">'
            f'<figure class="wp-block-image size-full">{img}<figcaption class="wp-element-caption">{name}</figcaption></figure>'
            f"<p>{esc(e.role)}<br>{_mail(e)}<br>{_phone(e)}</p></div>"
        )
    return (
        '<div class="wp-block-column">'
        f'<figure class="wp-block-image size-full">{img}</figure>'
        f'<h3 class="wp-block-heading">{name}</h3>'
        f"<p>{esc(e.role)}<br>{_mail(e)}<br>{_phone(e)}<br>Raum {esc(e.room)}</p></div>"
    )


def econ_grid(entries: list[Entry], *, sidebar: str, title: str = "Unser Team", extra: str = "") -> str:
    """Card grid, three cards per block-editor columns row."""
    rows = []
    for i in range(0, len(entries), 3):
        cards = "\n".join(_econ_card(e) for e in entries[i : i + 3])
        rows.append(f'<div class="wp-block-columns is-layout-flex">\n{cards}\n</div>')
    content = (
        "<p>Die Professuren und wissenschaftlichen Mitarbeitenden des Fachbereichs.</p>\n"
        + "\n".join(rows)
        + "\n"
        + extra
    )
    return wordpress_page(title=title, content=content, active="/econ/", sidebar=sidebar)


# -- german: listing with links, one detail page each (ISO-8859-1) ------------------------
GERMAN_SUBNAV = (("Startseite", "/german/index.html"), ("Personen", "/german/personen.html"))


def german_listing(entries: list[Entry], lecturers: list[str], *, sidebar: str) -> str:
    """Names only, each linking to a detail page, in a definition list."""
    items = "\n".join(
        f'<dt><a href="{esc(e.href)}">{esc(e.name)}</a></dt>\n<dd>{esc(e.role)}</dd>' for e in entries
    )
    lect = "".join(f"<li>{esc(n)}</li>" for n in lecturers)
    content = f"""<div id="c501" class="csc-default">
<h1>Personen am Institut für Germanistik</h1>
<p>Bitte wählen Sie eine Person, um Kontaktdaten und Sprechzeiten zu sehen.</p>
<dl class="personenliste">
{items}
</dl>
</div>
<div id="c502" class="csc-default"><h2>Lehrbeauftragte</h2><ul>{lect}</ul></div>"""
    return typo3_page(
        title="Personen", content=content, dept_label="Germanistik", active="/german/",
        subnav=GERMAN_SUBNAV, sidebar=sidebar, charset="iso-8859-1", page_id=500,
    )


def german_detail(e: Entry, *, sidebar: str, base_href: str) -> str:
    """Detail page: h1 name, photo (relative to <base href>), contact as <dl>."""
    content = f"""<div id="c601" class="csc-default">
<div class="csc-textpic csc-textpic-intext-right">
<h1>{esc(e.name)}</h1>
<div class="csc-textpic-imagewrap"><figure class="image"><img src="{esc(e.img)}" width="180" height="180" alt="{esc(e.name)}"></figure></div>
<div class="csc-textpic-text">
<dl class="kontakt">
<dt>Funktion</dt><dd>{esc(e.role)}</dd>
<dt>E-Mail</dt><dd>{_mail(e)}</dd>
<dt>Telefon</dt><dd>{_phone(e)}</dd>
<dt>Raum</dt><dd>{esc(e.room)}</dd>
<dt>Sprechstunde</dt><dd>Dienstag 10&ndash;12 Uhr und nach Vereinbarung</dd>
</dl>
<p>Forschungsschwerpunkte: Literatur des 19. Jahrhunderts, Sprachgeschichte, Didaktik.</p>
</div></div>
<p><a href="personen.html">&laquo; Zurück zur Übersicht</a></p>
</div>"""
    return typo3_page(
        title=e.name, content=content, dept_label="Germanistik", active="/german/",
        subnav=GERMAN_SUBNAV, sidebar=sidebar, charset="iso-8859-1", base_href=base_href, page_id=600,
    )


# -- mechanical: rendered by JavaScript from a JSON file -------------------------------------
_TEAM_JS = """(function () {
  'use strict';
  function render(data) {
    var app = document.getElementById('team-app');
    var grid = document.createElement('div');
    grid.className = 'team-grid-js';
    data.members.forEach(function (m) {
      var card = document.createElement('div');
      card.className = 'person-card';
      var img = document.createElement('img');
      img.src = m.image; img.width = 200; img.height = 200; img.alt = '';
      var h = document.createElement('h4');
      h.className = 'person-card__name';
      h.textContent = m.name;
      var p = document.createElement('p');
      p.textContent = m.position;
      var mail = document.createElement('a');
      mail.href = 'mailto:' + m.email; mail.textContent = m.email;
      card.appendChild(img); card.appendChild(h); card.appendChild(p); card.appendChild(mail);
      grid.appendChild(card);
    });
    app.innerHTML = '';
    app.appendChild(grid);
    app.setAttribute('data-loaded', 'true');
  }
  document.addEventListener('DOMContentLoaded', function () {
    var app = document.getElementById('team-app');
    fetch(app.getAttribute('data-source'), {credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(render)
      .catch(function () { app.textContent = 'Die Teamliste konnte nicht geladen werden.'; });
  });
})();"""


def mechanical_page(data_url: str) -> str:
    """The static HTML: an empty container and the script; no names in the markup."""
    content = f"""<h1>Unser Team</h1>
<p>Lehrstühle und Mitarbeitende der Fakultät für Maschinenbau.
<a href="/mechanical/index.html">{icon(ICON_EXTERNAL, "")} Zur Fakultät</a></p>
<div id="team-app" data-source="{esc(data_url)}" aria-live="polite">
 <noscript>Bitte aktivieren Sie JavaScript, um die Teamliste zu sehen.</noscript>
 <div class="spinner">Wird geladen&hellip;</div>
</div>"""
    return app_page(title="Team", content=content, script=_TEAM_JS, active="/mechanical/")


def mechanical_json(entries: list[Entry]) -> str:
    members = [{"name": e.name, "position": e.role, "email": e.email, "image": e.img} for e in entries]
    return json.dumps({"members": members}, ensure_ascii=False, indent=1) + "\n"


# -- intern (robots-disallowed), home and plain pages ------------------------------------------
def intern_page(entries: list[Entry]) -> str:
    rows = "\n".join(
        f'<tr><td><img src="{esc(e.img)}" width="90" height="90" alt=""></td><td>{esc(e.name)}</td>'
        f"<td>{esc(e.role)}</td><td>{_mail(e)}</td></tr>"
        for e in entries
    )
    content = f"""<h1>Interner Bereich: Verwaltungsteam</h1>
<p>Nur für Beschäftigte. Diese Seite ist nicht für Suchmaschinen bestimmt.</p>
<table class="contenttable"><tbody>
{rows}
</tbody></table>"""
    return typo3_page(title="Intern", content=content, dept_label="Intern", page_id=900)


def plain_page(title: str, paragraphs: list[str], *, dept_label: str = "", active: str = "",
               subnav: tuple = (), sidebar: str = "", charset: str = "utf-8", page_id: int = 1) -> str:
    """A text page (home, department home, imprint) with the usual chrome."""
    body = f"<h1>{esc(title)}</h1>\n" + "\n".join(paragraphs)
    return typo3_page(title=title, content=body, dept_label=dept_label, active=active,
                      subnav=subnav, sidebar=sidebar, charset=charset, page_id=page_id)
