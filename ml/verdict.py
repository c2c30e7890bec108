"""Face or website? One verdict from the main model and the context controls, by a written rule.

RULE (also printed in the report):
1. The main model is not above chance (p >= 0.05 or its 95 % interval holds chance):
   ``no_signal`` when this test set would have detected an accuracy halfway from chance to
   perfect with 80 % power, else ``inconclusive`` (too few people to tell; the smallest
   detectable accuracy is named). A context control above chance is named in the reason:
   the website would give the category away to another model.
2. The main model is above chance, and face_only and context_only have both run:
   ``face_signal`` when face_only is above chance and neither context_only nor photo_style is;
   ``context_signal`` when context_only or photo_style is above chance and face_only is not;
   ``mixed`` when both sides are; ``inconclusive`` when neither is (the signal may need the
   face and its context together, or the controls lack the power to see it).
3. Otherwise ``inconclusive``: the controls that decide were not run.
"above chance" is the same test everywhere: permutation p < 0.05 and the interval's lower
end above chance. Blur and leave-one-department-out inform the reader but do not enter the
rule: blurred crops keep face-derived cues, and lodo is impossible in the study's design.
Neither does the demographic baseline (perceived gender alone): where the reason speaks of a
face signal, it adds when the main model's excess over that baseline is not above 0.
"""
from __future__ import annotations

from ml.findings import beats_chance

VERDICTS = ("no_signal", "face_signal", "context_signal", "mixed", "inconclusive")
RULE = __doc__.split("RULE (also printed in the report):\n", 1)[1].split('\n"above chance"', 1)[0]
_DECIDING = ("face_only", "context_only")


def _done(controls: dict, name: str) -> dict | None:
    entry = controls.get(name) or {}
    return entry if entry.get("status") == "done" else None


def decide_verdict(metrics: dict) -> dict:
    """{"verdict", "verdict_reason", "detectable_accuracy"} for evaluate's metrics."""
    from ml.stats import detectable_accuracy

    controls = metrics.get("controls", {})
    chance = float(metrics["chance"])
    groups = int(metrics["n_groups"])
    detectable = detectable_accuracy(groups, int(metrics["n_test"]) / max(1, groups), chance)
    out = {"detectable_accuracy": detectable}
    if not beats_chance(metrics):
        halfway = chance + (1 - chance) / 2
        website = [name for name in ("photo_style", "context_only")
                   if _done(controls, name) and beats_chance(controls[name])]
        note = (f" Yet {' and '.join(website)} is above chance: the categories' photos differ in what surrounds "
                "the face or in photo style, so another model could score by recognising the website."
                if website else "")
        if detectable <= halfway:
            return {**out, "verdict": "no_signal",
                    "verdict_reason": f"The main model is not distinguishable from chance ({chance:.3f}), and this "
                                      f"test set would have detected accuracies above {detectable:.3f} with 80 % "
                                      "power; a weaker signal is not excluded." + note}
        return {**out, "verdict": "inconclusive",
                "verdict_reason": f"The main model is not distinguishable from chance, but with {metrics['n_groups']} "
                                  f"people this test set only detects accuracies above {detectable:.3f}: too few "
                                  "people to tell." + note}
    missing = [name for name in _DECIDING if not _done(controls, name)]
    if missing:
        return {**out, "verdict": "inconclusive",
                "verdict_reason": "The main model is above chance, but the controls that tell face from context "
                                  f"did not run ({', '.join(missing)}): `evaluate --controls all` runs them."}
    face = beats_chance(controls["face_only"])
    context_sides = [name for name in ("context_only", "photo_style")
                     if _done(controls, name) and beats_chance(controls[name])]
    if face and not context_sides:
        verdict, reason = "face_signal", ("The face region alone is above chance; neither the context around the "
                                          "face nor the photos' style is.")
    elif context_sides and not face:
        verdict, reason = "context_signal", (f"{' and '.join(context_sides)} above chance, the face region alone "
                                             "is not: the signal is in what surrounds the face or in the photos' "
                                             "style, i.e. the website.")
    elif face:
        verdict, reason = "mixed", (f"Both the face region alone and {' and '.join(context_sides)} are above "
                                    "chance: face and website both carry a signal.")
    else:
        verdict, reason = "inconclusive", ("The main model is above chance, but neither the face region alone nor "
                                           "its context alone is: the signal may need both, or the controls lack "
                                           "the power to show it.")
    if verdict in ("face_signal", "mixed"):
        reason += _demographic_note(metrics)
    return {**out, "verdict": verdict, "verdict_reason": reason}


def _demographic_note(metrics: dict) -> str:
    """A face signal that perceived gender alone explains as well is not a field signal."""
    from ml.demographic import excess_sentence

    excess = metrics.get("excess_over_demographic")
    if not excess or excess["ci_low"] > 0:
        return ""
    return excess_sentence(excess) + " The face signal may be no more than that mix."
