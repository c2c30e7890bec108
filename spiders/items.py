"""Items the staff spider yields: one per (person, photo) found on a department site."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PhotoItem:
    slug: str
    category: str
    department: str
    university: str
    name: str          # displayed name, titles kept
    name_key: str      # normalised for matching (titles stripped)
    page_url: str      # page the person was found on (listing or detail page)
    image_url: str
    role: str | None = None  # the role text printed with the person on the page, if any
    body: bytes | None = field(default=None, repr=False)  # None: not modified since the last crawl (304)
    etag: str | None = None
    last_modified: str | None = None
    declared_type: str | None = None  # Content-Type header as served (may lie; bytes are sniffed)
    # Filled by the validation pipeline:
    image_id: str | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    extension: str | None = None
    look: str | None = None  # perceptual hashes of the picture: the same avatar re-encoded looks the same

    @property
    def not_modified(self) -> bool:
        return self.body is None
