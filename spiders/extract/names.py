"""Person names: academic titles, matching keys and a "does this look like a name" test.

Everything here works on plain strings; nothing knows about HTML.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .lexicon import NON_NAME_WORDS as _NON_NAME_WORDS
from .lexicon import is_known_first_name
from .cjk import CJK_THEN_LATIN, LATIN_THEN_CJK, is_cjk_name, is_short_cjk_name

__all__ = [
    "normalize_space",
    "strip_titles",
    "name_key",
    "looks_like_person_name",
    "clean_name_text",
    "name_from_alt",
    "split_name_prefix",
    "is_title_only",
]

_WS = re.compile(r"\s+", re.UNICODE)


_MOJIBAKE = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def normalize_space(text: str | None) -> str:
    """Collapse all whitespace (incl. NBSP, zero-width) to single spaces, NFC; repair UTF-8 that was
    decoded as Latin-1/cp1252 once too often ("MÃ¼ller" -> "Müller", pages saved double-encoded)."""
    if not text:
        return ""
    if _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_encoding(text)
    text = text.replace("\u200b", "").replace("\u00ad", "").replace("\ufeff", "")
    return unicodedata.normalize("NFC", _WS.sub(" ", text)).strip()


# --------------------------------------------------------------------------- titles
# Multi-token academic titles / degrees, removed on the whole string first.
_MULTI_TITLES = [
    r"Dr\.?\s*(?:rer|phil|med|jur|oec|pol|nat|techn|agr|paed|theol|ing|sc|habil|des|h)\.?"
    r"(?:\s*(?:rer|phil|med|jur|oec|pol|nat|techn|agr|paed|theol|ing|sc|habil|des|c|publ|soc|math|dent|vet|iur)\.)*",
    r"h\.\s?c\.(?:\s?mult\.)?",
    r"(?:M|B)\.\s?(?:Sc|A|Ed|Eng|Phil|Res|Mus|F\.?A|B\.?A)\.?",
    r"Ph\.\s?D\.?",
    r"LL\.\s?[MB]\.?",
    r"Dipl\.?\s*-\s*[\wÄÖÜäöü.]+(?:\s*-\s*[\wÄÖÜäöü]+\.?)*(?:\s*\((?:FH|TU|Univ\.?|BA|DH)\))?",
    r"apl\.\s*Prof\.?",
    r"Prof\.\s*em(?:er)?\.",
    r"Akad\.\s*(?:Ober)?(?:rat|rätin|Rat|Rätin|Direktor(?:in)?)",
    r"Assoc\.\s*Prof\.?",
    r"Asst\.\s*Prof\.?",
    r"Univ\.?\s*-?\s*Prof\.?",
    r"Jun\.?\s*-?\s*Prof\.?",
    r"Priv\.?\s*-?\s*Doz\.?",
    r"Hon\.?\s*-?\s*Prof\.?",
    r"o\.\s*Prof\.?",
    r"(?:(?:Associate|Assistant|Adjunct|Visiting|Research|Full|Distinguished|Senior|Principal|Chair|"
    r"Emeritus|Emerita)\s+)+(?:Research\s+)?(?:Professor|Researcher|Lecturer|Scientist|Fellow)(?=\s+\w)",
    r"Ass\.\s*(?:iur|jur)\.",  # Assessor iuris, a German lawyer's title: "Nafize Solak, Ass. iur."
    r"a\.\s*o\.\s*Prof\.?",
]
_MULTI_TITLE_RE = re.compile(
    r"(?<![\w])(?:" + "|".join(_MULTI_TITLES) + r")(?![\w])", re.IGNORECASE | re.UNICODE
)

# Single tokens (compared casefolded, after stripping surrounding commas/brackets).
_TITLE_TOKENS = {
    "prof.", "prof", "professor", "professorin", "dr.", "dr", "dres.", "doktor",
    "pd", "p.d.", "apl.", "em.", "emer.", "emeritus", "emerita", "habil.", "habil", "rer.", "nat.",
    "pol.", "phil.", "med.", "jur.", "oec.", "techn.", "ing.", "des.", "h.c.", "mult.",
    "dipl.", "dipl", "mag.", "dott.", "ing", "m.sc.", "msc", "m.sc", "b.sc.", "bsc", "b.sc",
    "m.a.", "b.a.", "m.ed.", "b.ed.", "mba", "m.eng.", "b.eng.", "ll.m.", "llm", "ph.d.", "phd",
    "ph.d", "dphil", "d.phil.", "jun.-prof.", "juniorprof.", "juniorprofessor", "juniorprofessorin",
    "jprof.", "jprof", "priv.-doz.", "privatdozent", "privatdozentin", "univ.-prof.", "hon.-prof.",
    "honorarprof.", "honorarprofessor", "honorarprofessorin", "apl.-prof.", "frau", "herr", "fr.", "hr.",
    "mr.", "mrs.", "ms.", "miss", "mx.", "sir", "dame", "prof.(em.)", "(em.)",
    "(fh)", "(tu)", "(univ.)", "(ba)", "(dh)", "fh", "akad.", "oberrat", "oberrätin", "studienrat",
    "studienrätin", "ostr", "stud.", "cand.",
    "assoc.", "asst.", "adj.", "ret.", "i.r.", "a.d.", "mphil", "m.phil.", "msc.", "bsc.", "assessor", "assessorin", "iur.", "phd.", "ph.d.,", "m.si.", "s.si.", "m.kom.",
    "s.kom.", "m.sc.,", "m.t.", "s.t.", "m.eng", "m.pd.", "s.pd.", "dipl.-inf.", "dipl.-ing.", "dipl.-kfm.", "dipl.-math.", "dipl.-phys.",
}
_HYPHEN_TITLE_RE = re.compile(
    r"^(?:dipl|dr|jun|jun\.?prof|priv|univ|hon|apl|akad|o|a\.o|vertr|wiss|gast|ass|assoc|asst|prof|juniorprof)\.?"
    r"(?:-[\wäöüß]+\.?)+$",
    re.IGNORECASE,
)
_CASED_TITLES = {"MEng", "BEng", "MEng.", "BEng."}  # "Meng" and "Beng" are surnames too
_HYPHEN_TITLE_TAILS = {"prof", "ing", "inf", "kfm", "math", "phys", "chem", "biol", "psych", "doz", "wirt", "päd"}
_LEADING_ONLY = {"mr", "ms", "mrs", "mx"}
_TRAILING_ONLY = {"ma", "ba", "md"}  # degrees after the name ("…, MD, PhD"); "Md." before it is a name part


def _is_title_token(tok: str, position: int, n_tokens: int) -> bool:
    t = tok.strip(",;()").casefold()
    if not t:
        return True
    if tok.strip(",;()") in _CASED_TITLES:
        return True
    if t in _LEADING_ONLY:
        return position == 0
    if t in _TRAILING_ONLY:
        return position >= 2 and n_tokens > 2 and tok.strip(",;()").isupper()
    if t in _TITLE_TOKENS:
        return True
    # "Dr.-Ing.", "Jun.-Prof", "Dipl-Inf": a dot or a title word after the hyphen ("Jun-Li" is a name)
    return bool(_HYPHEN_TITLE_RE.match(t)) and ("." in t or t.rsplit("-", 1)[-1] in _HYPHEN_TITLE_TAILS)


_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_EDGE_PUNCT = " \t,;:·•|*–—-/\"'“”„«»‚‘’"


def strip_titles(text: str) -> str:
    """Remove academic titles, degrees and salutations, keep the order of the rest."""
    s = _GLUED_TITLE.sub(r"\1. ", normalize_space(text))
    if not s:
        return ""
    s = _PAREN_RE.sub(" ", s)
    s = _MULTI_TITLE_RE.sub(" ", s)
    # a comma directly followed by a title run: "Meier, Dr. Hans" handled by token pass
    raw_tokens = s.replace(",", " , ").split()
    toks = [t for t in raw_tokens]
    words = [t for t in toks if t != ","]
    out: list[str] = []
    wi = 0
    for t in toks:
        if t == ",":
            out.append(",")
            continue
        if _is_title_token(t, wi, len(words)):
            wi += 1
            continue
        out.append(t)
        wi += 1
    s = " ".join(out).replace(" ,", ",")
    s = re.sub(r"(,\s*)+", ", ", s)
    s = re.sub(r"\s+", " ", s)
    return s.strip(_EDGE_PUNCT).strip()


def _reorder_last_first(s: str) -> str:
    """'Müller, Hans' -> 'Hans Müller' (only for exactly two comma parts)."""
    parts = [p.strip() for p in s.split(",") if p.strip()]
    if len(parts) == 2 and s.count(",") == 1:
        last, first = parts
        # "Anita Brown, REU 2017": what follows the comma is no given name, so nothing to reorder
        given_like = not any(ch.isdigit() for ch in first)
        if given_like and 1 <= len(last.split()) <= 3 and 1 <= len(first.split()) <= 3:
            return f"{first} {last}"
    if len(parts) >= 1 and s.count(",") >= 1:
        # "Hans Meier, Lehrstuhlinhaber" style leftovers: keep first part
        return parts[0]
    return s


_ROLE_DASH = re.compile(r"\s+[-–—|]\s+")


@lru_cache(maxsize=65536)
def name_key(display_name: str) -> str:
    """Matching key: titles stripped, 'Last, First' -> 'first last', casefolded, NFC."""
    s = strip_titles(display_name or "")
    parts = _ROLE_DASH.split(s, maxsplit=1)
    if len(parts) == 2 and looks_like_person_name(parts[0]) and not looks_like_person_name(parts[1]):
        s = parts[0]  # "Veronica Nieves - Distinguished Researcher"
    if "," in s:
        s = _reorder_last_first(s)
    s = s.replace("\u2010", "-").replace("\u2011", "-").replace("–", "-")
    s = s.strip(_EDGE_PUNCT)
    s = unicodedata.normalize("NFC", s.casefold())
    return _WS.sub(" ", s).strip()


# --------------------------------------------------------------------------- name test
_PARTICLES = {
    "von", "van", "vom", "zu", "zum", "zur", "der", "den", "de", "del", "della", "degli", "di", "da",
    "dos", "das", "do", "du", "des", "la", "le", "ten", "ter", "te", "y", "i", "e", "bin", "ibn", "al",
    "el", "ben", "af", "av", "op", "het", "'t", "st.", "mac", "dei", "auf", "und",  # 'und' rejected later
}


_PARTICLES_ONLY = {"von", "van", "vom", "zu", "zum", "zur", "der", "den", "de", "della", "degli",
                   "des", "af", "av", "op", "het", "'t", "st.", "auf", "und"}


_NON_NAME_SUFFIXES = (
    "heit", "keit", "schaft", "schaften", "logie", "logy", "ologies", "tät", "täten", "ismus", "tion",
    "tionen", "ungen", "ierung", "wesen", "technik", "wissenschaft", "wissenschaften", "ität", "ities",
    "straße", "strasse", "institut", "zentrum", "lehre", "kunde", "forschung", "bereich", "gruppe",
    "management", "ment", "ics", "ship", "ness",
)
# words that end in a suffix above but are fine as names
_SUFFIX_EXCEPTIONS = {"clement", "vincent", "laurent", "hicks", "dicks", "ricks", "wicks", "fricks",
                      "vicks", "marks", "weiss", "menschaft"}

_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_BAD_CHARS = re.compile(r"[0-9@/\\:|?!=+#<>{}\[\]%$€§&;*•·…©®™_\"]")
_INITIAL_RE = re.compile(r"^(?:[^\W\d_]\.)(?:-?[^\W\d_]\.)*$", re.UNICODE)  # J. / J.-P. / J.P.
# weekdays and months that are names as well ("Marei Freitag", "Joe Friday", "Emily January Petersen")
_SURNAMES_TOO = frozenset({"freitag", "montag", "sonntag", "friday", "january"})
# romanised Korean syllables that end a given name ("Shinhyung", "Byungyoung"); German "-ung" nouns do not end so
_KOREAN_UNG = ("hyung", "eung", "oung", "yung", "wung")
_SUFFIX_TOKENS = {"jr.", "sr.", "jr", "sr", "ii", "iii", "iv"}
_LABEL_RE = re.compile(
    r"^(?:name|full name|vollständiger name|vor- und nachname|nachname, vorname|person)\s*:\s*",
    re.IGNORECASE,
)


def _word_ok(tok: str) -> bool:
    """A capitalised name part: Müller, Müller-Lüdenscheidt, O'Brien, McDonald, d'Alembert, al-Hassan."""
    parts = re.split(r"[-'’]", tok)
    if not parts or not parts[0] and len(parts) == 1:
        return False
    first = parts[0]
    if not first:
        return False
    if first[0].isupper():
        ok_first = True
    elif first.casefold() in {"d", "l", "al", "el", "de", "di", "da", "o", "ben", "bin", "abu", "ibn"} and len(parts) > 1:
        ok_first = True
    else:
        return False
    if not ok_first:
        return False
    for p in parts:
        if p and not all(ch.isalpha() or ch == "." for ch in p):
            return False
    return True


_GLUED_TITLE = re.compile(r"\b(Dr|Mr|Mrs|Ms|Prof|Smt|Sri|Shri)\.(?=[A-Z])")  # "Dr.Sarojini Pani"


def clean_name_text(text: str) -> str:
    """Whitespace-normalise and remove a leading 'Name:' label and edge punctuation."""
    s = _GLUED_TITLE.sub(r"\1. ", normalize_space(text))
    s = _LABEL_RE.sub("", s)
    return s.strip(" \t,;:·•|*–—-/\"'“”„«»").strip()


_NICKNAME = re.compile(r"(?<=\w)\s+['\"“‘„«][^'\"”’“»\s]{2,15}['\"”’»]\s+(?=\w)")


_GENERATION_SUFFIX = re.compile(r"^(?:Junior|Júnior|Jr\.?|Filho|Neto|Sobrinho)$")


@lru_cache(maxsize=65536)
def looks_like_person_name(text: str) -> bool:
    """True when *text* reads like one person's name (titles allowed, not a role/heading/sentence)."""
    s = clean_name_text(text)
    if is_cjk_name(strip_titles(s) if s else ""):
        return True
    s = _NICKNAME.sub(" ", s)  # Alexandra 'Lexa' Mink-Flacco
    both = CJK_THEN_LATIN.match(s) or LATIN_THEN_CJK.match(s)
    if both:  # "段 逸均 Yijun Duan", "关佶红 (Jihong Guan)", "Jihong Guan (关佶红)"
        latin = both.group("latin").strip()
        if latin.startswith("(") and latin.endswith(")"):
            latin = latin[1:-1]
        return looks_like_person_name(latin)
    if not s or len(s) > 90 or len(s) < 3:
        return False
    if _BAD_CHARS.search(s):
        return False
    core = strip_titles(s)
    if not core:
        return False
    if "," in core:
        parts = [p.strip() for p in core.split(",") if p.strip()]
        if len(parts) != 2 or core.count(",") != 1:
            return False
        if len(parts[0].split()) > 3 or len(parts[1].split()) > 3:
            return False
        if (parts[1].isupper() and not parts[0].isupper() and len(parts[1].split()) == 1
                and sum(ch.isalpha() for ch in parts[1]) >= 2 and "." not in parts[1]):
            return False  # "UC Berkeley, EECS": a place and a department acronym, not "Last, FIRST"
        core = f"{parts[1]} {parts[0]}"
    if "(" in core or ")" in core:
        return False
    words = core.split()
    if len(words) >= 3 and _GENERATION_SUFFIX.match(words[-1]):
        core = " ".join(words[:-1])  # "Geraldo Braz Junior", "Carlos Santos Neto": a family suffix
    if len(core) > 60:
        return False
    tokens = core.split()
    if not 2 <= len(tokens) <= 6:
        return False
    low = [t.casefold() for t in tokens]
    if any(t in {"und", "and", "&", "sowie", "or", "oder", "u.", "et"} for t in low):
        return False
    if low[0] in {"der", "die", "das", "den", "des", "dem", "la", "le", "el", "the", "y", "i", "e"}:
        return False
    # a name does not end in a particle ("Hans von" is cut off), but capitalised "Das", "Le", "Do",
    # "Du", "Ben" are surnames too (Amitava Das, Thi Le, Bo Du)
    if low[-1] in _PARTICLES and low[-1] != "y" and (tokens[-1][0].islower() or low[-1] in _PARTICLES_ONLY):
        return False
    n_words = 0
    all_caps = 0
    bare_initials = 0
    for pos, (tok, lt) in enumerate(zip(tokens, low)):
        if len(tok) == 1 and tok.isupper() and tok.isalpha():
            bare_initials += 1  # an initial written without its dot: "Michael J Sheehan", "Sudhakar M"
            continue
        bare = lt.strip(".")
        if bare in _NON_NAME_WORDS or lt in _NON_NAME_WORDS:
            if not (bare in _SURNAMES_TOO and pos > 0 and is_known_first_name(tokens[0])):
                return False
        if len(lt) > 5 and lt.endswith(_NON_NAME_SUFFIXES) and lt not in _SUFFIX_EXCEPTIONS \
                and not (lt.endswith("ics") and pos == len(tokens) - 1 and pos > 0 and is_known_first_name(tokens[0])):
            return False  # "Informatics" is no name, "Dávid Radovics" is
        seg = lt.rsplit("-", 1)[-1]  # "Kai-Hendrik" is judged by "hendrik"; "Wirtschaftsinformatik" whole
        if (len(seg) > 8 and seg.endswith("ung") and not seg.endswith(_KOREAN_UNG)) or (len(seg) >= 9 and seg.endswith("ik")):
            return False
        if lt in _PARTICLES and tok[0].islower():
            continue
        if lt in _SUFFIX_TOKENS:
            continue
        if _INITIAL_RE.match(tok):
            continue
        if not _word_ok(tok):
            return False
        if "." in tok:
            return False
        letters = sum(ch.isalpha() for ch in tok)
        if letters < 2:
            return False
        n_words += 1
        if tok.isupper() and letters >= 2:
            all_caps += 1
    if n_words < 1:
        return False
    if n_words == 1 and not bare_initials and not any(_INITIAL_RE.match(t) for t in tokens):
        return False
    if all_caps == n_words:
        # all-caps text: accept only if it is not a short acronym run
        if max(len(t) for t in tokens) < 4 or n_words > 4:
            return False
    # a name has at most a couple of particles
    return True


