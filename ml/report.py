"""Evaluation report of one run: HTML (self-contained), Markdown, metrics.json and PNGs.

``build_report`` turns the dict of ``ml.evaluate`` (plus optional ``controls`` and
``per_department``) into files by name.  Optional keys may be missing: the report then
shows "—" or says what is absent, it never fails on them.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ml import figures, tune
from ml.report_text import (
    MISSING,
    Block,
    BulletList,
    Code,
    Heading,
    Picture,
    fmt,
    fmt_int,
    fmt_interval,
    fmt_p,
    fmt_percent,
    number,
    paragraph,
    render_html,
    render_markdown,
    table,
    text,
)

CONTROL_NAMES = {"face_only": "face only (context grey)", "context_only": "context only (face grey)",
                 "photo_style": "photo style (never sees a face)", "blur": "blurred crops",
                 "lodo": "leave-one-department-out", "leave_one_department_out": "leave-one-department-out",
                 "demographic": "perceived gender only (demographic baseline)"}
CONTROLS_COMMAND = "academic-faces evaluate --controls all"
VERDICT_WORDS = {"no_signal": "no signal", "face_signal": "face signal", "context_signal": "context (website) signal",
                 "mixed": "mixed: face and context", "inconclusive": "inconclusive"}
CI_METHODS = {"wilson": "Wilson", "group_bootstrap_percentile": "bootstrap over people",
              "group_bootstrap_percentile+effective_n_wilson": "bootstrap over people, widened to a design-effect "
                                                               "Wilson interval where that is wider",
              "group_bootstrap_percentile+effective_n_wilson_t": "bootstrap over people, widened to a design-effect "
                                                                 "Wilson interval (t quantile, people - 1 degrees of "
                                                                 "freedom) where that is wider"}
EXAMPLE_KINDS = (("true_positives", "true positive"), ("false_positives", "false positive"),
                 ("false_negatives", "false negative"))


def safe_names(labels: list[str]) -> dict[str, str]:
    """Label -> file-name part of [A-Za-z0-9_-]; colliding names get -2, -3, ..."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for label in labels:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", str(label)).strip("_") or "class"
        name, index = base, 2
        while name in taken:
            name, index = f"{base}-{index}", index + 1
        names[label] = name
        taken.add(name)
    return names


