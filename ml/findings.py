"""What a control's numbers do and do not show, in words for the report and the CLI.

Two rules hold for every sentence here:
* a result not distinguishable from chance is reported with the test's power (the smallest
  accuracy it would have detected), never as evidence that there is no signal;
* a result above chance says what it excludes and what it does not (blurred crops still
  carry skin tone, hair, apparent age and sex, which come from the face).
"""
from __future__ import annotations

SIGNIFICANCE = 0.05


def beats_chance(r: dict) -> bool:
    return r["p_value"] < SIGNIFICANCE and r["ci_low"] > r["chance"]


def numbers(r: dict) -> str:
    return f"{r['accuracy']:.3f} (95 % CI {r['ci_low']:.3f}-{r['ci_high']:.3f}, p = {r['p_value']:.3g})"


def power(r: dict) -> str:
    """'with 12 people (48 photos) this test detects accuracies above 0.71 with 80 % power'."""
    from ml.stats import power_sentence

    groups = int(r["n_groups"])
    return power_sentence(groups, int(r["n_test"]) / max(1, groups), float(r["chance"]))


def paired(r: dict) -> str:
    p = r.get("paired")
    if not p:
        return ""
    return (f" On the same {p['n_test']} test photos the main model scores {p['difference']:+.3f} against this "
            f"control (95 % CI {p['ci_low']:+.3f} to {p['ci_high']:+.3f}, paired by person, p = {p['p_value']:.3g}).")


def _not_above(r: dict, setting: str, not_excluded: str) -> str:
    return (f"{setting} the model scores {numbers(r)}, not distinguishable from chance ({r['chance']:.3f}); "
            f"{power(r)}. {not_excluded}")


# per control: what an above-chance result shows ({numbers}, {chance} filled in), and for a
# result at chance, the setting and what stays possible
_ABOVE = {
    "blur": "On heavily blurred crops (no fine facial detail) the model still scores {numbers}, above chance "
            "({chance}). Blurring keeps colour, lighting, background and photo style, but also cues that come from "
            "the face itself (skin tone, hair, apparent age or sex), so this alone does not tell face from "
            "website: face_only, context_only and photo_style separate them.",
    "face_only": "With everything but the face hidden (hair, background and clothing grey), the model scores "
                 "{numbers}, above chance ({chance}): the face region alone carries information about the category. "
                 "That can still be a trait such as sex or age whose mix differs between the categories, not "
                 "anything specific to the field.",
    "context_only": "With the face hidden (hair, background, clothing and photo style kept), the model scores "
                    "{numbers}, above chance ({chance}): what surrounds the face gives the category away, through "
                    "the website's photography or through hair and clothing.",
    "photo_style": "A classifier that never sees a face (colour and brightness histograms, sharpness, noise, JPEG "
                   "quality, pixel size and file format of the whole original photo) scores {numbers}, above chance "
                   "({chance}): the categories' photos differ photographically, so any model can score by "
                   "recognising the website's photo style.",
    "demographic": "A classifier that sees only perceived gender (one number per photo: the probability that the "
                   "face is perceived as female) scores {numbers}, above chance ({chance}): the categories differ in "
                   "their shares of perceived women and men, so any model that recognises gender scores this much "
                   "without knowing anything about the field.",
}
_AT_CHANCE = {
    "blur": ("On heavily blurred crops", "That does not show that the signal needs facial detail: a weaker signal "
                                         "that survives blurring is not excluded."),
    "face_only": ("With everything but the face hidden,", "A weaker signal in the face region is not excluded."),
    "context_only": ("With the face hidden,", "A weaker signal around the face is not excluded."),
    "photo_style": ("From photo style alone (never seeing a face)", "The photos' technical style may still differ "
                    "between the categories by less than this test can see."),
    "demographic": ("From perceived gender alone", "The categories' shares of perceived women and men may still "
                    "differ by less than this test can see."),
}


def finding(control: str, r: dict) -> str:
    """The finding of one of blur, face_only, context_only, photo_style, demographic."""
    if beats_chance(r):
        text = _ABOVE[control].format(numbers=numbers(r), chance=f"{r['chance']:.3f}")
    else:
        text = _not_above(r, *_AT_CHANCE[control])
    return text + paired(r)


def lodo(r: dict, main: dict, n_departments: int) -> str:
    text = (f"Tested on departments whose website it never saw in training ({n_departments} departments, "
            f"{r['n_test']} images), the model scores {numbers(r)}, against {main['accuracy']:.3f} on the ordinary "
            "test split. ")
    if beats_chance(r):
        text += "That is above chance: the signal carries over to websites the model never saw."
    else:
        text += f"That is not distinguishable from chance; {power(r)}."
    p = r.get("paired")
    if p and p["p_value"] < SIGNIFICANCE and p["difference"] > 0:
        text += (" On the photos both scored, the main model is better (paired by person): part of its test "
                 "accuracy came from recognising the departments' websites.")
    return text + paired(r)
