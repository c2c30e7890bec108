"""Storage faults with real processes on 127.0.0.1: the S3 server SIGKILLed during
preprocessing and during the upload of a training run, and the disk of the embedded store
filling up during preprocessing. Each failure must show (non-zero exit, a message); after
recovery a rerun completes and nothing is lost, orphaned or duplicated.

Every test starts its own SeaweedFS server (`infra.seaweed.EmbeddedS3`) so it can kill it.
The figures (faults injected, records checked, lost) go to test-artifacts/faults-storage.json.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from infra.index import read_merged_index
from infra.seaweed import EmbeddedS3
from infra.settings import load_settings, settings_env
from infra.store import ObjectStore, StoreError, keys
from ml.preprocess import CROPS, GROUPS, HASHES, REJECTS, SPLITS, layout_key, read_csv
from ml.runs import MODELS, latest_run_id
from tests.conftest import ROOT
from tests.test_train_e2e import gender_manifest

pytestmark = pytest.mark.slow
HOST = "127.0.0.1"
ARTIFACT = ROOT / "test-artifacts" / "faults-storage.json"
RUN_FILES = {"config.json", "labels.json", "history.json", "metrics.json", "model.joblib", "data_ids.txt"}


# -- helpers ---------------------------------------------------------------------------------
class Stack:
    """One SeaweedFS server of this test, the settings and environment pointing at it."""

    def __init__(self, tmp_path: Path, bucket: str):
        self.tmp_path = tmp_path
        self.server = EmbeddedS3(tmp_path / "s3")
        endpoint = self.server.start()
        self.port = int(endpoint.endpoint.rsplit(":", 1)[1])
        self.settings = load_settings(env={}).replace(
            home=tmp_path / "home", s3_endpoint=endpoint.endpoint, s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key, bucket=bucket, download_delay=0.0)
        self.store = ObjectStore.connect(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, bucket)
        self.store.ensure_bucket()

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        settings = self.settings.replace(s3_endpoint=endpoint) if endpoint else self.settings
        return {**os.environ, **settings_env(settings)}

    def accepts_writes(self, within: float) -> bool:
        """Whether a small PUT succeeds within `within` seconds (the store recovered)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                self.store.put_bytes("faults/probe.txt", b"ok")
                self.store.delete("faults/probe.txt")
                return True
            except StoreError:
                time.sleep(2)
        return False

    def restart(self) -> None:
        self.server.start(s3_port=self.port)  # same port: clients keep their endpoint

    def cli(self, *args: str, endpoint: str | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=self.env(endpoint),
                              capture_output=True, text=True, timeout=timeout)

    def start_cli(self, name: str, *args: str, endpoint: str | None = None) -> tuple[subprocess.Popen, Path]:
        log = self.tmp_path / f"{name}.log"
        with open(log, "wb") as fh:  # a file, not a pipe: a chatty child never blocks on a full pipe
            proc = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=self.env(endpoint),
                                    stdout=fh, stderr=subprocess.STDOUT)
        return proc, log

    def import_photos(self, per_category: int) -> int:
        """Import LFW photos labelled female/male (two categories, people kept whole)."""
        manifest = self.tmp_path / "manifest.csv"
        gender_manifest(manifest, per_gender=per_category)
        done = self.cli("import", str(manifest), "--slug", "lfw-faults", "--university", "LFW")
        assert done.returncode == 0, done.stderr[-3000:]
        return len(list(csv.DictReader(open(manifest, newline=""))))

    def wait_for(self, prefix: str, count: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while (n := len(list(self.store.list(prefix)))) < count:
            assert proc.poll() is None, f"the process ended before the fault (exit {proc.returncode}):\n" \
                                        + log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"fewer than {count} objects under {prefix} after {timeout} s"
            time.sleep(0.05)
        return n


def error_line(output: str) -> str:
    """The CLI's one-line error (`academic-faces: error: ...`), or the output's last line."""
    lines = [line for line in output.splitlines() if "academic-faces: error:" in line]
    return (lines or output.strip().splitlines()[-1:] or [""])[-1].strip()


def failure_report(exit_code: int, output: str) -> dict:
    """How a failed run told its user: exit code, message, and whether it was the CLI's one-line
    error or a Python traceback (a project RuntimeError is not recognised as user-facing)."""
    message = error_line(output)
    failed = re.search(r"(\d+) image\(s\) could not be read or written", message)
    return {"exit": exit_code, "message": message[:500], "clean_error": "academic-faces: error:" in message,
            "traceback": "Traceback (most recent call last)" in output,
            "failed_images": int(failed.group(1)) if failed else None}


def duplicates(values) -> list:
    seen, dup = set(), []
    for v in values:
        if v in seen:
            dup.append(v)
        seen.add(v)
    return dup


def check_preprocessed(store: ObjectStore, *, finished: bool) -> dict:
    """Consistency of raw/ and preprocessed/ (raises on any breach); returns the counts.

    Always: no duplicate ids; every index row has its raw object and every raw object its row;
    every crop belongs to an index row and decodes as a 128x128 JPEG; no id is both cropped and
    rejected. When `finished` (after a successful run): every index id is cropped or rejected,
    groups/hashes/splits cover exactly the crops, and the Keras layout mirrors splits.csv.
    """
    index = read_merged_index(store)
    ids = set(index["id"])
    raw = {o.key for o in store.list(keys.RAW_IMAGES)}
    crops = {o.key[len(CROPS):-len(".jpg")] for o in store.list(CROPS)}
    rejects = read_csv(store, REJECTS, ["id", "reason", "detail"])
    problems = {
        "duplicate index ids": duplicates(index["id"]),
        "duplicate reject ids": duplicates(rejects["id"]),
        "index rows without their raw object": sorted(set(index["image_key"]) - raw),
        "raw objects without an index row": sorted(raw - set(index["image_key"])),
        "crops without an index row": sorted(crops - ids),
        "ids both cropped and rejected": sorted(crops & set(rejects["id"])),
        "rejected as storage errors": sorted(rejects.loc[rejects["reason"] == "storage_error", "id"]),
    }
    bad_crops = []
    for image_id in sorted(crops):
        try:
            image = Image.open(io.BytesIO(store.get_bytes(CROPS + image_id + ".jpg")))
            image.load()
            if image.format != "JPEG" or image.size != (128, 128):
                bad_crops.append(f"{image_id}: {image.format} {image.size}")
        except Exception as exc:  # noqa: BLE001 - any undecodable crop is a finding
            bad_crops.append(f"{image_id}: {exc}")
    problems["crops that do not decode as 128x128 JPEG"] = bad_crops
    pending = sorted(ids - crops - set(rejects["id"]))
    counts = {"index_rows": len(ids), "raw_objects": len(raw), "crops": len(crops), "rejects": len(rejects),
              "pending": len(pending)}
    if finished:
        problems["index ids neither cropped nor rejected"] = pending
        splits = read_csv(store, SPLITS, ["id", "group", "category", "split"])
        groups = read_csv(store, GROUPS, ["id", "group", "reason"])
        hashes = read_csv(store, HASHES, ["id", "phash"])
        usable = crops - set(rejects["id"])
        for name, frame in (("splits", splits), ("groups", groups), ("hashes", hashes)):
            problems[f"duplicate ids in {name}.csv"] = duplicates(frame["id"])
            problems[f"{name}.csv rows without a crop"] = sorted(set(frame["id"]) - crops)
            problems[f"crops missing from {name}.csv"] = sorted(usable - set(frame["id"]))
        wanted = {layout_key(s, c, i) for i, c, s in zip(splits["id"], splits["category"], splits["split"])}
        layout = {o.key for s in ("train", "test", "validation") for o in store.list(f"preprocessed/{s}/")}
        problems["split rows without their layout copy"] = sorted(wanted - layout)
        problems["layout copies without a split row"] = sorted(layout - wanted)
        counts.update(split_rows=len(splits), group_rows=len(groups), hash_rows=len(hashes), layout_objects=len(layout))
    found = {k: v for k, v in problems.items() if v}
    assert not found, json.dumps(found, indent=1)[:4000]
    counts["records_checked"] = sum(v for k, v in counts.items() if k != "pending")
    return counts


def record(name: str, figures: dict) -> None:
    """Print one line and merge this test's figures into test-artifacts/faults-storage.json."""
    print(f"\nfaults-storage {name}: faults injected {figures['faults_injected']}, "
          f"records checked {figures['records_checked']}, lost {figures['lost']}")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    try:
        everything = json.loads(ARTIFACT.read_text())
    except (OSError, ValueError):
        everything = {}
    everything[name] = figures
    tmp = ARTIFACT.with_suffix(".tmp")
    tmp.write_text(json.dumps(everything, indent=1, sort_keys=True) + "\n")
    tmp.replace(ARTIFACT)


# -- 1. S3 killed during preprocessing ---------------------------------------------------------
def test_s3_killed_during_preprocess_then_rerun_is_consistent(tmp_path):
    started = time.monotonic()
    stack = Stack(tmp_path, "faults-preprocess")
    try:
        photos = stack.import_photos(per_category=30)
        proc, log = stack.start_cli("preprocess", "preprocess", "--workers", "2")
        crops_at_kill = stack.wait_for(CROPS, 5, proc, log)
        stack.server.kill()  # SIGKILL mid-crop
        time.sleep(8.0)  # longer than the store's retries (~6 s a call): in-flight images fail
        stack.restart()
        exit_code = proc.wait(timeout=240)
        output = log.read_text(errors="replace")
        failure = failure_report(exit_code, output)
        assert exit_code != 0, f"the preprocess that lost its store reported success:\n{output[-3000:]}"
        assert re.search("storage errors|object store unreachable", failure["message"]), output[-3000:]
        assert failure["clean_error"], output[-3000:]  # one line for the user, no traceback
        partial = check_preprocessed(stack.store, finished=False)  # whatever it managed is consistent

        rerun = stack.cli("preprocess", "--workers", "2")
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
        final = check_preprocessed(stack.store, finished=True)
        assert final["index_rows"] == photos
        lost = final["pending"]
        record("preprocess_s3_killed", {
            "fault": "SeaweedFS SIGKILLed during `preprocess --workers 2`, down 8 s, restarted on the same port",
            "faults_injected": 1, "photos": photos, "crops_before_kill": crops_at_kill,
            "failed_run": {**failure, "left_pending": partial["pending"]},
            "after_rerun": final, "records_checked": partial["records_checked"] + final["records_checked"],
            "lost": lost, "seconds": round(time.monotonic() - started, 1)})
        assert lost == 0
    finally:
        stack.server.stop()


# -- 2. S3 killed while a training run is uploaded -----------------------------------------------
class KillOnNthPut:
    """A TCP proxy in front of the S3 server that SIGKILLs the server when the client sends
    its `nth` request starting with `marker` (that request is never forwarded): a kill at an
    exact point of an upload, without racing a poll loop."""

    def __init__(self, upstream_port: int, marker: bytes, nth: int, kill):
        self.upstream_port, self.marker, self.nth, self.kill = upstream_port, marker, nth, kill
        self.seen = 0
        self.fired = threading.Event()
        self.lock = threading.Lock()
        self.listener = socket.create_server((HOST, 0))
        self.endpoint = f"http://{HOST}:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection((HOST, self.upstream_port), timeout=5)
            upstream.settimeout(None)
        except OSError:  # the server is down: the client sees a dropped connection
            client.close()
            return
        threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()
        self._pipe(client, upstream, True)

    def _pipe(self, src: socket.socket, dst: socket.socket, inspect: bool) -> None:
        tail = b""
        try:
            while chunk := src.recv(65536):
                if inspect and not self.fired.is_set():
                    with self.lock:
                        self.seen += (tail + chunk).count(self.marker)
                        tail = (tail + chunk)[-(len(self.marker) - 1):]
                        if self.seen >= self.nth and not self.fired.is_set():
                            self.fired.set()
                            self.kill()
                            return
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def run_files(store: ObjectStore) -> dict[str, set[str]]:
    runs: dict[str, set[str]] = {}
    for obj in store.list(MODELS):
        run_id, _, name = obj.key[len(MODELS):].partition("/")
        if run_id != "latest":
            runs.setdefault(run_id, set()).add(name)
    return runs


def train_run(stack: Stack, **kwargs) -> str:
    done = stack.cli("train", "--model", "probe", **kwargs)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index("{"):])["run"]


