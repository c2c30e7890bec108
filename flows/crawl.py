"""Prefect flow `crawl`: each department is its own task running `scrapy crawl` in a
subprocess, retried with backoff; a table artifact summarises the run."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows.summaries import summary_rows
from infra.index import rebuild_merged_index
from infra.services import storage_settings
from infra.settings import Settings, load_settings
from infra.store import ObjectStore, with_retries
from spiders.registry import select_departments
from spiders.runner import CrawlFailed, run_crawl


def _settings(departments_file: str | None) -> Settings:
    settings = load_settings()
    if departments_file:
        settings = settings.replace(departments_file=Path(departments_file).absolute())
    return settings


@task(retries=2, retry_delay_seconds=[10, 60], retry_jitter_factor=0.5,
      task_run_name="crawl-{slug}")
def crawl_department(slug: str, departments_file: str | None = None) -> dict:
    """One department; raises (so Prefect retries) when the crawl did not complete.

    Settings (S3 keys included) are read here, not passed in: task parameters are shown
    in the Prefect UI, secrets must not be."""
    logger = get_run_logger()
    with storage_settings(_settings(departments_file)) as resolved:
        result = run_crawl(slug, resolved)
    summary = result.summary()
    logger.info("%s: %s", slug, {k: v for k, v in summary.items() if k != "skipped"})
    if not result.ok:
        raise CrawlFailed(f"crawl of {slug} failed (exit {result.returncode}):\n{result.log_tail[-2000:]}")
    return summary


@flow(name="crawl", log_prints=True)
def crawl(departments_file: str | None = None, only: list[str] | None = None) -> list[dict]:
    """Crawl departments (all in the registry, or `only` these slugs) into the object store."""
    settings = _settings(departments_file)
    departments = select_departments(settings.departments_file, only)
    # Holding the storage open keeps an embedded S3 server up for all tasks.
    with storage_settings(settings) as resolved:
        futures = [crawl_department.submit(d.slug, departments_file) for d in departments]
        summaries, errors = [], []
        for dept, future in zip(departments, futures):
            try:
                summaries.append(future.result())
            except Exception as exc:  # noqa: BLE001 - one failed department must not hide the others
                errors.append(f"{dept.slug}: {exc}")
        store = ObjectStore.from_settings(resolved)
        merged, problems = with_retries(lambda: rebuild_merged_index(store), what="rebuild index")
    rows = summary_rows(summaries)
    create_table_artifact(key="crawl-summary", table=rows,
                          description=f"Crawl of {len(departments)} department(s); raw/index.csv has {len(merged)} photos.")
    for problem in problems:
        get_run_logger().warning("merged index: %s", problem)
    if errors:
        raise CrawlFailed("; ".join(e.splitlines()[0] for e in errors))
    return summaries
