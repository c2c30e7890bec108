"""Generic staff-page extraction: person entries (name + portrait URL) on unseen department pages.

Public API::

    Selectors, Person, PageResult
    extract_page(html, url, selectors=None) -> PageResult
    extract_detail(html, url, expected_name=None) -> Person | None
    name_key(display_name) -> str
    looks_like_person_name(text) -> bool

Modules: ``names`` (titles, keys, name test), ``lexicon`` (word lists), ``dom`` (parsing, layout
chrome, order indexes), ``imageurls`` (srcset/picture/lazy/background URL choice), ``decoys`` (logo,
icon, placeholder, ... rules), ``images`` (photo candidates), ``textlines`` (rendered lines and name
candidates), ``generic`` + ``layout`` (pairing photos with names), ``pagination``, ``detail``,
``selectors`` (per-site overrides), ``page`` (extract_page), ``evaluate`` (offline crawl + scoring;
``python -m spiders.extract.evaluate FOLDER``).

Reasons counted in ``PageResult.skipped``: photo decoys ``logo``, ``icon``, ``sprite``,
``layout_chrome`` (header/nav/footer), ``spacer``, ``svg``, ``data_uri``, ``placeholder`` (by name or
one image for several people), ``tiny`` (< 40 px declared), ``hover``/``hidden`` (second image of an
entry, closed modal), ``banner``, ``group_photo`` (also photo albums), ``building``, ``publication``
(a paper's, project's or talk's picture by its folder), ``post`` (a blog post's picture by its
folder), ``news`` (news/event teasers, dated boxes, entries linking into a news section), ``no_url``; entries: ``no_name``, ``ambiguous`` (two names compete), ``low_confidence`` (an
isolated pair without supporting evidence), ``not_people`` (a grid whose captions are no person's
name by their content and whose boxes do not call themselves person cards: projects, courses),
``name_list`` (the name is one of an author or participant list: a paper's or event's picture). ``news`` needs more than a class word when the entries
form a grid of short undated cards, and a header/footer region holding a grid of people is content.
Pages that declare schema.org Persons (``structured``) are taken at their word; a start page that
lists nobody may be one person's own page (``detail``).
"""

from .detail import extract_detail
from .model import PageResult, Person
from .names import looks_like_person_name, name_key
from .page import extract_page
from .selectors import Selectors

__all__ = [
    "Selectors",
    "Person",
    "PageResult",
    "extract_page",
    "extract_detail",
    "name_key",
    "looks_like_person_name",
]
