"""Names, academic titles and matching keys of the staff-page extractor."""

import unicodedata

import pytest

from spiders.extract import extract_page, looks_like_person_name, name_key
from spiders.extract.names import clean_name_text, name_from_alt, normalize_space, split_name_prefix, strip_titles


@pytest.mark.parametrize(
    "display, key",
    [
        ("Prof. Dr.-Ing. Jürgen  Müller", "jürgen müller"),
        ("Dr. rer. nat. Anna Schulz", "anna schulz"),
        ("Dr. rer. pol. Brendan O'Sullivan", "brendan o'sullivan"),
        ("Dipl.-Inf. Hans Meier", "hans meier"),
        ("Dipl.-Wirt.-Ing. (FH) Peter Lang", "peter lang"),
        ("Anna Schulz, M.Sc.", "anna schulz"),
        ("Nafize Solak, Ass. iur.", "nafize solak"),
        ("Lidija Pfanzler (geb. Gerlein), Ass. iur.", "lidija pfanzler"),
        ("B.Sc. Tim Klein", "tim klein"),
        ("M. Sc. Sarah Connor", "sarah connor"),
        ("apl. Prof. Dr. Karl von Weizsäcker", "karl von weizsäcker"),
        ("Jun.-Prof. Dr. Lea Hoffmann-Schmidt", "lea hoffmann-schmidt"),
        ("PD Dr. Eva Braun", "eva braun"),
        ("Univ.-Prof. Dr. Otto Graf", "otto graf"),
        ("Priv.-Doz. Dr. Jan de Vries", "jan de vries"),
        ("Prof. em. Dr. Klaus Weber", "klaus weber"),
        ("Prof. Dr. h. c. mult. Otto Lang", "otto lang"),
        ("Dr.-Ing. habil. Petra Ost", "petra ost"),
        ("Wei Zhang, Ph.D.", "wei zhang"),
        ("Frau Dr. Maria Weber", "maria weber"),
        ("Herr Dipl.-Ing. Cem Özdemir", "cem özdemir"),
        ("Müller, Hans", "hans müller"),
        ("MÜLLER, Hans, Prof. Dr.", "hans müller"),
        ("Meier, Dr. Hans", "hans meier"),
        ("von Stein, Clara", "clara von stein"),
        ("Schäfer-Lindqvist, Malin", "malin schäfer-lindqvist"),
        ("Anna Schulz, MA", "anna schulz"),
        ("Hans Meier (Sekretariat)", "hans meier"),
        ("  Anna\u00a0 Schulz \n", "anna schulz"),
    ],
)
def test_name_key_strips_titles_and_orders(display, key):
    assert name_key(display) == key


def test_name_key_is_nfc_and_keeps_umlauts():
    decomposed = unicodedata.normalize("NFD", "Jürgen Müller")
    assert name_key(decomposed) == "jürgen müller"
    assert unicodedata.is_normalized("NFC", name_key(decomposed))
    assert name_key("Prof. Dr. Jürgen Müller") == name_key("Müller, Jürgen")


def test_name_key_keeps_initials_and_particles():
    assert name_key("Prof. Dr. J. Smith") == "j. smith"
    assert name_key("Jan van der Berg") == "jan van der berg"


