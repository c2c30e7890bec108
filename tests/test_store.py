"""The object-store layer against a real SeaweedFS server."""
import hashlib

import pytest

from infra.seaweed import EmbeddedS3
from infra.store import ID_LENGTH, KeyNotFound, ObjectStore, StoreError, content_id, keys


def test_put_get_list_stat_delete(store):
    store.put_bytes("raw/images/b.jpg", b"\xff\xd8bytes", "image/jpeg")
    store.put_bytes("raw/images/a.jpg", b"other", "image/jpeg")
    assert store.get_bytes("raw/images/b.jpg") == b"\xff\xd8bytes"
    assert [o.key for o in store.list("raw/images/")] == ["raw/images/a.jpg", "raw/images/b.jpg"]
    info = store.stat("raw/images/b.jpg")
    assert info.size == 7 and info.content_type == "image/jpeg"
    store.delete("raw/images/a.jpg")
    assert not store.exists("raw/images/a.jpg")
    with pytest.raises(KeyNotFound):
        store.get_bytes("raw/images/a.jpg")


def test_listing_pages_past_one_thousand_objects(store):
    for i in range(1005):
        store.put_bytes(f"many/{i:05d}", b"x")
    assert len(list(store.list("many/"))) == 1005


def test_content_id_is_a_prefix_of_sha256():
    image_id, digest = content_id(b"photo")
    assert digest == hashlib.sha256(b"photo").hexdigest() and image_id == digest[:ID_LENGTH]
    assert keys.raw_image(image_id, "jpg") == f"raw/images/{image_id}.jpg"


def test_unreachable_store_raises_store_error_after_retries():
    store = ObjectStore.connect("http://127.0.0.1:9", "k", "s", "bucket", timeout=1)
    with pytest.raises(StoreError, match="unreachable"):
        store.put_bytes("x", b"y")


def test_embedded_server_is_shared_and_stops_only_when_owned(tmp_path):
    first = EmbeddedS3(tmp_path / "s")
    endpoint = first.start()
    second = EmbeddedS3(tmp_path / "s")
    assert second.start() == endpoint  # found the live server, did not start another
    second.stop()  # not its server: no effect
    assert first.running() == endpoint
    # credentials are enforced: a wrong secret is refused
    bad = ObjectStore.connect(endpoint.endpoint, endpoint.access_key, "wrong", "b", timeout=2)
    with pytest.raises(Exception):
        bad.ensure_bucket()
    first.stop()
    assert first.running() is None


def test_server_side_copy(store):
    store.put_bytes("a/src.jpg", b"crop", "image/jpeg")
    store.copy("a/src.jpg", "b/dst.jpg")
    assert store.get_bytes("b/dst.jpg") == b"crop" and store.stat("b/dst.jpg").content_type == "image/jpeg"
