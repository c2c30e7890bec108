"""The study's Keras models: parameter counts, rcmalli layer names, VGGFace preprocessing and
the legacy Keras 2 HDF5 weights file (generated here with random weights, written with
h5py the way Keras 2's ``save_weights`` wrote it)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
import pytest

from ml.models import vggface
from ml.models.cnn import build_cnn
from ml.models.vggface import (WEIGHTS_ENV, WEIGHTS_FILENAME, WeightsMismatch, WeightsUnavailable,
                               build_finetune_model, build_top_model, build_vggface_base, conv_shapes,
                               count_params, ensure_weights, load_vggface_weights, preprocess_vggface_v1)

RCMALLI_LAYERS = ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1", "conv3_2",
                  "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3", "pool4", "conv5_1", "conv5_2",
                  "conv5_3", "pool5"]


def write_legacy_vggface_h5(path: Path, *, seed: int = 0, style: str = "keras2", shapes=None) -> dict:
    """A no-top VGG16-VGGFace weights file in the legacy layout Keras 2 ``save_weights`` wrote:
    root attrs layer_names/backend/keras_version, one group per layer (weightless ones too)
    with attr weight_names naming its datasets (``conv1_1/kernel:0`` nests a group).
    ``style="keras1"`` names weights ``conv1_1_W``/``conv1_1_b``. He-scaled random values."""
    rng = np.random.default_rng(seed)
    shapes = shapes or conv_shapes()
    names = ["input_1", *RCMALLI_LAYERS]
    values = {}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.0.8"
        for name in names:
            group = f.create_group(name)
            if name not in shapes:
                group.attrs["weight_names"] = np.asarray([])  # what Keras 2 wrote for no weights
                continue
            kernel_shape, bias_shape = shapes[name]
            fan_in = int(np.prod(kernel_shape[:-1]))
            kernel = (rng.standard_normal(kernel_shape, dtype=np.float32) * np.sqrt(2.0 / fan_in)).astype(np.float32)
            bias = (rng.standard_normal(bias_shape, dtype=np.float32) * 0.01).astype(np.float32)
            weight_names = ([f"{name}/kernel:0", f"{name}/bias:0"] if style == "keras2"
                            else [f"{name}_W", f"{name}_b"])
            group.attrs["weight_names"] = np.array([w.encode("utf8") for w in weight_names])
            for weight_name, value in zip(weight_names, (kernel, bias)):
                dataset = group.create_dataset(weight_name, value.shape, dtype=value.dtype)
                dataset[:] = value
            values[name] = (kernel, bias)
    return values


def test_cnn_matches_the_study():
    model = build_cnn(4, (64, 64, 1))
    assert model.count_params() == 92_868 == count_params(model.trainable_weights)
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers if layer.name.startswith(("conv", "pool"))]
    assert shapes == [(62, 62, 32), (31, 31, 32), (29, 29, 32), (14, 14, 32), (12, 12, 32), (6, 6, 32)]
    per_layer = {layer.name: layer.count_params() for layer in model.layers if layer.count_params()}
    assert per_layer == {"conv1": 320, "conv2": 9_248, "conv3": 9_248, "dense": 73_792, "predictions": 260}
    assert model.get_layer("rescale").count_params() == 0  # raw pixels in, 1/255 inside
    assert model.get_layer("dropout").rate == 0.5
    # three channels: only the first convolution grows (3*3*3*32 + 32 = 896)
    assert build_cnn(4, (64, 64, 3)).count_params() == 92_868 - 320 + 896 == 93_444


def test_vggface_base_names_and_params():
    base = build_vggface_base((128, 128, 3))
    names = [layer.name for layer in base.layers if layer.name.startswith(("conv", "pool"))]
    assert names == RCMALLI_LAYERS
    assert base.count_params() == 14_714_688
    assert tuple(base.output.shape) == (None, 512)


def test_top_and_finetune_params():
    top = build_top_model(4)
    assert top.count_params() == 66_180 == 65_664 + 516
    model = build_finetune_model(4, (128, 128, 3), top=top)
    assert count_params(model.trainable_weights) == 2_359_808 + 66_180
    assert count_params(model.weights) == 14_714_688 + 66_180
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable == {"conv5_3", "top_dense", "top_predictions"}


def test_preprocess_v1_bgr_minus_means():
    x = np.zeros((1, 2, 2, 3), np.float32)
    x[..., 0], x[..., 1], x[..., 2] = 200.0, 100.0, 50.0  # R G B
    out = preprocess_vggface_v1(x)
    np.testing.assert_allclose(out[0, 0, 0], [50 - 93.5940, 100 - 104.7624, 200 - 129.1863], rtol=1e-6)
    layer = vggface.preprocess_layer_class()()
    np.testing.assert_allclose(np.asarray(layer(x)), out, rtol=1e-6)


@pytest.mark.parametrize("style", ["keras2", "keras1"])
def test_legacy_h5_round_trip(tmp_path, style):
    path = tmp_path / WEIGHTS_FILENAME
    values = write_legacy_vggface_h5(path, style=style)
    base = build_vggface_base()
    sha = load_vggface_weights(base, path)
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    for name, (kernel, bias) in values.items():
        got = base.get_layer(name).get_weights()
        np.testing.assert_array_equal(got[0], kernel)
        np.testing.assert_array_equal(got[1], bias)
    if style == "keras2":  # Keras' own legacy HDF5 reader understands the generated file too
        other = build_vggface_base()
        other.load_weights(str(path))
        np.testing.assert_array_equal(other.get_layer("conv5_3").get_weights()[0], values["conv5_3"][0])
    # the weights reach a base nested inside the step-2 model as well
    model = build_finetune_model(2)
    load_vggface_weights(model, path)
    nested = model.get_layer("vggface_vgg16").get_layer("conv1_1").get_weights()[0]
    np.testing.assert_array_equal(nested, values["conv1_1"][0])


def test_wrong_shape_file_names_the_first_mismatch(tmp_path):
    shapes = dict(conv_shapes())
    shapes["conv3_2"] = ((3, 3, 256, 128), (128,))
    path = tmp_path / "bad.h5"
    write_legacy_vggface_h5(path, shapes=shapes)
    base = build_vggface_base()
    before = base.get_layer("conv1_1").get_weights()[0].copy()
    with pytest.raises(WeightsMismatch, match=r"conv3_2.*kernel.*\(3, 3, 256, 128\).*\(3, 3, 256, 256\)"):
        load_vggface_weights(base, path)
    np.testing.assert_array_equal(base.get_layer("conv1_1").get_weights()[0], before)  # all or nothing


def test_missing_layer_and_not_hdf5(tmp_path):
    shapes = {k: v for k, v in conv_shapes().items() if k != "conv4_1"}
    path = tmp_path / "partial.h5"
    write_legacy_vggface_h5(path, shapes=shapes)
    with h5py.File(path, "a") as f:  # a file lacking the layer entirely
        del f["conv4_1"]
        f.attrs["layer_names"] = np.array([n for n in f.attrs["layer_names"] if n != b"conv4_1"])
    with pytest.raises(WeightsMismatch, match="conv4_1"):
        vggface.read_vggface_weights(path)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"<html>not found</html>")
    with pytest.raises(WeightsMismatch, match="not a readable HDF5"):
        vggface.read_vggface_weights(junk)


def test_ensure_weights_sources(tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    cache = tmp_path / "cache"
    with pytest.raises(WeightsUnavailable) as info:
        ensure_weights(None, allow_download=False, cache_dir=cache)
    message = str(info.value)
    assert WEIGHTS_FILENAME in message and str(cache / WEIGHTS_FILENAME) in message and WEIGHTS_ENV in message
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        ensure_weights(tmp_path / "nowhere.h5", allow_download=True, cache_dir=cache)
    cache.mkdir()
    (cache / WEIGHTS_FILENAME).write_bytes(b"x")
    assert ensure_weights(None, allow_download=False, cache_dir=cache) == cache / WEIGHTS_FILENAME
    configured = tmp_path / "mine.h5"
    configured.write_bytes(b"y")
    assert ensure_weights(str(configured), cache_dir=cache) == configured
    monkeypatch.setenv(WEIGHTS_ENV, str(configured))
    assert ensure_weights(None, cache_dir=tmp_path / "empty") == configured
