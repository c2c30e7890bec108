"""Pictures of an evaluation as PNG bytes (matplotlib object API only).

No pyplot: its global figure registry is not thread-safe and may pick a GUI backend.
Every function builds its own ``Figure`` and returns the encoded PNG.  Labels and ids
come from crawled web pages, so every text drawn goes through ``_plain`` first.
"""
from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image, UnidentifiedImageError

DPI = 100
EXAMPLE_KINDS = (("true_positives", "true positives"), ("false_positives", "false positives"),
                 ("false_negatives", "false negatives"))
EXAMPLES_PER_ROW = 5
MISSING_GREY = "0.85"


def _plain(text: Any, limit: int | None = None) -> str:
    """Text for matplotlib: '$' escaped (else it starts mathtext), optionally shortened."""
    s = str(text)
    if limit is not None and len(s) > limit:
        s = s[:limit - 1] + "…"
    return s.replace("$", r"\$")


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _png(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _palette_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG with a 256-colour palette: photo grids get ~3x smaller and stay legible.

    Rendered straight from the Agg buffer (no intermediate PNG); median cut rather than the
    faster octree, which posterises skin tones.
    """
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    buf = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, format="png")
    return buf.getvalue()


# ---------- confusion matrix ----------

def confusion_heatmap(metrics: dict) -> bytes:
    """Counts as colour; each cell annotated with its count and percent of the test set."""
    counts = np.asarray(metrics["confusion_counts"], dtype=float).reshape(len(metrics["labels"]), -1)
    percent = metrics.get("confusion_percent")
    percent = (np.asarray(percent, dtype=float) if percent is not None
               else 100.0 * counts / max(counts.sum(), 1.0))
    labels = [_plain(lab, 18) for lab in metrics["labels"]]
    k = len(labels)
    side = min(3.0 + 0.8 * k, 14.0)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="images", shrink=0.8)
    ax.set_xticks(range(k), labels, rotation=35, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (count, % of test set)")
    threshold = counts.max() / 2 if counts.size else 0
    fontsize = 9 if k <= 6 else 7
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(counts[i, j])}\n{percent[i, j]:.1f} %", ha="center", va="center",
                    fontsize=fontsize, color="white" if counts[i, j] > threshold else "black")
    return _png(fig)


# ---------- class distribution ----------

def class_distribution_chart(metrics: dict) -> bytes:
    """Real vs predicted fraction per class, with chance as a dashed line."""
    distribution = metrics.get("class_distribution") or {}
    real, predicted = distribution.get("real") or {}, distribution.get("predicted") or {}
    labels = list(metrics.get("labels") or dict.fromkeys([*real, *predicted]))
    x = np.arange(len(labels))
    fig = Figure(figsize=(min(3.0 + 0.9 * len(labels), 14.0), 3.8), layout="constrained")
    ax = fig.subplots()
    ax.bar(x - 0.2, [_finite(real.get(lab)) or 0.0 for lab in labels], width=0.4, label="real")
    ax.bar(x + 0.2, [_finite(predicted.get(lab)) or 0.0 for lab in labels], width=0.4, label="predicted")
    chance = _finite(metrics.get("chance"))
    if chance is not None:
        ax.axhline(chance, color="black", linestyle="--", linewidth=1, label=f"chance ({chance:.3f})")
    many = len(labels) > 4
    ax.set_xticks(x, [_plain(lab, 18) for lab in labels], rotation=20 if many else 0,
                  ha="right" if many else "center")
    ax.set_ylabel("fraction of test set")
    ax.set_ylim(0, 1)
    ax.set_title("Class distribution: real vs predicted")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


# ---------- training curves ----------

def _epoch_series(history: dict, keys: tuple[str, ...]) -> dict[str, list[float]]:
    return {key: [float(v) for v in history[key]] for key in keys if isinstance(history.get(key), list)
            and history[key]}


def _cv_points(cv_accuracy: Any) -> list[tuple[float, float]]:
    """(C, accuracy) pairs, sorted by C; keys are C values as strings (JSON) or floats."""
    if not isinstance(cv_accuracy, dict):
        return []
    points = [(_finite(c), _finite(acc)) for c, acc in cv_accuracy.items()]
    return sorted((c, acc) for c, acc in points if c is not None and c > 0 and acc is not None)


def _probe_curve(points: list[tuple[float, float]]) -> bytes:
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.subplots()
    cs, accs = zip(*points)
    ax.plot(cs, accs, marker="o")
    best = max(points, key=lambda p: (p[1], -p[0]))  # the probe's rule: ties go to the smaller C
    ax.plot([best[0]], [best[1]], marker="*", markersize=14, color="tab:red", linestyle="none",
            label=f"best C = {best[0]:g}")
    ax.set_xscale("log")
    ax.set_xlabel("C (inverse regularisation)")
    ax.set_ylabel("cross-validated accuracy")
    ax.set_title("Probe: cross-validated accuracy vs C")
    ax.legend(fontsize=8)
    return _png(fig)


def _keras_curves(panels: list[tuple[str, dict[str, list[float]]]]) -> bytes:
    fig = Figure(figsize=(5.0 * len(panels), 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (quantity, series) in zip(axes, panels):
        for key, values in series.items():
            ax.plot(range(1, len(values) + 1), values, marker="." if len(values) < 30 else None,
                    label="validation" if key.startswith("val_") else "training")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(quantity)
        ax.set_title(quantity.capitalize())
        ax.legend(fontsize=8)
    return _png(fig)


def training_curves(history: dict) -> bytes | None:
    """Keras per-epoch accuracy/loss panels, or the probe's accuracy vs C; None if nothing to plot."""
    history = history or {}
    points = _cv_points(history.get("cv_accuracy"))
    if points:
        return _probe_curve(points)
    panels = [(quantity, series) for quantity, series in (
        ("accuracy", _epoch_series(history, ("accuracy", "val_accuracy"))),
        ("loss", _epoch_series(history, ("loss", "val_loss")))) if series]
    return _keras_curves(panels) if panels else None


# ---------- example grid ----------

def _decode_crop(data: bytes | None) -> np.ndarray | None:
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("RGB")
            image.thumbnail((160, 160))
            return np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def decoded_crops(images: dict[str, bytes], ids: list[str]) -> dict[str, np.ndarray]:
    """Full-size RGB pixels of the crops among `ids` that decode."""
    out = {}
    for i in ids:
        try:
            with Image.open(io.BytesIO(images[i])) as image:
                out[i] = np.asarray(image.convert("RGB"))
        except (KeyError, UnidentifiedImageError, OSError, ValueError):
            continue
    return out


def _caption(row: dict) -> str:
    confidence = _finite(row.get("confidence"))
    confidence_text = "—" if confidence is None else f"{confidence:.2f}"
    return (f"true {_plain(row.get('true', '—'), 16)} →\n"
            f"pred {_plain(row.get('predicted', '—'), 16)}, {confidence_text}")


# One Axes in "cell units" (1 unit = one example's width, y grows downwards): 15 subplots
# with a layout engine took ~2 s per grid; this takes a fraction of that.
CELL_INCHES = 1.8
TITLE_BAND, ROW_TITLE_BAND, IMAGE_BAND, CAPTION_BAND, NONE_BAND = 0.3, 0.22, 0.92, 0.3, 0.3


def _draw_crop(ax, pixels: np.ndarray, x: float, y: float) -> None:
    """The crop centred in the square cell at (x, y), keeping its aspect ratio."""
    h, w = pixels.shape[:2]
    scale = IMAGE_BAND / max(h, w)
    left, top = x + (1 - w * scale) / 2, y + (IMAGE_BAND - h * scale) / 2
    ax.imshow(pixels, extent=(left, left + w * scale, top + h * scale, top), interpolation="antialiased")


def _draw_missing(ax, x: float, y: float) -> None:
    left = x + (1 - IMAGE_BAND) / 2
    ax.add_patch(Rectangle((left, y), IMAGE_BAND, IMAGE_BAND, facecolor=MISSING_GREY, edgecolor="none"))
    ax.text(x + 0.5, y + IMAGE_BAND / 2, "image missing", ha="center", va="center", fontsize=8, color="0.3")


def _draw_example(ax, row: dict, images: dict, x: float, y: float) -> None:
    ident = row.get("id")
    pixels = _decode_crop(images.get(ident, images.get(str(ident))))
    if pixels is None:
        _draw_missing(ax, x, y)
    else:
        _draw_crop(ax, pixels, x, y)
    ax.text(x + 0.5, y + IMAGE_BAND + 0.03, _caption(row), ha="center", va="top", fontsize=7)


def _draw_kind(ax, title: str, rows: list[dict], images: dict, y: float) -> float:
    """One kind's row (or "none") starting at y; returns the y below it."""
    ax.text(0.02, y + ROW_TITLE_BAND / 2, f"{title} ({len(rows)})" if rows else title, ha="left",
            va="center", fontsize=10)
    y += ROW_TITLE_BAND
    if not rows:
        ax.text(EXAMPLES_PER_ROW / 2, y + NONE_BAND / 2, "none", ha="center", va="center", fontsize=10,
                color="0.4")
        return y + NONE_BAND
    for column, row in enumerate(rows):
        _draw_example(ax, row, images, float(column), y)
    return y + IMAGE_BAND + CAPTION_BAND


def example_grid(label: str, rows: dict, images: dict[str, bytes]) -> bytes:
    """The study's per-class inspection: true positives, false positives, false negatives."""
    kinds = [(title, list((rows or {}).get(key) or [])[:EXAMPLES_PER_ROW]) for key, title in EXAMPLE_KINDS]
    height = TITLE_BAND + sum(ROW_TITLE_BAND + (IMAGE_BAND + CAPTION_BAND if kind_rows else NONE_BAND)
                              for _, kind_rows in kinds)
    fig = Figure(figsize=(CELL_INCHES * EXAMPLES_PER_ROW, CELL_INCHES * height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.text(EXAMPLES_PER_ROW / 2, TITLE_BAND / 2, _plain(label, 60), ha="center", va="center", fontsize=12,
            fontweight="bold")
    y = TITLE_BAND
    for title, kind_rows in kinds:
        y = _draw_kind(ax, title, kind_rows, images or {}, y)
    ax.set_xlim(0, EXAMPLES_PER_ROW)
    ax.set_ylim(height, 0)
    ax.set_aspect("equal")
    return _palette_png(fig)


# ---------- forest plot ----------

def _interval_errors(accuracy: float, entry: dict) -> list[list[float]] | None:
    low, high = _finite(entry.get("ci_low")), _finite(entry.get("ci_high"))
    if low is None or high is None:
        return None
    return [[max(0.0, accuracy - low)], [max(0.0, high - accuracy)]]


def _entry_label(entry: dict) -> str:
    n = entry.get("n")
    return f"{_plain(entry.get('name', '—'), 40)} (n = {n if n is not None else '—'})"


def accuracy_intervals(entries: list[dict], chance: float, title: str) -> bytes:
    """Forest plot: each entry's accuracy with its 95 % interval, and chance as a dashed line."""
    entries = list(entries or [])
    fig = Figure(figsize=(7.0, 1.4 + 0.45 * max(len(entries), 1)), layout="constrained")
    ax = fig.subplots()
    positions = list(range(len(entries)))[::-1]  # first entry on top
    for y, entry in zip(positions, entries):
        accuracy = _finite(entry.get("accuracy"))
        if accuracy is not None:
            ax.errorbar(accuracy, y, xerr=_interval_errors(accuracy, entry), fmt="o", color="tab:blue",
                        ecolor="tab:blue", capsize=4)
    ax.set_yticks(positions, [_entry_label(e) for e in entries])
    if not entries:
        ax.text(0.5, 0.5, "no entries", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_ylim(-0.7, max(len(entries), 1) - 0.3)
    chance_value = _finite(chance)
    if chance_value is not None:
        ax.axvline(chance_value, color="black", linestyle="--", linewidth=1)
        ax.text(chance_value, 1.01, "chance", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy (95 % interval)")
    ax.set_title(_plain(title, 80), pad=14)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
