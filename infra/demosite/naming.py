"""Display names with academic titles, roles and contact data for demo staff."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layouts import Entry

if TYPE_CHECKING:
    from .generator import Face

# (prefix, suffix) pairs; the ground-truth name is prefix + name + suffix, as displayed.
TITLES = {
    "cs": [("Dr. ", ""), ("Dipl.-Inf. ", ""), ("", ", M.Sc."), ("", ""), ("", "")],
    "econ": [("Dr. rer. pol. ", ""), ("Dipl.-Kfm. ", ""), ("", ", M.Sc."), ("", ""), ("", "")],
    "german": [("Dr. phil. ", ""), ("", ", M.A."), ("", ""), ("", "")],
    "mechanical": [("Dr.-Ing. ", ""), ("Dipl.-Ing. ", ""), ("", ", M.Sc."), ("", "")],
    "intern": [("", "")],
}
CHAIR_TITLE = {"mechanical": "Prof. Dr.-Ing. "}
CHAIRS = {
    "cs": "Professur für Softwaretechnik",
    "econ": "Lehrstuhl für Volkswirtschaftslehre",
    "german": "Professur für Neuere deutsche Literatur",
    "mechanical": "Lehrstuhl für Konstruktionstechnik",
    "intern": "Verwaltung",
}
# German display names with umlauts/ß for the ISO-8859-1 department (photo stays LFW).
GERMAN_NAMES = {
    "male": ["Jürgen Müller", "Björn Schäfer", "Günther Weiß"],
    "female": ["Käthe Schröder", "Bärbel Hübner", "Jördis Krüger"],
}
LECTURERS = ["Dr. Hannelore Weber", "Klaus-Dieter Brückner"]
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slugify(text: str) -> str:
    """ASCII, lowercase, hyphen-separated (used for file names and e-mail local parts)."""
    return re.sub(r"[^a-z0-9]+", "-", text.translate(_TRANSLIT).lower()).strip("-")


@dataclass
class Staff:
    """A person as shown on a page: display name plus contact details."""

    face: "Face"
    name: str
    plain: str
    slug: str
    role: str
    email: str
    phone: str
    room: str

    def entry(self, img: str | None, variant: str = "plain", img_2x: str = "", href: str = "") -> Entry:
        return Entry(self.name, self.role, self.email, self.phone, self.room, img, variant, img_2x, href)


# The class each printed role belongs to, decided here by hand (the truth a crawl's
# role_class is scored against; never derived from the project's lexicon).
ROLE_CLASS_OF = {
    **{chair: "professor" for chair in CHAIRS.values() if chair != "Verwaltung"}, "Verwaltung": "admin",
    "Wissenschaftliche Mitarbeiterin": "researcher", "Wissenschaftlicher Mitarbeiter": "researcher",
    "Doktorandin": "doctoral", "Doktorand": "doctoral", "Postdoc": "researcher",
    "Akademische Rätin": "lecturer", "Akademischer Rat": "lecturer",
    "Sekretariat": "admin", "Studentische Hilfskraft": "student",
    "Technische Angestellte": "technical", "Technischer Angestellter": "technical",
}


def _role(category: str, index: int, gender: str) -> str:
    if index == 0:
        return CHAIRS[category]
    f = gender == "female"
    options = [
        "Wissenschaftliche Mitarbeiterin" if f else "Wissenschaftlicher Mitarbeiter",
        "Doktorandin" if f else "Doktorand",
        "Postdoc",
        "Sekretariat",
        "Akademische Rätin" if f else "Akademischer Rat",
        "Studentische Hilfskraft",
        "Doktorandin" if f else "Doktorand",
        "Technische Angestellte" if f else "Technischer Angestellter",
    ]
    return options[(index - 1) % len(options)]


def make_staff(face: "Face", category: str, index: int, rng: random.Random, *, plain: str | None = None,
               titled: bool = True) -> Staff:
    """Display name (with a title for some), role and contact data, all drawn from ``rng``."""
    plain = plain or face.name
    if not titled:
        prefix, suffix = "", ""
    elif index == 0:
        prefix, suffix = CHAIR_TITLE.get(category, "Prof. Dr. "), ""
    else:
        prefix, suffix = rng.choice(TITLES[category])
    parts = slugify(plain).split("-")
    email = f"{parts[0]}.{parts[-1]}@{category}.demo-uni.example"
    phone = f"+49 345 55-{rng.randrange(21000, 29999)}"
    room = f"{rng.choice('ABCEG')} {rng.randrange(0, 5)}.{rng.randrange(1, 40):02d}"
    return Staff(face, f"{prefix}{plain}{suffix}", plain, slugify(plain), _role(category, index, face.gender),
                 email, phone, room)
