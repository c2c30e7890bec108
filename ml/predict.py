"""Prediction: photo -> face crop -> class probabilities, with a trained run's model.

A model comes from the object store (a run id, or the latest run of a kind) or from a
local run folder (as `download_run` writes it: model file plus labels.json/config.json).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.crop import FaceCropper


class NoFaceFound(ValueError):
    """The photo has no usable face (the reason says why)."""


@dataclass
class Prediction:
    source: str
    probabilities: dict[str, float]

    @property
    def label(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)


class Predictor:
    """A loaded model: `kind` (probe, cnn, vggface), its labels and a predict function."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        self.labels: list[str] = json.loads((folder / "labels.json").read_text())
        self.kind: str = json.loads((folder / "config.json").read_text())["kind"]
        self.folder = folder
        self.cropper = FaceCropper(size=128)
        if self.kind == "probe":
            from ml.embeddings import FaceEmbedder
            from ml.probe import load_probe

            self.model = load_probe(folder / "model.joblib").model
            self.embedder = FaceEmbedder()

    def crop(self, data: bytes, source: str) -> bytes:
        outcome = self.cropper.crop(data)
        if outcome.crop is None:
            detail = f" ({outcome.detail})" if outcome.detail else ""
            raise NoFaceFound(f"{source}: no face found: {outcome.reason}{detail}")
        return outcome.crop

    def predict_crops(self, crops: list[bytes]) -> np.ndarray:
        """Probabilities (N, K) in `labels` order for 128x128 face crops (JPEG bytes)."""
        if self.kind == "probe":
            from ml.probe import predict_probe

            vectors = [self.embedder.embed(c) for c in crops]
            if any(v is None for v in vectors):
                raise NoFaceFound("the face embedding failed on a crop")
            return predict_probe(self.model, np.stack(vectors))
        from PIL import Image

        from ml.train_keras import predict_keras

        images = np.stack([np.asarray(Image.open(io.BytesIO(c)).convert("RGB")) for c in crops])
        return predict_keras(self.folder / "model.keras", images)

    def predict_photo(self, data: bytes, source: str) -> Prediction:
        proba = self.predict_crops([self.crop(data, source)])[0]
        return Prediction(source, {label: float(p) for label, p in zip(self.labels, proba)})
