"""Prefect flow `preprocess`: crop -> group -> split as tasks; storage errors are retried,
a summary artifact shows counts per category and split, reject reasons and throughput."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.retries import STORAGE_RETRIES
from flows.summaries import preprocess_rows, role_rows
from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore
from ml.preprocess import PreprocessSummary, crop_step, group_step, split_step
from ml.split import SplitConfig
from spiders.roles import resolve_roles


def _store(settings) -> ObjectStore:
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    return store


@task(**STORAGE_RETRIES)
def crop(size: int, workers: int | None) -> PreprocessSummary:
    summary = PreprocessSummary()
    with storage_settings(load_settings()) as settings:
        crop_step(_store(settings), settings, summary, size=size, workers=workers)
    get_run_logger().info("cropped %d, rejected %d (%.1f images/s)", summary.cropped_now, summary.rejected_now,
                          summary.crop_rate)
    return summary


@task(**STORAGE_RETRIES)
def group() -> int:
    with storage_settings(load_settings()) as settings:
        return group_step(_store(settings))


@task(**STORAGE_RETRIES)
def split(config: SplitConfig, summary: PreprocessSummary) -> PreprocessSummary:
    with storage_settings(load_settings()) as settings:
        split_step(_store(settings), config, summary)
    return summary


@flow(name="preprocess", log_prints=True)
def preprocess(size: int = 128, workers: int | None = None, train: float = 0.7, test: float = 0.2,
               validation: float = 0.1, seed: int = 0, split_by: str = "person", roles: str = "all") -> dict:
    """`roles`: role classes kept in the splits ('academic', 'all', or a list such as 'professor,lecturer')."""
    config = SplitConfig(train=train, test=test, validation=validation, seed=seed, by=split_by,
                         roles=resolve_roles(roles))
    with storage_settings(load_settings()):  # keeps an embedded S3 server up for all tasks
        summary = crop(size, workers)
        groups = group()
        summary = split(config, summary)
    create_table_artifact(key="preprocess-balance", table=preprocess_rows(summary),
                          description="images per category and split")
    if role_rows(summary):
        create_table_artifact(key="preprocess-roles", table=role_rows(summary),
                              description="photos per role class and category; 'in splits' says what the split kept")
    reasons = "\n".join(f"| {k} | {v} |" for k, v in sorted(summary.reject_reasons.items())) or "| none | 0 |"
    create_markdown_artifact(key="preprocess-summary", markdown=(
        f"# Preprocess\n\n{summary.images} images in the index; {summary.crops_total} crops, "
        f"{summary.rejects_total} rejects, {groups} groups (people).\n\nThis run cropped {summary.cropped_now} "
        f"and rejected {summary.rejected_now} at {summary.crop_rate:.1f} images/s.\n\n"
        f"| reject reason | images |\n|---|---|\n{reasons}\n"))
    return {"crops": summary.crops_total, "rejects": summary.rejects_total, "groups": groups,
            "conflicts": summary.split_conflicts}
