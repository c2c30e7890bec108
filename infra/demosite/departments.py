"""The four department areas and the robots-disallowed area of the demo site.

Each builder writes its pages and files through a ``SiteWriter`` and returns the
ground truth it is responsible for. Bad inputs and placeholder avatars get people of
their own, and those people are recorded as absent, never as expected.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from . import chrome, media
from .layouts import (
    CS_SUBNAV,
    GERMAN_SUBNAV,
    Entry,
    cs_table,
    econ_grid,
    german_detail,
    german_listing,
    intern_page,
    mechanical_json,
    mechanical_page,
    plain_page,
)
from .naming import GERMAN_NAMES, LECTURERS, ROLE_CLASS_OF, Staff, make_staff
from .server import BASE_URL_TOKEN
from .truth import DeptTruth, TruthPerson

if TYPE_CHECKING:
    from .generator import Face, SiteWriter

ISO_HTML = "text/html; charset=iso-8859-1"
# slug, department (English), start path, render_js, allowed path prefixes
DEPT_META = {
    "cs": ("demo-cs", "Computer Science", "/cs/staff.html", "false", ["/cs/"]),
    # /intern/ is allowed on purpose: only robots.txt may keep the crawler out of it.
    "econ": ("demo-econ", "Economics", "/econ/team/", "false", ["/econ/", "/intern/"]),
    "german": ("demo-german", "German Studies", "/german/personen.html", "false", ["/german/"]),
    "mechanical": ("demo-mechanical", "Mechanical Engineering", "/mechanical/team.html", "auto", ["/mechanical/"]),
}
# Card-grid variants in order of importance (small builds get the first ones).
ECON_VARIANTS = ("lazy", "srcset", "background", "octet", "picture", "figure", "plain")
_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
        b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _dept(category: str) -> DeptTruth:
    slug, name, start, js, allowed = DEPT_META[category]
    return DeptTruth(slug, chrome.UNIVERSITY, name, category, start, js, [], list(allowed))


def _truth(s: Staff, photo_path: str, sha: str, page: str, alt: tuple[str, ...] = ()) -> TruthPerson:
    return TruthPerson(s.name, photo_path, sha, str(s.face.file), page, list(alt), s.role,
                       ROLE_CLASS_OF.get(s.role, "unknown"))


def _interleave(good: list[Entry], bad: list[Entry]) -> list[Entry]:
    """Spread the bad rows between the good ones (positions 1, 3, 5, ...)."""
    out = list(good)
    for j, e in enumerate(bad):
        out.insert(min(len(out), 2 * j + 1), e)
    return out


def _extras(faces: list["Face"], category: str, rng: random.Random, start: int) -> list[Staff]:
    return [make_staff(f, category, start + i + 1, rng) for i, f in enumerate(faces)]


def build_cs(w: "SiteWriter", faces: list["Face"], extras: list["Face"], rng: random.Random) -> DeptTruth:
    """TYPO3 staff table over two pages; page 2 is malformed and uses absolute URLs."""
    dept = _dept("cs")
    staff = [make_staff(f, "cs", i, rng) for i, f in enumerate(faces)]
    avatar, missing, loop, bomb = _extras(extras, "cs", rng, len(staff))
    base = "/cs/fileadmin/_processed_/personal/"
    half = (len(staff) + 1) // 2
    page1: list[Entry] = []
    page2: list[Entry] = []
    for i, s in enumerate(staff):
        url = f"{base}{s.slug}.jpg"
        sha = w.photo(url, s.face)
        if i < half:  # relative URL with a TYPO3 cache-busting query string
            stamp = 1700000000 + 977 * i
            page1.append(s.entry(f"fileadmin/_processed_/personal/{s.slug}.jpg?{stamp}"))
            dept.people.append(_truth(s, f"{url}?{stamp}", sha, "/cs/staff.html"))
        else:  # absolute URL with scheme and host, filled in by the server
            page2.append(s.entry(BASE_URL_TOKEN + url))
            dept.people.append(_truth(s, url, sha, "/cs/staff-2.html"))
    w.absent.append(avatar.name)
    w.bad_input("http_404", f"{base}{missing.slug}.jpg", missing.name)  # never written
    bomb_url = w.put(f"{base}{bomb.slug}.png", media.decompression_bomb_png())
    w.bad_input("decompression_bomb", bomb_url, bomb.name)
    w.smap["redirects"].update({"/loop/a": "/loop/b", "/loop/b": "/loop/a"})
    w.bad_input("redirect_loop", "/loop/a", loop.name)
    page1 = _interleave(page1, [avatar.entry(chrome.AVATAR_PNG),
                                missing.entry(f"fileadmin/_processed_/personal/{missing.slug}.jpg"),
                                bomb.entry(bomb_url)])
    page2 = _interleave(page2, [loop.entry("/loop/a")])
    side = (w.teaser("/cs/fileadmin/aktuelles/rocket.jpg", "rocket.jpg", "Informatik hebt ab",
                     "Unser Satelliten-Team beim Start der Testrakete.")
            + w.teaser("/cs/fileadmin/aktuelles/coins.png", "coins.png", "Stipendien",
                       "Jetzt für das Deutschlandstipendium bewerben."))
    w.write("/cs/staff.html", cs_table(page1, page=1, pages=2, sidebar=side))
    w.write("/cs/staff-2.html", cs_table(page2, page=2, pages=2, sidebar=side), templated=True)
    w.write("/cs/files/organigramm.pdf", _PDF)
    clock = w.decoy("/cs/fileadmin/aktuelles/clock_motion.png", "clock_motion.png")
    w.write("/cs/index.html", plain_page("Institut für Informatik", [
        f'<p><img src="{clock}" width="400" alt="Uhr"> Willkommen am Institut für Informatik.</p>',
        '<p id="lehre">Lehre, Forschung und Transfer. <a href="staff.html">Unsere Mitarbeitenden</a></p>',
    ], dept_label="Informatik", active="/cs/", subnav=CS_SUBNAV, sidebar=side, page_id=300))
    return dept


def build_econ(w: "SiteWriter", faces: list["Face"], extras: list["Face"], rng: random.Random) -> DeptTruth:
    """WordPress card grid with lazy, srcset, picture, figure and CSS background photos."""
    dept = _dept("econ")
    staff = [make_staff(f, "econ", i, rng) for i, f in enumerate(faces)]
    avatar, duri, svg, big, old1, old2 = _extras(extras, "econ", rng, len(staff))
    up, rel = "/econ/wp-content/uploads/2023/05/", "../wp-content/uploads/2023/05/"
    page = "/econ/team/"
    cards: list[Entry] = []
    for i, s in enumerate(staff):
        variant = ECON_VARIANTS[i % len(ECON_VARIANTS)]
        url = f"{up}{s.slug}.jpg"
        sha = w.photo(url, s.face)
        path, alt = url, ()
        if variant == "lazy":
            cards.append(s.entry(f"{rel}{s.slug}.jpg", "lazy"))
        elif variant == "srcset":  # 1x with a query string, 2x the same original bytes
            cards.append(s.entry(f"{rel}{s.slug}.jpg?w=250", "srcset", img_2x=url))
            path, alt = f"{url}?w=250", (url,)
        elif variant == "octet":  # a real JPEG the server labels application/octet-stream
            w.smap["content_types"][url] = "application/octet-stream"
            cards.append(s.entry(url, "plain"))
        elif variant == "figure":
            cards.append(s.entry(f"{rel}{s.slug}.jpg", "figure"))
        else:  # background, picture, plain
            cards.append(s.entry(url, variant))
        dept.people.append(_truth(s, path, sha, page, alt))
    w.absent.append(avatar.name)
    data_uri = media.png_data_uri(duri.face.file)
    w.bad_input("data_uri", data_uri, duri.name)
    svg_url = w.put(f"{up}{svg.slug}.svg", media.svg_portrait(svg.face.file))
    w.bad_input("svg", svg_url, svg.name)
    big_url = w.put(f"{up}{big.slug}-scaled.jpg", media.oversized_jpeg(big.face.file, w.seed))
    w.bad_input("too_large", big_url, big.name)
    cards = _interleave(cards, [avatar.entry(chrome.AVATAR_SVG), duri.entry(data_uri), svg.entry(svg_url),
                                big.entry(big_url)])
    side = (w.teaser("/econ/wp-content/uploads/2024/01/coffee.png", "coffee.png", "Kaffee mit dem Dekanat",
                     "Jeden ersten Mittwoch im Monat.")
            + w.teaser("/econ/wp-content/uploads/2024/01/text.png", "text.png", "Neue Prüfungsordnung",
                       "Die Änderungen im Überblick."))
    links = ('<p class="team-links"><a href="/intern/team.html">Interner Bereich</a> | '
             '<a href="/econ/index.html">Fachbereich</a></p>'
             # Page 3 lives in the robots.txt-disallowed area: only robots.txt keeps a crawler out.
             '<nav class="pagination">Seite <span class="current">1</span> <a href="seite-2.html">2</a> '
             '<a href="/intern/team.html">3</a> <a rel="next" href="seite-2.html">Weiter &raquo;</a></nav>')
    w.write(page, econ_grid(cards, sidebar=side, extra=links))
    # Page 2 of the team: real photos, but the page is over the size limit, so a crawler
    # following the pagination must skip it (page_too_large) and store none of them.
    archive = []
    for s in (old1, old2):
        url = f"/econ/wp-content/uploads/archiv/{s.slug}.jpg"
        w.photo(url, s.face)
        w.decoys.add(url)  # a real portrait, but only reachable through the oversized page
        archive.append(s.entry(url, "plain"))
        w.bad_input("page_too_large", "/econ/team/seite-2.html", s.name)
    html = econ_grid(archive, sidebar="", title="Team (Seite 2)")
    line = "Datensatz archiviert; Export aus dem Altsystem, nicht zur Anzeige bestimmt. 0123456789\n"
    padding = "<!-- Archiv-Export\n" + line * (media.OVERSIZE_BYTES // len(line) + 1) + "-->\n"
    w.write("/econ/team/seite-2.html", html.replace("</body>", padding + "</body>"))
    color = w.decoy("/econ/wp-content/uploads/2024/01/color.png", "color.png")
    w.write("/econ/index.html", econ_grid([], sidebar=side, title="Fachbereich Wirtschaftswissenschaften",
                                          extra=f'<p><img src="{color}" width="500" alt="Statistik"></p>'
                                                '<p><a href="team/">Unser Team</a></p>'))
    return dept


def build_german(w: "SiteWriter", faces: list["Face"], extras: list["Face"], rng: random.Random) -> DeptTruth:
    """ISO-8859-1 listing (definition list) linking to detail pages with <base href>."""
    dept = _dept("german")
    pools = {k: list(v) for k, v in GERMAN_NAMES.items()}
    staff = []
    for i, f in enumerate(faces):
        # The first three get German names with umlauts (gender-matched), the photo stays LFW.
        plain = pools["female" if f.gender == "female" else "male"].pop(0) if i < 3 else None
        staff.append(make_staff(f, "german", i, rng, plain=plain))
    fake, tiny, optout = _extras(extras, "german", rng, len(staff))
    side = (w.teaser("/german/fileadmin/aktuelles/chelsea.png", "chelsea.png", "Unser Institutskater",
                     "Das inoffizielle Institutsmitglied hat Geburtstag.")
            + w.teaser("/german/fileadmin/aktuelles/page.png", "page.png", "Handschriftenfund",
                       "Neue Quellen im Archiv entdeckt."))
    listing: list[Entry] = []

    def detail(s: Staff) -> str:
        url = f"/german/personen/{s.slug}.html"
        w.write(url, german_detail(s.entry(f"fileadmin/personen/{s.slug}.jpg"), sidebar=side, base_href="/german/"),
                content_type=ISO_HTML, encoding="iso-8859-1")
        return url

    for s in staff:
        photo = f"/german/fileadmin/personen/{s.slug}.jpg"
        sha = w.photo(photo, s.face)
        dept.people.append(_truth(s, photo, sha, detail(s)))
        listing.append(s.entry(None, href=f"personen/{s.slug}.html"))
    fake_url = f"/german/fileadmin/personen/{fake.slug}.jpg"
    w.write(fake_url, media.not_an_image_html(), content_type="image/jpeg")
    w.bad_input("not_an_image", fake_url, fake.name)
    tiny_url = f"/german/fileadmin/personen/{tiny.slug}.jpg"
    w.write(tiny_url, media.tiny_jpeg(tiny.face.file))
    w.bad_input("too_small", tiny_url, tiny.name)
    # A real portrait whose server says X-Robots-Tag: noimageai: never to be collected.
    optout_url = f"/german/fileadmin/personen/{optout.slug}.jpg"
    w.photo(optout_url, optout.face)
    w.decoys.add(optout_url)
    w.smap.setdefault("headers", {})[optout_url] = {"X-Robots-Tag": "noimageai"}
    w.bad_input("noai", optout_url, optout.name)
    for s in (fake, tiny, optout):
        detail(s)
    listing = _interleave(listing, [fake.entry(None, href=f"personen/{fake.slug}.html"),
                                    tiny.entry(None, href=f"personen/{tiny.slug}.html"),
                                    optout.entry(None, href=f"personen/{optout.slug}.html")])
    w.absent.extend(LECTURERS)
    w.write("/german/personen.html", german_listing(listing, LECTURERS, sidebar=side),
            content_type=ISO_HTML, encoding="iso-8859-1")
    w.write("/german/index.html", plain_page("Institut für Germanistik", [
        "<p>Willkommen am Institut für Germanistik. Hier finden Sie <a href=\"personen.html\">alle Personen</a>.</p>",
    ], dept_label="Germanistik", active="/german/", subnav=GERMAN_SUBNAV, sidebar=side, charset="iso-8859-1",
        page_id=499), content_type=ISO_HTML, encoding="iso-8859-1")
    return dept


def build_mechanical(w: "SiteWriter", faces: list["Face"], extras: list["Face"], rng: random.Random) -> DeptTruth:
    """A page whose team list is rendered by JavaScript from ``api/team.json``."""
    dept = _dept("mechanical")
    staff = [make_staff(f, "mechanical", i, rng) for i, f in enumerate(faces)]
    (avatar,) = _extras(extras, "mechanical", rng, len(staff))
    entries = []
    for s in staff:
        url = f"/mechanical/img/team/{s.slug}.jpg"
        sha = w.photo(url, s.face)
        entries.append(s.entry(url))
        dept.people.append(_truth(s, url, sha, "/mechanical/team.html"))
    w.absent.append(avatar.name)
    entries = _interleave(entries, [avatar.entry(chrome.AVATAR_PNG)])  # same URL as on the cs page
    w.write("/mechanical/team.html", mechanical_page("api/team.json"))
    w.write("/mechanical/api/team.json", mechanical_json(entries))
    moto = w.decoy("/mechanical/img/news/motorcycle_left.png", "motorcycle_left.png")
    w.write("/mechanical/index.html", plain_page("Fakultät für Maschinenbau", [
        f'<p><img src="{moto}" width="500" alt="Prüfstand"> Neuer Motorenprüfstand eingeweiht.</p>',
        '<p><a href="team.html">Unser Team</a></p>',
    ], dept_label="Maschinenbau", active="/mechanical/", page_id=700))
    return dept


def build_intern(w: "SiteWriter", faces: list["Face"], rng: random.Random) -> list[TruthPerson]:
    """People reachable only below /intern/, which robots.txt disallows."""
    people, entries = [], []
    for i, f in enumerate(faces):
        s = make_staff(f, "intern", i, rng, titled=False)
        url = f"/intern/fotos/{s.slug}.jpg"
        sha = w.photo(url, f)
        entries.append(s.entry(url))
        people.append(_truth(s, url, sha, "/intern/team.html"))
        w.absent.append(s.name)
    w.write("/intern/team.html", intern_page(entries))
    return people
