"""Build the demo university website and its ground truth from the shared test data.

``build_site`` picks LFW people deterministically from ``seed``, writes four
department areas (table, card grid, listing + detail pages, JavaScript app) full of
decoys and deliberately bad inputs, the server's override map ``_server.json`` and
``ground_truth.json``. The photo bytes on the site are the LFW files, unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import chrome, media
from .departments import build_cs, build_econ, build_german, build_intern, build_mechanical
from .layouts import plain_page
from .server import SERVER_MAP
from .truth import TRUTH_FILE, GroundTruth

# Extra people (not in the ground truth) each department area needs.
EXTRAS = {"cs": 4, "econ": 6, "german": 3, "mechanical": 1, "intern": 3}
# Top-level entries a build writes; a rebuild removes exactly these.
_MANAGED = ("assets", "cs", "econ", "german", "mechanical", "intern", "index.html", "impressum.html",
            "datenschutz.html", "barrierefreiheit.html", "robots.txt", SERVER_MAP, TRUTH_FILE)


@dataclass
class Face:
    """One LFW identity and the photo file used for it."""

    identity: str
    gender: str
    file: Path

    @property
    def name(self) -> str:
        return self.identity.replace("_", " ")


class SiteWriter:
    """Writes files below ``out_dir`` by URL path and collects the server map and truth bits."""

    def __init__(self, out_dir: Path, nonface_dir: Path, seed: int) -> None:
        self.out = out_dir
        self.nonface = nonface_dir
        self.seed = seed
        self.smap: dict = {"content_types": {}, "redirects": {}, "templated": [], "hidden": ["/" + TRUTH_FILE]}
        self.decoys: set[str] = set()
        self.bad: dict[str, list[str]] = {}
        self.absent: list[str] = []

    def file(self, url_path: str) -> Path:
        rel = url_path.split("?", 1)[0].lstrip("/")
        path = self.out / rel
        return path / "index.html" if url_path.endswith("/") else path

    def write(self, url_path: str, data: bytes | str, *, content_type: str | None = None,
              encoding: str = "utf-8", templated: bool = False) -> Path:
        path = self.file(url_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode(encoding, errors="xmlcharrefreplace")
        path.write_bytes(data)
        key = url_path.split("?", 1)[0]
        if content_type:
            self.smap["content_types"][key] = content_type
        if templated:
            self.smap["templated"].append(key)
        return path

    def put(self, url_path: str, data: bytes) -> str:
        """Write a file and return its URL path (for inline use in page builders)."""
        self.write(url_path, data)
        return url_path

    def photo(self, url_path: str, face: Face) -> str:
        """Copy a portrait byte for byte (never re-encoded); return its sha256."""
        data = face.file.read_bytes()
        if self.file(url_path).exists():  # two people must never share a photo file
            raise ValueError(f"photo path {url_path} written twice")
        self.write(url_path, data)
        return hashlib.sha256(data).hexdigest()

    def decoy(self, url_path: str, nonface_name: str | None = None, data: bytes | None = None) -> str:
        """Write a non-person image and remember it as a decoy; returns the URL path."""
        if url_path not in self.decoys:
            self.write(url_path, data if data is not None else (self.nonface / nonface_name).read_bytes())
            self.decoys.add(url_path)
        return url_path

    def bad_input(self, reason: str, url: str, name: str) -> None:
        urls = self.bad.setdefault(reason, [])
        if url not in urls:
            urls.append(url)
        self.absent.append(name)

    def teaser(self, url_path: str, nonface_name: str, title: str, text: str) -> str:
        return chrome.teaser(self.decoy(url_path, nonface_name), title, text)


def load_faces(faces_dir: Path) -> list[Face]:
    """All LFW identities (sorted) with their first photo; accepts faces/ or faces/lfw/."""
    faces_dir = Path(faces_dir)
    lfw = faces_dir / "lfw" if (faces_dir / "lfw").is_dir() else faces_dir
    labels = lfw.parent / "lfw_labels.csv"
    found: dict[str, Face] = {}
    if labels.is_file():
        with labels.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                path = lfw.parent / row["path"]
                if row["identity"] not in found or path < found[row["identity"]].file:
                    found[row["identity"]] = Face(row["identity"], row.get("gender", ""), path)
    else:  # no labels file: scan the folders, gender unknown
        for d in sorted(p for p in lfw.iterdir() if p.is_dir()):
            files = sorted(d.glob("*.jpg"))
            if files:
                found[d.name] = Face(d.name, "", files[0])
    # Staff pages name people in full: single-name identities ("Zico") are not used.
    faces = [f for _, f in sorted(found.items()) if f.file.is_file() and "_" in f.identity]
    if not faces:
        raise FileNotFoundError(f"no LFW photos found below {faces_dir}")
    return faces


def _clean(out_dir: Path) -> None:
    """Empty a previous build; refuse to touch a folder that is not one."""
    if not out_dir.exists():
        out_dir.mkdir(parents=True)
        return
    entries = list(out_dir.iterdir())
    is_site = (out_dir / TRUTH_FILE).exists() or (out_dir / SERVER_MAP).exists()
    if entries and not is_site:
        raise FileExistsError(f"{out_dir} is not empty and holds no demo site; refusing to overwrite it")
    for entry in entries:
        if entry.name in _MANAGED:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _common(w: SiteWriter) -> None:
    """Shared assets, root pages, robots.txt."""
    w.decoy(chrome.LOGO, "logo.png")
    for url in chrome.PARTNER_LOGOS:
        w.decoy(url, url.rsplit("/", 1)[1])
    for kind in ("mail", "phone", "pdf", "external", "search"):
        w.decoy(f"/assets/icons/{kind}.png", data=media.icon_png(kind))
    w.decoy(chrome.BLANK_GIF, data=media.blank_gif())
    w.decoy(chrome.AVATAR_PNG, "default-avatar.png")
    w.decoy(chrome.AVATAR_SVG, "default-avatar.svg")
    w.decoy("/assets/img/brick.png", "brick.png")  # only referenced from CSS
    w.write(chrome.CSS, media.SITE_CSS)
    w.write("/robots.txt", "User-agent: *\nDisallow: /intern/\n")
    side = w.teaser("/assets/img/hubble_deep_field.jpg", "hubble_deep_field.jpg", "Tag der offenen Tür",
                    "Blick in die Tiefen des Alls: Vorträge für alle.")
    depts = "".join(f'<li><a href="{h}">{chrome.esc(t)}</a></li>' for t, h in chrome.MAIN_NAV)
    hero = f'<p><img src="{w.decoy("/assets/img/moon.png", "moon.png")}" width="600" alt="Campus bei Nacht"></p>'
    w.write("/index.html", plain_page(chrome.UNIVERSITY_DE, [hero, "<p>Unsere Fakultäten:</p>", f"<ul>{depts}</ul>"],
                                      sidebar=side, page_id=1))
    for slug, title in (("impressum", "Impressum"), ("datenschutz", "Datenschutzerklärung"),
                        ("barrierefreiheit", "Erklärung zur Barrierefreiheit")):
        text = [f"<p>{chrome.esc(chrome.UNIVERSITY_DE)}, Musterstraße 1, 12345 Teststadt.</p>",
                "<p>Verantwortlich für den Inhalt: Die Präsidentin.</p>"]
        w.write(f"/{slug}.html", plain_page(title, text, page_id=2))


def build_site(out_dir: Path, faces_dir: Path, nonface_dir: Path, *, people_per_department: int = 8,
               seed: int = 0) -> GroundTruth:
    """Write the demo site into ``out_dir`` and return (and save) its ground truth.

    Deterministic for a given ``seed`` and data folder. Needs at least 2 people per
    department (the cs table spans two pages); every layout variant of the card grid
    appears from 7 people per department on.
    """
    if people_per_department < 2:
        raise ValueError("people_per_department must be at least 2")
    out_dir = Path(out_dir)
    faces = load_faces(Path(faces_dir))
    n = people_per_department
    needed = 4 * n + sum(EXTRAS.values())
    if len(faces) < needed:
        raise ValueError(f"need {needed} LFW identities, found {len(faces)}")
    rng = random.Random(seed)
    picked = rng.sample(faces, needed)
    _clean(out_dir)
    w = SiteWriter(out_dir, Path(nonface_dir), seed)
    _common(w)

    def take(k: int) -> list[Face]:
        chunk = picked[:k]
        del picked[:k]
        return chunk

    departments = [
        build_cs(w, take(n), take(EXTRAS["cs"]), rng),
        build_econ(w, take(n), take(EXTRAS["econ"]), rng),
        build_german(w, take(n), take(EXTRAS["german"]), rng),
        build_mechanical(w, take(n), take(EXTRAS["mechanical"]), rng),
    ]
    disallowed = build_intern(w, take(EXTRAS["intern"]), rng)
    truth = GroundTruth(
        departments=departments,
        decoy_paths=sorted(w.decoys),
        disallowed_people=disallowed,
        bad_inputs={k: list(v) for k, v in sorted(w.bad.items())},
        absent_names=sorted(set(w.absent)),
        seed=seed,
        people_per_department=n,
    )
    w.write("/" + SERVER_MAP, json.dumps(w.smap, indent=1, sort_keys=True))
    truth.save(out_dir)
    return truth