def could_be_name_in_slot(text: str) -> bool:
    """A looser test for text in the place where a template puts names: titles plus a surname
    ("Prof. Dr. Faeskorn-Woyke"), abbreviated given names ("Franz-L. Jaspers"). Role and
    heading words, digits and sentences still fail."""
    s = re.sub(r"\s*\([^)]*\)\s*$", "", clean_name_text(text)).strip(" ,")
    if looks_like_person_name(s):
        return True
    if is_short_cjk_name(s) is not None:  # a short CJK name in a name slot
        return is_short_cjk_name(s)
    core = strip_titles(s)
    if not core or len(core) > 60 or _BAD_CHARS.search(core):
        return False
    tokens = core.replace(",", " ").split()
    if not 1 <= len(tokens) <= 5 or (len(tokens) == 1 and core == s):
        return False  # a single word needs a title in front
    for pos, tok in enumerate(tokens):
        low = tok.casefold()
        if (low.strip(".") in _NON_NAME_WORDS or low in _NON_NAME_WORDS) and not (pos and low in _SURNAMES_TOO):
            return False
        if not (_word_ok(tok) or _INITIAL_RE.match(tok) or low in _PARTICLES):
            return False
    return True


def is_title_only(text: str) -> bool:
    """'Prof. Dr.' / 'Dr.-Ing.' alone on a line (to be glued to the next line)."""
    s = normalize_space(text)
    return bool(s) and bool(_HAS_LETTER.search(s)) and not strip_titles(s) and len(s) <= 60


