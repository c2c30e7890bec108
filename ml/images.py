"""Safe decoding of untrusted image bytes into an upright RGB Pillow image.

`decode_rgb` never raises for bad input: it returns the image or a reason from
`DECODE_REASONS` (with a human-readable detail), checking the declared pixel count from
the header before anything is decoded.
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DECODE_REASONS = ("unreadable", "unsupported_format", "too_small", "too_large")

# Raster formats a staff page may serve. Only these plugins parse untrusted bytes;
# Pillow's long tail (FITS, SPIDER, PSD, ...) is named in the detail but not decoded.
# (MPO, multi-picture JPEG, is opened by the JPEG plugin.)
RASTER_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "DIB", "TIFF", "AVIF", "ICO", "PPM", "JPEG2000")

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


@dataclass(frozen=True)
class Decoded:
    image: Image.Image | None  # RGB, EXIF orientation applied
    reason: str | None = None
    detail: str = ""
    source_size: tuple[int, int] = (0, 0)  # width, height as stored (before draft/downscale)
    format: str | None = None


def _fail(reason: str, detail: str, size: tuple[int, int] = (0, 0), fmt: str | None = None) -> Decoded:
    return Decoded(None, reason, detail, size, fmt)


def sniff_non_raster(data: bytes) -> str | None:
    """Name of a recognised non-raster format (vector, document, HEIF), else None."""
    head = data[:4096]
    if head.startswith(b"%PDF"):
        return "PDF document"
    if head.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return "PostScript/EPS"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF/HEIC"
    if head.startswith(b"\xd7\xcd\xc6\x9a") or head[40:44] == b" EMF":
        return "WMF/EMF metafile"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in text):
        return "SVG vector image"
    return None


def _describe_unknown(data: bytes) -> str:
    text = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page, not an image"
    if not data:
        return "empty body"
    return f"not a recognised image ({len(data)} bytes, starts {data[:8].hex()})"


def _identify_other(data: bytes) -> str | None:
    """Format name when a Pillow plugin outside RASTER_FORMATS recognises the header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.format
    except Exception:  # noqa: BLE001 - only naming the format; anything failing means "unknown"
        return None


def _raster_formats() -> list[str]:
    Image.init()
    return [f for f in RASTER_FORMATS if f in Image.OPEN]  # AVIF is missing from some builds


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: transparency composited on white, 16/32-bit scaled to 8 bits."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        hi = float(arr.max()) if arr.size else 0.0
        if mode.startswith("I;16") or 255 < hi <= 65535:
            arr = arr / 257.0  # 16-bit samples (PNG/TIFF)
        elif mode == "F" and hi <= 1.0:
            arr = arr * 255.0  # float image in [0, 1]
        elif hi > 65535:
            arr = arr * (255.0 / hi)
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).convert("RGB")
    if mode in _ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and "transparency" in im.info):
        # White, not black: cut-out portraits and logos are drawn for a white page.
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return im.convert("RGB")  # L, 1, P, CMYK (incl. Adobe-inverted JPEGs), YCbCr


def decode_rgb(data: bytes, *, min_side: int = 48, max_pixels: int = 40_000_000,
               max_side: int = 1600) -> Decoded:
    """Decode `data` to an upright RGB image.

    JPEGs longer than `max_side` are decoded at the smallest DCT scale that keeps them at
    least `max_side` long (so below 2 * max_side); other formats at full size.
    """
    non_raster = sniff_non_raster(data)
    if non_raster:
        return _fail("unsupported_format", non_raster)
    with warnings.catch_warnings():
        # Palette/transparency notes and EXIF quirks are not failures; bombs are checked below.
        warnings.simplefilter("ignore")
        try:
            im = Image.open(io.BytesIO(data), formats=_raster_formats())
        except Image.DecompressionBombError as exc:
            return _fail("too_large", str(exc))
        except UnidentifiedImageError:
            other = _identify_other(data)
            if other:
                return _fail("unsupported_format", f"{other} image (supported: JPEG, PNG, GIF, WebP, BMP, TIFF)")
            return _fail("unreadable", _describe_unknown(data))
        except Exception as exc:  # noqa: BLE001 - a broken header can raise anything
            return _fail("unreadable", f"bad header: {type(exc).__name__}: {exc}")
        # Not closed: it reads from memory, and close() would free the pixels we return.
        return _decode_opened(im, min_side, max_pixels, max_side)


def _decode_opened(im: Image.Image, min_side: int, max_pixels: int, max_side: int) -> Decoded:
    size, fmt = im.size, im.format
    w, h = size
    if w * h > max_pixels:
        return _fail("too_large", f"{w}x{h} = {w * h / 1e6:.1f} MP > {max_pixels / 1e6:.0f} MP", size, fmt)
    if min(w, h) < min_side:
        return _fail("too_small", f"{w}x{h}, shorter side < {min_side} px", size, fmt)
    try:
        if fmt in ("JPEG", "MPO") and max(w, h) > max_side:
            # Decode at 1/2, 1/4 or 1/8 scale in the DCT domain (result >= max_side): several
            # times faster and smaller. No further resize: detection works on its own small copy.
            s = max_side / max(w, h)
            im.draft(None, (math.ceil(w * s), math.ceil(h * s)))
        im.load()
    except Image.DecompressionBombError as exc:
        return _fail("too_large", str(exc), size, fmt)
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt data raises OSError, SyntaxError, ...
        return _fail("unreadable", f"{fmt} data: {type(exc).__name__}: {exc}", size, fmt)
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose an otherwise good photo
        pass
    try:
        rgb = to_rgb(im)
    except (ValueError, OSError) as exc:
        return _fail("unsupported_format", f"{fmt} in mode {im.mode}: {exc}", size, fmt)
    return Decoded(rgb, None, "", size, fmt)
