"""Model-style test of the extractor on held-out pages it was never tuned on.

The floors sit a little under the measured values (bench/extract.py) so that a change
that makes the extractor worse on unseen layouts fails here. Do not tune the extractor
on these fixtures: they would stop measuring generalisation.
"""
from pathlib import Path

from spiders.extract.evaluate import evaluate_folder

HELDOUT = Path(__file__).parent / "fixtures" / "heldout"


def test_heldout_precision_and_recall_floors():
    result = evaluate_folder(HELDOUT)
    total = result["total"]
    assert len(result["sites"]) >= 10 and total["tp"] + total["fn"] >= 140
    assert total["precision"] >= 0.90, result
    assert total["recall"] >= 0.85, result
