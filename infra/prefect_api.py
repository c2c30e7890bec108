"""Calls to a Prefect server's API for the local stack and `deploy`: the work pool, tag
concurrency limits that keep workers polite per site, the automation that marks flow runs
whose heartbeats stopped (their worker died) as Crashed, and `prefect deploy`."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORK_POOL = "academic-faces"
ZOMBIE_AUTOMATION = "crash-flow-runs-without-heartbeat"
HEARTBEAT_SECONDS = 30  # Prefect's minimum for flow-run heartbeat events
ZOMBIE_AFTER_SECONDS = 75  # no heartbeat for this long: the run is Crashed (about 2.5 heartbeats)


class PrefectApiError(RuntimeError):
    pass


def call(api_url: str, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `fn(client)` against the server at `api_url` (whatever this process was configured with)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def main():
        async with get_client() as client:
            return await fn(client)
    with temporary_settings({PREFECT_API_URL: api_url}):
        return asyncio.run(main())


def ensure_work_pool(api_url: str) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    async def create(client):
        try:
            await client.create_work_pool(WorkPoolCreate(name=WORK_POOL, type="process"))
        except ObjectAlreadyExists:
            pass
    call(api_url, create)


def worker_names(api_url: str) -> list[str]:
    async def read(client):
        return [w.name for w in await client.read_workers_for_work_pool(WORK_POOL)]
    return call(api_url, read)


def ensure_site_limits(api_url: str, hosts: list[str], limit: int = 1) -> list[str]:
    """A tag concurrency limit `site:<host>` per crawled site: one crawl task per site at a time."""
    tags = [f"site:{h}" for h in sorted(set(hosts)) if h]

    async def create(client):
        for tag in tags:
            await client.create_concurrency_limit(tag=tag, concurrency_limit=limit)  # upsert
    call(api_url, create)
    return tags


def ensure_zombie_automation(api_url: str) -> None:
    """Flow runs of deployments send heartbeats; one that stops (its worker was killed) becomes Crashed."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        try:
            Automation.read(name=ZOMBIE_AUTOMATION)
            return
        except ValueError:
            pass
        Automation(
            name=ZOMBIE_AUTOMATION,
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                        "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
                match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
                for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
                within=timedelta(seconds=ZOMBIE_AFTER_SECONDS)),
            actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                        message="no heartbeat: its worker or machine died")],
        ).create()


def deploy(api_url: str, env: dict[str, str]) -> str:
    """`prefect deploy --all` of prefect.yaml against `api_url`; returns its output."""
    cmd = [str(Path(sys.executable).parent / "prefect"), "--no-prompt", "deploy", "--all"]
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
                          env={**env, "PREFECT_API_URL": api_url, "ACADEMIC_FACES_PROJECT_DIR": str(PROJECT_DIR)})
    if proc.returncode != 0:
        raise PrefectApiError(f"prefect deploy failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc.stdout
