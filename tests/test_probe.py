"""Face-embedding probe on real LFW photos: a person-grouped gender task must be learnt
(>= 0.90 test accuracy), random per-person labels must stay at chance, and the embedding
cache must make a second run compute nothing. Uses the session's gender world (~350 crops
cropped by the preprocess stage and embedded once, tests/worlds.py)."""
from __future__ import annotations

import io
import time
import uuid
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from infra.index import read_merged_index
from infra.store import ObjectStore
from ml import embeddings as emb
from ml.crop_stage import crop_key
from ml.embeddings import FaceEmbedder, embed_crops, embedding_key, embedding_pool, pack_key
from ml.preprocess import SPLITS, csv_frame
from ml.probe import ProbeConfig, load_probe, predict_probe, save_probe, train_probe
from ml.split import SplitConfig, assign_splits

pytestmark = pytest.mark.slow  # trains probes on real embeddings


@pytest.fixture(scope="module")
def probe_store(s3_server) -> ObjectStore:
    store = ObjectStore.connect(s3_server.endpoint, s3_server.access_key, s3_server.secret_key,
                                "t-" + uuid.uuid4().hex[:12])
    store.ensure_bucket()
    return store


@pytest.fixture(scope="module")
def lfw(probe_store, gender_world):
    """Items (id, group = person, category = gender) of the gender world, and their vectors."""
    gender_world.restore(probe_store)
    splits = csv_frame(probe_store.get_bytes(SPLITS))
    names = read_merged_index(probe_store).set_index("id")["name"]
    items = pd.DataFrame({"id": splits["id"], "group": names.loc[splits["id"]].to_numpy(),
                          "category": splits["category"]})
    start = time.perf_counter()
    vectors = embed_crops(probe_store, items["id"], crop_key=crop_key, workers=2)
    print(f"\n[probe] {len(items)} crops of {items['group'].nunique()} people; "
          f"{vectors.stats} in {time.perf_counter() - start:.1f} s")
    return SimpleNamespace(items=items, vectors=vectors)


@pytest.fixture(scope="module")
def gender(lfw):
    splits, conflicts = assign_splits(lfw.items, SplitConfig(train=0.7, test=0.2, validation=0.1, seed=0))
    assert not conflicts
    outcome = train_probe(lfw.vectors, splits, ProbeConfig())
    print(f"\n[probe] gender: {outcome.counts} images, C={outcome.best_C}, cv {outcome.cv_scores}, "
          f"val {outcome.val_accuracy:.3f}, test {outcome.test_accuracy:.3f}, fit {outcome.fit_seconds:.2f} s")
    return SimpleNamespace(splits=splits, outcome=outcome)


def test_gender_probe_learns_person_grouped_task(lfw, gender):
    splits, outcome = gender.splits, gender.outcome
    assert len(lfw.items) >= 300 and set(lfw.items["category"]) == {"female", "male"}
    assert lfw.vectors.stats["computed"] + lfw.vectors.stats["from_pack"] == len(lfw.items)
    per_person = splits.groupby("group")["split"].nunique()
    assert (per_person == 1).all(), "a person appears in two splits"
    assert set(splits["split"]) == {"train", "validation", "test"}
    assert outcome.skipped == 0 and outcome.labels == ["female", "male"]
    assert outcome.test_probabilities.shape == (len(outcome.test_ids), 2)
    test_ids = set(splits.loc[splits["split"] == "test", "id"])
    assert set(outcome.test_ids) == test_ids
    assert outcome.best_C in ProbeConfig().Cs and outcome.val_accuracy == outcome.cv_scores[outcome.best_C]
    assert outcome.test_accuracy >= 0.90, outcome
    assert outcome.val_accuracy >= 0.85


def test_random_labels_per_person_stay_at_chance(lfw):
    test_acc, val_acc = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        people = sorted(lfw.items["group"].unique())
        label = dict(zip(people, rng.choice(["a", "b"], size=len(people))))
        items = lfw.items.assign(category=lfw.items["group"].map(label))
        splits, _ = assign_splits(items, SplitConfig(seed=seed))
        outcome = train_probe(lfw.vectors, splits, ProbeConfig(seed=seed))
        test_acc.append(outcome.test_accuracy)
        val_acc.append(outcome.val_accuracy)
    print(f"\n[probe] random labels: test {np.round(test_acc, 3).tolist()}, val {np.round(val_acc, 3).tolist()}")
    assert max(test_acc) <= 0.70 and max(val_acc) <= 0.70
    assert abs(np.mean(test_acc) - 0.5) <= 0.12