# --------------------------------------------------------------------------- name in text
_SPLITTERS = re.compile(r"\s+[–—-]\s+|\s*\|\s*|\s*\(|,\s+(?=[^,]{4,})|\s*/\s+|\s*:\s+")


_CONTACT_TOKEN = re.compile(r"\s+(?=\S*\d)")  # where a room code or phone number starts


def split_name_prefix(text: str) -> str | None:
    """'Prof. Dr. Hans Meier, Lehrstuhlinhaber' -> 'Prof. Dr. Hans Meier' (None if no name prefix).

    A caption that runs on into contact details without punctuation ('Sven Rahmann V183, R1.10,
    Essen -4046') is cut where the first token with a digit starts."""
    s = clean_name_text(text)
    if not s:
        return None
    m = _SPLITTERS.search(s)
    contact = _CONTACT_TOKEN.search(s)
    if contact and (not m or contact.start() < m.start()):
        head = s[: contact.start()].strip(" ,;")
        if looks_like_person_name(head):
            return head
    if not m or m.start() < 3:
        return None
    head = s[: m.start()].strip(" ,;")
    rest = s[m.end():]
    # "Meier, Hans" is a full name, not "Meier" + role
    if m.group(0).startswith(",") and len(head.split()) == 1:
        return None
    # trailing degrees after the comma are part of the name
    if looks_like_person_name(head):
        if rest and not strip_titles(rest):
            return s
        return head
    return None


