"""Binary assets the generator makes itself: icons, spacer GIF, and the bad images.

Everything here is deterministic (seeded) and fast: the decompression bomb is built
from one repeated deflate block instead of compressing ~100 MB of zeros.
"""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

MIB = 1024 * 1024
# Comfortably above a 12 MB (and 12 MiB) download limit.
OVERSIZE_BYTES = 13 * MIB


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def icon_png(kind: str) -> bytes:
    """A 16x16 pictogram (mail, phone, pdf, external link, search) as PNG bytes."""
    img = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    ink = (0, 84, 159, 255)
    if kind == "mail":
        d.rectangle((1, 3, 14, 12), outline=ink)
        d.line((1, 3, 8, 9, 14, 3), fill=ink)
    elif kind == "phone":
        d.rounded_rectangle((4, 1, 11, 14), radius=2, outline=ink)
        d.line((6, 12, 9, 12), fill=ink)
    elif kind == "pdf":
        d.polygon((2, 1, 10, 1, 13, 4, 13, 14, 2, 14), outline=(200, 30, 30, 255))
        d.line((4, 7, 11, 7), fill=(200, 30, 30, 255))
        d.line((4, 10, 11, 10), fill=(200, 30, 30, 255))
    elif kind == "external":
        d.rectangle((1, 4, 11, 14), outline=ink)
        d.line((6, 9, 14, 1), fill=ink)
        d.line((9, 1, 14, 1, 14, 6), fill=ink)
    else:  # search
        d.ellipse((1, 1, 10, 10), outline=ink, width=2)
        d.line((9, 9, 14, 14), fill=ink, width=2)
    return _png(img)


def blank_gif() -> bytes:
    """The classic 1x1 transparent spacer GIF used as a lazy-loading placeholder."""
    return base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def tiny_jpeg(photo: Path, size: int = 24) -> bytes:
    """A real portrait shrunk to ``size`` x ``size``: decodes fine, far too small to use."""
    with Image.open(photo) as im:
        small = im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def png_data_uri(photo: Path, size: int = 120) -> str:
    """A portrait re-encoded as PNG inside a ``data:`` URI (nothing to download)."""
    with Image.open(photo) as im:
        img = im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    return "data:image/png;base64," + base64.b64encode(_png(img)).decode("ascii")


def svg_portrait(photo: Path) -> bytes:
    """An SVG "photo": the JPEG embedded in an SVG wrapper (vector formats are skipped)."""
    b64 = base64.b64encode(photo.read_bytes()).decode("ascii")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="250" height="250" viewBox="0 0 250 250">\n'
        f'  <image width="250" height="250" xlink:href="data:image/jpeg;base64,{b64}"/>\n'
        "</svg>\n"
    ).encode("ascii")


def decompression_bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit greyscale PNG declaring width x height pixels, ~110 KB on disk.

    All image bytes are zero (filter byte 0 + zero pixels), so the zlib stream is one
    deflate block repeated: after a full flush the compressor's history is reset, and
    the same input compresses to the same bytes. The Adler-32 of n zero bytes is
    ``(n mod 65521) << 16 | 1``.
    """
    row = 1 + (width + 7) // 8
    rows_per_chunk = next(r for r in (1000, 500, 250, 100, 50, 10, 1) if height % r == 0)
    chunk = bytes(row * rows_per_chunk)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert first == again, "deflate block must repeat byte for byte"
    tail = comp.flush(zlib.Z_FINISH)
    total = row * height
    idat = b"\x78\xda" + first + again * (height // rows_per_chunk - 1) + tail
    idat += struct.pack(">I", ((total % 65521) << 16) | 1)

    def chunk_bytes(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk_bytes(b"IHDR", ihdr) + chunk_bytes(b"IDAT", idat) + chunk_bytes(b"IEND", b"")


def oversized_jpeg(photo: Path, seed: int, size: int = OVERSIZE_BYTES) -> bytes:
    """A valid JPEG (decoders stop at EOI) padded with seeded noise to ``size`` bytes."""
    data = photo.read_bytes()
    return data + random.Random(f"oversize-{seed}").randbytes(max(0, size - len(data)))


def not_an_image_html() -> bytes:
    """What a CMS returns for a moved file: an HTML page (served as image/jpeg)."""
    return (
        b"<!DOCTYPE html><html><head><title>Datei nicht gefunden</title></head><body>"
        b"<h1>Die angeforderte Datei existiert nicht mehr.</h1>"
        b'<p><a href="/index.html">Zur Startseite</a></p></body></html>\n'
    )


SITE_CSS = """/* Demo University of Testing - site styles (generated) */
body{font-family:"Source Sans Pro",Arial,sans-serif;margin:0;color:#222}
.site-header,#page-header{background:#00549f url(/assets/img/brick.png) repeat-x;color:#fff}
.container{max-width:1140px;margin:0 auto;padding:0 15px}
.row{display:flex;gap:24px}.col-main{flex:3}.col-side{flex:1}
.mainnav ul,.metanav{list-style:none;display:flex;gap:16px;padding:0}
.contenttable{border-collapse:collapse;width:100%}.contenttable td{border-top:1px solid #ddd;padding:6px}
.wp-block-columns{display:grid;grid-template-columns:repeat(3,1fr);gap:24px}
.team-card__photo{width:180px;height:180px;background-size:cover;border-radius:50%}
.team-grid-js{display:grid;grid-template-columns:repeat(4,1fr);gap:20px}
.icon{width:16px;height:16px;vertical-align:middle}
footer{background:#333;color:#eee;margin-top:40px;padding:20px 0}
footer img{height:48px;filter:grayscale(1)}
"""
