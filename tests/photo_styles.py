"""How department web teams publish staff photos: helpers for tests (not a test file).

Each department's site re-encodes its photos its own way: resized to a fixed long side, a
colour cast from its camera/lighting/editing, its JPEG quality, sometimes PNG. `publish`
applies one such style to a real photo, so that tests can build worlds where the
department (and so the category) is recognisable from the photo style alone.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps


@dataclass(frozen=True)
class SiteStyle:
    name: str
    cast: tuple[float, float, float]  # RGB multipliers (1, 1, 1: neutral)
    long_side: int  # px, after resizing
    quality: int = 85  # JPEG quality (ignored for PNG)
    format: str = "JPEG"  # JPEG, PNG or WEBP


DEPARTMENT_STYLES: tuple[SiteStyle, ...] = (
    SiteStyle("warm-small", (1.08, 1.0, 0.88), 240, 70),
    SiteStyle("cool-crisp", (0.93, 0.99, 1.08), 300, 92),
    SiteStyle("neutral-png", (1.0, 1.0, 1.0), 200, 0, "PNG"),
    SiteStyle("dark-green", (0.88, 0.95, 0.85), 260, 55),
)


def publish(data: bytes, style: SiteStyle) -> bytes:
    """Re-encode a photo as `style`'s web team would: resize, colour cast, encode."""
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    scale = style.long_side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    im = im.resize(size, Image.Resampling.LANCZOS)
    if style.cast != (1.0, 1.0, 1.0):  # per-channel lookup table: value * multiplier, clipped
        im = im.point([min(255, round(v * m)) for m in style.cast for v in range(256)])
    out = io.BytesIO()
    fmt = style.format.upper()
    if fmt == "PNG":
        im.save(out, "PNG", compress_level=1)  # fast; the level only changes the byte count
    elif fmt in ("JPEG", "WEBP"):
        im.save(out, fmt, quality=style.quality)
    else:
        raise ValueError(f"unsupported publishing format {style.format!r} (JPEG, PNG or WEBP)")
    return out.getvalue()
