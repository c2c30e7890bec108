"""Photo-style control: a classifier of the website, not of the face.

In the study every category comes from one department's website, and each website has its
own photographer, lighting, colour cast, image size, JPEG settings and file format. A face
model can score above chance by recognising the website. This module is the control that
never sees a face: it describes the WHOLE ORIGINAL photo (the bytes as the site served
them, before any crop) by image statistics only - colour and luminance histograms, channel
and saturation moments, sharpness, noise, JPEG quantisation, pixel size, aspect ratio,
bytes per pixel, metadata and file format - and fits a small linear classifier on them with
the same person-grouped split. If it beats chance, the websites differ photographically,
whatever the face model does.

Pure functions: no Prefect, no object store.
"""
from __future__ import annotations

import io
import math
import warnings
from typing import Iterable, Sequence

import cv2
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from ml.images import decode_rgb

HIST_BINS = 4  # more bins mostly describe the photo's content, not the site's style
THUMB_SIDE = 256  # colour statistics on a copy at most this long (they barely depend on size)
SHARP_SIDE = 128  # sharpness on a grey copy of this fixed size: not a measure of pixel count
NOISE_CROP = 512  # noise on a central full-resolution crop at most this large
FORMATS = ("jpeg", "png", "webp", "gif", "other")
C_GRID = (0.01, 0.1, 1.0, 10.0)
MIN_GROUPS_PER_CLASS = 3  # fewer people in some class: no cross-validation, fixed C=1.0

FEATURE_NAMES: tuple[str, ...] = (
    *(f"hist_{c}_{i}" for c in "rgb" for i in range(HIST_BINS)),
    *(f"hist_luma_{i}" for i in range(HIST_BINS)),
    "mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b",
    "mean_saturation", "std_saturation",
    "log_red_green", "log_blue_green",  # a colour cast shifts these by a constant, whatever the content
    "log_sharpness",  # log1p of the Laplacian's variance on a fixed-size grey copy
    "log_noise",  # log1p of Immerkaer's noise sigma, full resolution
    "log_jpeg_quant_luma", "log_jpeg_quant_chroma", "jpeg_quant_known", "jpeg_progressive",
    "jpeg_quality",  # IJG-style quality estimate / 100 from the luma table; 1 when not a JPEG
    "log_width", "log_height", "log_aspect", "log_bytes_per_pixel",
    "has_exif", "has_icc_profile",
    *(f"format_{f}" for f in FORMATS),
)

# The JPEG standard's (Annex K) luminance table, which libjpeg scales by quality; its mean.
_IJG_LUMA_MEAN = 3688 / 64
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def _format_name(fmt: str | None) -> str:
    fmt = (fmt or "").upper()
    if fmt in ("JPEG", "MPO"):
        return "jpeg"
    return fmt.lower() if fmt.lower() in FORMATS else "other"


def _jpeg_quality(luma_mean: float) -> float:
    """libjpeg's quality setting (1..100) that scales the standard table to this mean."""
    scale = 100.0 * luma_mean / _IJG_LUMA_MEAN  # libjpeg: 5000/q below q=50, else 200 - 2q
    return float(np.clip(100.0 - scale / 2.0 if scale <= 100.0 else 5000.0 / scale, 1.0, 100.0))


def _header_info(data: bytes) -> tuple[float, ...]:
    """(log mean luma table, log mean chroma table, known, progressive, quality, exif, icc)
    from the header; quantisation only for JPEGs (0, known=0, quality=1 otherwise)."""
    luma = chroma = known = progressive = exif = icc = 0.0
    quality = 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                info = im.info
                exif = float(bool(info.get("exif")))
                icc = float(bool(info.get("icc_profile")))
                progressive = float(bool(info.get("progressive") or info.get("progression")))
                tables = getattr(im, "quantization", None) or {}
                if tables:
                    first = sorted(tables)[0]
                    luma = math.log(max(float(np.mean(tables[first])), 1.0))
                    quality = _jpeg_quality(float(np.mean(tables[first]))) / 100.0
                    rest = [k for k in sorted(tables) if k != first]
                    chroma = math.log(max(float(np.mean(tables[rest[0]])), 1.0)) if rest else luma
                    known = 1.0
    except Exception:  # noqa: BLE001 - decode_rgb already accepted the bytes; header extras are optional
        pass
    return luma, chroma, known, progressive, quality, exif, icc


def _upright_size(source: tuple[int, int], image: Image.Image) -> tuple[int, int]:
    """Stored size, swapped when EXIF orientation turned the picture by 90 degrees."""
    w, h = source
    if w != h and (image.width > image.height) != (w > h):
        return h, w
    return w, h


