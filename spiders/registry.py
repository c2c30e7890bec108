"""The department registry (``departments.yaml``): one entry per department website.

Every entry becomes a Scrapy spider named by its slug (see ``spiders/staff.py``). The
file used is, in order: the ``DEPARTMENTS_FILE`` Scrapy setting, the environment variable
``ACADEMIC_FACES_DEPARTMENTS_FILE``, the built-in ``spiders/departments.yaml``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

import yaml

BUILTIN_FILE = Path(__file__).with_name("departments.yaml")
ENV_VAR = "ACADEMIC_FACES_DEPARTMENTS_FILE"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SELECTOR_KEYS = ("person", "name", "photo", "detail_link", "next_page")
ENTRY_KEYS = {"slug", "university", "department", "category", "start_urls", "render_js", "selectors",
              "allowed_paths", "verifiable_offline", "custom_spider", "notes"}


class RegistryError(ValueError):
    """The registry file is invalid; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Department:
    slug: str
    university: str
    department: str
    category: str
    start_urls: tuple[str, ...]
    render_js: str = "auto"  # auto | true | false
    selectors: Mapping[str, str] = field(default_factory=dict)
    allowed_paths: tuple[str, ...] = ()
    verifiable_offline: bool = True
    custom_spider: bool = False  # a hand-written spider in spiders/custom/ has this name
    notes: str = ""

    @property
    def allowed_domains(self) -> list[str]:
        return sorted({urlparse(u).hostname or "" for u in self.start_urls})

    def allows(self, url: str) -> bool:
        """Whether `url` is inside this department's site (domain and path prefixes)."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or parsed.hostname not in self.allowed_domains:
            return False
        return not self.allowed_paths or any(parsed.path.startswith(p) for p in self.allowed_paths)


def _render_js(value: Any, where: str) -> str:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "true" if value else "false"
    if str(value).lower() in ("auto", "true", "false"):
        return str(value).lower()
    raise RegistryError(f"{where}: render_js must be auto, true or false, not {value!r}")


def parse_entry(raw: Any, where: str) -> Department:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(ENTRY_KEYS)}")
    for required in ("slug", "university", "department", "category", "start_urls"):
        if not raw.get(required):
            raise RegistryError(f"{where}: missing required field {required!r}")
    slug = str(raw["slug"])
    where = f"{where} ({slug})"
    if not SLUG_RE.match(slug):
        raise RegistryError(f"{where}: slug must be lowercase letters, digits and '-', got {slug!r}")
    category = str(raw["category"])
    if not CATEGORY_RE.match(category):
        raise RegistryError(f"{where}: category must be a short lowercase label like 'cs', got {category!r}")
    urls = raw["start_urls"]
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls:
        raise RegistryError(f"{where}: start_urls must be a non-empty list of URLs")
    for url in urls:
        parsed = urlparse(str(url))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise RegistryError(f"{where}: start URL {url!r} is not an http(s) URL")
    selectors = raw.get("selectors") or {}
    if not isinstance(selectors, dict) or set(selectors) - set(SELECTOR_KEYS):
        raise RegistryError(f"{where}: selectors must be a mapping with keys from {SELECTOR_KEYS}")
    paths = raw.get("allowed_paths") or []
    if isinstance(paths, str):
        paths = [paths]
    if any(not str(p).startswith("/") for p in paths):
        raise RegistryError(f"{where}: allowed_paths must be URL paths starting with '/'")
    return Department(
        slug=slug, university=str(raw["university"]), department=str(raw["department"]),
        category=category, start_urls=tuple(str(u) for u in urls),
        render_js=_render_js(raw.get("render_js"), where),
        selectors={k: str(v) for k, v in selectors.items()}, allowed_paths=tuple(str(p) for p in paths),
        verifiable_offline=bool(raw.get("verifiable_offline", True)),
        custom_spider=bool(raw.get("custom_spider", False)), notes=str(raw.get("notes") or ""),
    )


def parse_registry(text: str, source: str = "<registry>") -> list[Department]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{source}: not valid YAML: {exc}") from None
    entries = data.get("departments") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{source}: expected a top-level 'departments:' list")
    departments = [parse_entry(raw, f"{source}: entry {i + 1}") for i, raw in enumerate(entries)]
    seen: set[str] = set()
    for dept in departments:
        if dept.slug in seen:
            raise RegistryError(f"{source}: slug {dept.slug!r} appears twice")
        seen.add(dept.slug)
    return departments


def registry_path(setting: str | os.PathLike | None = None) -> Path:
    chosen = setting or os.environ.get(ENV_VAR)
    return Path(chosen) if chosen else BUILTIN_FILE


def load_registry(path: str | os.PathLike | None = None) -> list[Department]:
    file = registry_path(path)
    if not file.is_file():
        raise RegistryError(f"department registry {file} does not exist")
    return parse_registry(file.read_text(encoding="utf-8"), str(file))


def find_department(slug: str, path: str | os.PathLike | None = None) -> Department:
    for dept in load_registry(path):
        if dept.slug == slug:
            return dept
    raise RegistryError(f"no department {slug!r} in {registry_path(path)}")


def select_departments(path: str | os.PathLike | None, only: list[str] | None = None) -> list[Department]:
    """Registry entries, or just the `only` slugs (an unknown slug is an error)."""
    departments = load_registry(path)
    if not only:
        return departments
    known = {d.slug: d for d in departments}
    unknown = [slug for slug in only if slug not in known]
    if unknown:
        raise RegistryError(f"unknown department(s) {unknown}; known: {sorted(known)}")
    return [known[slug] for slug in only]
