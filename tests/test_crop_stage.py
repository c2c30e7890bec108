"""The crop stage against the real SeaweedFS server: object store in, object store out."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from infra.store import content_id, keys
from ml.crop_stage import CropResult, crop_key, crop_stage
from tests.conftest import require_shared_data


@pytest.fixture
def raw_items(store):
    """~20 LFW photos and a few bad inputs in raw/images/, as (id, key) items."""
    data = require_shared_data()
    photos = sorted((data / "faces" / "lfw").glob("*/*.jpg"))[::250][:20]
    bad = {
        "svg": (data / "nonface" / "default-avatar.svg").read_bytes(),
        "bin": b"\x00garbage" * 50,
        "gif": _gif_1x1(),
        "png": (data / "nonface" / "coffee.png").read_bytes(),
    }
    good, rejects = [], []
    for blob, ext, bucket in [*((p.read_bytes(), "jpg", good) for p in photos),
                              *((b, ext, rejects) for ext, b in bad.items())]:
        image_id, _ = content_id(blob)
        store.put_bytes(keys.raw_image(image_id, ext), blob, "application/octet-stream")
        bucket.append((image_id, keys.raw_image(image_id, ext)))
    missing = ("0" * 20, keys.raw_image("0" * 20, "jpg"))  # listed in the index, not stored
    return good, rejects, missing


def _gif_1x1() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (1, 1)).save(buf, "GIF")
    return buf.getvalue()


def test_crop_stage_with_two_workers(settings, store, raw_items):
    good, rejects, missing = raw_items
    items = [*good[:10], *rejects, missing, *good[10:]]
    seen: list[CropResult] = []
    results = crop_stage(settings, iter(items), workers=2, on_result=seen.append)

    assert [r.id for r in results] == [i for i, _ in items]  # every item, in input order
    assert seen == results
    by_id = {r.id: r for r in results}
    cropped = [i for i, _ in good if by_id[i].reason is None]
    assert len(cropped) >= 19, {i: by_id[i] for i, _ in good}
    for image_id in cropped:
        info = store.stat(crop_key(image_id))
        assert info is not None and info.content_type == "image/jpeg"
        im = Image.open(io.BytesIO(store.get_bytes(crop_key(image_id))))
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (128, 128))
        assert by_id[image_id].faces >= 1 and by_id[image_id].seconds > 0
    reasons = {ext: by_id[i].reason for (i, _), ext in zip(rejects, ["svg", "bin", "gif", "png"])}
    assert reasons == {"svg": "unsupported_format", "bin": "unreadable", "gif": "too_small", "png": "no_face"}
    assert by_id[missing[0]].reason == "missing"
    assert [o.key for o in store.list("preprocessed/crops/")] == sorted(crop_key(i) for i in cropped)


def test_crop_stage_in_process_with_another_size(settings, store, raw_items):
    good, _, _ = raw_items
    results = crop_stage(settings, good[:3], workers=1, size=64, collect=False)
    assert results == []
    im = Image.open(io.BytesIO(store.get_bytes(crop_key(good[0][0]))))
    assert im.size == (64, 64)


def test_storage_errors_become_results(settings):
    dead = settings.replace(s3_endpoint="http://127.0.0.1:9", download_timeout=1.0)
    results = crop_stage(dead, [("a" * 20, "raw/images/a.jpg")], workers=1)
    assert [(r.id, r.reason) for r in results] == [("a" * 20, "storage_error")]
    assert "unreachable" in results[0].detail


def _crash_on_poison(batch):
    """Worker task that dies like a segfaulting decoder on keys containing 'poison'."""
    import os

    from ml.crop_stage import _run_batch
    if any("poison" in key for _, key in batch):
        os._exit(139)
    return _run_batch(batch)


def test_a_worker_crash_costs_only_the_image_that_caused_it(settings, store, raw_items):
    from ml.crop_stage import iter_crop_stage

    good, _, _ = raw_items
    items = [*good[:12], ("p" * 20, "raw/images/poison.jpg"), *good[12:]]
    results = list(iter_crop_stage(settings, items, workers=2, _task=_crash_on_poison))
    assert [r.id for r in results] == [i for i, _ in items]
    assert {r.id: r.reason for r in results if r.reason} == {"p" * 20: "worker_died"}


def test_workers_that_cannot_start_stop_the_stage_at_once(settings):
    seen = []
    with pytest.raises(RuntimeError, match="fail to start"):  # FaceCropper(size=0) raises in each worker
        crop_stage(settings, [("a" * 20, "raw/images/a.jpg")], workers=2, size=0, on_result=seen.append)
    assert seen == []  # no image was blamed for it
