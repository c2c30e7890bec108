"""Where the model looks: occlusion sensitivity (any model) and Grad-CAM (cnn, vggface).

Occlusion: a neutral grey square slides over the crop on a ``grid`` x ``grid`` lattice; a
pixel's saliency is the mean drop of the predicted class's probability over the squares
that cover it (drops below zero count as zero). It treats the model as a black box, so it
shows what the whole pipeline uses: for the probe that includes the face embedder, which
only ever sees an aligned chip around the face (occluding the background cannot change its
answer; that is a property of the probe, and the map shows it).

Grad-CAM, in its HiResCAM form (Draelos & Carin 2020): the last convolution's feature maps
times the gradient of the predicted class's score (before the softmax) at each location, summed
over channels, rectified, upsampled to the crop. Plain Grad-CAM (Selvaraju et al. 2017) averages
the gradient over the map first, which is only faithful for global-pooling heads; the study's
CNN flattens its maps into a dense layer.

The face share: the part of a map's total saliency inside the face ellipse (ml.face_mask,
the region the face_only control keeps). A map spread evenly over the crop would put the
ellipse's area fraction there, about a quarter of a 128 px crop; the report prints both.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ml.face_mask import NEUTRAL_GREY, Ellipse, face_ellipse

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, H, W, 3) uint8 crops -> (N, K) probabilities
OCCLUSION_GRID = 4  # square positions per axis: 17 predictions per crop (the probe embeds each)
OCCLUSION_PATCH = 0.25  # the square's side as a fraction of the crop's side


@dataclass
class SaliencyMap:
    id: str
    label: str  # true class
    predicted: str
    method: str  # "occlusion" | "grad_cam"
    heat: np.ndarray  # (H, W) float >= 0, max 1 (all zeros: the model's answer never moved)
    ellipse: Ellipse
    face_share: float | None  # None for an all-zero map


@dataclass
class SaliencySummary:
    methods: list[str]
    maps: list[SaliencyMap] = field(default_factory=list)

    def to_json(self, shown: set[str]) -> dict:
        """Per method: mean face share overall and per true class; the mean ellipse area."""
        out: dict = {"methods": self.methods, "examples": sorted(shown)}
        for method in self.methods:
            rows = [m for m in self.maps if m.method == method]
            shares = [m.face_share for m in rows if m.face_share is not None]
            per_class: dict = {}
            for m in rows:
                per_class.setdefault(m.label, []).append(m.face_share)
            out[method] = {
                "face_share": _mean(shares),
                "n": len(rows),
                "n_flat": sum(m.face_share is None for m in rows),
                "face_area": _mean([area_fraction(m.ellipse, *m.heat.shape[::-1]) for m in rows]),
                "per_class": {label: {"face_share": _mean([s for s in v if s is not None]), "n": len(v)}
                              for label, v in sorted(per_class.items())},
            }
        return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def area_fraction(ellipse: Ellipse, width: int, height: int) -> float:
    return float(ellipse.mask(width, height).mean())


def face_share(heat: np.ndarray, ellipse: Ellipse) -> float | None:
    total = float(heat.sum())
    if total <= 0:
        return None
    return float(heat[ellipse.mask(heat.shape[1], heat.shape[0])].sum() / total)


def occlusion_map(score: Scorer, rgb: np.ndarray, target: int, *, grid: int = OCCLUSION_GRID,
                  patch: float = OCCLUSION_PATCH) -> np.ndarray:
    """(H, W) map in [0, 1]: how much hiding each region lowers the probability of `target`."""
    batch, boxes = occlusion_batch(rgb, grid=grid, patch=patch)
    return occlusion_heat(np.asarray(score(batch))[:, target], boxes, rgb.shape[:2])


def occlusion_batch(rgb: np.ndarray, *, grid: int = OCCLUSION_GRID, patch: float = OCCLUSION_PATCH):
    """The crop itself, then one copy per square position with that square grey; and the squares
    as (y, x, height, width)."""
    height, width = rgb.shape[:2]
    ph, pw = max(1, round(height * patch)), max(1, round(width * patch))
    ys = np.linspace(0, height - ph, grid).round().astype(int)
    xs = np.linspace(0, width - pw, grid).round().astype(int)
    boxes = [(int(y), int(x), ph, pw) for y in ys for x in xs]
    batch = np.repeat(rgb[None], len(boxes) + 1, axis=0)
    for k, (y, x, h, w) in enumerate(boxes, start=1):
        batch[k, y:y + h, x:x + w] = NEUTRAL_GREY
    return batch, boxes


def occlusion_heat(proba: np.ndarray, boxes: list[tuple[int, int, int, int]], shape: tuple[int, int]) -> np.ndarray:
    """Map from the target's probability on the crop (proba[0]) and on each occluded copy."""
    drops = np.maximum(proba[0] - proba[1:], 0.0)
    total = np.zeros(shape, dtype=np.float64)
    cover = np.zeros(shape, dtype=np.float64)
    for drop, (y, x, h, w) in zip(drops, boxes):
        total[y:y + h, x:x + w] += drop
        cover[y:y + h, x:x + w] += 1
    return _normalised(np.divide(total, cover, out=np.zeros_like(total), where=cover > 0))


def _normalised(heat: np.ndarray) -> np.ndarray:
    top = float(heat.max())
    return (heat / top).astype(np.float32) if top > 0 else np.zeros(heat.shape, dtype=np.float32)