@pytest.mark.parametrize(
    "text",
    [
        "Prof. Dr.-Ing. Jürgen Müller",
        "Anna Schulz",
        "Schulz, Anna",
        "Sandmann, Friederike, Prof. Dr.",
        "Jean-Pierre Dupont",
        "Seán O'Brien",
        "Mohammed al-Rashid",
        "Maria del Carmen García López",
        "Karl von Weizsäcker",
        "Thi Thu Hà Nguyen, M.Sc.",
        "J. Smith",
        "HANS MEIER",
        "Name: Hans Meier",
        "Dr. Shinhyung Yang",  # a Korean given name ending in "-hyung" is no German "-ung" noun
        "Emily January Petersen",
        "段 逸均 Yijun Duan",  # the same name in CJK and in Latin script on one line
        "关佶红 (Jihong Guan)",  # ... with the Latin one in brackets
        "Jihong Guan (关佶红)",
        "Dr. Amitava Das",  # capitalised particles are surnames too
        "Thi Le",
        "Dávid Radovics",  # a Hungarian "-ics" after a known given name
        "Aurelien Sutra Del Galy, MD, PhD",
        "Alexandra 'Lexa' Mink-Flacco",  # a nickname in quotes
        "欧阳涛",  # a two-character family name
        "Dr.Sarojini Pani",  # a title glued to the name
        "Dr Basanta Manjari Dei",
    ],
)
def test_person_names(text):
    assert looks_like_person_name(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wissenschaftliche Mitarbeiter",
        "Sekretariat",
        "Team",
        "Kontakt",
        "Ehemalige",
        "Machine Learning",
        "Software Engineering",
        "Theoretische Informatik",
        "Lehrstuhl für Informatik",
        "Karlsruhe Institute of Technology",
        "Prof. Müller",
        "Raum 204",
        "anna.schulz@uni.de",
        "Hans und Anna Meier",
        "Read more",
        "Mehr erfahren",
        "Neueste Beiträge",
        "Digitale Bildverarbeitung",
        "Prof. Dr. Hans Meier erhält Lehrpreis",
        "Sprechstunde: nach Vereinbarung",
        "Sekretariat: Anna Schulz",
        "KIT IPD",
        "Akademischer Rat",
        "Universität Würzburg",
        "Kaiserstraße 12",
        "Prof. Dr.",
        "Select Presentations",
        "Forschung Verwaltung",
        "Investigador Adjunto CONICET",
        "Coordinadora COES",
        "Horst der Erste",
        "Chameleon Studios",
        "研究 内容 Research Topics",
        "Machine Learning (机器学习)",
        "Hans von",  # cut off before the surname
        "Applied Informatics",
        "Posted By This Author",
        "Denis Friboulet Institution",
        "",
    ],
)
def test_not_person_names(text):
    assert not looks_like_person_name(text)


def test_strip_titles_keeps_order_of_the_rest():
    assert strip_titles("Prof. Dr. Anna Maria Schulz") == "Anna Maria Schulz"
    assert strip_titles("Xin Meng") == "Xin Meng" and strip_titles("Hans Meier MEng") == "Hans Meier"


def test_hyphenated_given_names_are_no_titles():
    assert name_key("盧俊利 Jun-Li Lu") == "盧俊利 jun-li lu" and name_key("Jun.-Prof. Dr. Lea Hoffmann") == "lea hoffmann"
    assert name_key("Dipl-Inf Tim Klein") == "tim klein"


def test_lower_case_alt_counts_only_when_the_file_name_agrees():
    assert name_from_alt("jeremy manning", frozenset({"jeremy", "manning"})) == "Jeremy Manning"
    assert name_from_alt("jeremy manning") is None
    assert name_from_alt("campus view", frozenset({"jeremy", "manning"})) is None


def test_weekday_surnames_after_a_known_given_name():
    assert looks_like_person_name("Hans Freitag") and looks_like_person_name("Joe Friday")
    assert not looks_like_person_name("Jeden Freitag") and not looks_like_person_name("Freitag Vormittag")
    assert strip_titles("Schulz, Anna, Dr.") == "Schulz, Anna"


