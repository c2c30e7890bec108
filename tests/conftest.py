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

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


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


@pytest.fixture
def settings(s3_server, tmp_path):
    """Project settings pointing at the session's S3 server, with a bucket of this test's own."""
    bucket = "t-" + uuid.uuid4().hex[:12]
    return load_settings(env={}).replace(
        home=tmp_path / "home", s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key, bucket=bucket, download_delay=0.0,
    )


@pytest.fixture
def store(settings) -> ObjectStore:
    s = ObjectStore.from_settings(settings)
    s.ensure_bucket()
    return s


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
def prefect_api():
    """A temporary local Prefect API (SQLite) for flow tests, started once per session."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