def test_s3_killed_while_run_uploads_never_points_latest_at_a_partial_run(tmp_path):
    started = time.monotonic()
    stack = Stack(tmp_path, "faults-train")
    proxy = None
    try:
        photos = stack.import_photos(per_category=20)
        done = stack.cli("preprocess", "--workers", "2")
        assert done.returncode == 0, done.stderr[-3000:]
        before = check_preprocessed(stack.store, finished=True)
        first_run = train_run(stack)  # a good run: `latest` must stay on it through the failure

        # upload_run PUTs data_ids.txt, model.joblib, config.json, history.json, labels.json,
        # metrics.json, then models/latest/probe.json: kill on the 4th (history.json).
        proxy = KillOnNthPut(stack.port, f"PUT /{stack.settings.bucket}/{MODELS}".encode(), 4, stack.server.kill)
        failed = stack.cli("train", "--model", "probe", endpoint=proxy.endpoint)
        assert proxy.fired.is_set(), "the run was never uploaded:\n" + failed.stderr[-3000:]
        failure = failure_report(failed.returncode, failed.stderr)
        assert failed.returncode != 0, "train reported success with its store killed mid-upload"
        assert "object store unreachable" in failure["message"] and MODELS in failure["message"], failed.stderr[-3000:]
        assert failure["clean_error"], failed.stderr[-3000:]
        stack.restart()
        leftovers = run_files(stack.store)
        assert set(leftovers) - {first_run}, leftovers
        (partial_run, partial_files), = ((r, f) for r, f in leftovers.items() if r != first_run)
        assert len(partial_files) == 3 and partial_files < RUN_FILES, partial_files  # the three PUTs before the kill
        latest_after_failure = latest_run_id(stack.store, "probe")
        assert latest_after_failure == first_run  # still the complete run, never the partial one

        new_run = train_run(stack)
        latest = latest_run_id(stack.store, "probe")
        runs = run_files(stack.store)
        complete = {r for r, files in runs.items() if RUN_FILES <= files}
        assert latest == new_run and latest in complete, (latest, runs)
        assert complete == {first_run, new_run} and partial_run not in complete
        problems = []
        splits = read_csv(stack.store, SPLITS, ["id", "group", "category", "split"])
        expected = set(splits.loc[splits["split"].isin(["train", "validation"]), "id"])
        for run_id in sorted(complete):  # every document of a complete run reads back
            for name in sorted(RUN_FILES - {"model.joblib", "data_ids.txt"}):
                json.loads(stack.store.get_bytes(f"{MODELS}{run_id}/{name}"))
            learned = set(stack.store.get_bytes(f"{MODELS}{run_id}/data_ids.txt").decode().split())
            if learned != expected:
                problems.append(f"{run_id}: data_ids.txt differs from splits.csv by {len(learned ^ expected)} ids")
        after = check_preprocessed(stack.store, finished=True)  # the kill did not hurt preprocessed/
        lost = len(problems) + sum(len(RUN_FILES - runs[r]) for r in (first_run, new_run))
        record("train_upload_s3_killed", {
            "fault": "SeaweedFS SIGKILLed at the 4th PUT of a run upload (history.json), restarted after the "
                     "train process failed",
            "faults_injected": 1, "photos": photos,
            "failed_run": {**failure, "run": partial_run, "leftover_files": sorted(partial_files),
                           "latest_after_failure": latest_after_failure},
            "after_rerun": {"latest": latest, "runs": {r: sorted(f) for r, f in runs.items()},
                            "complete_runs": len(complete), "train_validation_ids": len(expected)},
            "records_checked": before["records_checked"] + after["records_checked"]
            + sum(len(f) for f in runs.values()) + len(complete) * len(expected),
            "lost": lost, "problems": problems, "seconds": round(time.monotonic() - started, 1)})
        assert lost == 0, problems
    finally:
        if proxy is not None:
            proxy.close()
        stack.server.stop()


