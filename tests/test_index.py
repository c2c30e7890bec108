"""Index shards, the merged index, and how a crawl's sightings update a shard."""
import pandas as pd
import pytest

from infra.index import (COLUMNS, IndexSchemaError, merge_frames, read_merged_index, read_shard,
                         rebuild_merged_index, validate, write_shard)
from spiders.index_update import update_shard


def sighting(image_id, name, url=None, category="cs", slug="demo-cs"):
    return {"id": image_id, "category": category, "image_url": url or f"http://x/{image_id}.jpg",
            "name": name, "name_key": name.lower(), "page_url": "http://x/staff", "department": "CS",
            "university": "U", "slug": slug, "sha256": image_id * 4, "width": 250, "height": 250,
            "content_type": "image/jpeg", "bytes": 100, "image_key": f"raw/images/{image_id}.jpg",
            "etag": None, "last_modified": None}


def test_first_crawl_rows_are_present_with_seed_columns_first():
    up = update_shard(pd.DataFrame(), [sighting("a1", "Ann"), sighting("b2", "Bob")], "T1", complete=True)
    assert list(up.frame.columns[:4]) == ["id", "category", "image_url", "name"]
    assert set(up.frame["status"]) == {"present"} and up.new_ids == {"a1", "b2"}
    assert set(up.frame["first_seen"]) == {"T1"}


def test_recrawl_keeps_first_seen_marks_vanished_and_replaced():
    first = update_shard(pd.DataFrame(), [sighting("a1", "Ann"), sighting("b2", "Bob")], "T1", True).frame
    second = update_shard(first, [sighting("a9", "Ann")], "T2", complete=True).frame.set_index("id")
    assert second.loc["a1", "status"] == "replaced"  # Ann is still there with a new photo
    assert second.loc["b2", "status"] == "vanished" and second.loc["b2", "last_seen"] == "T1"
    assert second.loc["a9", "status"] == "present" and second.loc["a9", "first_seen"] == "T2"


def test_incomplete_crawl_marks_nothing():
    first = update_shard(pd.DataFrame(), [sighting("a1", "Ann"), sighting("b2", "Bob")], "T1", True).frame
    second = update_shard(first, [sighting("a1", "Ann")], "T2", complete=False).frame.set_index("id")
    assert second.loc["b2", "status"] == "present" and second.loc["a1", "last_seen"] == "T2"
    assert second.loc["a1", "first_seen"] == "T1"


def test_placeholder_bytes_or_url_shared_by_people_are_dropped():
    rows = [sighting("p1", "Ann"), sighting("p1", "Bob"), sighting("ok", "Cid"), sighting("u1", "Dan", url="http://x/avatar.png")]
    up = update_shard(pd.DataFrame(), rows, "T1", True, placeholder_urls=frozenset({"http://x/avatar.png"}))
    assert list(up.frame["id"]) == ["ok"]
    assert up.dropped == {"p1": "shared_placeholder", "u1": "shared_placeholder"}


def test_shards_and_merged_index_round_trip(store):
    a = update_shard(pd.DataFrame(), [sighting("a1", "Ann"), sighting("same", "Zoe")], "T1", True).frame
    b = update_shard(pd.DataFrame(), [sighting("b1", "Bea", category="econ", slug="demo-econ"),
                                      sighting("same", "Zoe", category="econ", slug="demo-econ")], "T1", True).frame
    write_shard(store, "demo-cs", a)
    write_shard(store, "demo-econ", b)
    assert read_shard(store, "demo-cs")["id"].tolist() == a.sort_values(["status", "name", "id"])["id"].tolist()
    merged, problems = rebuild_merged_index(store)
    assert sorted(merged["id"]) == ["a1", "b1"]  # "same" has two labels: left out, reported
    assert problems and "different categories" in problems[0]
    assert read_merged_index(store)["id"].tolist() == merged["id"].tolist()
    assert list(read_merged_index(store).columns) == COLUMNS
    assert read_shard(store, "nothing-here").empty


def test_same_photo_same_label_in_two_departments_is_one_row():
    a = update_shard(pd.DataFrame(), [sighting("x", "Ann")], "T1", True).frame
    b = update_shard(pd.DataFrame(), [sighting("x", "Ann", slug="demo-cs2")], "T2", True).frame
    merged, problems = merge_frames([a, b])
    assert merged["id"].tolist() == ["x"] and merged["slug"].tolist() == ["demo-cs"] and not problems


def test_schema_violations_are_refused(store):
    frame = update_shard(pd.DataFrame(), [sighting("a1", "Ann")], "T1", True).frame
    with pytest.raises(IndexSchemaError, match="duplicate ids"):
        validate(pd.concat([frame, frame]))
    broken = frame.assign(status="lost")
    with pytest.raises(IndexSchemaError, match="unknown status"):
        write_shard(store, "demo-cs", broken)
    assert read_shard(store, "demo-cs").empty  # nothing was written


def test_same_photo_for_different_people_across_departments_is_a_placeholder():
    a = update_shard(pd.DataFrame(), [sighting("avatar", "Ann"), sighting("a1", "Al")], "T1", True).frame
    b = update_shard(pd.DataFrame(), [sighting("avatar", "Bob", slug="demo-mech")], "T1", True).frame
    merged, problems = merge_frames([a, b])
    assert merged["id"].tolist() == ["a1"] and "placeholders" in problems[0]


def _reencoded(path, size, fmt):
    import io

    from PIL import Image

    out = io.BytesIO()
    with Image.open(path) as img:
        img.convert("RGB").resize((size, size)).save(out, fmt)
    return out.getvalue()


def test_one_avatar_reencoded_per_person_is_a_placeholder_by_its_look():
    """A site serving the same default avatar under a URL (and a size) per person: the bytes differ,
    the picture does not. Two different real faces stay, whatever their size."""
    from spiders.pipelines.validate import content_id, picture_look
    from tests.conftest import require_shared_data

    faces = sorted((require_shared_data() / "faces" / "lfw").glob("*/*.jpg"))
    avatar, face_a, face_b = faces[0], faces[1], faces[40]
    rows = []
    for name, path, size, fmt in (("Ann", avatar, 180, "JPEG"), ("Bob", avatar, 240, "PNG"),
                                  ("Cid", face_a, 200, "JPEG"), ("Dan", face_b, 200, "JPEG")):
        body = _reencoded(path, size, fmt)
        image_id, _ = content_id(body)
        rows.append({**sighting(image_id, name), "look": picture_look(body)})
    assert len({r["id"] for r in rows}) == 4  # four different files
    up = update_shard(pd.DataFrame(), rows, "T1", True)
    assert sorted(up.frame["name"]) == ["Cid", "Dan"]
    assert set(up.dropped.values()) == {"shared_placeholder"} and len(up.dropped) == 2
