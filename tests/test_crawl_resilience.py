"""Killing the S3 server during a crawl leaves a consistent index; a rerun completes it."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest

from infra.demosite import DemoServer, build_site
from infra.index import read_merged_index, read_shard
from infra.seaweed import EmbeddedS3
from infra.settings import load_settings, settings_env
from infra.store import ObjectStore, keys
from tests.conftest import ROOT, require_shared_data

pytestmark = pytest.mark.slow


def assert_consistent(store: ObjectStore, slug: str) -> int:
    """No index row without its image; every image object holds exactly its content address."""
    shard = read_shard(store, slug)
    objects = {o.key: o for o in store.list(keys.RAW_IMAGES)}
    for row in shard.itertuples():
        assert row.image_key in objects, f"row {row.id} has no image"
    for key in objects:
        data = store.get_bytes(key)
        assert hashlib.sha256(data).hexdigest().startswith(key.rsplit("/", 1)[1].split(".")[0]), key
    return len(shard)


def test_s3_killed_mid_crawl_then_rerun_completes(tmp_path):
    data = require_shared_data()
    truth = build_site(tmp_path / "site", data / "faces" / "lfw", data / "nonface", people_per_department=12, seed=3)
    s3 = EmbeddedS3(tmp_path / "s3")
    endpoint = s3.start()
    port = int(endpoint.endpoint.rsplit(":", 1)[1])
    settings = load_settings(env={}).replace(
        home=tmp_path / "home", s3_endpoint=endpoint.endpoint, s3_access_key=endpoint.access_key,
        s3_secret_key=endpoint.secret_key, bucket="kill", download_delay=0.15, concurrency_per_domain=1)
    store = ObjectStore.connect(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, "kill")
    store.ensure_bucket()
    dept = truth.department("cs")
    try:
        with DemoServer(tmp_path / "site") as server:
            registry = tmp_path / "departments.yaml"
            registry.write_text(truth.departments_yaml(server.base_url))
            env = {**os.environ, **settings_env(settings), "ACADEMIC_FACES_DEPARTMENTS_FILE": str(registry)}
            cmd = [sys.executable, "-m", "flows.cli", "crawl", "--only", dept.slug]
            crawl = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while len(list(store.list(keys.RAW_IMAGES))) < 3:  # some photos stored: now kill
                assert time.monotonic() < deadline and crawl.poll() is None, "crawl ended before the kill"
                time.sleep(0.1)
            s3.kill()
            time.sleep(2.0)
            s3.start(s3_port=port)
            out = crawl.communicate(timeout=180)[0].decode(errors="replace")
            assert_consistent(store, dept.slug)  # whatever the crawl managed, it is consistent

            rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
            assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
            rows = assert_consistent(store, dept.slug)
            index = read_merged_index(store)
            present = index[index["status"] == "present"]
            assert set(present["sha256"]) == {p.sha256 for p in dept.people}, out[-2000:]
            assert rows == len(dept.people)
    finally:
        s3.stop()