def test_clean_name_text_removes_name_label():
    assert clean_name_text("Name:  Hans   Meier ") == "Hans Meier"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr. Hans Meier, Lehrstuhlinhaber", "Dr. Hans Meier"),
        ("Prof. Dr. Hans Meier – Leitung", "Prof. Dr. Hans Meier"),
        ("Anna Schulz (Sekretariat)", "Anna Schulz"),
        ("Meier, Hans", None),
        ("Neues Projekt gestartet", None),
        # contact details run on without punctuation: cut where the room code starts
        ("Sven Rahmann V183, R1.10, Essen -4046, Dortmund -7701", "Sven Rahmann"),
        ("Marianna D'Addario OH14, R.215, Dortmund", "Marianna D'Addario"),
        ("Raum 3.14 Hans Meier", None),
    ],
)
def test_split_name_prefix(text, expected):
    assert split_name_prefix(text) == expected


@pytest.mark.parametrize(
    "alt, expected",
    [
        ("Portrait of Anna Schulz", "Anna Schulz"),
        ("Foto: Hans Meier", "Hans Meier"),
        ("A headshot of Denise Manton", "Denise Manton"),
        ("Porträt von Dr. Eva Braun", "Dr. Eva Braun"),
        ("Hans_Meier.jpg", "Hans Meier"),
        ("anna-schulz.jpg", "Anna Schulz"),
        ("Anna Schulz", "Anna Schulz"),
        ("Photo", None),
        ("Logo Universität", None),
        ("Foto: © Uni Bonn", None),
        ("", None),
    ],
)
def test_name_from_alt(alt, expected):
    assert name_from_alt(alt) == expected


def test_middle_initial_without_dot_is_a_name():
    from spiders.extract import looks_like_person_name

    assert looks_like_person_name("Prof. Dr. Michael J Sheehan")
    # initials without dots before or after the name are common in South Indian names
    assert looks_like_person_name("Sudhakar M") and looks_like_person_name("C Arjun Menon")
    assert looks_like_person_name("Venkataraman N V")
    assert not looks_like_person_name("A B") and not looks_like_person_name("Room A")


@pytest.mark.parametrize("shown, fixed", [
    ("Prof. Dr. JÃ¼rgen MÃ¼ller", "Prof. Dr. Jürgen Müller"),  # UTF-8 read as Latin-1 once too often
    ("GÃ¶ran Ã…kesson", "Göran Åkesson"),
    ("Zoë Smith", "Zoë Smith"),  # correct text is left alone
])
def test_double_encoded_names_are_repaired(shown, fixed):
    assert normalize_space(shown) == fixed and looks_like_person_name(normalize_space(shown))
    page = f"<html><body><div class=person><img src='/p/a.jpg'><h3>{shown}</h3></div>" \
           f"<div class=person><img src='/p/b.jpg'><h3>Anna Schulz</h3></div></body></html>"
    assert extract_page(page, "https://u.example/team/").people[0].name == fixed


def test_korean_and_chinese_names_without_spaces():
    from spiders.extract import looks_like_person_name
    from spiders.extract.names import could_be_name_in_slot

    assert looks_like_person_name("노의근") and looks_like_person_name("王小明")
    assert not looks_like_person_name("정교수") and not looks_like_person_name("实验室")  # a title, a lab
    assert not looks_like_person_name("김준") and could_be_name_in_slot("김준")  # two syllables: only in a name slot


def test_names_that_end_like_subjects_and_role_suffixes():
    from spiders.extract import looks_like_person_name

    assert looks_like_person_name("Kai-Hendrik Cohrs")  # not "...ik" like Informatik
    assert not looks_like_person_name("Angewandte Informatik")
    assert name_key("Veronica Nieves - Distinguished Researcher") == "veronica nieves"
    assert name_key("Anita Brown, REU 2017") == "anita brown"
    assert name_key("van der Berg, Jan") == "jan van der berg"


def test_names_in_two_scripts_are_not_compared():
    from spiders.extract.cjk import keys_disagree

    assert not keys_disagree("deng xiaoheng", "邓晓衡")  # a transliteration, not another person
    assert keys_disagree("anna schulz", "ben okafor") and not keys_disagree("anna schulz", "anna schulz")
    assert keys_disagree("王伟", "邓晓衡")
