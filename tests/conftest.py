"""Shared fixtures: one real SeaweedFS server per test session, a fresh bucket per test,
the shared photo data (missing data fails under CI=true, skips elsewhere)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from infra.seaweed import EmbeddedS3
from infra.settings import load_settings, settings_env
from infra.store import ObjectStore
from tests.worlds import (Snapshot, build_gender_world, shared_prefect_server, shared_world,
                          stop_shared_prefect_server)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# The suite runs on pytest-xdist workers, one test file per worker at a time (--dist
# loadfile: module fixtures stay shared). The longest files start first, so that they do not
# end the run alone. A worker holds back the last test it was sent until the next file
# arrives, so the file sent after a long one-test file waits for it: each long file is
# followed by a quick one. Seconds of a full parallel run (`pytest --durations`), as a hint.
FILE_SECONDS = {
    "test_workers_e2e": 200, "test_evaluate_e2e": 160, "test_faults_storage": 165, "test_face_or_website_e2e": 135,
    "test_demographic_e2e": 45, "test_demographic": 11,
    "test_pipeline_e2e": 115, "test_stack_e2e": 100, "test_faults_sites": 85, "test_probe": 80, "test_ml_flows": 60,
    "test_train_e2e": 55, "test_tune": 70, "test_forget_e2e": 50, "test_privacy_e2e": 50, "test_crawl_e2e": 110, "test_train_keras": 45,
    "test_cli": 35, "test_index_export": 35, "test_realpages": 32, "test_saliency": 30, "test_fuzz": 25,
    "test_groups": 22, "test_preprocess_e2e": 27, "test_crawl_resilience": 20, "test_crop_stage": 20,
    "test_extract_heldout": 15, "test_browser_middleware": 15, "test_verdict": 15, "test_models": 12,
    "test_crawl_flow": 10, "test_photo_style": 10, "test_stats": 9, "test_store": 10, "test_crop": 10,
    "test_report": 8, "test_split": 5,
}
QUICK = 20  # files under this many seconds follow the long ones


def pytest_collection_modifyitems(config, items):
    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(item.path.stem, []).append(item)
    seconds = {f: FILE_SECONDS.get(f, 0) for f in by_file}
    long_files = sorted((f for f in by_file if seconds[f] >= QUICK), key=lambda f: -seconds[f])
    quick_files = sorted((f for f in by_file if seconds[f] < QUICK), key=lambda f: seconds[f])
    order = []
    for name in long_files:
        order.append(name)
        if quick_files:
            order.append(quick_files.pop(0))
    items[:] = [item for name in order + quick_files for item in by_file[name]]


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers more than cores, at most 6 (each worker holds its own S3 server).
    Most end-to-end time is spent waiting on subprocesses, servers and sites: with 3 workers on
    2 cores the whole suite used about one core on average (12:10 wall, 12:25 CPU); with 4,
    8:17 wall."""
    return min(6, (os.cpu_count() or 1) + 2)


def require_shared_data() -> Path:
    if not (SHARED_DATA / "faces" / "lfw").is_dir():
        message = f"shared test data missing: {SHARED_DATA} (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared_data()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = EmbeddedS3(tmp_path_factory.mktemp("seaweed"))
    endpoint = server.start()
    yield endpoint
    server.stop()


def settings_for(s3_server, home: Path):
    """Project settings pointing at the session's S3 server, with a new bucket."""
    return load_settings(env={}).replace(
        home=home, s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key, bucket="t-" + uuid.uuid4().hex[:12], download_delay=0.0,
    )


@pytest.fixture
def settings(s3_server, tmp_path):
    """Project settings pointing at the session's S3 server, with a bucket of this test's own."""
    return settings_for(s3_server, tmp_path / "home")


@pytest.fixture
def store(settings) -> ObjectStore:
    s = ObjectStore.from_settings(settings)
    s.ensure_bucket()
    return s


@pytest.fixture(scope="session")
def world_cache(tmp_path_factory) -> Path:
    """Where shared worlds are kept: the session's temporary root, the same for every xdist worker."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    return root / "worlds"


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(world_cache) -> Path:
    """Derived models (the perceived-gender model of the demographic control) are trained once
    per session and machine, as a user's home would keep them, not once per test home."""
    folder = world_cache / "models"
    os.environ["ACADEMIC_FACES_MODEL_CACHE"] = str(folder)  # inherited by the CLI subprocesses
    return folder


@pytest.fixture(scope="session")
def gender_world(world_cache, s3_server, tmp_path_factory) -> Snapshot:
    """~350 LFW photos labelled female/male, imported, preprocessed and embedded once per
    session (tests/worlds.py); `gender_world.restore(store)` gives a test its own copy."""
    data = require_shared_data()
    base = settings_for(s3_server, tmp_path_factory.mktemp("gender-world-home"))

    def store_for(bucket: str) -> ObjectStore:
        return ObjectStore.from_settings(base.replace(bucket=bucket))
    return shared_world(world_cache, "gender", store_for,
                        lambda store: build_gender_world(store, base, data, world_cache / "gender-build"))


@pytest.fixture
def cli(settings):
    """Run the `academic-faces` CLI in a subprocess with the test's settings."""
    def run(*args: str, env: dict | None = None, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **settings_env(settings), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=full_env,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"academic-faces {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}")
        return proc
    return run


@pytest.fixture(scope="session")
def prefect_api(world_cache):
    """The session's local Prefect server (one for all xdist workers, tests/worlds.py), as
    this process's API; its URL, for subprocesses that should use it instead of a temporary one."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    api_url = shared_prefect_server(world_cache)
    with temporary_settings({PREFECT_API_URL: api_url}):
        yield api_url


def run_artifact(state, key: str):
    """The artifact `key` made by the flow run whose final `state` this is: tests share one
    Prefect server, and `Artifact.get(key)` would return whichever test wrote `key` last."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    assert found, f"flow run {state.state_details.flow_run_id} made no artifact {key!r}"
    return found[-1]


def pytest_sessionfinish(session, exitstatus):
    """The controller (or a run without workers) stops the session's shared services."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        stop_shared_prefect_server(session.config._tmp_path_factory.getbasetemp() / "worlds")
