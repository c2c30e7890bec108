"""The report's "Where the model looks" section: pictures of ml.saliency maps, and their text.

Two pictures: ``saliency-examples.png`` (example faces with their maps: it shows people, so
removal requests delete it with the other example pictures) and ``saliency-mean.png`` (the
mean map per class over the crops looked at, drawn without any face, with the mean face
ellipse's outline).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse as EllipsePatch

from ml.figures import _palette_png, _plain, _png
from ml.report_text import Heading, fmt, paragraph, table
from ml.face_mask import Ellipse
from ml.saliency import SaliencyMap, SaliencySummary

EXAMPLES_PICTURE = "saliency-examples.png"
MEAN_PICTURE = "saliency-mean.png"
METHOD_NAMES = {"occlusion": "occlusion sensitivity", "grad_cam": "Grad-CAM (HiResCAM)"}
MAX_EXAMPLE_ROWS = 8
CELL = 1.7  # inches per image


def _overlay(ax, rgb: np.ndarray | None, heat: np.ndarray, e: Ellipse | None) -> None:
    if rgb is not None:
        ax.imshow(rgb, interpolation="antialiased")
        ax.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1, interpolation="bilinear")
    else:
        ax.imshow(heat, cmap="magma", vmin=0, vmax=max(float(heat.max()), 1e-9), interpolation="bilinear")
    if e is not None:
        ax.add_patch(EllipsePatch((e.cx - 0.5, e.cy - 0.5), 2 * e.rx, 2 * e.ry, fill=False, edgecolor="white",
                                  linewidth=1.2, linestyle="--"))
    ax.set_axis_off()


def examples_figure(summary: SaliencySummary, crops: dict[str, np.ndarray], ids: list[str]) -> bytes:
    """One row per example face: the crop, then each method's map over it."""
    methods = summary.methods
    rows = ids[:MAX_EXAMPLE_ROWS]
    fig = Figure(figsize=(CELL * (1 + len(methods)), CELL * len(rows) + 0.3))
    by_key = {(m.id, m.method): m for m in summary.maps}
    for r, ident in enumerate(rows):
        first = by_key.get((ident, methods[0]))
        ax = fig.add_subplot(len(rows), 1 + len(methods), r * (1 + len(methods)) + 1)
        ax.imshow(crops[ident])
        ax.set_axis_off()
        if first is not None:
            ax.set_title(_plain(f"true {first.label}\npred {first.predicted}", 40), fontsize=7)
        for c, method in enumerate(methods, start=2):
            m = by_key.get((ident, method))
            ax = fig.add_subplot(len(rows), 1 + len(methods), r * (1 + len(methods)) + c)
            if m is None:
                ax.set_axis_off()
                continue
            _overlay(ax, crops[ident], m.heat, m.ellipse)
            share = "flat" if m.face_share is None else f"{m.face_share:.0%} in face"
            ax.set_title(_plain(f"{METHOD_NAMES[method]}\n{share}"), fontsize=7)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.02, hspace=0.45, wspace=0.05)
    return _palette_png(fig)


def mean_figure(summary: SaliencySummary, labels: list[str]) -> bytes:
    """The mean map per true class and method, over a face-free background."""
    methods = summary.methods
    classes = [c for c in labels if any(m.label == c for m in summary.maps)]
    fig = Figure(figsize=(CELL * max(2, len(classes)), (CELL + 0.3) * len(methods) + 0.4))
    for r, method in enumerate(methods):
        for c, label in enumerate(classes):
            maps = [m for m in summary.maps if m.method == method and m.label == label]
            ax = fig.add_subplot(len(methods), len(classes), r * len(classes) + c + 1)
            heat = np.mean([m.heat for m in maps], axis=0)
            _overlay(ax, None, heat, _mean_ellipse(maps))
            shares = [m.face_share for m in maps if m.face_share is not None]
            share = f"{np.mean(shares):.0%} in face" if shares else "flat"
            ax.set_title(f"{_plain(label, 24)} ({len(maps)})\n{_plain(METHOD_NAMES[method])}:\n{share}", fontsize=7)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.85, bottom=0.02, hspace=0.5, wspace=0.1)
    return _png(fig)


def _mean_ellipse(maps: list[SaliencyMap]) -> Ellipse | None:
    if not maps:
        return None
    return Ellipse(*(float(np.mean([getattr(m.ellipse, k) for m in maps])) for k in ("cx", "cy", "rx", "ry")), True)


def section(doc, metrics: dict, summary: SaliencySummary | None, crops: dict[str, np.ndarray],
            labels: list[str]) -> None:
    """Heading, the face shares and (when maps were computed in this run) the two pictures."""
    data: dict[str, Any] = metrics.get("saliency") or {}
    doc.add(Heading("Where the model looks"))
    if not data:
        doc.add(paragraph("No saliency maps in this report: they are computed with the confound controls, or with "
                          "`academic-faces evaluate --saliency on`."))
        return
    rows = []
    for method in data.get("methods", []):
        r = data.get(method) or {}
        rows.append([METHOD_NAMES.get(method, method), str(r.get("n", 0)), fmt(r.get("face_share"), 2),
                     fmt(r.get("face_area"), 2)]
                    + [fmt((r.get("per_class") or {}).get(c, {}).get("face_share"), 2) for c in labels])
    doc.add(paragraph(
        "Occlusion sensitivity hides one square of the crop at a time and measures how much the predicted "
        "class's probability drops; Grad-CAM (HiResCAM form, Keras models) weights the last convolution's maps by their "
        "gradients. The face share is the part of a map inside the face ellipse (the region the face_only "
        "control keeps); a map spread evenly would put the ellipse's area there. The probe's face embedder "
        "only sees an aligned chip around the face, so its occlusion maps cannot leave the face region much: "
        "the face_only and context_only controls, not these maps, tell whether context carries the signal."),
        table(["method", "crops", "face share", "face area", *(f"share: {c}" for c in labels)], rows))
    if summary is None or not summary.maps:
        return
    doc.picture(MEAN_PICTURE, "saliency-mean", "mean saliency per class", mean_figure(summary, labels))
    shown = [i for i in data.get("examples", []) if i in crops]
    if shown:
        doc.picture(EXAMPLES_PICTURE, "saliency-examples", "example faces with their saliency maps",
                    examples_figure(summary, crops, shown))