def grad_cam_maps(model, images: np.ndarray, targets: list[int], size: tuple[int, int]) -> list[np.ndarray]:
    """Grad-CAM of a Keras model (the study's CNN, or vggface's base + top) for model-ready
    `images` (N, h, w, c); maps upsampled to `size` (H, W), each in [0, 1]. The gradient is the
    class score's before the softmax: a confident model's probability is flat (exactly 1.0 in
    float32), its score is not."""
    import tensorflow as tf

    conv_model, head = _grad_cam_parts(model)
    x = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        conv, features = conv_model(x, training=False)
        scores = head(features)
        picked = tf.gather(scores, targets, axis=1, batch_dims=1)
    grads = tape.gradient(picked, conv)
    # HiResCAM: gradient x activation at each location, not Grad-CAM's spatially averaged
    # gradient; the study's CNN flattens its feature maps, where that average cancels out
    cams = tf.nn.relu(tf.reduce_sum(grads * conv, axis=-1))[..., None]
    cams = tf.image.resize(cams, size, method="bilinear").numpy()[..., 0]
    return [_normalised(c.astype(np.float64)) for c in cams]


def _grad_cam_parts(model):
    """(inputs -> [last conv output, input of the softmax layer], that input -> class scores) for
    a flat model or input -> conv base -> top (vggface)."""
    import keras

    def last_conv(m):
        convs = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D)]
        return convs[-1] if convs else None

    def scores_of(dense):
        kernel, bias = (w for w in dense.weights)
        return lambda h: h @ kernel + bias  # the Dense layer without its softmax

    conv = last_conv(model)
    if conv is not None:
        last = model.layers[-1]
        return keras.Model(model.inputs, [conv.output, last.input]), scores_of(last)
    nested = [layer for layer in model.layers if hasattr(layer, "layers")]
    if len(nested) == 2 and last_conv(nested[0]) is not None:
        base, top = nested
        below = keras.Model(top.inputs, top.layers[-1].input)
        score = scores_of(top.layers[-1])
        return keras.Model(base.inputs, [last_conv(base).output, base.output]), lambda f: score(below(f))
    raise ValueError(f"Grad-CAM needs a model with a Conv2D layer, or input -> conv base -> top; "
                     f"{model.name!r} is neither")


def decode_rgb(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("RGB"))


def crop_scorer(predictor, pool=None) -> Scorer:
    """A Scorer for a loaded ml.predict.Predictor (probe: embed then classify; keras: the model).
    `pool`: embedding worker processes (ml.embeddings.embedding_pool) for the probe's embeddings."""
    if predictor.kind == "probe":
        from ml.probe import predict_probe

        def score(batch: np.ndarray) -> np.ndarray:
            return predict_probe(predictor.model, _embed_many(predictor, batch, pool))
        return score
    from ml.train_keras import fit_input

    model = keras_model(predictor)

    def score_keras(batch: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(fit_input(batch, tuple(model.input_shape[1:])), verbose=0, batch_size=64))
    return score_keras


def _embed_many(predictor, batch: np.ndarray, pool) -> np.ndarray:
    if pool is None:
        vectors = [predictor.embedder.embed_array(b) for b in batch]
    else:
        from PIL import Image

        from ml.embeddings import BATCH, _embed_batch

        def png(rgb: np.ndarray) -> bytes:  # lossless: the grey square stays exactly grey
            out = io.BytesIO()
            Image.fromarray(rgb).save(out, "PNG", compress_level=1)
            return out.getvalue()
        items = [(str(k), png(b)) for k, b in enumerate(batch)]
        chunks = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
        vectors = [v for done in pool.map(_embed_batch, chunks) for _, v in done]
    if any(v is None for v in vectors):
        raise RuntimeError("the face embedding failed on an occluded crop")
    return np.stack(vectors)


def keras_model(predictor):
    import keras

    from ml.models.vggface import register_custom_objects

    if getattr(predictor, "_keras_model", None) is None:
        register_custom_objects()
        predictor._keras_model = keras.models.load_model(str(predictor.folder / "model.keras"), compile=False)
    return predictor._keras_model


def saliency_maps(predictor, crops: dict[str, bytes], truth: dict[str, str], detector=None,
                  pool=None) -> SaliencySummary:
    """Occlusion maps (and Grad-CAM for Keras models) of each crop, for the class the model
    predicts on it; the occluded copies of all crops are scored in one batch."""
    from ml.train_keras import fit_input

    methods = ["occlusion"] + ([] if predictor.kind == "probe" else ["grad_cam"])
    summary = SaliencySummary(methods)
    score = crop_scorer(predictor, pool)
    labels = predictor.labels
    ids = sorted(crops)
    rgbs = {i: decode_rgb(crops[i]) for i in ids}
    batches = {i: occlusion_batch(rgbs[i]) for i in ids}
    proba = np.asarray(score(np.concatenate([batches[i][0] for i in ids]))) if ids else np.zeros((0, len(labels)))
    start = 0
    for i in ids:
        batch, boxes = batches[i]
        rows = proba[start:start + len(batch)]
        start += len(batch)
        target = int(np.argmax(rows[0]))
        ellipse = face_ellipse(rgbs[i], detector)
        heat = occlusion_heat(rows[:, target], boxes, rgbs[i].shape[:2])
        summary.maps.append(SaliencyMap(i, truth[i], labels[target], "occlusion", heat, ellipse,
                                        face_share(heat, ellipse)))
        if "grad_cam" in methods:
            model = keras_model(predictor)
            x = fit_input(rgbs[i][None], tuple(model.input_shape[1:]))
            cam = grad_cam_maps(model, x, [target], rgbs[i].shape[:2])[0]
            summary.maps.append(SaliencyMap(i, truth[i], labels[target], "grad_cam", cam, ellipse,
                                            face_share(cam, ellipse)))
    return summary
