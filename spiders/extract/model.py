"""Result types of the staff-page extractor."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Person", "PageResult", "Skips"]


@dataclass(frozen=True)
class Person:
    name: str  # displayed name, whitespace-normalised, titles kept
    photo_url: str | None  # absolute URL; None when only a detail page is known
    detail_url: str | None  # absolute URL of the person's own page, if the listing links one
    role: str | None = None  # the role printed with the person ("Sekretariat", "PhD Student"), if any


class Skips(Counter):
    """Counts of why candidates were not collected, plus the skipped images themselves (for previews)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.images: list[tuple[str, str]] = []  # (image URL, reason), in the order they were judged

    def note(self, reason: str, url: str | None = None) -> None:
        self[reason] += 1
        if url:
            self.images.append((url, reason))


@dataclass
class PageResult:
    people: list[Person]
    next_pages: list[str]
    has_scripts: bool
    skipped: Skips = field(default_factory=Skips)
