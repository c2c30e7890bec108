"""Code tests of the face-or-website verdict rule and of the face masks behind its controls."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ml.face_mask import NEUTRAL_GREY, face_ellipse, masked_jpeg, nominal_ellipse
from ml.verdict import RULE, VERDICTS, decide_verdict
from tests.conftest import require_shared_data


def result(accuracy: float, ci_low: float, p: float, chance: float = 0.5, status: str = "done") -> dict:
    return {"status": status, "accuracy": accuracy, "ci_low": ci_low, "ci_high": min(1.0, accuracy + 0.1),
            "p_value": p, "chance": chance, "n_test": 80, "n_groups": 40}


ABOVE, CHANCE = result(0.85, 0.74, 0.001), result(0.52, 0.40, 0.40)


def metrics(main: dict, **controls: dict) -> dict:
    return {**main, "controls": controls}


@pytest.mark.parametrize("controls, expected", [
    ({"face_only": ABOVE, "context_only": CHANCE, "photo_style": CHANCE}, "face_signal"),
    ({"face_only": CHANCE, "context_only": ABOVE, "photo_style": CHANCE}, "context_signal"),
    ({"face_only": CHANCE, "context_only": CHANCE, "photo_style": ABOVE}, "context_signal"),
    ({"face_only": ABOVE, "context_only": CHANCE, "photo_style": ABOVE}, "mixed"),
    ({"face_only": CHANCE, "context_only": CHANCE, "photo_style": CHANCE}, "inconclusive"),
    ({"face_only": ABOVE, "context_only": CHANCE}, "face_signal"),  # photo_style skipped: no originals left
    ({"face_only": ABOVE, "context_only": {"status": "not_run"}}, "inconclusive"),
])
def test_verdict_of_a_model_above_chance_follows_the_rule(controls, expected):
    verdict = decide_verdict(metrics(ABOVE, **controls))
    assert verdict["verdict"] == expected and verdict["verdict"] in VERDICTS and verdict["verdict_reason"]


def test_a_model_at_chance_is_no_signal_only_when_the_test_could_have_seen_one():
    big = decide_verdict(metrics({**CHANCE, "n_test": 400, "n_groups": 200}))
    assert big["verdict"] == "no_signal" and big["detectable_accuracy"] < 0.75
    small = decide_verdict(metrics({**CHANCE, "n_test": 8, "n_groups": 4}))
    assert small["verdict"] == "inconclusive"
    assert f"{small['detectable_accuracy']:.3f}" in small["verdict_reason"]
    # never worded as proof of absence
    assert "not excluded" in big["verdict_reason"] and "no effect" not in big["verdict_reason"]


def test_a_model_at_chance_on_photos_whose_style_gives_the_website_away():
    verdict = decide_verdict(metrics({**CHANCE, "n_test": 400, "n_groups": 200}, photo_style=ABOVE,
                                     face_only=CHANCE, context_only=CHANCE))
    assert verdict["verdict"] == "no_signal" and "photo_style is above chance" in verdict["verdict_reason"]


def test_the_rule_is_written_out_for_the_report():
    assert all(name in RULE for name in VERDICTS) and "80 % power" in RULE


@pytest.fixture(scope="module")
def crops():
    from ml.crop import FaceCropper

    cropper = FaceCropper()
    paths = sorted((require_shared_data() / "faces" / "lfw").glob("*/*.jpg"))[:60:15]
    return cropper, [cropper.crop(p.read_bytes()).crop for p in paths]


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_face_only_keeps_the_face_and_greys_the_rest(crops):
    cropper, images = crops
    for data in images:
        rgb = _rgb(data)
        ellipse = face_ellipse(rgb.astype(np.uint8), cropper)
        assert ellipse.detected
        assert abs(ellipse.cx - rgb.shape[1] / 2) < 0.15 * rgb.shape[1]  # the crop's subject
        face, context = _rgb(masked_jpeg(data, "face", cropper)), _rgb(masked_jpeg(data, "context", cropper))
        inside = ellipse.mask(rgb.shape[1], rgb.shape[0])
        assert 0.15 < inside.mean() < 0.5
        assert np.abs(face[~inside] - NEUTRAL_GREY).mean() < 4 and np.abs(face[inside] - rgb[inside]).mean() < 8
        assert np.abs(context[inside] - NEUTRAL_GREY).mean() < 4
        assert np.abs(context[~inside] - rgb[~inside]).mean() < 8


def test_a_crop_without_a_detectable_face_gets_the_crop_stage_geometry(crops):
    cropper, _ = crops
    flat = np.full((128, 128, 3), 200, dtype=np.uint8)
    assert face_ellipse(flat, cropper) == nominal_ellipse(128, 128)
    out = io.BytesIO()
    Image.fromarray(flat).save(out, "JPEG")
    assert _rgb(masked_jpeg(out.getvalue(), "context", cropper))[69, 64].tolist() == [NEUTRAL_GREY] * 3
    with pytest.raises(ValueError, match="keep must be"):
        masked_jpeg(out.getvalue(), "hair", cropper)
