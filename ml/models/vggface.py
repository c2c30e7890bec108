"""VGG16 pre-trained on VGGFace (REFERENCE.md, model 2): the project's own Keras 3 builder.

keras-vggface 0.6 does not import under Keras 3, so the network is rebuilt here with
rcmalli's layer names (conv1_1 .. conv5_3, pool1 .. pool5), no top, global max pooling
-> 512 features (14,714,688 parameters), and its weights are read with h5py from the
release file ``rcmalli_vggface_tf_notop_vgg16.h5`` (legacy Keras 2 HDF5 layout: root
attribute ``layer_names``; one group per layer with attribute ``weight_names``, whose
entries name the datasets, e.g. ``conv1_1/kernel:0`` -> ``f["conv1_1"]["conv1_1/kernel:0"]``).
Layers are matched by name and every shape is checked before any weight is set.

The v1 preprocessing (RGB -> BGR, subtract the VGGFace means) is a layer inside the
model, so the model takes raw 0..255 RGB. Keras is imported inside functions.
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

WEIGHTS_FILENAME = "rcmalli_vggface_tf_notop_vgg16.h5"
WEIGHTS_URL = f"https://github.com/rcmalli/keras-vggface/releases/download/v2.0/{WEIGHTS_FILENAME}"
WEIGHTS_ENV = "ACADEMIC_FACES_VGGFACE_WEIGHTS"  # path to the weights file
DEFAULT_CACHE_DIR = Path("~/.academic-faces/weights")
MEAN_BGR = (93.5940, 104.7624, 129.1863)  # VGGFace v1 means, B G R
BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions) per block
FINETUNE_LAYERS = ("conv5_3",)


class WeightsUnavailable(RuntimeError):
    """The VGGFace weights file is neither configured, cached nor downloadable."""


class WeightsMismatch(ValueError):
    """The weights file does not fit the VGG16-VGGFace architecture."""


def conv_shapes() -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """{conv layer name: (kernel shape, bias shape)} in network order."""
    shapes, channels = {}, 3
    for block, (filters, count) in enumerate(BLOCKS, start=1):
        for i in range(1, count + 1):
            shapes[f"conv{block}_{i}"] = ((3, 3, channels, filters), (filters,))
            channels = filters
    return shapes


def preprocess_vggface_v1(x):
    """RGB (0..255) -> BGR minus the VGGFace v1 means; numpy in, numpy out, tensors otherwise."""
    if isinstance(x, (np.ndarray, list, tuple)):
        return np.asarray(x, dtype=np.float32)[..., ::-1] - np.asarray(MEAN_BGR, dtype=np.float32)
    from keras import ops

    x = ops.flip(x, axis=-1)
    return x - ops.cast(ops.convert_to_tensor(MEAN_BGR), x.dtype)


_PREPROCESS_CLASS = None


def preprocess_layer_class():
    """The serialisable ``VGGFacePreprocess`` layer class (registered with Keras on first use,
    so that saved ``.keras`` models load after :func:`register_custom_objects`)."""
    global _PREPROCESS_CLASS
    if _PREPROCESS_CLASS is None:
        import keras

        @keras.saving.register_keras_serializable(package="academic_faces", name="VGGFacePreprocess")
        class VGGFacePreprocess(keras.layers.Layer):
            def call(self, inputs):
                return preprocess_vggface_v1(inputs)

            def compute_output_shape(self, input_shape):
                return input_shape

        _PREPROCESS_CLASS = VGGFacePreprocess
    return _PREPROCESS_CLASS


def register_custom_objects() -> None:
    preprocess_layer_class()


def build_vggface_base(input_shape: tuple[int, int, int] = (128, 128, 3)):
    """VGG16-VGGFace without top, global max pooling -> 512; takes raw 0..255 RGB."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = preprocess_layer_class()(name="vggface_preprocess")(inputs)
    for block, (filters, count) in enumerate(BLOCKS, start=1):
        for i in range(1, count + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"conv{block}_{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"pool{block}")(x)
    outputs = layers.GlobalMaxPooling2D(name="global_max_pool")(x)
    return keras.Model(inputs, outputs, name="vggface_vgg16")


def build_top_model(num_classes: int, *, features: int = 512):
    """Dense(128, relu) -> Dropout(0.5) -> Dense(K, softmax): 66,180 parameters for K=4."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(features,), name="features")
    x = layers.Dense(128, activation="relu", name="top_dense")(inputs)
    x = layers.Dropout(0.5, name="top_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="top_predictions")(x)
    return keras.Model(inputs, outputs, name="top")


def set_finetune_trainable(base, names=FINETUNE_LAYERS) -> None:
    """Freeze every layer of the base except ``names`` (the study: conv5_3 only)."""
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name in names


def build_finetune_model(num_classes: int, input_shape: tuple[int, int, int] = (128, 128, 3), *,
                         base=None, top=None):
    """Step 2: base (only conv5_3 trainable) + top model; 2,359,808 + 66,180 trainable for K=4."""
    import keras

    base = base if base is not None else build_vggface_base(input_shape)
    top = top if top is not None else build_top_model(num_classes)
    set_finetune_trainable(base)
    top.trainable = True
    inputs = keras.Input(shape=tuple(base.input_shape[1:]), name="image")
    return keras.Model(inputs, top(base(inputs)), name="vggface_finetune")


def count_params(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _walk_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk_layers(layer)


def _str_attr(group, name: str) -> list[str]:
    """A list-of-strings attribute as Keras 2 wrote it (possibly chunked as name0, name1, ...)."""
    if name in group.attrs:
        raw = list(group.attrs[name])
    else:
        raw, i = [], 0
        while f"{name}{i}" in group.attrs:
            raw.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in raw]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_vggface_weights(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{conv name: (kernel, bias)} from a legacy Keras 2 HDF5 file; raises
    :class:`WeightsMismatch` naming the first missing layer or wrong shape."""
    import h5py

    path = Path(path)
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise WeightsMismatch(f"VGGFace weights {path}: not a readable HDF5 file ({exc})") from None
    out = {}
    with fh:
        root = fh["model_weights"] if "layer_names" not in fh.attrs and "model_weights" in fh else fh
        names = _str_attr(root, "layer_names") or list(root.keys())
        for name, (kernel_shape, bias_shape) in conv_shapes().items():
            if name not in names or name not in root:
                raise WeightsMismatch(f"VGGFace weights {path}: layer {name!r} missing "
                                      f"(the file has {', '.join(names) or 'no layers'})")
            group = root[name]
            arrays = [np.asarray(group[w]) for w in _str_attr(group, "weight_names")]
            kernels = [a for a in arrays if a.ndim == 4]
            biases = [a for a in arrays if a.ndim == 1]
            if len(arrays) != 2 or len(kernels) != 1 or len(biases) != 1:
                raise WeightsMismatch(f"VGGFace weights {path}: layer {name!r} should hold a kernel and a "
                                      f"bias, found shapes {[a.shape for a in arrays]}")
            for what, got, want in (("kernel", kernels[0], kernel_shape), ("bias", biases[0], bias_shape)):
                if got.shape != want:
                    raise WeightsMismatch(f"VGGFace weights {path}: layer {name!r} {what} has shape "
                                          f"{got.shape}, expected {want}")
            out[name] = (kernels[0], biases[0])
    return out


def load_vggface_weights(model, path: Path) -> str:
    """Set the 13 conv layers of ``model`` (a base, or a model containing one) from the
    weights file, all or nothing; returns the file's SHA-256."""
    targets = {layer.name: layer for layer in _walk_layers(model) if layer.name in conv_shapes()}
    missing = [name for name in conv_shapes() if name not in targets]
    if missing:
        raise WeightsMismatch(f"model {model.name!r} lacks VGGFace layer {missing[0]!r}")
    weights = read_vggface_weights(Path(path))
    for name, (kernel, bias) in weights.items():
        layer = targets[name]
        want = tuple(tuple(w.shape) for w in layer.weights)
        if want != (kernel.shape, bias.shape):
            raise WeightsMismatch(f"model layer {name!r} has weight shapes {want}, the file "
                                  f"{(kernel.shape, bias.shape)}")
    for name, (kernel, bias) in weights.items():
        targets[name].set_weights([kernel, bias])
    return file_sha256(Path(path))


def _unavailable(where: Path, reason: str) -> WeightsUnavailable:
    return WeightsUnavailable(
        f"VGGFace weights {WEIGHTS_FILENAME} unavailable: {reason}. Get the keras-vggface v2.0 release "
        f"file from {WEIGHTS_URL} and put it at {where}, or point {WEIGHTS_ENV} (or the training "
        f"config's weights_path) at it.")


def ensure_weights(path_or_none: str | Path | None = None, *, allow_download: bool = False,
                   cache_dir: Path | None = None, timeout: float = 60.0) -> Path:
    """The weights file: the configured path (argument, else ``$ACADEMIC_FACES_VGGFACE_WEIGHTS``),
    else the cache ``~/.academic-faces/weights/``, else a download into the cache when
    allowed. Raises :class:`WeightsUnavailable` at once when none of these works."""
    configured = path_or_none or os.environ.get(WEIGHTS_ENV) or None
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        raise _unavailable(path, f"the configured file {path} does not exist")
    cached = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / WEIGHTS_FILENAME
    if cached.is_file():
        return cached
    if not allow_download:
        raise _unavailable(cached, f"not in the cache {cached.parent} and downloads are off")
    cached.parent.mkdir(parents=True, exist_ok=True)
    part = cached.with_name(cached.name + ".part")
    try:
        with urllib.request.urlopen(WEIGHTS_URL, timeout=timeout) as response, open(part, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
        part.replace(cached)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        raise _unavailable(cached, f"download from {WEIGHTS_URL} failed ({exc})") from None
    return cached
