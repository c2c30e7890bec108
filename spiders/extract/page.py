"""extract_page: people and pagination of one listing page."""

from __future__ import annotations


from .dom import Doc
from .generic import find_entries
from .images import collect_candidates
from .model import PageResult, Person, Skips
from .pagination import find_next_pages
from .selectors import Selectors, extract_with_selectors, select_next_pages
from .textlines import build_page_text

__all__ = ["extract_page"]


def extract_page(html: str, url: str, selectors: Selectors | None = None) -> PageResult:
    """Person entries (name + photo, or name + detail page to follow) and pagination of a page."""
    doc = Doc(html, url)
    text = build_page_text(doc)
    cands = collect_candidates(doc)
    skipped = Skips()
    if selectors is not None and selectors.person:
        people = extract_with_selectors(doc, text, cands, selectors, skipped)
    else:
        entries, name_only = find_entries(doc, text, cands, skipped)
        ordered = [(e.order, Person(e.display, e.cand.url, e.detail_url)) for e in entries if e.cand is not None]
        ordered += [(e.order, Person(e.display, None, e.detail_url)) for e in name_only]
        ordered.sort(key=lambda t: t[0])
        people = [p for _, p in ordered]
    if selectors is not None and selectors.next_page:
        next_pages = select_next_pages(doc, selectors.next_page)
    else:
        next_pages = find_next_pages(doc)
    return PageResult(people=people, next_pages=next_pages, has_scripts=doc.has_scripts(), skipped=skipped)
