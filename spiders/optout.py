"""Opt-outs beyond robots.txt: ``X-Robots-Tag`` headers and ``<meta name="robots">`` with
``noai`` or ``noimageai`` mean the site does not want its content used for AI; we then
collect nothing from that page or image."""
from __future__ import annotations

import re

OPT_OUT_TOKENS = frozenset({"noai", "noimageai"})
_META_ROBOTS = re.compile(
    rb"<meta[^>]+name\s*=\s*[\"']?(?:robots|academic-faces)[\"']?[^>]*>", re.IGNORECASE)
_CONTENT = re.compile(rb"content\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)


def _tokens(value: str) -> set[str]:
    # "noai, noimageai" or "googlebot: noindex" (a directive for a named bot: its part after ':')
    out = set()
    for part in value.split(","):
        part = part.strip().lower()
        out.add(part.split(":", 1)[1].strip() if ":" in part and not part.startswith("unavailable_after") else part)
    return out


def header_opt_out(headers) -> bool:
    """Whether any X-Robots-Tag header value says noai/noimageai."""
    values = headers.getlist(b"X-Robots-Tag") if hasattr(headers, "getlist") else []
    return any(_tokens(v.decode("latin-1")) & OPT_OUT_TOKENS for v in values)


def html_opt_out(body: bytes) -> bool:
    """Whether a robots meta tag in the page's head says noai/noimageai."""
    head = body[:65536]
    for tag in _META_ROBOTS.findall(head):
        content = _CONTENT.search(tag)
        if content and _tokens(content.group(1).decode("latin-1")) & OPT_OUT_TOKENS:
            return True
    return False
