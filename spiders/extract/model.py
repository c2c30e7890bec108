"""Result types of the staff-page extractor."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Person", "PageResult"]


@dataclass(frozen=True)
class Person:
    name: str  # displayed name, whitespace-normalised, titles kept
    photo_url: str | None  # absolute URL; None when only a detail page is known
    detail_url: str | None  # absolute URL of the person's own page, if the listing links one


@dataclass
class PageResult:
    people: list[Person]
    next_pages: list[str]
    has_scripts: bool
    skipped: Counter = field(default_factory=Counter)
