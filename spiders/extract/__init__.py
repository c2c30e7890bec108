"""Generic staff-page extraction: person entries (name + portrait URL) on unseen department pages.

Public API::

    Selectors, Person, PageResult
    extract_page(html, url, selectors=None) -> PageResult
    extract_detail(html, url, expected_name=None) -> Person | None
    name_key(display_name) -> str
    looks_like_person_name(text) -> bool
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
