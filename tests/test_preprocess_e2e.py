"""End to end through the CLI: import real photos, preprocess (crop, group, split) against
real SeaweedFS; bad raw objects end with reasons; a rerun with more data keeps splits."""
from __future__ import annotations

import csv
import io
import zlib
from collections import defaultdict

import pandas as pd
import pytest
from PIL import Image

from infra.index import read_shard, rebuild_merged_index, write_shard
from infra.store import content_id, keys
from ml.preprocess import CROPS, REJECTS, SPLITS, layout_key, read_csv
from tests.conftest import require_shared_data

pytestmark = pytest.mark.slow
CATEGORIES = ["cs", "econ", "german", "mechanical"]


def lfw_people(min_photos: int, count: int, skip: int = 0) -> dict[str, list]:
    lfw = require_shared_data() / "faces" / "lfw"
    people = {}
    for folder in sorted(p for p in lfw.iterdir() if p.is_dir()):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) >= min_photos:
            people[folder.name] = photos
    names = sorted(people)[skip:skip + count]
    return {n: people[n] for n in names}


def write_manifest(path, people: dict[str, list]):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "name", "category"])
        for name, photos in people.items():
            category = CATEGORIES[zlib.crc32(name.encode()) % 4]  # per person: no signal, but consistent
            for photo in photos[:4]:
                writer.writerow([str(photo), name.replace("_", " "), category])


def bad_raw_objects(store, shared_data) -> dict[str, str]:
    """Objects a crawl would never store, written straight into raw/ (older data, other tools)."""
    jpeg = next((shared_data / "faces" / "lfw").glob("*/*.jpg")).read_bytes()
    cmyk = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).convert("CMYK").save(cmyk, "JPEG")
    gif = io.BytesIO()
    Image.new("P", (1, 1)).save(gif, "GIF")
    huge = io.BytesIO()
    Image.new("L", (9000, 9000)).save(huge, "PNG", optimize=True)  # 81 Mpx > the 40 Mpx limit
    samples = {
        "corrupt": (b"\x00\x01garbage" * 50, "unreadable"),
        "truncated": (jpeg[: len(jpeg) // 3], "unreadable"),
        "gif1x1": (gif.getvalue(), "too_small"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"/>', None),
        "cmyk": (cmyk.getvalue(), "cropped"),
        "huge": (huge.getvalue(), "too_large"),
    }
    rows, expected = [], {}
    for label, (data, reason) in samples.items():
        image_id, digest = content_id(data)
        key = keys.raw_image(image_id, "bin")
        store.put_bytes(key, data)
        expected[image_id] = reason
        rows.append({"id": image_id, "category": "cs", "image_url": f"http://old.example/{label}",
                     "name": f"Legacy {label.capitalize()}", "page_url": "http://old.example/", "department": "legacy",
                     "university": "Old", "slug": "legacy", "name_key": f"legacy {label}", "sha256": digest,
                     "image_key": key, "status": "present", "first_seen": "T0", "last_seen": "T0"})
    write_shard(store, "legacy", pd.DataFrame(rows))
    rebuild_merged_index(store)
    return expected


def test_preprocess_crops_groups_and_splits_without_leaks(cli, store, tmp_path, shared_data):
    first = lfw_people(min_photos=3, count=30)
    write_manifest(tmp_path / "lfw.csv", first)
    cli("import", str(tmp_path / "lfw.csv"), "--slug", "lfw-import", "--university", "LFW")
    nonface = tmp_path / "nonface.csv"
    with open(nonface, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "name", "category"])
        for i, path in enumerate(sorted((shared_data / "nonface").iterdir())):
            if path.suffix in (".png", ".jpg"):
                writer.writerow([str(path), f"Decoy Person{chr(65 + i)}", "econ"])
    cli("import", str(nonface), "--slug", "nonface-import")
    cli("index", "export", "--out", "-")
    legacy = bad_raw_objects(store, shared_data)

    out = cli("preprocess", "--workers", "2").stdout
    assert "class balance" in out

    splits = read_csv(store, SPLITS, ["id", "group", "category", "split"])
    rejects = read_csv(store, REJECTS, ["id", "reason", "detail"]).set_index("id")["reason"].to_dict()
    crops = {o.key[len(CROPS):-4] for o in store.list(CROPS)}
    lfw_rows = read_shard(store, "lfw-import")
    lfw_cropped = sum(i in crops for i in lfw_rows["id"])
    assert lfw_cropped >= 0.98 * len(lfw_rows)
    nonface_rows = read_shard(store, "nonface-import")
    assert sum(i in crops for i in nonface_rows["id"]) <= 1
    for image_id in set(lfw_rows["id"]) | set(nonface_rows["id"]):
        assert image_id in crops or image_id in rejects  # every input ends somewhere, with a reason
    for image_id, reason in legacy.items():
        if reason == "cropped":
            assert image_id in crops  # the CMYK JPEG
        elif reason:
            assert rejects[image_id] == reason, (image_id, rejects.get(image_id))
        else:
            assert rejects[image_id] in {"unreadable", "unsupported_format"}  # SVG

    # No person in two splits; the folder layout mirrors splits.csv.
    by_name = lfw_rows.set_index("id")["name_key"]
    split_of_person = defaultdict(set)
    for row in splits.itertuples():
        if row.id in by_name.index:
            split_of_person[by_name[row.id]].add(row.split)
    assert split_of_person and all(len(s) == 1 for s in split_of_person.values())
    assert splits.groupby("group")["split"].nunique().max() == 1
    assert set(splits["split"]) == {"train", "test", "validation"}
    sample = splits.iloc[0]
    assert store.exists(layout_key(sample.split, sample.category, sample.id))
    layout = {o.key for s in ("train", "test", "validation") for o in store.list(f"preprocessed/{s}/")}
    assert len(layout) == len(splits)

    # More photos arrive (new people and new photos of known people): no earlier id moves.
    more = lfw_people(min_photos=3, count=15, skip=30)
    more.update({n: p[4:6] for n, p in list(first.items())[:5] if len(p) > 4})
    write_manifest(tmp_path / "more.csv", more)
    cli("import", str(tmp_path / "more.csv"), "--slug", "lfw-more", "--university", "LFW")
    cli("preprocess", "--workers", "2")
    after = read_csv(store, SPLITS, ["id", "group", "category", "split"]).set_index("id")["split"]
    before = splits.set_index("id")["split"]
    assert len(after) > len(before)
    assert (after.loc[before.index] == before).all()
