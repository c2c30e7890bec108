"""Keras training on a tiny Keras-layout folder of LFW photos (2 classes by gender):
the cnn trains, checkpoints and predicts, a second run from the same config reproduces
its history exactly, and the two-step vggface pipeline runs with generated weights."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.datasets import EmptySplit, count_images, discover_labels, load_split
from ml.train_keras import KerasTrainConfig, predict_keras, train_keras
from tests.conftest import require_shared_data
from tests.test_models import write_legacy_vggface_h5

pytestmark = pytest.mark.slow  # trains Keras models
PER_CLASS = {"train": 14, "validation": 3, "test": 3}  # 40 photos


def _photos(per_gender: int) -> dict[str, list[Path]]:
    data = require_shared_data() / "faces"
    chosen: dict[str, list[Path]] = {"female": [], "male": []}
    seen = set()
    with open(data / "lfw_labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["gender"] not in chosen or row["identity"] in seen or len(chosen[row["gender"]]) >= per_gender:
                continue
            seen.add(row["identity"])
            chosen[row["gender"]].append(data / row["path"])
    return chosen


def make_folder(root: Path, per_class: dict[str, int]) -> Path:
    """DATA/<split>/<gender>/<n>.jpg, 128x128 centre crops of distinct people."""
    photos = _photos(sum(per_class.values()))
    for gender, paths in photos.items():
        it = iter(paths)
        for split, n in per_class.items():
            folder = root / split / gender
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                with Image.open(next(it)) as im:
                    w, h = im.size
                    box = (w // 2 - 64, h // 2 - 64, w // 2 + 64, h // 2 + 64)
                    im.convert("RGB").crop(box).save(folder / f"{gender}{i:02d}.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("faces"), PER_CLASS)


@pytest.fixture(scope="module")
def cnn_run(tiny, tmp_path_factory):
    config = KerasTrainConfig(model="cnn", epochs=2, batch_size=8, seed=3)
    epochs = []
    outcome = train_keras(tiny, config, tmp_path_factory.mktemp("cnn"), on_epoch=lambda e, logs: epochs.append((e, logs)))
    return config, outcome, epochs


def test_load_split_one_label_order_for_every_split(tiny, tmp_path):
    assert discover_labels(tiny) == ["female", "male"]
    ds = load_split(tiny, "validation", image_size=64, color_mode="grayscale", batch_size=4,
                    labels=["female", "male"], shuffle=False, seed=0)
    x, y = next(iter(ds))
    assert x.shape == (4, 64, 64, 1) and y.shape == (4, 2)
    assert float(np.max(x)) > 1.0  # raw pixels: rescaling lives in the model
    # a split lacking a class folder, and one with an empty class folder: same width and order
    (tmp_path / "validation" / "male").mkdir(parents=True)
    for src in sorted((tiny / "validation" / "male").iterdir()):
        (tmp_path / "validation" / "male" / src.name).write_bytes(src.read_bytes())
    (tmp_path / "validation" / "zebra").mkdir()
    labels = ["female", "male", "zebra"]
    assert count_images(tmp_path, "validation", labels) == {"female": 0, "male": 3, "zebra": 0}
    ys = np.concatenate([y.numpy() for _, y in load_split(tmp_path, "validation", image_size=32, batch_size=2,
                                                          labels=labels, shuffle=False, seed=0)])
    np.testing.assert_array_equal(ys, np.tile([0.0, 1.0, 0.0], (3, 1)))
    with pytest.raises(EmptySplit):
        load_split(tmp_path, "validation", image_size=32, labels=["female", "zebra"])


def test_cnn_trains_checkpoints_and_predicts(tiny, cnn_run):
    config, outcome, epochs = cnn_run
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(outcome.history)
    assert all(len(v) == 2 for v in outcome.history.values())
    assert [e for e, _ in epochs] == [0, 1] and "val_accuracy" in epochs[0][1]  # Keras' 0-based index
    assert outcome.labels == ["female", "male"]
    assert outcome.model_path.is_file() and outcome.model_path.suffix == ".keras"
    assert outcome.best_epoch in (1, 2) and outcome.val_accuracy == max(outcome.history["val_accuracy"])
    assert outcome.params["params_total"] == 92_868 - 260 + 130  # two classes
    images = np.stack([np.asarray(Image.open(p)) for p in sorted((tiny / "test").rglob("*.jpg"))])
    probs = predict_keras(outcome.model_path, images)  # 128x128 RGB in; the model wants 64x64 grey
    assert probs.shape == (6, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_same_config_reproduces_the_history(tiny, cnn_run, tmp_path):
    config, outcome, _ = cnn_run
    again = train_keras(tiny, KerasTrainConfig(**outcome.extra["config"]), tmp_path)
    assert again.history == outcome.history
    assert again.best_epoch == outcome.best_epoch


def test_vggface_pipeline_runs_with_generated_weights(tmp_path):
    data = make_folder(tmp_path / "data", {"train": 6, "validation": 2})  # 16 images
    weights = tmp_path / "weights.h5"
    write_legacy_vggface_h5(weights)
    config = KerasTrainConfig(model="vggface", epochs=1, top_epochs=1, batch_size=8, weights_path=str(weights))
    seen = []
    outcome = train_keras(data, config, tmp_path / "out", on_epoch=lambda e, logs: seen.append(sorted(logs)))
    assert seen[0][0].startswith("top_") and "val_accuracy" in seen[1]
    assert outcome.params["params_trainable"] == 2_359_808 + 65_922  # conv5_3 + top (2 classes)
    assert outcome.extra["top_history"]["val_accuracy"] and len(outcome.extra["weights_sha256"]) == 64
    assert (tmp_path / "out" / "top.weights.h5").is_file()
    images = np.stack([np.asarray(Image.open(p)) for p in sorted((data / "validation").rglob("*.jpg"))])
    probs = predict_keras(outcome.model_path, images)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
