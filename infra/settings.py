"""Project settings: defaults < optional YAML file < environment (``ACADEMIC_FACES_*``).

The file is named by ``ACADEMIC_FACES_CONFIG`` (default: ``academic-faces.yaml`` in the
working directory, if present). Secrets (S3 keys) belong in that local file or in the
environment, never in ``prefect.yaml`` or in the repository.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

PREFIX = "ACADEMIC_FACES_"
DEFAULT_CONFIG_FILE = "academic-faces.yaml"
SECRET_FIELDS = frozenset({"s3_access_key", "s3_secret_key", "pseudonym_key"})
# A secret may instead name a Prefect Secret block: ACADEMIC_FACES_S3_SECRET_KEY_BLOCK=my-block.
BLOCK_SUFFIX = "_BLOCK"


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the setting and its source."""


@dataclass(frozen=True)
class Settings:
    # Where local state lives: embedded S3 data, caches, temporary crawl reports.
    home: Path = Path(".academic-faces")
    # Object store. No endpoint -> the embedded SeaweedFS server under `home` is used.
    s3_endpoint: str | None = None
    s3_access_key: str | None = field(default=None, repr=False)
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_region: str | None = None
    bucket: str = "academic-faces"
    # Crawling: identify ourselves and be polite.
    contact_url: str = "https://github.com/academic-faces/academic-faces/blob/main/README.md#privacy"
    download_delay: float = 1.0
    concurrency_per_domain: int = 2
    autothrottle_target: float = 1.0
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    min_image_side: int = 64
    max_page_bytes: int = 10 * 1024 * 1024
    download_timeout: float = 30.0
    recheck_rejected_days: float = 30.0  # a rejected photo without validators is retried after this
    crawl_retries: int = 2  # a failed department crawl (site down, S3 away) is retried after 10 s, then 60 s
    # Privacy: store a keyed hash ("person-<hex>") instead of names; grouping by person still works.
    pseudonymise_names: bool = False
    pseudonym_key: str | None = field(default=None, repr=False)
    departments_file: Path | None = None

    @property
    def user_agent(self) -> str:
        from infra import __version__

        return f"academic-faces/{__version__} (+{self.contact_url})"

    @property
    def embedded(self) -> bool:
        return not self.s3_endpoint

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to log or put in a report (secrets masked)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.name in SECRET_FIELDS and value else (
                str(value) if isinstance(value, Path) else value
            )
        return out


def _convert(name: str, raw: Any, target: type | str, source: str) -> Any:
    if raw is None:
        return None
    kind = str(target)
    if "bool" in kind:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name}: expected true or false, got {raw!r} (from {source})")
    try:
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        if "float" in kind:
            value = float(raw)
        elif "int" in kind:
            value = int(raw)
        else:
            return str(raw) if str(raw) != "" else None
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: expected a number, got {raw!r} (from {source})") from None
    if value < 0:
        raise SettingsError(f"{name}: must not be negative, got {raw!r} (from {source})")
    return value


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from defaults, the optional YAML file and the environment."""
    env = os.environ if env is None else env
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}

    path = config_file or Path(env.get(PREFIX + "CONFIG", DEFAULT_CONFIG_FILE))
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"config file {path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"config file {path}: expected a mapping of setting: value")
        for key, raw in data.items():
            if key not in known:
                raise SettingsError(f"config file {path}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
            values[key] = _convert(key, raw, known[key].type, str(path))
    elif PREFIX + "CONFIG" in env:
        raise SettingsError(f"{PREFIX}CONFIG names {path}, which does not exist")

    for name, f in known.items():
        var = PREFIX + name.upper()
        if var in env:
            values[name] = _convert(name, env[var], f.type, var)
        elif name in SECRET_FIELDS and var + BLOCK_SUFFIX in env:
            values[name] = _secret_block(env[var + BLOCK_SUFFIX], var + BLOCK_SUFFIX)
    settings = Settings(**values)
    if settings.pseudonymise_names and not settings.pseudonym_key:
        raise SettingsError(f"{PREFIX}PSEUDONYMISE_NAMES needs a secret {PREFIX}PSEUDONYM_KEY (environment, "
                            f"or a Prefect Secret block named by {PREFIX}PSEUDONYM_KEY{BLOCK_SUFFIX})")
    return settings


def _secret_block(block_name: str, source: str) -> str:
    """The value of a Prefect Secret block (credentials kept in the Prefect server, not in files)."""
    from prefect.blocks.system import Secret

    try:
        return Secret.load(block_name).get()
    except (ValueError, RuntimeError) as exc:
        raise SettingsError(f"{source}: cannot load the Prefect Secret block {block_name!r}: {exc}") from None


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that reproduce `settings` in a child process (e.g. `scrapy crawl`)."""
    out = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is not None:
            out[PREFIX + f.name.upper()] = str(value)
    return out
