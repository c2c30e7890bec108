"""Where the demo site's images come from: a given folder, the shared data, or a download.

``resolve_faces`` finds LFW-style portraits (``<person>/<photo>.jpg``) or downloads the
public LFW archive once into a cache; ``resolve_nonface`` draws synthetic decoys when the
shared non-face images are missing.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

LFW_URL = "https://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz"
URL_ENV = "ACADEMIC_FACES_LFW_URL"
USER_AGENT = "academic-faces (+https://github.com/academic-faces)"
TIMEOUT_S = 30
MARKER = ".complete"  # written last: a cache folder without it is an interrupted download
HINT = f"pass --faces DIR with photos as <person>/<photo>.jpg, or set {URL_ENV} to a mirror"

class SourceError(RuntimeError):
    """A problem the user can fix (wrong folder, no network); the message says how."""


class _Failed(Exception):
    """A download step failed; the message is the short reason."""


def lfw_url() -> str:
    """The LFW archive URL; read at call time so tests and mirrors can set the variable late."""
    return os.environ.get(URL_ENV) or LFW_URL


def _has_people(folder: Path) -> bool:  # stops at the first person folder with a photo
    return folder.is_dir() and any(p.is_dir() and any(p.glob("*.jpg")) for p in folder.iterdir())


def has_photos(folder: Path) -> bool:
    """True when ``folder`` (or its ``lfw/`` child, as load_faces accepts) holds <person>/<photo>.jpg."""
    folder = Path(folder)
    return _has_people(folder / "lfw") or _has_people(folder)


def resolve_faces(faces: Path | None, *, default: Path, cache_dir: Path, url: str | None = None,
                  progress: Console | bool | None = None) -> Path:
    """The face folder to build from: ``faces``, else ``default``, else a (cached) download.

    ``progress``: a Console to draw the download bar on, False for none, None for stderr.
    """
    if faces is not None:  # an explicit folder must be right: never fall back silently
        if not has_photos(Path(faces)):
            raise SourceError(f"no photos found in {faces}: expected a folder of <person>/<photo>.jpg "
                              "(e.g. Ada_Lovelace/Ada_Lovelace_0001.jpg), or its parent holding lfw/")
        return Path(faces)
    if has_photos(Path(default)):
        return Path(default)
    cached = Path(cache_dir) / "lfw"
    if (cached / MARKER).is_file():
        return cached
    return download_lfw(url or lfw_url(), Path(cache_dir), progress=progress)


def download_lfw(url: str, cache_dir: Path, *, progress: Console | bool | None = None) -> Path:
    """Download and safely unpack the archive into ``cache_dir/lfw``; leaves nothing half-done."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    part = cache_dir / ((Path(urllib.parse.urlparse(url).path).name or "lfw.tgz") + ".part")
    tmp = Path(tempfile.mkdtemp(prefix=".lfw-", dir=cache_dir))
    try:
        _fetch(url, part, progress)
        root = _extract(part, tmp)
        target = cache_dir / "lfw"
        if target.exists():  # left by an interrupted earlier attempt (no marker)
            shutil.rmtree(target)
        os.replace(root, target)  # same filesystem: the folder appears complete or not at all
        (target / MARKER).write_text(url + "\n", encoding="utf-8")
        return target
    except _Failed as exc:
        raise SourceError(f"cannot get the LFW photos from {url}: {exc}; {HINT}") from exc
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _reason(err: object) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return "host name not found (offline?)"
    if isinstance(err, TimeoutError):
        return f"no answer within {TIMEOUT_S} s"
    return str(err) or type(err).__name__


