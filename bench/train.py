"""Benchmark: training cost and accuracy on the person-grouped gender task (LFW).

Builds a gender-balanced set of face crops from ../shared/data (crops with the project's
FaceCropper, split 70/20/10 by identity with ml.split, so no person is in two splits),
then reports, on this machine:
- `cnn` (the study's architecture): seconds per epoch on ~1,000 crops, test accuracy;
- `probe`: dlib embedding seconds per face, fit seconds (C by grouped CV), test accuracy.
Chance is 0.5 (balanced classes).

    .venv/bin/python bench/train.py [--images 1000] [--epochs 30]
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def gender_crops(data: Path, images: int, folder: Path) -> pd.DataFrame:
    """Crop a balanced, deterministic sample; returns id, group (identity), category (gender), split."""
    from ml.crop import FaceCropper
    from ml.split import SplitConfig, assign_splits

    rows = list(csv.DictReader(open(data / "faces" / "lfw_labels.csv", newline="")))
    picked = {"female": [], "male": []}
    for row in sorted(rows, key=lambda r: r["path"]):
        if row["gender"] in picked and len(picked[row["gender"]]) < images // 2:
            picked[row["gender"]].append(row)
    cropper, items = FaceCropper(size=128), []
    for gender, chosen in picked.items():
        for row in chosen:
            outcome = cropper.crop((data / "faces" / row["path"]).read_bytes())
            if outcome.crop:
                image_id = Path(row["path"]).stem
                (folder / "crops").mkdir(parents=True, exist_ok=True)
                (folder / "crops" / f"{image_id}.jpg").write_bytes(outcome.crop)
                items.append({"id": image_id, "group": row["identity"], "category": gender, "department": "lfw"})
    splits, _ = assign_splits(pd.DataFrame(items), SplitConfig(seed=0))
    for row in splits.itertuples():
        target = folder / "layout" / row.split / row.category / f"{row.id}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((folder / "crops" / f"{row.id}.jpg").read_bytes())
    return splits


def bench_cnn(folder: Path, splits: pd.DataFrame, epochs: int) -> dict:
    from PIL import Image

    from ml.train_keras import KerasTrainConfig, predict_keras, train_keras

    started = time.perf_counter()
    outcome = train_keras(folder / "layout", KerasTrainConfig(model="cnn", epochs=epochs, patience=epochs),
                          folder / "cnn")
    seconds = time.perf_counter() - started
    test = splits[splits["split"] == "test"]
    images = np.stack([np.asarray(Image.open(folder / "crops" / f"{i}.jpg")) for i in test["id"]])
    predicted = np.asarray(outcome.labels)[predict_keras(outcome.model_path, images).argmax(axis=1)]
    epochs_run = len(outcome.history["loss"])
    return {"seconds_per_epoch": seconds / epochs_run, "epochs": epochs_run, "best_epoch": outcome.best_epoch,
            "val_accuracy": outcome.val_accuracy, "test_accuracy": float((predicted == test["category"]).mean())}


def bench_probe(folder: Path, splits: pd.DataFrame) -> dict:
    from ml.embeddings import FaceEmbedder
    from ml.probe import ProbeConfig, train_probe

    embedder = FaceEmbedder()
    started = time.perf_counter()
    vectors = {i: embedder.embed((folder / "crops" / f"{i}.jpg").read_bytes()) for i in splits["id"]}
    embed_seconds = (time.perf_counter() - started) / len(vectors)
    outcome = train_probe({k: v for k, v in vectors.items() if v is not None}, splits, ProbeConfig())
    return {"embed_seconds_per_face": embed_seconds, "fit_seconds": outcome.fit_seconds, "best_C": outcome.best_C,
            "val_accuracy": outcome.val_accuracy, "test_accuracy": outcome.test_accuracy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        splits = gender_crops(Path(args.data), args.images, folder)
        counts = splits.groupby(["split", "category"]).size().unstack(fill_value=0)
        print(f"gender task: {len(splits)} crops of {splits['group'].nunique()} people "
              f"(made in {time.perf_counter() - started:.0f} s)\n{counts}")
        cnn = bench_cnn(folder, splits, args.epochs)
        print(f"cnn:   {cnn['seconds_per_epoch']:.2f} s/epoch over {cnn['epochs']} epochs "
              f"(best {cnn['best_epoch']}), val {cnn['val_accuracy']:.3f}, test {cnn['test_accuracy']:.3f}")
        probe = bench_probe(folder, splits)
        print(f"probe: embedding {probe['embed_seconds_per_face'] * 1000:.0f} ms/face (1 process), fit "
              f"{probe['fit_seconds']:.1f} s (C={probe['best_C']}), val {probe['val_accuracy']:.3f}, "
              f"test {probe['test_accuracy']:.3f}")
    print("chance: 0.500 (balanced)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
