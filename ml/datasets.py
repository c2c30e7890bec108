"""Keras data sets over the preprocessed folder layout ``DATA/{train,test,validation}/<category>/<id>.jpg``.

Keras 3 has no ``ImageDataGenerator``: images are read with
``keras.utils.image_dataset_from_directory`` and the study's "3x augmentation" (rotation,
zoom, horizontal flip) is a ``keras.Sequential`` of random preprocessing layers mapped
over the (batched) training set only. Labels are one-hot over one label list shared by
all splits (the category folder names, sorted), so a split that lacks a class, or has an
empty class folder, still yields vectors of the same width and order.
TensorFlow/Keras are imported inside the functions: importing this module is cheap.
"""
from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "test", "validation")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")  # what image_dataset_from_directory reads
COLOR_MODES = {"grayscale": 1, "rgb": 3}
# Augmentation strengths (the study names the kinds, not the ranges).
ROTATION = 0.05  # fraction of a full turn: +-18 degrees
ZOOM = 0.2       # +-20 %


class EmptySplit(ValueError):
    """A split folder holds no images for any of the labels."""


def discover_labels(data_dir: Path) -> list[str]:
    """The sorted category folder names found in any split: the label order of a run."""
    names = {p.name for split in SPLITS if (Path(data_dir) / split).is_dir()
             for p in (Path(data_dir) / split).iterdir() if p.is_dir() and not p.name.startswith(".")}
    if not names:
        raise EmptySplit(f"{data_dir}: no <split>/<category>/ folders (expected {', '.join(SPLITS)})")
    return sorted(names)


def count_images(data_dir: Path, split: str, labels: list[str]) -> dict[str, int]:
    """Images per label in one split (0 for a missing or empty class folder)."""
    root = Path(data_dir) / split
    return {label: sum(1 for p in (root / label).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if (root / label).is_dir() else 0 for label in labels}


def load_split(data_dir: Path, split: str, *, image_size: int | tuple[int, int], color_mode: str = "rgb",
               batch_size: int = 32, labels: list[str], shuffle: bool = False, seed: int = 0):
    """A batched ``tf.data.Dataset`` of (raw 0..255 float32 images, one-hot labels).

    ``labels`` fixes the one-hot order (pass the same list for every split); category
    folders not in ``labels`` are ignored. Images are resized (bilinear) to ``image_size``.
    """
    import keras
    import tensorflow as tf

    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    root = Path(data_dir) / split
    if not root.is_dir():
        raise EmptySplit(f"{root}: split folder missing")
    counts = count_images(data_dir, split, labels)
    if not sum(counts.values()):
        raise EmptySplit(f"{root}: no images for labels {labels}")
    # class_names must name existing folders; folders of absent classes are skipped here and
    # the integer labels remapped to positions in the full label list below.
    present = [label for label in labels if (root / label).is_dir()]
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    ds = keras.utils.image_dataset_from_directory(
        root, labels="inferred", label_mode="int", class_names=present, color_mode=color_mode,
        batch_size=batch_size, image_size=size, shuffle=shuffle, seed=seed, verbose=False)
    positions = tf.constant([labels.index(label) for label in present], dtype=tf.int32)
    depth = len(labels)

    def one_hot(x, y):
        return x, tf.one_hot(tf.gather(positions, tf.cast(y, tf.int32)), depth)

    return ds.map(one_hot, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def augmentation(seed: int = 0, *, rotation: float = ROTATION, zoom: float = ZOOM):
    """The study's augmentation as Keras 3 preprocessing layers (active only when training)."""
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(rotation, fill_mode="reflect", seed=seed + 1),
        layers.RandomZoom(zoom, fill_mode="reflect", seed=seed + 2),
    ], name="augmentation")


def augment_dataset(ds, seed: int = 0, *, strength: float = 1.0):
    """Map :func:`augmentation` over a batched training set (per-sample random transforms);
    ``strength`` scales the rotation and zoom ranges (1: the study's).

    The map runs sequentially: the layers' seed generators are stateful, and a sequential
    map keeps the random stream, and so a run, reproducible from the seed.
    """
    import tensorflow as tf

    aug = augmentation(seed, rotation=ROTATION * strength, zoom=ZOOM * strength)
    return ds.map(lambda x, y: (aug(x, training=True), y)).prefetch(tf.data.AUTOTUNE)
