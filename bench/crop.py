"""Benchmark: crop-stage throughput, object store to object store, vs autocrop's CLI.

The same LFW photos (a fixed sample) go into an embedded SeaweedFS started for this run;
the crop stage runs with 1 and 2 processes; autocrop's CLI is run once per image on a
subset (a subprocess per photo, as the 2019 study did; autocrop 2.0 removed `-i DIR`, so
`autocrop IN -o OUTDIR -w 128 -H 128`), and autocrop's Python API in-process on local
files for reference. A per-phase profile says where one process spends its time.

    .venv/bin/python bench/crop.py [--photos 300] [--cli-photos 30]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.services import storage_settings  # noqa: E402
from infra.settings import load_settings  # noqa: E402
from infra.store import ObjectStore, content_id, keys  # noqa: E402
from ml.crop_stage import BATCH, crop_stage  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "faces" / "lfw"
TARGET = 150.0  # images/s with 2 processes


def stage_run(settings, items, workers: int) -> dict:
    stamps: list[float] = []
    started = time.perf_counter()
    results = crop_stage(settings, items, workers=workers, on_result=lambda r: stamps.append(time.perf_counter()))
    seconds = time.perf_counter() - started
    n = len(results)
    # Steady state: from the first batch's arrival to the last result (excludes worker start-up).
    steady = (n - BATCH) / (stamps[-1] - stamps[BATCH - 1]) if n > 2 * BATCH else n / seconds
    return {"n": n, "seconds": seconds, "rate": n / seconds, "steady": steady, "startup": stamps[0] - started,
            "cropped": sum(r.reason is None for r in results)}


def cli_run(photos: list[Path], tmp: Path) -> dict:
    exe = Path(sys.executable).parent / "autocrop"
    ok = 0
    started = time.perf_counter()
    for i, photo in enumerate(photos):
        folder, out = tmp / f"cli-in-{i}", tmp / f"cli-out-{i}"
        folder.mkdir()
        (folder / photo.name).write_bytes(photo.read_bytes())  # a one-file folder, as the study had
        proc = subprocess.run([str(exe), str(folder / photo.name), "-o", str(out), "-w", "128", "-H", "128"],
                              capture_output=True)
        ok += proc.returncode == 0 and (out / photo.name).is_file()
    seconds = time.perf_counter() - started
    return {"n": len(photos), "seconds": seconds, "rate": len(photos) / seconds, "cropped": ok}


def api_run(photos: list[Path]) -> dict:
    import cv2
    from autocrop import Cropper

    cv2.setNumThreads(1)
    cropper = Cropper(width=128, height=128)
    started = time.perf_counter()
    ok = sum(cropper.crop(str(p)).image is not None for p in photos)
    seconds = time.perf_counter() - started
    return {"n": len(photos), "seconds": seconds, "rate": len(photos) / seconds, "cropped": ok}


class ServerCPU:
    """CPU seconds used so far by the embedded SeaweedFS process (from /proc)."""

    def __init__(self, home: Path):
        self.stat = Path(f"/proc/{json.loads((home / 'seaweed' / 'server.json').read_text())['pid']}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float:
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime


def profile(store: ObjectStore, items: list[tuple[str, str]], server: ServerCPU) -> dict[str, tuple[float, float, float]]:
    """Per phase, ms per image: (wall, this process's CPU, S3 server's CPU); one process.

    The server's CPU is read in clock ticks (10 ms) around each phase: values near 0 are noise.
    """
    import cv2
    import numpy as np

    from ml.crop import FaceCropper
    from ml.images import decode_rgb

    cv2.setNumThreads(1)
    cropper = FaceCropper()
    names = ["S3 GET", "decode", "detect (YuNet)", "choose+crop+JPEG", "S3 PUT"]
    totals = {name: [0.0, 0.0, 0.0] for name in names}

    def clock() -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), server()

    for image_id, key in items:
        marks = [clock()]
        data = store.get_bytes(key)
        marks.append(clock())
        rgb = np.asarray(decode_rgb(data).image)
        marks.append(clock())
        cropper.detect(rgb)
        marks.append(clock())
        outcome = cropper.crop(data)  # decodes and detects again: subtracted below
        marks.append(clock())
        store.put_bytes(f"bench/profile/{image_id}.jpg", outcome.crop or b"", "image/jpeg")
        marks.append(clock())
        spans = [[b - a for a, b in zip(marks[i], marks[i + 1])] for i in range(5)]
        spans[3] = [c - d - e for c, d, e in zip(spans[3], spans[1], spans[2])]
        for name, span in zip(names, spans):
            totals[name] = [t + v for t, v in zip(totals[name], span)]
    return {name: tuple(1000 * v / len(items) for v in t) for name, t in totals.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--cli-photos", type=int, default=30)
    args = parser.parse_args()
    photos = random.Random(2019).sample(sorted(LFW.glob("*/*.jpg")), args.photos)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {len(photos)} LFW photos")

    with tempfile.TemporaryDirectory() as tmp, \
            storage_settings(load_settings().replace(home=Path(tmp), s3_endpoint=None, bucket="bench-crop")) as settings:
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        items = []
        for photo in photos:
            data = photo.read_bytes()
            image_id, _ = content_id(data)
            store.put_bytes(keys.raw_image(image_id, "jpg"), data, "image/jpeg")
            items.append((image_id, keys.raw_image(image_id, "jpg")))

        rows = []
        print("crop stage, 1 process ...", flush=True)
        rows.append(("crop stage (S3 -> S3)", 1, stage_run(settings, items, 1)))
        print("crop stage, 2 processes ...", flush=True)
        rows.append(("crop stage (S3 -> S3)", 2, stage_run(settings, items, 2)))
        print("autocrop Python API, local files ...", flush=True)
        rows.append(("autocrop API in-process (files)", 1, api_run(photos)))
        print(f"autocrop CLI, {args.cli_photos} photos ...", flush=True)
        cli = cli_run(photos[: args.cli_photos], Path(tmp))
        rows.append(("autocrop CLI per image (files)", 1, cli))
        print("profile, 1 process ...", flush=True)
        phases = profile(store, items, ServerCPU(Path(tmp)))

    one = rows[0][2]["rate"]
    print(f"\n{'method':34} {'procs':>5} {'images':>6} {'cropped':>7} {'seconds':>8} {'images/s':>9}"
          f" {'steady/s':>9} {'x CLI':>7} {'x 1 proc':>8}")
    for name, procs, r in rows:
        steady = f"{r['steady']:9.1f}" if "steady" in r else f"{'':9}"
        print(f"{name:34} {procs:5d} {r['n']:6d} {r['cropped']:7d} {r['seconds']:8.2f} {r['rate']:9.1f}"
              f" {steady} {r['rate'] / cli['rate']:7.1f} {r['rate'] / one:8.2f}")
    two = rows[1][2]
    print(f"(crop stage: worker start-up before the first result {rows[0][2]['startup']:.2f} s with 1 process, "
          f"{two['startup']:.2f} s with 2; 'steady/s' excludes it)")
    wall = sum(p[0] for p in phases.values())
    cpu = sum(p[1] + p[2] for p in phases.values())
    print(f"\nprofile, one process, ms per image: wall {wall:.1f} ms ({1000 / wall:.0f} images/s); "
          f"CPU incl. the S3 server {cpu:.1f} ms")
    print(f"  {'phase':18} {'wall':>7} {'CPU':>7} {'S3 CPU':>7} {'share of CPU':>12}")
    for name, (w, c, srv) in phases.items():
        print(f"  {name:18} {w:7.2f} {c:7.2f} {srv:7.2f} {(c + srv) / cpu:12.1%}")
    print(f"  -> on {os.cpu_count()} otherwise idle cores (workers and S3 server sharing them) the stage could do "
          f"about {os.cpu_count() * 1000 / cpu:.0f} images/s")
    verdict = "met" if two["steady"] >= TARGET else "MISSED"
    print(f"\ntarget >= {TARGET:.0f} images/s with 2 processes (steady state): {verdict} ({two['steady']:.0f}/s; "
          f"{two['rate']:.0f}/s including start-up); load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
