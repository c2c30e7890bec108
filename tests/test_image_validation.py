"""Photo bytes are checked before storing: the bytes decide, not the Content-Type."""
import io
import struct
import zlib

import pytest
from PIL import Image

from spiders.pipelines.validate import RejectedImage, inspect_image

LIMITS = dict(max_pixels=40_000_000, min_side=64)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file that declares a huge image."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_real_photo_formats_are_accepted(shared_data):
    jpeg = next((shared_data / "faces" / "lfw").glob("*/*.jpg")).read_bytes()
    assert inspect_image(jpeg, **LIMITS) == (250, 250, "image/jpeg", "jpg")
    cmyk = encode(Image.new("CMYK", (100, 80)), "JPEG")
    assert inspect_image(cmyk, **LIMITS)[:3] == (100, 80, "image/jpeg")
    assert inspect_image(encode(Image.new("RGBA", (90, 90)), "PNG"), **LIMITS)[3] == "png"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"<html><body>not found</body></html>", "not_an_image"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "svg"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
    (encode(Image.new("RGB", (1, 1)), "GIF"), "too_small"),
    (encode(Image.new("RGB", (24, 24)), "PNG"), "too_small"),
    (bomb_png(30000, 30000), "decompression_bomb"),
    (bomb_png(7000, 7000), "decompression_bomb"),
])
def test_bad_bytes_get_a_reason(data, reason):
    with pytest.raises(RejectedImage) as err:
        inspect_image(data, **LIMITS)
    assert err.value.reason == reason


def test_truncated_jpeg_is_corrupt(shared_data):
    jpeg = next((shared_data / "faces" / "lfw").glob("*/*.jpg")).read_bytes()
    with pytest.raises(RejectedImage) as err:
        inspect_image(jpeg[: len(jpeg) // 2], **LIMITS)
    assert err.value.reason == "corrupt_image"