def test_ids_without_embedding_are_skipped_and_counted(lfw, gender):
    splits = gender.splits
    dropped = splits["id"].iloc[:3].tolist()
    ghosts = pd.DataFrame({"id": [f"ghost{i}" for i in range(5)], "group": "ghost", "category": "male",
                           "split": "train"})
    vectors = {k: v for k, v in lfw.vectors.items() if k not in dropped}
    outcome = train_probe(vectors, pd.concat([splits, ghosts], ignore_index=True), ProbeConfig(Cs=(0.1,), folds=3))
    assert outcome.skipped == 8
    assert sum(outcome.counts.values()) == len(splits) - 3
    assert not set(dropped) & set(outcome.test_ids)


def test_save_load_round_trip_gives_same_probabilities(lfw, gender, tmp_path):
    outcome = gender.outcome
    X = np.stack([lfw.vectors[i] for i in outcome.test_ids])
    path = tmp_path / "probe.joblib"
    save_probe(outcome, path)
    loaded = load_probe(path)
    assert loaded.labels == outcome.labels and loaded.meta["best_C"] == outcome.best_C
    np.testing.assert_array_equal(predict_probe(loaded.model, X), outcome.test_probabilities)
    buffer = io.BytesIO()  # file objects work too (bytes for the object store)
    save_probe(outcome, buffer)
    model, labels, _ = load_probe(io.BytesIO(buffer.getvalue()))
    # one row goes through other BLAS kernels than the batch: equal up to the last bits
    np.testing.assert_allclose(predict_probe(model, X[0]), outcome.test_probabilities[:1], rtol=1e-9, atol=1e-12)
    path.write_bytes(b"not a probe")
    with pytest.raises(Exception):
        load_probe(path)


def test_cache_second_call_computes_nothing(lfw, probe_store, monkeypatch):
    store, ids = probe_store, lfw.items["id"].tolist()
    calls = []
    real_embed = FaceEmbedder.embed
    monkeypatch.setattr(FaceEmbedder, "embed", lambda self, data: calls.append(1) or real_embed(self, data))

    again = embed_crops(store, ids, crop_key=crop_key, workers=1)  # the pack answers: one GET
    assert calls == [] and again.stats["from_pack"] == len(ids) and again.stats["computed"] == 0
    assert list(again) == ids
    assert all(np.array_equal(again[i], lfw.vectors[i]) for i in ids)

    store.delete(pack_key())  # per-id objects: one LIST + threaded GETs, pack rewritten
    again = embed_crops(store, ids, crop_key=crop_key, workers=1)
    assert calls == [] and again.stats["from_objects"] == len(ids)
    assert store.exists(pack_key())

    lost = ids[:2]
    store.delete(pack_key())
    for i in lost:
        store.delete(embedding_key(i))
    progress = []
    again = embed_crops(store, [*ids[:10], "no-such-crop"], crop_key=crop_key, workers=1, pack=False,
                        on_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(3, 3)] and not store.exists(pack_key())
    assert len(calls) == 2 and again.stats["computed"] == 2 and again.stats["no_crop"] == 1
    assert "no-such-crop" not in again and len(again) == 10
    for i in lost:  # recomputed bit-identically (dlib is deterministic without jitter)
        np.testing.assert_array_equal(again[i], lfw.vectors[i])
        assert store.exists(embedding_key(i))


def test_a_shared_pool_serves_several_calls_and_stays_open(lfw, probe_store):
    store, ids = probe_store, lfw.items["id"].tolist()[:8]
    pool = embedding_pool(2)
    try:
        for variant in ("pool-a", "pool-b"):  # caches of their own: both compute, in the same processes
            got = embed_crops(store, ids, crop_key=crop_key, workers=2, variant=variant, pool=pool)
            assert got.stats["computed"] == len(ids)
            for i in ids:  # the same vectors as the session's own computation
                np.testing.assert_array_equal(got[i], lfw.vectors[i])
        assert pool.submit(sum, [1, 2]).result() == 3  # not shut down by embed_crops
    finally:
        pool.shutdown()
    assert embedding_pool(1) is None


def test_embedder_vectors_and_failures(lfw, probe_store):
    embedder = FaceEmbedder()
    crop = probe_store.get_bytes(crop_key(lfw.items["id"].iloc[0]))
    vector = embedder.embed(crop)
    assert vector.shape == (128,) and vector.dtype == np.float32 and np.isfinite(vector).all() and 0.2 < np.linalg.norm(vector) < 5
    assert embedder.embed(b"not an image") is None
    assert embedder.name == emb.MODEL_NAME and FaceEmbedder(jitters=2).name == "dlib-resnet-128-jitters2"
