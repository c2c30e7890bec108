"""extract_page: people and pagination of one listing page."""

from __future__ import annotations

from dataclasses import replace

from .detail import page_person, with_profile_role
from .dom import Doc
from .generic import find_entries
from .images import collect_candidates
from .model import PageResult, Person, Skips
from .names import name_key
from .pagination import find_next_pages
from .roles import entry_role
from .selectors import Selectors, extract_with_selectors, select_next_pages
from .structured import structured_people
from .textlines import build_page_text

__all__ = ["extract_page", "merge_declared"]


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
        ordered = [(e.order, Person(e.display, e.cand.url, e.detail_url, entry_role(doc, text, e)))
                   for e in entries if e.cand is not None]
        ordered += [(e.order, Person(e.display, None, e.detail_url, entry_role(doc, text, e))) for e in name_only]
        ordered.sort(key=lambda t: t[0])
        declared = structured_people(doc, html)
        people = merge_declared([p for _, p in ordered], declared)
        if not people:  # no list of people: the start page may be one person's own page
            person = page_person(doc, text, declared, cands=cands, entries=entries)
            person = with_profile_role(doc, text, person)
            people = [replace(person, detail_url=None)] if person is not None else []
    if selectors is not None and selectors.next_page:
        next_pages = select_next_pages(doc, selectors.next_page)
    else:
        next_pages = find_next_pages(doc)
    return PageResult(people=people, next_pages=next_pages, has_scripts=doc.has_scripts(), skipped=skipped)


def merge_declared(found: list[Person], declared: list[tuple[str, str]]) -> list[Person]:
    """The layout's people, corrected and completed by the schema.org Persons the page declares.

    A declared (name, image) pair wins over a guessed one: it replaces the photo found for that
    name, and a guessed person shown with a declared person's image loses it."""
    if not declared:
        return found
    by_key = {name_key(name): url for name, url in declared}
    declared_urls = {url: name_key(name) for name, url in declared}
    out: list[Person] = []
    seen: set[str] = set()
    for p in found:
        key = name_key(p.name)
        if key in by_key:
            p = replace(p, photo_url=by_key[key])
        elif p.photo_url in declared_urls:
            p = replace(p, photo_url=None)
            if not p.detail_url:
                continue
        seen.add(key)
        out.append(p)
    out += [Person(name, url, None) for name, url in declared if name_key(name) not in seen]
    return out
