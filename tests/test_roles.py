"""Code tests of roles: the lexicon's classes, titles parsed off names, where a page prints a
role, the role filter's choices, and old index rows (no role) reading as `unknown`."""
from __future__ import annotations

import pandas as pd
import pytest

from infra.index import normalise
from spiders.extract import extract_detail, extract_page
from spiders.roles import ROLE_CLASSES, classify_role, load_lexicon, parse_title, person_role, resolve_roles

URL = "https://www.uni-x.de/team/"


@pytest.mark.parametrize("role, expected", [
    ("Sekretariat", "admin"), ("Fremdsprachensekretärin", "admin"), ("Administrative Assistant", "admin"),
    ("Nichtwissenschaftliche Mitarbeiterin", "admin"), ("Teamassistenz", "admin"), ("Verwaltung", "admin"),
    ("System Administrator", "technical"), ("Technischer Angestellter", "technical"), ("Lab Manager", "technical"),
    ("Studentische Hilfskraft", "student"), ("Student Assistant", "student"), ("Master student", "student"),
    ("Visiting Student", "student"), ("HiWi", "student"),
    ("PhD Student", "doctoral"), ("Doktorandin", "doctoral"), ("Ph.D. Candidate", "doctoral"),
    ("Graduate Student", "doctoral"), ("Doctoral researcher", "doctoral"),
    ("Postdoctoral Researcher", "researcher"), ("Post-doc", "researcher"), ("Wiss. Mitarbeiterin", "researcher"),
    ("Wissenschaftlicher Mitarbeiter", "researcher"), ("Research Associate", "researcher"),
    ("Assistant Professor", "professor"), ("Professor Emeritus", "professor"), ("Juniorprofessorin", "professor"),
    ("Lehrstuhl für Volkswirtschaftslehre", "professor"), ("Principal Investigator", "professor"),
    ("Lecturer", "lecturer"), ("Senior Lecturer", "lecturer"), ("Akademische Rätin", "lecturer"),
    ("Lehrbeauftragter", "lecturer"),
    ("Machine learning, robotics", "unknown"), ("", "unknown"),
])
def test_role_classes_english_and_german(role, expected):
    assert classify_role(role) == expected


def test_title_decides_only_when_the_role_says_nothing():
    assert classify_role(None, "Prof. Dr.") == "professor"
    assert classify_role("Sekretariat", "Dr.") == "admin"
    assert classify_role(None, "Dr.") == "unknown"


@pytest.mark.parametrize("name, title", [
    ("Prof. Dr.-Ing. Hans Müller, M.Sc.", "Prof. Dr.-Ing., M.Sc."),
    ("Prof. Dr. rer. nat. Eva Braun", "Prof. Dr. rer. nat."),
    ("PD Dr. Karl Weber", "PD Dr."),
    ("Jane Doe, PhD", "PhD"),
    ("Hans Meier", ""),
])
def test_titles_parsed_off_names(name, title):
    assert parse_title(name) == title


def test_person_role_is_what_the_index_stores():
    assert person_role("Prof. Dr. Eva Braun", None) == {"title": "Prof. Dr.", "role": None, "role_class": "professor"}
    assert person_role("Anna Berg", "  Sekretariat ") == {"title": None, "role": "Sekretariat", "role_class": "admin"}


def _page(body: str) -> str:
    return f"<html><head><title>Team</title></head><body><main>{body}</main></body></html>"


def _roles(html: str) -> dict[str, str | None]:
    return {p.name: p.role for p in extract_page(html, URL).people}


def test_role_lines_in_cards_tables_and_after_figures():
    cards = _page("<div class=card><img src=a.jpg><h3>Anna Schulz</h3><p>Sekretariat</p><p>Raum 3.12</p></div>"
                  "<div class=card><img src=b.jpg><h3>Ben Okafor</h3><p>Tel. 0761 203 1234</p>"
                  "<p>PhD Student</p></div>"
                  "<div class=card><img src=c.jpg><h3>Clara Weiss</h3><p>Forschungsschwerpunkte: Didaktik</p></div>")
    assert _roles(cards) == {"Anna Schulz": "Sekretariat", "Ben Okafor": "PhD Student", "Clara Weiss": None}
    table = _page("<table><tr><td><img src=a.jpg></td><td><b>Dr. Hans Meier</b><br>Postdoc</td></tr>"
                  "<tr><td><img src=b.jpg></td><td><b>Eva Braun</b><br>Studentische Hilfskraft</td></tr></table>")
    assert _roles(table) == {"Dr. Hans Meier": "Postdoc", "Eva Braun": "Studentische Hilfskraft"}
    figures = _page("<div class=p><figure><img src=a.jpg><figcaption>Karl Schmidt</figcaption></figure>"
                    "<p>Akademischer Rat</p></div><div class=p><figure><img src=b.jpg><figcaption>Lena Vogel"
                    "</figcaption></figure><p>Administrative Assistant</p></div>")
    assert _roles(figures) == {"Karl Schmidt": "Akademischer Rat", "Lena Vogel": "Administrative Assistant"}