class _Document:
    """Blocks of the report plus the PNG files its pictures point to."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.files: dict[str, bytes] = {}

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def picture(self, file: str, element_id: str, alt: str, png: bytes) -> None:
        self.files[file] = png
        self.blocks.append(Picture(file, element_id, alt))


def _labels(metrics: dict) -> list[str]:
    labels = metrics.get("labels")
    if labels:
        return [str(label) for label in labels]
    return list(dict.fromkeys([*(metrics.get("per_class") or {}), *(metrics.get("examples") or {})]))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


# ---------- a. header, b. verdict ----------

def _header(doc: _Document, metrics: dict) -> None:
    fingerprint = metrics.get("data_fingerprint")
    doc.add(Heading(f"Evaluation of run {text(metrics.get('run'))}", 1),
            BulletList((f"model kind: {text(metrics.get('kind'))}",
                        f"created: {datetime.now(UTC).isoformat(timespec='seconds')}",
                        f"data fingerprint: {str(fingerprint)[:12] if fingerprint else MISSING}")))
    excluded = number(metrics.get("excluded_trained_ids"))
    if excluded:
        doc.add(paragraph(f"The splits changed since this model was trained: {fmt_int(excluded)} test photo(s) "
                          "the run trained or validated on are left out of every result below.", warning=True))
    elif metrics.get("same_data_as_training") is False and "excluded_trained_ids" in metrics:
        doc.add(paragraph("The splits changed since this model was trained; none of the current test photos "
                          "was used to train or validate it.", warning=True))
    elif metrics.get("same_data_as_training") is False:  # metrics written before evaluate left those out
        doc.add(paragraph("The splits changed since this model was trained; "
                          "the test split may overlap its training data.", warning=True))


def _interval_method(metrics: dict) -> str:
    n_groups = metrics.get("n_groups")
    return f"bootstrap over {n_groups} people" if n_groups is not None else "Wilson interval"


def _permutation_unit(metrics: dict) -> str:
    return "people" if metrics.get("permutation_unit") == "group" else "images"


def verdict(metrics: dict) -> str:
    """The result in plain words: accuracy, interval, baselines and the permutation test."""
    k = len(_labels(metrics))
    sentences = [(
        f"Accuracy {fmt(metrics.get('accuracy'))} (95 % CI "
        f"{fmt_interval(metrics.get('ci_low'), metrics.get('ci_high'), 2)}, {_interval_method(metrics)}) "
        f"on {fmt_int(metrics.get('n_test'))} test images; chance is {fmt(metrics.get('chance'))} "
        f"(1/{k or MISSING}), the majority class {fmt(metrics.get('majority_baseline'), 2)}.")]
    p = number(metrics.get("p_value"))
    if p is None or metrics.get("n_permutations") == 0:
        sentences.append("No permutation test was run.")
    else:
        outcome = "better than chance" if p < 0.05 else "not distinguishable from chance"
        sentences.append(f"The permutation test ({fmt_int(metrics.get('n_permutations'))} permutations of "
                         f"{_permutation_unit(metrics)}) gives p = {fmt_p(p)}: {outcome}.")
    low, chance = number(metrics.get("ci_low")), number(metrics.get("chance"))
    if low is not None and chance is not None and low <= chance:
        sentences.append("The 95 % interval includes chance.")
    return " ".join(sentences)


# ---------- c. summary, d. per class, e. class distribution ----------

def _summary(doc: _Document, metrics: dict) -> None:
    n_groups = metrics.get("n_groups")
    method = CI_METHODS.get(metrics.get("ci_method"), text(metrics.get("ci_method")))
    rows = [
        ["test images (n_test)", fmt_int(metrics.get("n_test")) + (f" from {n_groups} people" if n_groups else "")],
        ["accuracy", fmt(metrics.get("accuracy"))],
        ["95 % CI", f"{fmt_interval(metrics.get('ci_low'), metrics.get('ci_high'))} ({method})"],
        ["balanced accuracy", fmt(metrics.get("balanced_accuracy"))],
        ["macro-F1", fmt(metrics.get("macro_f1"))],
        [f"chance (1/{len(_labels(metrics)) or 'K'})", fmt(metrics.get("chance"))],
        ["majority baseline", fmt(metrics.get("majority_baseline"))],
        ["p-value", (f"{fmt_p(metrics.get('p_value'))} ({fmt_int(metrics.get('n_permutations'))} permutations "
                     f"of {_permutation_unit(metrics)})")],
    ]
    doc.add(Heading("Summary"), table(["quantity", "value"], rows))


def _per_class(doc: _Document, metrics: dict) -> None:
    per_class = _dict(metrics.get("per_class"))
    doc.add(Heading("Per class"))
    if not per_class:
        doc.add(paragraph("No per-class metrics."))
        return
    labels = [*_labels(metrics), *(label for label in per_class if label not in _labels(metrics))]
    scores = {label: _dict(per_class.get(label)) for label in labels}
    rows = [[label, fmt(s.get("precision")), fmt(s.get("recall")), fmt(s.get("f1")), fmt_int(s.get("support"))]
            for label, s in scores.items()]
    doc.add(table(["class", "precision", "recall", "F1", "support"], rows))


def _class_distribution(doc: _Document, metrics: dict) -> None:
    distribution = _dict(metrics.get("class_distribution"))
    doc.add(Heading("Class distribution (real vs predicted)"))
    if not distribution:
        doc.add(paragraph("No class distribution in these metrics."))
        return
    real, predicted = _dict(distribution.get("real")), _dict(distribution.get("predicted"))
    rows = [[label, fmt_percent(real.get(label)), fmt_percent(predicted.get(label))] for label in _labels(metrics)]
    doc.add(table(["class", "real", "predicted"], rows))
    doc.picture("class_distribution.png", "class-distribution", "class distribution: real vs predicted",
                figures.class_distribution_chart(metrics))


# ---------- f. confusion matrix ----------

def _matrix_rows(labels: list[str], matrix: list, cell) -> list[list[str]]:
    return [[label, *(cell(v) for v in row)] for label, row in zip(labels, matrix)]


def _confusion(doc: _Document, metrics: dict) -> None:
    labels, counts = _labels(metrics), _list(metrics.get("confusion_counts"))
    doc.add(Heading("Confusion matrix"))
    if not counts or len(counts) != len(labels):
        doc.add(paragraph("No confusion matrix in these metrics."))
        return
    header = ["true \\ predicted", *labels]
    doc.add(Heading("Counts", 3), table(header, _matrix_rows(labels, counts, fmt_int)))
    percent = _list(metrics.get("confusion_percent"))
    if len(percent) == len(labels):
        doc.add(Heading("Percent of the test set", 3),
                table(header, _matrix_rows(labels, percent, lambda v: fmt(v, 1) + " %")))
    doc.picture("confusion.png", "confusion-heatmap", "confusion matrix",
                figures.confusion_heatmap({**metrics, "labels": labels}))
    confused = [_dict(c) for c in _list(metrics.get("most_confused"))]
    doc.add(Heading("Most confused pairs", 3),
            BulletList(tuple(f"true {text(c.get('true'))} → predicted {text(c.get('predicted'))}: "
                             f"{fmt_int(c.get('count'))} images" for c in confused))
            if confused else paragraph("No confusions."))


# ---------- g. confound controls, h. per department ----------

def _interval_entry(name: str, result: dict, n: Any) -> dict:
    return {"name": name, "accuracy": result.get("accuracy"), "ci_low": result.get("ci_low"),
            "ci_high": result.get("ci_high"), "n": n}


def _department_rows(departments: list[dict]) -> list[list[str]]:
    return [[text(d.get("department")), text(d.get("slug")), text(d.get("category")), fmt_int(d.get("n")),
             fmt(d.get("accuracy")), fmt_interval(d.get("ci_low"), d.get("ci_high"))] for d in departments]


DEPARTMENT_HEADER = ["department", "slug", "category", "n", "accuracy", "95 % CI"]


def _control_details(doc: _Document, result: dict) -> None:
    folds = [_dict(f) for f in _list(result.get("folds"))]
    if folds:
        doc.add(Heading("Leave-one-department-out folds", 3), table(DEPARTMENT_HEADER, _department_rows(folds)))
    skipped = [_dict(s) for s in _list(result.get("skipped"))]
    if skipped:
        doc.add(Heading("Departments left out of leave-one-department-out", 3),
                BulletList(tuple(f"{text(s.get('slug'))}: {text(s.get('reason'))}" for s in skipped)))


def _controls(doc: _Document, metrics: dict) -> None:
    controls = {str(name): _dict(result) for name, result in _dict(metrics.get("controls")).items()}
    doc.add(Heading("Confound controls"))
    if not controls:
        doc.add(paragraph("No confound controls were run; run them with ", Code(CONTROLS_COMMAND), "."))
        return
    rows = [[CONTROL_NAMES.get(name, name), text(r.get("status")), fmt(r.get("accuracy")),
             fmt_interval(r.get("ci_low"), r.get("ci_high")), fmt_p(r.get("p_value")), _paired_cell(r),
             text(r.get("finding"))]
            for name, r in controls.items()]
    doc.add(table(["control", "status", "accuracy", "95 % CI", "p", "model minus control (paired)", "finding"],
                  rows))
    for result in controls.values():
        _control_details(doc, result)
    _controls_picture(doc, metrics, controls)


def _paired_cell(result: dict) -> str:
    p = _dict(result.get("paired"))
    if not p:
        return MISSING
    return (f"{fmt(p.get('difference'))} ({fmt_interval(p.get('ci_low'), p.get('ci_high'))}, "
            f"p = {fmt_p(p.get('p_value'))})")


def _face_or_website(doc: _Document, metrics: dict) -> None:
    from ml.verdict import RULE

    name = metrics.get("verdict")
    doc.add(Heading("Face or website?"))
    if not name:
        doc.add(paragraph("No face-or-website verdict in these metrics; ", Code(CONTROLS_COMMAND), " computes it."))
        return
    doc.add(paragraph(f"Verdict: {VERDICT_WORDS.get(name, text(name))} ({text(name)}). "
                      f"{text(metrics.get('verdict_reason'))}"),
            Heading("The rule", 3), paragraph(" ".join(RULE.split())))


def _model_card(doc: _Document, metrics: dict) -> None:
    from ml import model_card as card

    doc.add(Heading("Model card"),
            paragraph("The full card, with the data's provenance, is model_card.md beside this report."),
            Heading("Intended use", 3), paragraph(card.INTENDED_USE),
            Heading("Out of scope", 3), BulletList(card.OUT_OF_SCOPE),
            Heading("People's rights", 3), paragraph(card.RIGHTS),
            Heading("Demographic baseline", 3), paragraph(card.DEMOGRAPHIC_BASELINE),
            Heading("Known limitations", 3), BulletList(card.LIMITATIONS))
    prov = _dict(metrics.get("provenance"))
    if prov:
        doc.add(Heading("Data", 3), paragraph(
            f"{fmt_int(prov.get('photos'))} photos of {fmt_int(prov.get('people'))} people from "
            f"{len(_list(prov.get('departments')))} department(s), crawled between "
            f"{text(prov.get('crawled_from'))} and {text(prov.get('crawled_to'))}."),
            paragraph(card.roles_sentence(prov)))


def _controls_picture(doc: _Document, metrics: dict, controls: dict[str, dict]) -> None:
    """Forest plot of the model next to the controls that ran; else the command that runs them."""
    done = [(name, r) for name, r in controls.items() if r.get("status") == "done"]
    if not done:
        doc.add(paragraph("No confound control has been run to completion; run them with ", Code(CONTROLS_COMMAND),
                          "."))
        return
    entries = [_interval_entry("model (test split)", metrics, metrics.get("n_test")),
               *(_interval_entry(CONTROL_NAMES.get(name, name), r, r.get("n_test")) for name, r in done)]
    doc.picture("controls.png", "controls", "accuracy of the model and the confound controls",
                figures.accuracy_intervals(entries, metrics.get("chance"), "Model vs confound controls"))


def _per_department(doc: _Document, metrics: dict) -> None:
    departments = [_dict(d) for d in _list(metrics.get("per_department"))]
    doc.add(Heading("Per department"))
    if not departments:
        doc.add(paragraph("No per-department breakdown in these metrics."))
        return
    doc.add(table(DEPARTMENT_HEADER, _department_rows(departments)))
    entries = [_interval_entry(text(d.get("department") or d.get("slug")), d, d.get("n")) for d in departments]
    doc.picture("departments.png", "departments", "accuracy per department",
                figures.accuracy_intervals(entries, metrics.get("chance"), "Accuracy per department"))


# ---------- i. training curves, j. examples ----------

def _training(doc: _Document, history: dict) -> None:
    doc.add(Heading("Training curves"))
    png = figures.training_curves(history or {})
    if png is None:
        doc.add(paragraph("No training history to plot."))
    else:
        doc.picture("training_curves.png", "training-curves", "training curves", png)


def _example_rows(rows: dict) -> list[list[str]]:
    return [[kind_name, text(r.get("id")), text(r.get("true")), text(r.get("predicted")), fmt(r.get("confidence"), 2)]
            for key, kind_name in EXAMPLE_KINDS for r in (_dict(x) for x in _list(rows.get(key)))]


def _examples(doc: _Document, metrics: dict, images: dict[str, bytes]) -> None:
    examples = {str(label): _dict(rows) for label, rows in _dict(metrics.get("examples")).items()}
    doc.add(Heading("Examples per class"))
    if not examples:
        doc.add(paragraph("No examples in these metrics."))
        return
    known = _labels(metrics)
    labels = [*(label for label in known if label in examples), *(label for label in examples if label not in known)]
    names = safe_names(labels)
    for label in labels:
        rows = examples[label]
        doc.add(Heading(label, 3))
        doc.picture(f"examples-{names[label]}.png", f"examples-{names[label]}", f"examples of class {label}",
                    figures.example_grid(label, rows, images or {}))
        example_rows = _example_rows(rows)
        if example_rows:
            doc.add(table(["kind", "id", "true", "predicted", "confidence"], example_rows))


# ---------- the report ----------

def build_report(metrics: dict, history: dict, images: dict[str, bytes], saliency=None) -> dict[str, bytes]:
    """Files by name: report.html, report.md, metrics.json and the PNGs they show."""
    from ml import demographic_report, saliency_report
    doc = _Document()
    _header(doc, metrics)
    doc.add(Heading("Verdict"), paragraph(verdict(metrics)))
    _face_or_website(doc, metrics)
    _summary(doc, metrics)
    _per_class(doc, metrics)
    _class_distribution(doc, metrics)
    _confusion(doc, metrics)
    _controls(doc, metrics)
    demographic_report.section(doc, metrics)
    saliency_report.section(doc, metrics, saliency, figures.decoded_crops(images, _dict(metrics.get("saliency"))
                                                                          .get("examples", [])), _labels(metrics))
    _per_department(doc, metrics)
    tune.report_section(doc, metrics)
    _training(doc, history)
    _examples(doc, metrics, images)
    _model_card(doc, metrics)
    from ml.model_card import model_card

    return {"report.html": render_html(doc.blocks, doc.files).encode("utf-8"),
            "report.md": render_markdown(doc.blocks).encode("utf-8"),
            "model_card.md": model_card(metrics).encode("utf-8"),
            "metrics.json": json.dumps(metrics, indent=1).encode("utf-8"),
            **doc.files}
