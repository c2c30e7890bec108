"""The local stack end to end: `up` starts a Prefect server (with its UI) and a process
worker on 127.0.0.1, `deploy` applies prefect.yaml, the `pipeline` deployment is triggered
through the API and the worker runs it to Completed against the demo university; the UI's
deployments page lists the deployments in headless Chromium (screenshot kept)."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from infra.prefect_api import call
from tests.browser import chromium
from tests.conftest import ROOT
from tests.demo import served_demo

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "test-artifacts"  # git-ignored: screenshots a person can look at after a run


@pytest.fixture
def demo_registry(tmp_path):
    with served_demo(tmp_path) as (registry, truth):
        yield registry, truth


def wait_for_final_state(api_url: str, flow_run_id, timeout: float = 420):
    async def read(client):
        return await client.read_flow_run(flow_run_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = call(api_url, read)
        if run.state is not None and run.state.is_final():
            return run
        time.sleep(2)
    raise AssertionError(f"flow run {flow_run_id} did not finish within {timeout} s")


def trigger(api_url: str, deployment: str, parameters: dict):
    async def create(client):
        dep = await client.read_deployment_by_name(deployment)
        return await client.create_flow_run_from_deployment(dep.id, parameters=parameters)
    return call(api_url, create)


def ui_lists_deployments(ui_url: str, names: list[str], screenshot: Path) -> str:
    driver = chromium()
    try:
        driver.get(f"{ui_url}/deployments")
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and not all(n in text for n in names):
            time.sleep(1)
            text = driver.find_element("tag name", "body").text
        driver.save_screenshot(str(screenshot))
        return text
    finally:
        driver.quit()


def test_up_deploy_trigger_pipeline_worker_completes_and_ui_lists_it(cli, store, settings, demo_registry, tmp_path):
    registry, truth = demo_registry
    fast = {"ACADEMIC_FACES_DOWNLOAD_DELAY": "0.1"}  # our own local site
    up = cli("up", "--port", "0", "--workers", "1", env=fast, timeout=300)
    try:
        api_url = re.search(r"PREFECT_API_URL=(\S+)", up.stdout).group(1)
        ui_url = re.search(r"Prefect UI: (\S+)", up.stdout).group(1)
        assert cli("status").returncode == 0

        deployed = cli("deploy", "--departments", str(registry), env={"PREFECT_API_URL": api_url}).stdout
        for name in ("pipeline/pipeline", "crawl/weekly-recrawl", "crawl-department/crawl-department",
                     "retrain/retrain-evaluate"):
            assert name in deployed
        assert "site:127.0.0.1" in deployed  # one crawl at a time on the demo host

        flow_run = trigger(api_url, "pipeline/pipeline", {"departments_file": str(registry), "models": ["probe"]})
        finished = wait_for_final_state(api_url, flow_run.id)
        assert finished.state.is_completed(), (finished.state, (settings.home / "stack").glob("worker-*.log"))
        run = store.get_bytes("models/latest/probe.json")
        run_id = re.search(rb'"run_id": "([^"]+)"', run).group(1).decode()
        assert store.exists(f"reports/{run_id}/report.html")

        screenshot = tmp_path / "prefect-ui-deployments.png"
        text = ui_lists_deployments(ui_url, ["pipeline", "weekly-recrawl"], screenshot)
        assert "pipeline" in text and "weekly-recrawl" in text, text[:2000]
        assert screenshot.stat().st_size > 10_000
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(screenshot, ARTIFACTS / screenshot.name)
    finally:
        down = cli("down", check=False)
    assert "prefect server" in down.stdout and "worker local-1" in down.stdout
    assert cli("status", check=False).returncode == 1