def photo_style_features(data: bytes) -> np.ndarray:
    """Style features (float64, in FEATURE_NAMES order) of one photo's original bytes.

    Raises ValueError naming the problem when the bytes are not a decodable raster image.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"photo_style_features needs bytes, got {type(data).__name__}")
    data = bytes(data)
    decoded = decode_rgb(data, min_side=8)
    if decoded.image is None:
        raise ValueError(f"cannot compute photo-style features: {decoded.reason} ({decoded.detail})")
    rgb = np.asarray(decoded.image, dtype=np.uint8)
    width, height = _upright_size(decoded.source_size, decoded.image)

    h, w = rgb.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    thumb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    n_pixels = float(thumb.shape[0] * thumb.shape[1])
    grey_thumb = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY)
    hists = [cv2.calcHist([plane], [0], None, [HIST_BINS], [0, 256]).ravel() / n_pixels
             for plane in (*cv2.split(thumb), grey_thumb)]
    means, stds = (v.ravel() / 255.0 for v in cv2.meanStdDev(thumb))
    sat_mean, sat_std = (float(v[0, 0]) / 255.0 for v in
                         cv2.meanStdDev(cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)[..., 1].copy()))

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (SHARP_SIDE, SHARP_SIDE), interpolation=cv2.INTER_AREA)
    sharpness = float(cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_32F))[1][0, 0]) ** 2
    top, left = max(0, (h - NOISE_CROP) // 2), max(0, (w - NOISE_CROP) // 2)
    crop = grey[top:top + NOISE_CROP, left:left + NOISE_CROP].astype(np.float32)
    if min(crop.shape) >= 3:
        response = np.abs(cv2.filter2D(crop, cv2.CV_32F, _NOISE_KERNEL)[1:-1, 1:-1])
        noise = cv2.mean(response)[0] * math.sqrt(math.pi / 2) / 6.0
    else:
        noise = 0.0

    luma_q, chroma_q, q_known, progressive, quality, exif, icc = _header_info(data)
    fmt = _format_name(decoded.format)
    values = [
        *np.concatenate(hists), *means, *stds, sat_mean, sat_std,
        math.log((means[0] + 1 / 255) / (means[1] + 1 / 255)), math.log((means[2] + 1 / 255) / (means[1] + 1 / 255)),
        math.log1p(sharpness), math.log1p(noise),
        luma_q, chroma_q, q_known, progressive, quality,
        math.log(width), math.log(height), math.log(width / height),
        math.log(max(len(data), 1) / (width * height)),
        exif, icc,
        *(float(fmt == f) for f in FORMATS),
    ]
    out = np.asarray(values, dtype=np.float64)
    assert out.shape == (len(FEATURE_NAMES),), (out.shape, len(FEATURE_NAMES))
    return out


def photo_style_matrix(blobs: Iterable[bytes], *, names: Sequence[str] | None = None) -> np.ndarray:
    """Features of many photos, one row each; a failure names the item (index, and its name
    when `names` is given)."""
    rows = []
    for i, data in enumerate(blobs):
        try:
            rows.append(photo_style_features(data))
        except (ValueError, TypeError) as exc:
            label = f"item {i}" + (f" ({names[i]})" if names is not None and i < len(names) else "")
            raise ValueError(f"{label}: {exc}") from exc
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
    return np.vstack(rows)


def _pipeline(C: float, seed: int, warm_start: bool = False):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed,
                                                              warm_start=warm_start))


def _choose_C(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> float:
    """C with the best mean log-loss over person-grouped stratified folds; 1.0 when some class
    has fewer than MIN_GROUPS_PER_CLASS people."""
    from sklearn.model_selection import StratifiedGroupKFold

    classes = np.unique(y)
    people = [len(np.unique(groups[y == c])) for c in classes]
    if len(classes) < 2 or min(people) < MIN_GROUPS_PER_CLASS:
        return 1.0
    folds = StratifiedGroupKFold(n_splits=min(5, min(people)), shuffle=True, random_state=seed)
    losses, used = np.zeros(len(C_GRID)), 0
    for train, test in folds.split(X, y, groups):
        if len(np.unique(y[train])) < 2:
            continue
        used += 1
        model = _pipeline(C_GRID[0], seed, warm_start=True)  # each C starts from the last one's fit
        for k, C in enumerate(C_GRID):
            model.set_params(logisticregression__C=C).fit(X[train], y[train])
            proba = model.predict_proba(X[test])
            column = {c: j for j, c in enumerate(model.classes_)}
            p_true = np.array([proba[i, column[c]] if c in column else 0.0 for i, c in enumerate(y[test])])
            losses[k] += -np.log(np.clip(p_true, 1e-15, 1.0)).mean()
    if not used:
        return 1.0
    return float(C_GRID[int(np.argmin(losses))])  # ties: the smallest C (strongest penalty)


def fit_predict_style(X_train: np.ndarray, y_train: Sequence, groups_train: Sequence,
                      X_test: np.ndarray, labels: Sequence, *, seed: int = 0) -> np.ndarray:
    """Probabilities (n_test x len(labels), columns in `labels` order) of a StandardScaler +
    LogisticRegression fitted on the training photos; C chosen by person-grouped CV.

    A label absent from training gets probability 0; a single training class gets 1.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    y = np.asarray([str(v) for v in y_train])
    groups = np.asarray([str(g) for g in groups_train])
    labels = [str(v) for v in labels]
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"feature matrices must be 2-D with equal widths: {X_train.shape} vs {X_test.shape}")
    if not (len(X_train) == len(y) == len(groups)) or len(y) == 0:
        raise ValueError(f"need one label and group per training row: {len(X_train)} rows, "
                         f"{len(y)} labels, {len(groups)} groups")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be unique: {labels}")
    unknown = sorted(set(y) - set(labels))
    if unknown:
        raise ValueError(f"training labels not in labels: {unknown}")
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise ValueError("features contain NaN or infinity")
    out = np.zeros((len(X_test), len(labels)), dtype=np.float64)
    classes = np.unique(y)
    if len(classes) == 1:
        out[:, labels.index(classes[0])] = 1.0
        return out
    # One BLAS/OpenMP thread: on matrices this small, threads only contend (10x slower when
    # the machine is busy).
    with threadpool_limits(limits=1):
        model = _pipeline(_choose_C(X_train, y, groups, seed), seed).fit(X_train, y)
    if len(X_test):
        proba = model.predict_proba(X_test)
        for j, c in enumerate(model.classes_):
            out[:, labels.index(str(c))] = proba[:, j]
    return out
