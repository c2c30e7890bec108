"""Benchmark: precision and recall of the generic extractor's (name, photo) pairs.

Two sets of saved pages, crawled offline, no per-site selectors (the demo university is
scored by a real crawl in bench/crawl.py, where downloads, robots.txt and byte checks
take their part):
- the extractor's development fixtures (tests/fixtures/extract: what it was tuned on);
- the held-out fixtures (tests/fixtures/heldout: written by someone who never saw the
  extractor; do not tune on them, or they stop measuring anything).

    .venv/bin/python bench/extract.py
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spiders.extract.evaluate import evaluate_folder  # noqa: E402

def line(label: str, r: dict) -> str:
    return f"{label:42} precision {r['precision']:.3f}  recall {r['recall']:.3f}  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    for label, folder in (("development fixtures (tuned on)", "extract"), ("held-out fixtures (never tuned on)", "heldout")):
        started = time.perf_counter()
        result = evaluate_folder(ROOT / "tests" / "fixtures" / folder)
        print(line(label, result["total"]) + f"  {time.perf_counter() - started:.2f} s")
        for site, r in result["sites"].items():
            if r["fp"] or r["fn"]:
                print(f"    {site:38} precision {r['precision']:.3f}  recall {r['recall']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
