"""Run one department's crawl as a `scrapy crawl <slug>` subprocess.

Each crawl gets its own process because Twisted's reactor cannot be restarted; the
settings (S3 endpoint and keys included) travel in the child's environment, the crawl
report comes back through a JSON file.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infra.settings import Settings, settings_env
from spiders.registry import Department

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class CrawlFailed(RuntimeError):
    """A crawl subprocess failed; the message carries the end of its log."""


@dataclass
class CrawlResult:
    slug: str
    returncode: int
    report: dict = field(default_factory=dict)
    log_tail: str = ""

    @property
    def failure(self) -> str | None:
        """Why this crawl counts as failed, or None."""
        if self.returncode != 0:
            return f"exit {self.returncode}"
        if not self.report:
            return "no crawl report"
        if self.stats.get("index/write_failed"):
            return "its index could not be written"
        if not self.stats.get("pages/fetched"):  # e.g. connection refused: nothing was seen, nothing changed
            return "no page could be fetched (site down or unreachable?)"
        return None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def people(self) -> list[dict]:
        """Dry run: the people (name, photo_url, page_url) a crawl would collect."""
        return self.report.get("people", [])

    def reasons(self, *prefixes: str) -> dict[str, int]:
        """Counts of the `<prefix>/<reason>` stats, by reason (prefixes `skip`, `extract`)."""
        counts: dict[str, int] = {}
        for key, value in self.stats.items():
            prefix, _, reason = key.partition("/")
            if prefix in prefixes and isinstance(value, int):
                counts[reason] = counts.get(reason, 0) + value
        return dict(sorted(counts.items()))

    @property
    def skipped(self) -> dict[str, int]:
        """Why candidates were passed over: the extractor's reasons and the crawl's own, counted."""
        return self.reasons("skip", "extract")

    def dry_run_summary(self) -> dict:
        """One department's dry run, machine-readable (`crawl --dry-run --json`)."""
        return {
            "slug": self.slug, "ok": self.ok, "failure": self.failure,
            "pages_fetched": self.stats.get("pages/fetched", 0),
            "people": [{k: p.get(k) for k in ("name", "photo_url", "page_url")} for p in self.people],
            "skipped": self.skipped,
        }

    @property
    def stats(self) -> dict:
        return self.report.get("stats", {})

    def summary(self) -> dict:
        s = self.stats
        skipped = self.reasons("skip")
        finish = self.report.get("finish_reason", "crashed")
        if s.get("index/complete") is False:  # pages failed: unseen people were kept, not marked vanished
            finish += " (incomplete)"
        return {
            "department": self.slug, "pages": s.get("pages/fetched", 0), "people": s.get("people/present", 0),
            "new": s.get("images/new", 0), "unchanged": s.get("images/unchanged", 0),
            "failed": s.get("images/failed", 0), "vanished": s.get("people/vanished", 0),
            "finish": finish, "skipped": skipped,
        }


def crawl_command(slug: str, report_file: Path, log_level: str = "INFO", dry_run: bool = False,
                  scrapy_settings: dict[str, str] | None = None) -> list[str]:
    extra = [arg for k, v in (scrapy_settings or {}).items() for arg in ("-s", f"{k}={v}")]
    return [sys.executable, "-m", "scrapy", "crawl", slug, "-s", f"CRAWL_REPORT_FILE={report_file}",
            "-s", f"LOG_LEVEL={log_level}", "-s", f"DRY_RUN={int(dry_run)}", *extra]


def run_crawl(slug: str, settings: Settings, *, timeout: float | None = None, log_file: Path | None = None,
              extra_env: dict[str, str] | None = None, dry_run: bool = False,
              scrapy_settings: dict[str, str] | None = None) -> CrawlResult:
    """Crawl one department; `settings` must name a concrete S3 endpoint (see infra.services)."""
    env = {**os.environ, **settings_env(settings), **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix=f"crawl-{slug}-") as tmp:
        report_file = Path(tmp) / "report.json"
        log_path = log_file or Path(tmp) / "crawl.log"
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.run(crawl_command(slug, report_file, dry_run=dry_run,
                                                    scrapy_settings=scrapy_settings), cwd=PROJECT_ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = -9
        tail = log_path.read_text(errors="replace")[-4000:]
        report = json.loads(report_file.read_text()) if report_file.is_file() else {}
    return CrawlResult(slug, code, report, tail)


def crawl_departments(departments: list[Department], settings: Settings, *, parallel: int = 4,
                      on_done: Callable[[CrawlResult], None] | None = None, dry_run: bool = False) -> list[CrawlResult]:
    """Crawl each department in its own subprocess, `parallel` at a time (different sites)."""
    def one(dept: Department) -> CrawlResult:
        result = run_crawl(dept.slug, settings, dry_run=dry_run)
        if on_done:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, departments))