# -- 3. the embedded store's disk fills up during preprocessing -----------------------------------
def mount_small_disk(path: Path, megabytes: int) -> None:
    """A real size-limited filesystem (tmpfs) for the server's data, or skip (needs root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a size-limited filesystem for the store needs root (mount -t tmpfs)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here: {done.stderr.strip()}")


def unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_store_disk_full_during_preprocess_fails_visibly_then_rerun_is_consistent(tmp_path):
    started = time.monotonic()
    disk = tmp_path / "s3" / "data"  # EmbeddedS3(tmp_path / "s3") keeps all server data here
    mount_small_disk(disk, 64)
    stack = None
    try:
        stack = Stack(tmp_path, "faults-disk")
        photos = stack.import_photos(per_category=12)
        proc, log = stack.start_cli("preprocess", "preprocess", "--workers", "2")
        crops_at_fill = stack.wait_for(CROPS, 3, proc, log)
        filler = disk / "filler.bin"
        with open(filler, "wb", buffering=0) as fh:  # another tenant fills the disk: ~8 KiB remain
            while (room := shutil.disk_usage(disk).free - 8192) > 0:
                try:
                    fh.write(b"\0" * min(room, 1 << 20))
                except OSError:  # the server's own writes took the rest
                    break
        free_at_fault = shutil.disk_usage(disk).free
        exit_code = proc.wait(timeout=240)
        output = log.read_text(errors="replace")
        failure = failure_report(exit_code, output)
        server_survived = stack.server.running() is not None
        assert exit_code != 0, f"the preprocess on a full disk reported success:\n{output[-3000:]}"
        assert re.search("storage errors|object store unreachable", failure["message"]), output[-3000:]
        assert failure["clean_error"], output[-3000:]  # one line for the user, no traceback

        filler.unlink()  # recovery: space freed (server left running, as an operator would)
        # SeaweedFS can keep volumes read-only after a full disk even once a small write works
        # again: the operator restarts the store (same port, same data) before the rerun.
        stack.server.stop()
        stack.restart()
        assert stack.accepts_writes(within=60), "the store accepts no writes after space was freed and a restart"
        partial = check_preprocessed(stack.store, finished=False)
        rerun = stack.cli("preprocess", "--workers", "2")
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
        final = check_preprocessed(stack.store, finished=True)
        assert final["index_rows"] == photos
        lost = final["pending"]
        record("preprocess_disk_full", {
            "fault": "the store's data directory on a 64 MiB tmpfs, filled to 8 KiB free during "
                     "`preprocess --workers 2`; then the filler removed",
            "faults_injected": 1, "photos": photos, "crops_before_fill": crops_at_fill,
            "free_bytes_at_fault": free_at_fault, "server_survived": server_survived,
            "failed_run": {**failure, "left_pending": partial["pending"]},
            "after_rerun": final, "records_checked": partial["records_checked"] + final["records_checked"],
            "lost": lost, "seconds": round(time.monotonic() - started, 1)})
        assert lost == 0
    finally:
        if stack is not None:
            stack.server.stop()
        unmount(disk)
