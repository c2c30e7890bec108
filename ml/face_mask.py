"""The face region of a crop, and crops with either the face or everything else hidden.

The context controls retrain a model on crops where one part is replaced by a neutral grey:
``face_only`` keeps the face (forehead to chin, cheek to cheek) and hides hair, background
and clothing; ``context_only`` hides the face and keeps the rest. The region is an ellipse
around the face the detector (YuNet, the one that cropped the photo) finds again on the
crop, widened a little so that the jaw line and forehead stay with the face. When it finds
no face on the crop, the crop stage's own geometry is used: the face box is half the crop
height, centred horizontally, a little below the middle.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

NEUTRAL_GREY = 128
FACE_PERCENT = 50  # the crop stage's default: the face box is half of the crop height
_WIDEN_X, _WIDEN_Y = 1.05, 1.15  # detector boxes stop at the brows and the chin's edge
_NOMINAL_CENTRE_Y = 0.54  # where the embedder also expects the face centre (ml.embeddings)


@dataclass(frozen=True)
class Ellipse:
    cx: float
    cy: float
    rx: float
    ry: float
    detected: bool  # False: the nominal crop geometry, no face found again

    def mask(self, width: int, height: int) -> np.ndarray:
        """Boolean (height, width) array, True inside the ellipse."""
        yy, xx = np.mgrid[0:height, 0:width]
        return ((xx + 0.5 - self.cx) / self.rx) ** 2 + ((yy + 0.5 - self.cy) / self.ry) ** 2 <= 1.0


def nominal_ellipse(width: int, height: int) -> Ellipse:
    side = FACE_PERCENT / 100 * height
    return Ellipse(width / 2, _NOMINAL_CENTRE_Y * height, side / 2 * _WIDEN_X, side / 2 * _WIDEN_Y, False)


def face_ellipse(rgb: np.ndarray, detector) -> Ellipse:
    """Ellipse around the face nearest the crop's centre; `detector` is an ml.crop.FaceCropper."""
    height, width = rgb.shape[:2]
    rows = detector.detect(rgb) if detector is not None else np.zeros((0, 15))
    if len(rows) == 0:
        return nominal_ellipse(width, height)
    centres = rows[:, :2] + rows[:, 2:4] / 2
    nearest = int(np.argmin(np.hypot(centres[:, 0] - width / 2, centres[:, 1] - height / 2)))
    x, y, w, h = (float(v) for v in rows[nearest, :4])
    if w < 0.15 * width or h < 0.15 * height:  # a face in the background, not the crop's subject
        return nominal_ellipse(width, height)
    return Ellipse(x + w / 2, y + h / 2, w / 2 * _WIDEN_X, h / 2 * _WIDEN_Y, True)


def masked_jpeg(data: bytes, keep: str, detector, quality: int = 95) -> bytes:
    """The crop with everything but the face (keep='face') or the face (keep='context') in grey."""
    from PIL import Image

    if keep not in ("face", "context"):
        raise ValueError(f"keep must be 'face' or 'context', not {keep!r}")
    with Image.open(io.BytesIO(data)) as image:
        rgb = np.array(image.convert("RGB"))
    inside = face_ellipse(rgb, detector).mask(rgb.shape[1], rgb.shape[0])
    hide = ~inside if keep == "face" else inside
    rgb[hide] = NEUTRAL_GREY
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()
