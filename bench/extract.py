"""Benchmark: precision and recall of the generic extractor's (name, photo) pairs.

Sets of saved pages, crawled offline, no per-site selectors (the demo university is scored by
a real crawl in bench/crawl.py, where downloads, robots.txt and byte checks take their part):
- synthetic development fixtures (tests/fixtures/extract: what the extractor was tuned on);
- synthetic held-out fixtures (tests/fixtures/heldout: written by someone who never saw the
  extractor; do not tune on them, or they stop measuring anything);
- the real-page corpus (tests/fixtures/realpages: saved pages of real departments, labelled
  by hand), split by institution into a development part and a final part. The final part
  is scored with --final, once, at the end of a round of work: after changing code because
  of its errors it is development data too, and the README must say so.

    .venv/bin/python bench/extract.py [--final] [--pages]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spiders.extract.evaluate import evaluate_folder  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def line(label: str, r: dict) -> str:
    return f"{label:42} precision {r['precision']:.3f}  recall {r['recall']:.3f}  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})"


def report(label: str, folder: Path, part: str | None, every_page: bool) -> dict:
    started = time.perf_counter()
    result = evaluate_folder(folder, part=part)
    if not result["sites"]:
        print(f"{label:42} no pages yet")
        return result
    print(line(label, result["total"]) + f"  {time.perf_counter() - started:.2f} s")
    for site, r in result["sites"].items():
        if every_page or r["fp"] or r["fn"]:
            print(f"    {site:44} precision {r['precision']:.3f}  recall {r['recall']:.3f}"
                  f"  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--final", action="store_true", help="also score the real corpus's final part")
    parser.add_argument("--pages", action="store_true", help="list every real page, not only imperfect ones")
    args = parser.parse_args()
    report("synthetic development (tuned on)", FIXTURES / "extract", None, False)
    report("synthetic held-out (never tuned on)", FIXTURES / "heldout", None, False)
    report("real pages, development part", FIXTURES / "realpages", "dev", args.pages)
    if args.final:
        report("real pages, final part", FIXTURES / "realpages", "final", True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