_ALT_PREFIX = re.compile(
    r"^(?:(?:an?|the|ein|eine)\s+(?=\w+\s+(?:of|von)\b))?(?:(?:portrait|porträt|portraet|portraitfoto|porträtfoto|portraitbild|porträtbild|foto|photo|"
    r"photograph|bild|image|picture|pic|profilbild|profilfoto|profile\s+(?:picture|photo|image)|"
    r"headshot|avatar|abbildung|passbild|mitarbeiterfoto|mitarbeiterbild)"
    r"(?:\s+(?:of|von|from|des|der|vom))?\s*[:\-–]?\s*)+",
    re.IGNORECASE,
)
_ALT_SUFFIX = re.compile(
    r"(?:\s*[-–:,]?\s*(?:portrait|porträt|foto|photo|bild|image|picture|profilbild|headshot))+$"
    r"|'s\s+(?:portrait|photo|picture)$",
    re.IGNORECASE,
)
_IMG_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|tiff?|bmp|avif|heic)$", re.IGNORECASE)


def name_from_alt(alt: str | None, file_words: frozenset[str] = frozenset()) -> str | None:
    """A person name held in an alt/title attribute ('Portrait of X', 'Foto: X', 'X.jpg').

    An alt written all in lower case ('jeremy manning', a site's typographic style) counts
    only when the picture's file name holds the same words (*file_words*: its name tokens)."""
    s = normalize_space(alt)
    if not s or "©" in s or "(c)" in s.casefold():
        return None
    words = s.split()
    if (file_words and s.islower() and 2 <= len(words) <= 4 and not _IMG_EXT.search(s)
            and all(w in file_words for w in words)):
        s = " ".join(w[:1].upper() + w[1:] for w in words)
    if _IMG_EXT.search(s):
        s = _IMG_EXT.sub("", s)
        s = re.sub(r"[_+]+", " ", s)
        if " " not in s and s.count("-") >= 1:
            s = s.replace("-", " ")
        s = normalize_space(s)
        if s.islower():
            s = " ".join(w[:1].upper() + w[1:] for w in s.split())
    s = _ALT_PREFIX.sub("", s).strip()
    s = _ALT_SUFFIX.sub("", s).strip(" -–:,")
    if s and looks_like_person_name(s):
        return s
    pref = split_name_prefix(s) if s else None
    return pref
