"""Check downloaded photo bytes before anything is stored.

The bytes decide, not the Content-Type header: a JPEG served as octet-stream is kept, an
HTML page served as image/jpeg is not. Limits come from settings (IMAGE_*).
"""
from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError
from scrapy.exceptions import DropItem

from infra.store import content_id
from spiders.items import PhotoItem

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
           "WEBP": ("image/webp", "webp"), "BMP": ("image/bmp", "bmp"), "TIFF": ("image/tiff", "tif"),
           # Pillow names a JPEG with an MPF index (phone cameras, Ultra HDR gain maps) "MPO": still a
           # plain JPEG, which ml.images decodes too; it was rejected as unsupported (found by tests/test_fuzz.py)
           "MPO": ("image/jpeg", "jpg")}


class RejectedImage(DropItem):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def inspect_image(data: bytes, *, max_pixels: int, min_side: int) -> tuple[int, int, str, str]:
    """(width, height, content_type, extension) of valid raster image bytes, else RejectedImage."""
    if not data:
        raise RejectedImage("empty", "no bytes")
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        raise RejectedImage("svg", "vector image, not a photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise RejectedImage("decompression_bomb", f"{width}x{height} pixels > {max_pixels}")
            if image.format not in FORMATS:
                raise RejectedImage("unsupported_format", str(image.format))
            if min(width, height) < min_side:
                raise RejectedImage("too_small", f"{width}x{height} < {min_side} px")
            image.load()  # decodes: catches truncated or corrupt files
    except RejectedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RejectedImage("decompression_bomb", str(exc)) from None
    except UnidentifiedImageError:
        raise RejectedImage("not_an_image", "bytes are no known image format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise RejectedImage("corrupt_image", str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise anything for broken bytes (the AVIF
        # plugin: RuntimeError), which escaped as a crash instead of a reason (found by tests/test_fuzz.py)
        raise RejectedImage("corrupt_image", f"{type(exc).__name__}: {exc}") from None
    content_type, ext = FORMATS[image.format]
    return width, height, content_type, ext


class ImageValidationPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.max_pixels = crawler.settings.getint("IMAGE_MAX_PIXELS")
        self.min_side = crawler.settings.getint("IMAGE_MIN_SIDE")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: PhotoItem):
        if item.not_modified:
            return item
        try:
            item.width, item.height, item.content_type, item.extension = inspect_image(
                item.body, max_pixels=self.max_pixels, min_side=self.min_side)
        except RejectedImage as exc:
            spider = self.crawler.spider
            spider.rejected.remember(item.image_url, exc.reason, item.etag, item.last_modified)
            spider.skip(exc.reason, item.image_url, item.name, image=True)
            raise
        self.crawler.spider.rejected.forget(item.image_url)
        item.image_id, item.sha256 = content_id(item.body)
        item.look = picture_look(item.body)
        return item


def picture_look(data: bytes) -> str | None:
    """Perceptual and average hash of a (validated) picture, or None when it cannot be computed.

    Two files with both hashes equal show the same picture, whatever their size or encoding:
    one avatar served under a URL per person is a placeholder (spiders/index_update.py)."""
    import imagehash

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("L", (256, 256))
            gray = image.convert("L")
            return f"{imagehash.phash(gray)}:{imagehash.average_hash(gray)}"
    except Exception:  # noqa: BLE001 - the bytes were validated; a hash failure must not lose the photo
        return None
