"""Many workers: `crawl --fan-out` runs one `crawl-department` flow run per department on a
pool with two process workers. Both workers execute department runs; one worker is killed
with SIGKILL (with its flow-run process, like a lost machine) in the middle of a run. The
server's heartbeat automation marks that run Crashed, the fan-out submits it again, the
other worker completes it, and the merged index is complete and consistent."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from infra.index import read_merged_index
from infra.prefect_api import call
from infra.settings import settings_env
from tests.conftest import ROOT
from tests.demo import served_demo

pytestmark = pytest.mark.slow


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid: int) -> None:
    for victim in [pid, *descendants(pid)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def department_runs(api_url: str) -> list:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    async def read(client):
        return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["crawl-department"])))
    return call(api_url, read)


def worker_of(run, workers: list[dict]) -> dict | None:
    """The worker whose process tree holds the run's process (infrastructure_pid is host:pid)."""
    pid = int(str(run.infrastructure_pid).rsplit(":", 1)[-1])
    return next((w for w in workers if pid == w["pid"] or pid in descendants(w["pid"])), None)


def test_two_workers_share_departments_and_a_killed_workers_run_is_rerun(cli, store, settings, tmp_path):
    with served_demo(tmp_path, people_per_department=3) as (registry, truth):
        # A slower pace (1 s between requests) keeps a department run going long enough to kill it.
        pace = {"ACADEMIC_FACES_DOWNLOAD_DELAY": "1", "ACADEMIC_FACES_CRAWL_RETRIES": "0"}
        up = cli("up", "--port", "0", "--workers", "2", "--worker-limit", "1", env=pace, timeout=300)
        api_url, fan_out = re.search(r"PREFECT_API_URL=(\S+)", up.stdout).group(1), None
        try:
            cli("deploy", "--departments", str(registry), env={"PREFECT_API_URL": api_url})
            env = {**os.environ, **settings_env(settings), "PREFECT_API_URL": api_url}
            fan_out = subprocess.Popen([sys.executable, "-m", "flows.cli", "crawl", "--departments", str(registry),
                                        "--fan-out"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            workers = json.loads((settings.home / "stack" / "state.json").read_text())["workers"]
            victim_run, deadline = None, time.monotonic() + 180
            while victim_run is None and time.monotonic() < deadline:
                running = [r for r in department_runs(api_url) if r.state and r.state.is_running()
                           and r.infrastructure_pid]
                victim_run = running[0] if running else None
                time.sleep(0.5)
            assert victim_run is not None, "no department run started"
            time.sleep(2)  # mid-run: past the start, before its shard is written
            victim = worker_of(victim_run, workers)
            assert victim is not None, victim_run.infrastructure_pid
            kill_tree(victim["pid"])

            output, _ = fan_out.communicate(timeout=480)
            assert fan_out.returncode == 0, output[-3000:]
            runs = department_runs(api_url)
        finally:
            if fan_out is not None and fan_out.poll() is None:
                fan_out.kill()
            cli("down", check=False)

    killed = next(r for r in runs if r.id == victim_run.id)
    assert killed.state.name == "Crashed"  # detected by the heartbeat automation, not left Running
    slug = killed.parameters["slug"]
    reruns = [r for r in runs if r.parameters["slug"] == slug and r.id != killed.id]
    assert any(r.state.is_completed() for r in reruns), [(r.name, r.state.name) for r in reruns]
    assert "submitting it again" in output
    # Both workers executed department runs.
    by_worker = {w["name"]: set(re.findall(r"submitting flow run '([0-9a-f-]+)'", open(w["log"]).read()))
                 for w in workers}
    department_ids = {str(r.id) for r in runs}
    assert all(ids & department_ids for ids in by_worker.values()), by_worker
    # The merged index: complete, no duplicates, every row with its object and no object without its row.
    index = read_merged_index(store)
    present = index[index["status"] == "present"]
    assert set(present["sha256"]) == {p.sha256 for p in truth.people}
    assert not index["id"].duplicated().any()
    stored = {o.key for o in store.list("raw/images/")}
    assert set(index["image_key"]) == stored
