"""Crop stage: raw images in the object store -> ``preprocessed/crops/<id>.jpg``, all cores.

Each worker process opens its own ObjectStore and FaceCropper once; the parent streams
(id, key) items to the pool in small batches with a bounded number in flight, so memory
stays flat however many ids there are. Results come back in input order.
"""
from __future__ import annotations

import collections
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable, Iterator

from minio.error import S3Error

from infra.settings import Settings
from infra.store import KeyNotFound, ObjectStore, StoreError

CROPS_PREFIX = "preprocessed/crops/"
# Reasons a stage adds to ml.crop.REASONS: the raw object is gone / the store failed
# (after infra.store's retries) / a worker process died on this image.
STAGE_REASONS = ("missing", "storage_error", "worker_died")
BATCH = 8  # items per task: amortises inter-process overhead, small enough to balance load
INFLIGHT_PER_WORKER = 4  # batches queued per worker: keeps cores busy, bounds memory
MAX_CONSECUTIVE_DEATHS = 5  # more in a row means a broken setup, not a poisonous image


def crop_key(image_id: str) -> str:
    return f"{CROPS_PREFIX}{image_id}.jpg"


@dataclass
class CropResult:
    id: str
    reason: str | None  # None: crop written; else ml.crop.REASONS or STAGE_REASONS
    faces: int
    detail: str
    seconds: float


_worker: "_Worker | None" = None


class _Worker:
    """Per-process state: one store connection pool, one detector."""

    def __init__(self, settings: Settings, size: int):
        import cv2

        from ml.crop import FaceCropper

        cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would oversubscribe
        self.store = ObjectStore.from_settings(settings)
        self.cropper = FaceCropper(size=size)

    def run(self, image_id: str, key: str) -> CropResult:
        start = time.perf_counter()
        try:
            data = self.store.get_bytes(key)
        except KeyNotFound:
            return CropResult(image_id, "missing", 0, f"no object {key}", time.perf_counter() - start)
        except (StoreError, S3Error, OSError) as exc:
            return CropResult(image_id, "storage_error", 0, f"get {key}: {exc}", time.perf_counter() - start)
        outcome = self.cropper.crop(data)
        reason, detail = outcome.reason, outcome.detail
        if outcome.crop is not None:
            try:
                self.store.put_bytes(crop_key(image_id), outcome.crop, content_type="image/jpeg")
            except (StoreError, S3Error, OSError) as exc:
                reason, detail = "storage_error", f"put {crop_key(image_id)}: {exc}"
        return CropResult(image_id, reason, outcome.faces, detail, time.perf_counter() - start)


def _init_worker(settings: Settings, size: int) -> None:
    global _worker
    _worker = _Worker(settings, size)


def _run_batch(batch: list[tuple[str, str]]) -> list[CropResult]:
    assert _worker is not None, "worker not initialised"
    return [_worker.run(image_id, key) for image_id, key in batch]


def default_workers() -> int:
    """Cores this process may run on (a container's CPU set, not the host's core count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _batches(items: Iterable[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _mp_context() -> multiprocessing.context.BaseContext:
    # Never fork: the caller may hold threads (Prefect, urllib3 pools, OpenCV) and locks.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def iter_crop_stage(settings: Settings, items: Iterable[tuple[str, str]], *, workers: int | None = None,
                    size: int = 128, _task: Callable[[list[tuple[str, str]]], list[CropResult]] = _run_batch,
                    ) -> Iterator[CropResult]:
    """Crop every (id, raw key) item; yields one result per item, in input order.

    ``_task`` (tests only) replaces the per-batch function run in the workers.
    """
    workers = workers or default_workers()
    if workers == 1:
        yield from _in_process(settings, items, size)
        return
    ObjectStore.from_settings(settings)  # fail fast on bad settings, not once per worker
    pending = _batches(items, BATCH)
    inflight: collections.deque[tuple[list[tuple[str, str]], bool, Future]] = collections.deque()
    suspects: collections.deque[tuple[str, str]] = collections.deque()
    deaths = 0
    pool = _new_pool(settings, size, workers)
    try:
        while True:
            # After a worker died, the items that were in flight run one at a time, so the
            # one that kills a worker again is known and reported, not retried forever.
            while suspects and not inflight:
                item = suspects.popleft()
                inflight.append(([item], True, pool.submit(_task, [item])))
            while not suspects and len(inflight) < workers * INFLIGHT_PER_WORKER:
                if (batch := next(pending, None)) is None:
                    break
                inflight.append((batch, False, pool.submit(_task, batch)))
            if not inflight:
                return
            batch, suspect, future = inflight[0]
            try:
                results = future.result()
            except BrokenProcessPool:  # a worker died: OOM, a crash in a native decoder
                deaths += 1
                if deaths > MAX_CONSECUTIVE_DEATHS:
                    raise RuntimeError("crop workers keep dying (see their stderr); stage stopped") from None
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(settings, size, workers)
                if suspect:
                    yield CropResult(batch[0][0], "worker_died", 0, "a worker process died on this image", 0.0)
                else:
                    suspects.extend(item for b, _, _ in inflight for item in b)
                inflight.clear()
                continue
            deaths = 0
            inflight.popleft()
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ping() -> bool:
    return _worker is not None


def _new_pool(settings: Settings, size: int, workers: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                               initializer=_init_worker, initargs=(settings, size))
    try:
        pool.submit(_ping).result()  # a worker that cannot start is a setup error, not an image's fault
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise RuntimeError("crop worker processes fail to start (see their traceback above)") from None
    return pool


def _in_process(settings: Settings, items: Iterable[tuple[str, str]], size: int) -> Iterator[CropResult]:
    import cv2

    threads = cv2.getNumThreads()
    worker = _Worker(settings, size)  # sets OpenCV to 1 thread, like a pool worker
    try:
        for image_id, key in items:
            yield worker.run(image_id, key)
    finally:
        cv2.setNumThreads(threads)


def crop_stage(settings: Settings, items: Iterable[tuple[str, str]], *, workers: int | None = None,
               size: int = 128, on_result: Callable[[CropResult], None] | None = None,
               collect: bool = True) -> list[CropResult]:
    """Crop `items` (image id, raw image key) into ``preprocessed/crops/<id>.jpg``.

    ``workers`` processes (default: the cores we may use; 1 runs in this process). ``on_result`` is
    called in this process for each result, in input order (progress, rejects file).
    ``collect=False`` returns [] instead of keeping every result (millions of ids).
    """
    out: list[CropResult] = []
    for result in iter_crop_stage(settings, items, workers=workers, size=size):
        if on_result is not None:
            on_result(result)
        if collect:
            out.append(result)
    return out