def test_section_headings_name_the_role_of_a_grid():
    html = _page("<h2>Doktorandinnen und Doktoranden</h2>"
                 "<div class=card><img src=a.jpg><h3>Anna Schulz</h3></div>"
                 "<div class=card><img src=b.jpg><h3>Ben Okafor</h3></div>"
                 "<h2>Team Assistants</h2><div class=card><img src=c.jpg><h3>Clara Weiss</h3></div>"
                 "<h2>Gallery</h2><div class=card><img src=d.jpg><h3>Dora Lang</h3></div>")
    assert _roles(html) == {"Anna Schulz": "Doktorandinnen und Doktoranden",
                            "Ben Okafor": "Doktorandinnen und Doktoranden", "Clara Weiss": "Team Assistants",
                            "Dora Lang": None}


def test_another_persons_name_is_never_a_role():
    html = _page("<div class=card><img src=a.jpg><h3>Anna Schulz</h3><p>Prof. Dr. Eva Braun</p></div>"
                 "<div class=card><img src=b.jpg><h3>Ben Okafor</h3><p>Lecturer</p></div>")
    assert _roles(html)["Anna Schulz"] is None


def test_profile_pages_and_definition_lists():
    profile = _page("<h1>Dr. Lisa Roth</h1><img src=/p/roth.jpg alt='Dr. Lisa Roth'>"
                    "<dl><dt>Funktion</dt><dd>Wissenschaftliche Mitarbeiterin</dd><dt>Raum</dt><dd>C 3.11</dd></dl>")
    person = extract_detail(profile, "https://www.uni-x.de/team/roth.html", "Lisa Roth")
    assert person is not None and person.role == "Wissenschaftliche Mitarbeiterin"
    listing = _page("<dl><dt><a href='/team/roth.html'>Lisa Roth</a></dt><dd>Sekretariat</dd>"
                    "<dt><a href='/team/kern.html'>Paul Kern</a></dt><dd>Doktorand</dd></dl>")
    assert _roles(listing) == {"Lisa Roth": "Sekretariat", "Paul Kern": "Doktorand"}


def test_role_filter_choices_and_errors():
    assert resolve_roles("academic") == ("doctoral", "lecturer", "professor", "researcher")
    assert resolve_roles("all") == () and resolve_roles(None) == ()
    assert resolve_roles("admin, student") == ("admin", "student")
    with pytest.raises(ValueError, match=r"unknown role\(s\) \['deans'\]"):
        resolve_roles("professor,deans")


def test_lexicon_is_checked_when_loaded(tmp_path):
    bad = tmp_path / "roles.yaml"
    bad.write_text("rules:\n  - class: dean\n    pattern: dean\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown role class 'dean'"):
        load_lexicon(bad)
    bad.write_text("rules:\n  - class: admin\n    pattern: 'sekret(ar'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\[0\] \(admin\): bad pattern"):
        load_lexicon(bad)
    assert set(load_lexicon().groups["academic"]) <= set(ROLE_CLASSES)


def test_index_rows_from_before_roles_read_as_unknown():
    old = pd.DataFrame({"id": ["a1"], "category": ["cs"], "image_url": ["https://x/a.jpg"], "name": ["Anna"]})
    frame = normalise(old)
    assert frame.loc[0, "role_class"] == "unknown" and pd.isna(frame.loc[0, "role"])


def test_the_report_says_which_roles_were_included_with_counts_per_category():
    from ml.model_card import provenance, roles_sentence

    splits = pd.DataFrame({"id": ["a", "b", "c"], "group": ["g1", "g2", "g3"], "category": ["cs", "cs", "econ"],
                           "split": ["train", "test", "train"]})
    index = pd.DataFrame({"id": ["a", "b", "c", "d"], "slug": ["x"] * 4, "role_class": ["professor", "doctoral",
                                                                                      "doctoral", "admin"]})
    prov = provenance(splits, index, ["doctoral", "professor"])
    assert prov["roles"] == {"included": ["doctoral", "professor"],
                             "photos_per_category": {"cs": {"doctoral": 1, "professor": 1}, "econ": {"doctoral": 1}}}
    assert roles_sentence(prov) == ("Roles included: doctoral, professor. Photos per category and role: "
                                    "cs: doctoral 1, professor 1; econ: doctoral 1.")
    assert roles_sentence(provenance(splits, index)).startswith("Roles included: all (no role filter).")
