"""Code tests of the saliency maps (ml.saliency): occlusion on black-box scorers whose evidence
sits in a known place, Grad-CAM on a small CNN trained to find a bright square."""
from __future__ import annotations

import numpy as np
import pytest

from ml.face_mask import nominal_ellipse
from ml.saliency import SaliencyMap, SaliencySummary, face_share, grad_cam_maps, occlusion_map

SIDE = 96


def _scorer(region: tuple[slice, slice]):
    """Two-class probabilities from the mean brightness of `region` only."""
    def score(batch: np.ndarray) -> np.ndarray:
        level = batch[:, region[0], region[1]].mean(axis=(1, 2, 3)) / 255.0
        p = 1 / (1 + np.exp(-12 * (level - 0.5)))
        return np.stack([p, 1 - p], axis=1)
    return score


def _bright() -> np.ndarray:
    return np.full((SIDE, SIDE, 3), 240, dtype=np.uint8)


def test_occlusion_finds_evidence_in_the_face_and_outside_it():
    ellipse = nominal_ellipse(SIDE, SIDE)
    centre = (slice(40, 64), slice(36, 60))  # inside the face ellipse
    corner = (slice(0, 20), slice(0, 20))  # background
    inside = face_share(occlusion_map(_scorer(centre), _bright(), 0), ellipse)
    outside = face_share(occlusion_map(_scorer(corner), _bright(), 0), ellipse)
    area = ellipse.mask(SIDE, SIDE).mean()
    assert inside > 0.6 > area and outside < area, (inside, outside, area)


def test_a_map_that_never_moves_is_flat_not_a_share():
    heat = occlusion_map(lambda b: np.tile([[0.3, 0.7]], (len(b), 1)), _bright(), 1)
    assert not heat.any() and face_share(heat, nominal_ellipse(SIDE, SIDE)) is None


def test_summary_json_reports_shares_per_class_and_the_face_area():
    e = nominal_ellipse(SIDE, SIDE)
    heat = np.zeros((SIDE, SIDE), dtype=np.float32)
    heat[50, 48] = 1.0  # all of it in the face
    maps = [SaliencyMap("a", "x", "x", "occlusion", heat, e, face_share(heat, e)),
            SaliencyMap("b", "y", "x", "occlusion", np.zeros_like(heat), e, None)]
    out = SaliencySummary(["occlusion"], maps).to_json({"a"})
    assert out["examples"] == ["a"] and out["occlusion"]["face_share"] == 1.0
    assert out["occlusion"]["n"] == 2 and out["occlusion"]["n_flat"] == 1
    assert out["occlusion"]["per_class"]["y"] == {"face_share": None, "n": 1}
    assert 0.15 < out["occlusion"]["face_area"] < 0.35


@pytest.mark.slow
def test_grad_cam_of_a_cnn_points_at_the_square_it_learned():
    import keras

    from ml.models.cnn import build_cnn

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, side = 160, 64
    x = rng.integers(0, 60, size=(n, side, side, 1)).astype("float32")
    y = rng.integers(0, 2, size=n)
    x[y == 1, 8:24, 40:56] = 255.0  # class 1: a bright square in the upper right
    model = build_cnn(2, (side, side, 1))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    ones = x[y == 1][:4]
    cams = grad_cam_maps(model, ones, [1] * len(ones), (side, side))
    inside = np.mean([c[8:24, 40:56].sum() / max(c.sum(), 1e-9) for c in cams])
    assert inside > 0.3, inside  # the square is 6 % of the picture


@pytest.mark.slow
def test_grad_cam_reaches_the_last_convolution_inside_vggface_base():
    """vggface is input -> VGG16 base (a model of its own) -> top: the maps come from conv5_3."""
    from ml.models.vggface import build_finetune_model

    model = build_finetune_model(3, (64, 64, 3))  # random weights: the path, not what it learned
    images = np.random.default_rng(1).integers(0, 255, size=(2, 64, 64, 3)).astype("float32")
    cams = grad_cam_maps(model, images, [0, 2], (128, 128))
    assert len(cams) == 2 and all(c.shape == (128, 128) and np.isfinite(c).all() and c.max() <= 1 for c in cams)
