"""The report's "Is it just gender?" section: the demographic baseline (ml.demographic), the
perceived-gender composition per category and the main model's excess over the baseline."""
from __future__ import annotations

from typing import Any

from ml.report_text import Heading, fmt, fmt_int, fmt_interval, fmt_percent, paragraph, table, text

TITLE = "Is it just gender? (demographic baseline)"


def _signed(value: Any) -> str:
    return fmt(value) if not isinstance(value, (int, float)) else f"{value:+.3f}"


def section(doc, metrics: dict) -> None:
    """Add the section to `doc` (ml.report's document) when the demographic control was asked for."""
    from ml.model_card import DEMOGRAPHIC_BASELINE

    control = (metrics.get("controls") or {}).get("demographic")
    if not isinstance(control, dict) or control.get("status") == "not_run":
        return
    doc.add(Heading(TITLE), paragraph(DEMOGRAPHIC_BASELINE))
    if control.get("status") != "done":
        doc.add(paragraph(text(control.get("finding"))))
        return
    g = control.get("gender_model") or {}
    per_gender = g.get("per_gender") or {}
    doc.add(paragraph(
        f"Perceived-gender model: accuracy {fmt(g.get('accuracy'))} (95 % CI "
        f"{fmt_interval(g.get('ci_low'), g.get('ci_high'))}) in cross-validation grouped by person over "
        f"{fmt_int(g.get('n_people'))} LFW people ({fmt_int(per_gender.get('female'))} labelled female, "
        f"{fmt_int(per_gender.get('male'))} male, one photo each). The field classifier sees only its "
        f"probability that a face is perceived as female and scores {fmt(control.get('accuracy'))} (95 % CI "
        f"{fmt_interval(control.get('ci_low'), control.get('ci_high'))}, chance {fmt(control.get('chance'))}) "
        f"on the main model's test people."))
    rows = [[text(c.get("category")), fmt_int(c.get("people")), fmt_int(c.get("photos")),
             fmt_percent(c.get("share_female")), fmt_percent(c.get("share_female_train")),
             fmt_percent(c.get("share_female_test"))] for c in control.get("composition") or []]
    if rows:
        doc.add(Heading("Perceived-gender composition per category", 3),
                table(["category", "people", "photos", "predicted female (all)", "train + validation", "test"], rows))
    excess = metrics.get("excess_over_demographic") or control.get("excess_over_demographic")
    if excess:
        above = isinstance(excess.get("ci_low"), (int, float)) and excess["ci_low"] > 0
        doc.add(Heading("Excess over the demographic baseline", 3), paragraph(
            f"Main model minus demographic baseline on the same {fmt_int(excess.get('n_test'))} test photos of "
            f"{fmt_int(excess.get('n_groups'))} people: {_signed(excess.get('estimate'))} (95 % CI "
            f"{_signed(excess.get('ci_low'))} to {_signed(excess.get('ci_high'))}, paired by person: bootstrap over "
            "people, widened to a cluster t interval where that is wider). "
            + ("Above 0: the model knows more about the category than the gender mix gives away." if above else
               "Not above 0: no signal beyond the categories' shares of perceived women and men is shown.")))
