"""The local stack on 127.0.0.1: object store, Prefect server with its UI, and workers.

`up` starts what is missing, each in its own session (a Ctrl-C in the terminal must not
take the stack down), waits until each is healthy and records the process ids in
``<home>/stack/state.json``; `down` stops them by those ids (workers with SIGINT: a worker
given SIGTERM kept running for 20 s); `status` reports each. The Prefect server keeps its
SQLite database under ``<home>/stack/prefect``, so flow runs and schedules survive a
restart. Workers get the object store's endpoint and keys in their environment only.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from infra import prefect_api
from infra.prefect_api import HEARTBEAT_SECONDS, PROJECT_DIR, WORK_POOL
from infra.seaweed import EmbeddedS3, alive
from infra.settings import Settings, settings_env

HOST = "127.0.0.1"


class StackError(RuntimeError):
    pass


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    detail: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prefect_env(api_url: str) -> dict[str, str]:
    """Environment for Prefect clients and workers of this stack (offline: no telemetry)."""
    return {"PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


def reachable(url: str) -> bool:
    """Whether anything answers HTTP at `url` (an S3 server answers 403 without credentials)."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def api_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class LocalStack:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = (settings.home / "stack").absolute()
        self.state_file = self.dir / "state.json"
        self.s3 = EmbeddedS3(settings.home / "seaweed")

    # -- state ------------------------------------------------------------------------------
    def state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)

    @property
    def api_url(self) -> str | None:
        return self.state().get("prefect", {}).get("api_url")

    def ui_url(self) -> str | None:
        port = self.state().get("prefect", {}).get("port")
        return f"http://{HOST}:{port}" if port else None

    # -- up ---------------------------------------------------------------------------------
    def up(self, *, port: int = 4200, workers: int = 1, worker_limit: int | None = None,
           timeout: float = 120.0) -> dict:
        state = self.state()
        storage = self._start_store()
        state["store"] = {"embedded": self.settings.embedded, "endpoint": storage.s3_endpoint}
        state["prefect"] = self._start_prefect(state.get("prefect", {}), port or free_port(), timeout)
        self._save(state)
        api_url = state["prefect"]["api_url"]
        prefect_api.ensure_work_pool(api_url)
        prefect_api.ensure_zombie_automation(api_url)
        live = [w for w in state.get("workers", []) if alive(w["pid"])]
        taken = {w["name"] for w in live}
        names = (f"local-{i}" for i in range(1, 1000) if f"local-{i}" not in taken)
        while len(live) < workers:
            live.append(self.start_worker(next(names), storage, api_url, worker_limit))
        state["workers"] = live
        self._save(state)
        wait_for_workers(api_url, live, timeout)
        return state

    def _start_store(self) -> Settings:
        if not self.settings.embedded:
            return self.settings  # a configured MinIO/S3: nothing to start
        endpoint = self.s3.start()  # own session: outlives this process until `down`
        self.s3.process = None  # not ours to stop when this object goes away
        return self.settings.replace(s3_endpoint=endpoint.endpoint, s3_access_key=endpoint.access_key,
                                     s3_secret_key=endpoint.secret_key)

    def _start_prefect(self, previous: dict, port: int, timeout: float) -> dict:
        if alive(previous.get("pid")) and api_healthy(previous["api_url"]):
            return previous
        return start_prefect_server(self.dir / "prefect", port, self.dir / "prefect-server.log", timeout)

    def start_worker(self, name: str, storage: Settings, api_url: str, limit: int | None = None) -> dict:
        env = {**os.environ, **settings_env(storage), **prefect_env(api_url),
               "ACADEMIC_FACES_PROJECT_DIR": str(PROJECT_DIR),
               "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}
        log = self.dir / f"worker-{name}.log"
        cmd = [prefect_binary(), "worker", "start", "--pool", WORK_POOL, "--type", "process", "--name", name]
        pid = spawn(cmd + (["--limit", str(limit)] if limit else []), env, log, cwd=PROJECT_DIR)
        return {"name": name, "pid": pid, "log": str(log)}

    # -- down / status ----------------------------------------------------------------------
    def down(self, timeout: float = 20.0) -> list[str]:
        state, stopped = self.state(), []
        for worker in state.get("workers", []):
            if stop_process(worker["pid"], signal.SIGINT, timeout):
                stopped.append(f"worker {worker['name']}")
        if stop_process(state.get("prefect", {}).get("pid"), signal.SIGTERM, timeout):
            stopped.append("prefect server")
        if state.get("store", {}).get("embedded") and stop_process(self.s3.recorded().get("pid"), signal.SIGTERM,
                                                                   timeout):
            self.s3.state_file.unlink(missing_ok=True)
            stopped.append("object store")
        self._save({})
        return stopped

    def status(self) -> list[ComponentStatus]:
        state = self.state()
        store = state.get("store", {})
        if store and not store.get("embedded"):  # a configured MinIO/S3: reachable or not
            out = [ComponentStatus("object store", None, reachable(store["endpoint"]), store["endpoint"])]
        else:
            out = [ComponentStatus("object store", self.s3.recorded().get("pid"), bool(self.s3.running()),
                                   store.get("endpoint") or "not started")]
        prefect = state.get("prefect", {})
        healthy = bool(prefect) and api_healthy(prefect["api_url"])
        out.append(ComponentStatus("prefect server", prefect.get("pid"), alive(prefect.get("pid")) and healthy,
                                   f"UI {self.ui_url()}" if healthy else "not running"))
        for worker in state.get("workers", []):
            out.append(ComponentStatus(f"worker {worker['name']}", worker["pid"], alive(worker["pid"]),
                                       f"pool {WORK_POOL}; log {worker['log']}"))
        return out


def start_prefect_server(home: Path, port: int, log: Path, timeout: float, *, ui: bool = True) -> dict:
    """`prefect server start` on 127.0.0.1:`port` in its own session, its SQLite database under
    `home`; waits until healthy. Returns {"pid", "port", "api_url"}."""
    api_url = f"http://{HOST}:{port}/api"
    env = {**os.environ, **prefect_env(api_url), "PREFECT_HOME": str(home),
           "PREFECT_SERVER_API_HOST": HOST, "PREFECT_SERVER_API_PORT": str(port),
           "PREFECT_UI_API_URL": api_url,  # else the UI calls port 4200
           "PREFECT_UI_ENABLED": "true" if ui else "false"}
    env.pop("PREFECT_API_URL")  # the server must not look for another server
    pid = spawn([prefect_binary(), "server", "start", "--host", HOST, "--port", str(port)], env, log)
    deadline = time.monotonic() + timeout
    while not api_healthy(api_url):
        if not alive(pid) or time.monotonic() > deadline:
            stop_process(pid, signal.SIGINT, timeout=15)
            raise StackError(f"the Prefect server did not become healthy; see {log}")
        time.sleep(0.5)
    return {"pid": pid, "port": port, "api_url": api_url}


def prefect_binary() -> str:
    return str(Path(sys.executable).parent / "prefect")


def spawn(cmd: list[str], env: dict, log: Path, cwd: Path | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)
    return proc.pid


def stop_process(pid: int | None, sig: int, timeout: float) -> bool:
    """Signal a process group, wait, then SIGKILL it; True when something was running."""
    if not alive(pid):
        return False
    try:
        os.killpg(pid, sig)  # its session: the process and what it started (flow runs, servers)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
    return True


def wait_for_workers(api_url: str, workers: list[dict], timeout: float) -> None:
    """Until every worker has polled the pool (the server lists it)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = {w["name"] for w in workers} - set(prefect_api.worker_names(api_url))
        if not missing:
            return
        dead = [w["name"] for w in workers if not alive(w["pid"])]
        if dead or time.monotonic() > deadline:
            raise StackError(f"worker(s) {sorted(dead or missing)} did not come online; see their logs in "
                             f"{Path(workers[0]['log']).parent}")
        time.sleep(1)
