"""Prefect flows `crawl` (every department as its own task running `scrapy crawl` in a
subprocess, retried with backoff; a table artifact summarises the run) and
`crawl-department` (one department as its own flow run, so that a pool's workers share
the departments; its task carries a `site:<host>` tag, and a tag concurrency limit of 1
per site keeps workers from crawling one site at the same time)."""
from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows.summaries import summary_rows
from infra.index import rebuild_merged_index
from infra.services import open_store, storage_settings
from infra.settings import Settings, load_settings
from infra.store import ObjectStore, keys, with_retries
from spiders.registry import select_departments
from spiders.runner import CrawlFailed, CrawlResult, run_crawl

CRAWL_DEPLOYMENT = "crawl-department/crawl-department"
CRASH_RESUBMITS = 2


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
        raise CrawlFailed(f"crawl of {slug} failed ({result.failure}):\n{result.log_tail[-2000:]}")
    return summary


def site_tags(department) -> list[str]:
    return [f"site:{host}" for host in department.allowed_domains]


def department_task(department, settings: Settings):
    """The crawl task for one department: its site tags, the configured number of retries."""
    return crawl_department.with_options(tags=site_tags(department), retries=settings.crawl_retries)


@flow(name="crawl-department", log_prints=True)
def crawl_one(slug: str, departments_file: str | None = None) -> dict:
    """Crawl one department (by registry slug) and merge it into raw/index.csv."""
    settings = _settings(departments_file)
    (department,) = select_departments(settings.departments_file, [slug])
    with storage_settings(settings) as resolved:
        summary = department_task(department, settings)(slug, departments_file)
        store = ObjectStore.from_settings(resolved)
        merged, problems = with_retries(lambda: rebuild_merged_index(store), what="rebuild index")
    for problem in problems:
        get_run_logger().warning("merged index: %s", problem)
    return {**summary, "index_rows": len(merged)}


@task(task_run_name="dispatch-{slug}")
def dispatch_crawl(slug: str, departments_file: str | None) -> dict:
    """One department as a `crawl-department` flow run on the work pool, waited for.

    A run whose worker died (SIGKILL, lost machine) stays Running until the server's
    heartbeat automation marks it Crashed (infra/prefect_api.py); then it is submitted
    again, for another worker to take. The crawl itself is idempotent (content-addressed
    objects, one shard PUT), so a rerun neither loses nor duplicates records."""
    from prefect.deployments import run_deployment

    for attempt in range(1, 2 + CRASH_RESUBMITS):
        run = run_deployment(CRAWL_DEPLOYMENT, parameters={"slug": slug, "departments_file": departments_file},
                             timeout=None, poll_interval=2, flow_run_name=f"crawl-{slug}-{attempt}", as_subflow=True)
        state = run.state.name if run.state else "unknown"
        if run.state is not None and run.state.is_completed():
            with open_store(load_settings()) as store:  # the child's report: the department's numbers
                report = json.loads(store.get_bytes(keys.crawl_report(slug)))
            return {**CrawlResult(slug, 0, report).summary(), "flow_run": str(run.id), "attempts": attempt}
        if state != "Crashed":
            raise CrawlFailed(f"crawl of {slug} ended {state} (flow run {run.id})")
        get_run_logger().warning("crawl of %s crashed (flow run %s; its worker died?): submitting it again",
                                 slug, run.id)
    raise CrawlFailed(f"crawl of {slug} crashed {1 + CRASH_RESUBMITS} times")


@flow(name="crawl", log_prints=True)
def crawl(departments_file: str | None = None, only: list[str] | None = None, fan_out: bool = False) -> list[dict]:
    """Crawl departments (all in the registry, or `only` these slugs) into the object store;
    `fan_out`: one `crawl-department` flow run each on the work pool (its workers share them)."""
    settings = _settings(departments_file)
    departments = select_departments(settings.departments_file, only)
    # Holding the storage open keeps an embedded S3 server up for all tasks.
    with storage_settings(settings) as resolved:
        futures = [dispatch_crawl.submit(d.slug, departments_file) if fan_out else
                   department_task(d, settings).submit(d.slug, departments_file) for d in departments]
        summaries, errors = [], []
        for dept, future in zip(departments, futures):
            try:
                summaries.append(future.result())
            except Exception as exc:  # noqa: BLE001 - one failed department must not hide the others
                errors.append(f"{dept.slug}: {exc}")
        store = ObjectStore.from_settings(resolved)  # parallel department runs race on the merge: once more
        merged, problems = with_retries(lambda: rebuild_merged_index(store), what="rebuild index")
    rows = summary_rows(summaries)
    create_table_artifact(key="crawl-summary", table=rows,
                          description=f"Crawl of {len(departments)} department(s); raw/index.csv has {len(merged)} photos.")
    for problem in problems:
        get_run_logger().warning("merged index: %s", problem)
    if errors:
        raise CrawlFailed("; ".join(e.splitlines()[0] for e in errors))
    return summaries