def _fetch(url: str, dest: Path, progress: Console | bool | None) -> None:
    console = progress if isinstance(progress, Console) else Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn(), console=console, disable=progress is False)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp, dest.open("wb") as out, bar:
            total = int(resp.headers.get("Content-Length") or 0) or None
            task = bar.add_task(f"downloading {dest.name[:-5]}", total=total)
            done = 0
            while chunk := resp.read(1 << 16):  # stream: the real archive is ~100 MB
                out.write(chunk)
                done += len(chunk)
                bar.update(task, advance=len(chunk))
    except urllib.error.HTTPError as exc:
        raise _Failed(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _Failed(_reason(exc.reason)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _Failed(_reason(exc)) from exc
    if total and done != total:
        raise _Failed(f"download incomplete ({done} of {total} bytes)")


def _extract(archive: Path, into: Path) -> Path:
    """Unpack with the 'data' filter (no traversal, no outside links, no devices); find the people."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.errorlevel = 1  # a refused member aborts the whole extraction
            tar.extractall(into, filter="data")
    except tarfile.FilterError as exc:
        raise _Failed(f"unsafe archive member refused ({exc})") from exc
    except tarfile.ReadError as exc:
        raise _Failed("not a tar archive") from exc
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _Failed(f"broken archive ({exc})") from exc
    level = [into]  # the LFW top folder is lfw-deepfunneled/ or lfw/: look a few levels down
    for _ in range(3):
        for folder in level:
            if _has_people(folder):
                return folder
        level = [c for d in level for c in sorted(d.iterdir()) if c.is_dir()]
    raise _Failed("the archive holds no <person>/<photo>.jpg folders")


# -- decoys --------------------------------------------------------------------------------
# name: (size, mode, painter); sizes near the originals (large ones shrunk to <= 512 px).
_RECIPES = {
    "logo.png": ((500, 500), "RGBA", "logo"), "logo_doc_static.png": ((389, 389), "RGBA", "logo"),
    "horse.png": ((400, 328), "RGBA", "shapes"), "default-avatar.png": ((128, 128), "RGBA", "avatar"),
    "brick.png": ((512, 512), "L", "noise"), "hubble_deep_field.jpg": ((512, 446), "RGB", "stars"),
    "moon.png": ((512, 512), "L", "noise"), "rocket.jpg": ((480, 320), "RGB", "shapes"),
    "coins.png": ((384, 303), "L", "shapes"), "clock_motion.png": ((400, 300), "L", "gradient"),
    "coffee.png": ((480, 320), "RGB", "gradient"), "text.png": ((448, 172), "L", "text"),
    "color.png": ((371, 370), "RGB", "gradient"), "chelsea.png": ((451, 300), "RGB", "noise"),
    "page.png": ((384, 191), "L", "text"), "motorcycle_left.png": ((512, 346), "RGB", "shapes"),
}
_AVATAR_SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
               'width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" fill="#fff"/>'
               '<circle cx="32" cy="24" r="12" fill="#c8c8c8"/><path d="M10 64a22 20 0 0 1 44 0z" '
               'fill="#c8c8c8"/></svg>\n')
# Every file the generator reads from its nonface folder (generator.py, departments.py,
# chrome.PARTNER_LOGOS); tests/test_demo_sources.py checks this against the code.
DECOY_FILES = (*_RECIPES, "default-avatar.svg")
_WORDS = "Fakultaet Institut Lehre Forschung Pruefung Semester Campus Bibliothek Studium".split()


def _paint(kind: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Non-face content only: gradients, shapes, text, noise, dots, a featureless silhouette."""
    w, h = size
    if kind == "noise":  # blurred random bytes: a texture like brick, gravel or fur
        grey = Image.frombytes("L", size, rng.randbytes(w * h)).filter(ImageFilter.GaussianBlur(2))
        return Image.merge("RGB", [grey.point(lambda v, k=k: v * k // 4) for k in (4, 3, 2)])
    if kind == "gradient":  # a colour ramp blended with a rotated one
        a = Image.linear_gradient("L").resize(size)
        b = Image.linear_gradient("L").rotate(90).resize(size)
        return Image.merge("RGB", [a, b, Image.blend(a, b, 0.5).point(lambda v: 255 - v)])
    img = Image.new("RGB", size, "black" if kind == "stars" else "white")
    draw = ImageDraw.Draw(img)
    if kind == "stars":
        for _ in range(w * h // 300):
            x, y, r = rng.randrange(w), rng.randrange(h), rng.choice((1, 1, 1, 2, 3))
            draw.ellipse((x, y, x + r, y + r), fill=tuple(rng.randbytes(3)))
    elif kind == "shapes":
        for _ in range(12):
            x, y = rng.randrange(w), rng.randrange(h)
            box = (x, y, x + rng.randrange(20, w // 2), y + rng.randrange(20, h // 2))
            getattr(draw, rng.choice(("rectangle", "ellipse")))(box, fill=tuple(rng.randbytes(3)))
    elif kind == "avatar":  # the grey placeholder silhouette: head and shoulders, no features
        draw.rectangle((0, 0, w, h), fill=(235, 235, 235))
        draw.ellipse((w * 0.32, h * 0.16, w * 0.68, h * 0.52), fill=(190, 190, 190))
        draw.pieslice((w * 0.15, h * 0.58, w * 0.85, h * 1.3), 180, 360, fill=(190, 190, 190))
    else:  # text and logo: words on paper, or a framed wordmark
        font = ImageFont.load_default(size=max(12, (w // 8) if kind == "logo" else (h // 10)))
        if kind == "logo":
            draw.rounded_rectangle((w // 10, h // 3, w * 9 // 10, h * 2 // 3), h // 20, outline=(0, 84, 159), width=6)
            draw.text((w // 2, h // 2), "UNI DEMO", fill=(0, 84, 159), font=font, anchor="mm")
        else:
            for y in range(8, h - 12, h // 9):
                draw.text((10, y), " ".join(rng.choices(_WORDS, k=6)), fill="black", font=font)
    return img


def _write_decoy(folder: Path, name: str) -> None:
    tmp = folder / f".{name}.tmp"
    if name.endswith(".svg"):
        tmp.write_text(_AVATAR_SVG, encoding="utf-8")
    else:
        size, mode, kind = _RECIPES[name]
        img = _paint(kind, size, random.Random(name)).convert(mode)  # seeded by name: deterministic
        img.save(tmp, format="JPEG" if name.endswith(".jpg") else "PNG")
    os.replace(tmp, folder / name)  # a reader never sees half a file


def resolve_nonface(nonface: Path | None, *, cache_dir: Path) -> Path:
    """``nonface`` when it has every decoy file; else synthetic decoys in ``cache_dir/nonface``."""
    if nonface is not None and all((Path(nonface) / n).is_file() for n in DECOY_FILES):
        return Path(nonface)
    folder = Path(cache_dir) / "nonface"
    folder.mkdir(parents=True, exist_ok=True)
    for name in DECOY_FILES:
        if not (folder / name).is_file():
            _write_decoy(folder, name)
    return folder
