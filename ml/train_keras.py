"""Train the study's Keras models (``cnn``, ``vggface``) on a local Keras-layout folder.

Runs are deterministic from ``config.seed`` (``keras.utils.set_random_seed`` plus TF op
determinism): the config alone reproduces a run's metrics on the same data and hardware.

* cnn: Adam, categorical cross-entropy, augmentation on the training set, checkpoint of
  the best ``val_accuracy`` (``model.keras``), early stopping that restores the best weights.
* vggface, as the study: step 1 computes bottleneck features of the frozen base once,
  *without* augmentation (features of augmented images would have to be recomputed every
  epoch), and trains the top model on them (RMSprop: the study names no optimiser for
  step 1; the Keras "little data" recipe, whose step 2 the study matches, used it); step 2 fine-tunes conv5_3 + top with SGD (lr 1e-4, momentum 0.9) on augmented
  images, checkpointing the best ``val_accuracy``.

``on_epoch(epoch, logs)`` gets Keras' 0-based epoch index and float logs (``loss``, ``accuracy``,
``val_loss``, ``val_accuracy``); vggface step 1 reports its epochs with ``top_``-prefixed
keys. TensorFlow is imported inside the functions; a visible GPU is used as is.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ml.datasets import augment_dataset, count_images, discover_labels, load_split

MODELS = ("cnn", "vggface")
MODEL_FILE = "model.keras"
TOP_WEIGHTS_FILE = "top.weights.h5"


@dataclass
class KerasTrainConfig:
    model: str
    epochs: int = 100
    batch_size: int = 32
    seed: int = 0
    image_size: int | None = None       # None: 64 for cnn, 128 for vggface
    channels: int | None = None         # None: 1 for cnn, 3 for vggface
    learning_rate: float | None = None  # None: Adam defaults (cnn); SGD 1e-4 (vggface step 2)
    patience: int = 15                  # early stopping on val_accuracy, best weights restored
    top_epochs: int = 50                # vggface step 1
    augment: bool = True
    augment_strength: float = 1.0       # x the study's rotation and zoom ranges (tuning knob); 0: none
    dropout: float = 0.5                # cnn: before the softmax
    dense_units: int = 64               # cnn: width of the dense layer
    mixed_precision: bool = False
    weights_path: str | None = None     # VGGFace weights; None: cache / download
    allow_download: bool = True
    deterministic: bool = True

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.image_size is None:
            self.image_size = 64 if self.model == "cnn" else 128
        if self.channels is None:
            self.channels = 1 if self.model == "cnn" else 3
        if self.channels not in (1, 3) or (self.model == "vggface" and self.channels != 3):
            raise ValueError(f"channels must be 1 or 3 (3 for vggface), got {self.channels}")
        if self.epochs < 1 or self.batch_size < 1 or self.image_size < 32:
            raise ValueError("epochs and batch_size must be >= 1, image_size >= 32")
        if not (0 <= self.dropout < 1 and self.dense_units >= 1 and self.augment_strength >= 0):
            raise ValueError("dropout must be in [0, 1), dense_units >= 1, augment_strength >= 0")
        if self.weights_path is not None:
            self.weights_path = str(self.weights_path)


@dataclass
class TrainOutcome:
    model_path: Path
    history: dict[str, list[float]]
    labels: list[str]
    best_epoch: int        # 1-based
    val_accuracy: float    # best validation accuracy (that of the saved model)
    params: dict[str, int]
    extra: dict = field(default_factory=dict)


def _epoch_callback(on_epoch, prefix: str = ""):
    import keras

    def call(epoch, logs):
        if on_epoch is not None:
            on_epoch(epoch, {prefix + k: float(v) for k, v in (logs or {}).items()})

    return keras.callbacks.LambdaCallback(on_epoch_end=call)


def _stopping(config):
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.patience,
                                         restore_best_weights=True)


def _history(h) -> dict[str, list[float]]:
    return {k: [float(v) for v in values] for k, values in h.history.items()}


def _best(history: dict[str, list[float]]) -> tuple[int, float]:
    acc = history["val_accuracy"]
    i = int(np.argmax(acc))  # first best: the epoch ModelCheckpoint/EarlyStopping keep
    return i + 1, float(acc[i])


def _params(model) -> dict[str, int]:
    from ml.models.vggface import count_params

    trainable = count_params(model.trainable_weights)
    total = count_params(model.weights)
    return {"params_total": total, "params_trainable": trainable, "params_non_trainable": total - trainable}


def _fit(model, train, val, config, out_dir: Path, on_epoch, epochs: int):
    import keras

    path = out_dir / MODEL_FILE
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), monitor="val_accuracy", mode="max",
                                                 save_best_only=True, verbose=0)
    h = model.fit(train, validation_data=val, epochs=epochs, verbose=0, shuffle=False,
                  callbacks=[checkpoint, _stopping(config), _epoch_callback(on_epoch)])
    return path, _history(h)


def _datasets(data_dir: Path, config: KerasTrainConfig, labels: list[str], *, augment: bool):
    color = "grayscale" if config.channels == 1 else "rgb"
    common = dict(image_size=config.image_size, color_mode=color, batch_size=config.batch_size, labels=labels)
    train = load_split(data_dir, "train", shuffle=True, seed=config.seed, **common)
    if augment and config.augment_strength > 0:
        train = augment_dataset(train, config.seed, strength=config.augment_strength)
    return train, load_split(data_dir, "validation", shuffle=False, **common)


def _train_cnn(data_dir, config, labels, out_dir, on_epoch):
    import keras

    from ml.models.cnn import build_cnn

    train, val = _datasets(data_dir, config, labels, augment=config.augment)
    model = build_cnn(len(labels), (config.image_size, config.image_size, config.channels),
                      dense_units=config.dense_units, dropout=config.dropout)
    optimizer = keras.optimizers.Adam() if config.learning_rate is None else \
        keras.optimizers.Adam(learning_rate=config.learning_rate)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    path, history = _fit(model, train, val, config, out_dir, on_epoch, config.epochs)
    return path, history, _params(model), {}


def _features(base, ds) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for x, y in ds:
        xs.append(np.asarray(base(x, training=False), dtype=np.float32))
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def _train_vggface(data_dir, config, labels, out_dir, on_epoch):
    import keras

    from ml.models import vggface

    weights = vggface.ensure_weights(config.weights_path, allow_download=config.allow_download)
    base = vggface.build_vggface_base((config.image_size, config.image_size, 3))
    sha256 = vggface.load_vggface_weights(base, weights)
    base.trainable = False
    # Step 1: bottleneck features (no augmentation), top model trained on them.
    plain_train, val = _datasets(data_dir, config, labels, augment=False)
    f_train, y_train = _features(base, plain_train)
    f_val, y_val = _features(base, val)
    top = vggface.build_top_model(len(labels))
    top.compile(optimizer=keras.optimizers.RMSprop(), loss="categorical_crossentropy", metrics=["accuracy"])
    h = top.fit(f_train, y_train, batch_size=config.batch_size, epochs=config.top_epochs, shuffle=True,
                validation_data=(f_val, y_val), verbose=0,
                callbacks=[_stopping(config), _epoch_callback(on_epoch, "top_")])
    top_history = _history(h)
    top.save_weights(str(out_dir / TOP_WEIGHTS_FILE))
    top_best_epoch, top_val_accuracy = _best(top_history)
    # Step 2: fine-tune conv5_3 + top on (augmented) images.
    model = vggface.build_finetune_model(len(labels), base=base, top=top)
    lr = 1e-4 if config.learning_rate is None else config.learning_rate
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    train, val = _datasets(data_dir, config, labels, augment=config.augment)
    path, history = _fit(model, train, val, config, out_dir, on_epoch, config.epochs)
    extra = {"top_history": top_history, "top_best_epoch": top_best_epoch,
             "top_val_accuracy": top_val_accuracy, "weights_path": str(weights), "weights_sha256": sha256,
             "top_params": vggface.count_params(top.weights)}
    return path, history, _params(model), extra


def train_keras(data_dir: Path, config: KerasTrainConfig, out_dir: Path, *,
                on_epoch: Callable[[int, dict], None] | None = None) -> TrainOutcome:
    """Train ``config.model`` on ``data_dir/{train,validation}``; the best model (by
    validation accuracy) is saved to ``out_dir/model.keras``."""
    import keras
    import tensorflow as tf

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = discover_labels(data_dir)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    started = time.perf_counter()
    try:
        trainer = _train_cnn if config.model == "cnn" else _train_vggface
        path, history, params, extra = trainer(data_dir, config, labels, out_dir, on_epoch)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    seconds = time.perf_counter() - started
    best_epoch, val_accuracy = _best(history)
    extra.update(
        epochs_run=len(history["val_accuracy"]), seconds=round(seconds, 2),
        devices=[d.device_type for d in tf.config.list_logical_devices() if d.device_type != "CPU"] or ["CPU"],
        images={split: count_images(data_dir, split, labels) for split in ("train", "validation", "test")},
        config=asdict(config))
    return TrainOutcome(model_path=path, history=history, labels=labels, best_epoch=best_epoch,
                        val_accuracy=val_accuracy, params=params, extra=extra)


def fit_input(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Raw pixel batch -> the model's (H, W, C): grey/RGB conversion and bilinear resize
    (as ``image_dataset_from_directory`` does)."""
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W[, C]), got shape {x.shape}")
    height, width, channels = shape
    if x.shape[-1] == 3 and channels == 1:
        x = tf.image.rgb_to_grayscale(x).numpy()
    elif x.shape[-1] == 1 and channels == 3:
        x = np.repeat(x, 3, axis=-1)
    if x.shape[1:3] != (height, width):
        x = tf.image.resize(x, (height, width), method="bilinear").numpy()
    return x


def predict_keras(model_path: Path, images: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, K) for raw 0..255 images (N, H, W[, C]) from a saved model."""
    import keras

    from ml.models.vggface import register_custom_objects

    register_custom_objects()
    model = keras.models.load_model(str(model_path), compile=False)
    x = fit_input(images, tuple(model.input_shape[1:]))
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
