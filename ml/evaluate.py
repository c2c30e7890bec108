"""Evaluate a trained run on its test split: metrics with uncertainty, chance, the study's
inspection, the per-department breakdown and (on request) the confound controls, written
as a report to ``reports/<run>/`` (report.html, report.md, metrics.json, pictures)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from infra.index import read_merged_index
from infra.store import KeyNotFound, ObjectStore
from ml import controls as ctl
from ml.crop_stage import crop_key
from ml.metrics import evaluate_predictions, examples
from ml.model_card import provenance
from ml.predict import Predictor
from ml.runs import MODELS, download_run, latest_run_id, load_run, read_json
from ml.train import DATA_IDS, load_splits
from ml.tune import TUNING_FILE, tuning_gap
from ml.verdict import decide_verdict

REPORTS = "reports/"
# the order they run and appear in; the context controls first, they decide the verdict
CONTROL_NAMES = ("face_only", "context_only", "photo_style", "blur", "lodo", "demographic")
REPORT_LAST = "report.html"  # written last: once it exists, the whole report does


def report_key(run_id: str, name: str) -> str:
    return f"{REPORTS}{run_id}/{name}"


def parse_controls(text: str | Iterable[str] | None) -> list[str]:
    """'blur,lodo' / 'all' / 'none' -> control names, with a clear error for unknown ones."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text or []) if t.strip()]
    if items in (["all"], ["none"]):
        return list(CONTROL_NAMES) if items == ["all"] else []
    items = ["lodo" if t == "leave_one_department_out" else t for t in items]
    unknown = sorted(set(items) - set(CONTROL_NAMES))
    if unknown:
        raise ValueError(f"unknown control(s) {unknown}; choose from {sorted(CONTROL_NAMES)}, 'all' or 'none'")
    return list(dict.fromkeys(items))


def test_probabilities(store: ObjectStore, predictor: Predictor, ids: list[str]) -> np.ndarray:
    if predictor.kind == "probe":
        from ml.embeddings import embed_crops
        from ml.probe import predict_probe

        vectors = embed_crops(store, ids, crop_key=crop_key)
        missing = [i for i in ids if i not in vectors]
        if missing:
            raise RuntimeError(f"{len(missing)} test crop(s) have no embedding, e.g. {missing[:3]}")
        return predict_probe(predictor.model, np.stack([vectors[i] for i in ids]))
    proba = [predictor.predict_crops([store.get_bytes(crop_key(i)) for i in ids[start:start + 256]])
             for start in range(0, len(ids), 256)]
    return np.concatenate(proba) if proba else np.zeros((0, len(predictor.labels)))


def evaluate_run(store: ObjectStore, run_id: str | None = None, kind: str = "probe", *,
                 controls: Iterable[str] = (), blur_sigma: float = ctl.DEFAULT_BLUR, n_permutations: int = 2000,
                 seed: int = 0, saliency: bool | None = None, on_step: Callable[[str], None] | None = None) -> dict:
    """Metrics and report of a run (default: the latest of `kind`) on the current test split.

    Saliency maps ("where the model looks") belong to the face-or-website analysis: computed
    when any control runs, unless `saliency` says otherwise."""
    step = on_step or (lambda _: None)
    wanted = parse_controls(controls)
    run_id = run_id or latest_run_id(store, kind)
    run = load_run(store, run_id)
    splits, fingerprint = load_splits(store)
    learned = learned_ids(store, run_id) or set()
    test = splits[(splits["split"] == "test") & ~splits["id"].isin(learned)].reset_index(drop=True)
    excluded = int(((splits["split"] == "test") & splits["id"].isin(learned)).sum())
    if test.empty:
        raise RuntimeError("the test split is empty: more data is needed" if not excluded else
                           f"every test photo ({excluded}) was used to train or validate run {run_id}: retrain "
                           "on the current splits")
    step("predicting the test split")
    ids, truth, groups = test["id"].tolist(), test["category"].tolist(), test["group"].tolist()
    maps = None
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        predictor = Predictor(download_run(store, run_id, Path(tmp)))
        labels = predictor.labels
        unknown = sorted(set(truth) - set(labels))
        if unknown:
            raise RuntimeError(f"the test split has categories the model never learned: {unknown}; retrain on "
                               "the current splits")
        proba = test_probabilities(store, predictor, ids)
        shown = examples(ids, truth, proba, labels, groups=groups)
        if (bool(wanted) if saliency is None else saliency):
            step("saliency: where the model looks")
            maps, pictured = saliency_of(store, predictor, ids, truth, shown)
    metrics = evaluate_predictions(truth, proba, labels, groups=groups, n_permutations=n_permutations, seed=seed)
    index = read_merged_index(store)
    placed = ctl.with_departments(splits, index)
    metrics.update(run=run_id, kind=run.kind, data_fingerprint=fingerprint,
                   same_data_as_training=fingerprint == run.config.get("data_fingerprint"),
                   excluded_trained_ids=excluded,
                   examples=shown,
                   per_department=ctl.per_department(placed.drop_duplicates("id").set_index("id").loc[ids]
                                                     .reset_index(), proba, labels))
    predicted = np.asarray(labels)[np.argmax(proba, axis=1)]
    main_correct = dict(zip(ids, (predicted == np.asarray(truth)).tolist()))
    metrics["controls"] = run_controls(store, run, splits, placed, metrics, wanted, blur_sigma=blur_sigma,
                                       index=index, main_correct=main_correct, n_permutations=n_permutations, seed=seed,
                                       step=step)
    if (excess := (metrics["controls"].get("demographic") or {}).get("excess_over_demographic")) is not None:
        metrics["excess_over_demographic"] = excess  # before the verdict, whose reason may name it
    metrics.update(decide_verdict(metrics))
    tuning = tuning_of(store, run_id)
    if tuning is not None:  # a tuned run: its search's best inner score next to this test accuracy
        metrics["tuning"] = tuning_gap(tuning, metrics["accuracy"])
    metrics["provenance"] = provenance(splits, index, split_roles(store))
    if maps is not None:
        metrics["saliency"] = maps.to_json(set(pictured))
    step("writing the report")
    write_report(store, run_id, metrics, saliency=maps)
    return metrics


def split_roles(store: ObjectStore) -> list[str]:
    """The role classes the current splits kept ([]: everyone), from preprocessed/split_config.json."""
    from ml.preprocess import SPLIT_CONFIG

    try:
        return list(json.loads(store.get_bytes(SPLIT_CONFIG)).get("roles") or [])
    except KeyNotFound:
        return []


SALIENCY_PER_CLASS = 2  # crops per true class in the mean maps (the probe embeds 17 copies of each)
SALIENCY_PICTURED = 2  # of them, example faces per class in the report's picture


def saliency_of(store: ObjectStore, predictor: Predictor, ids: list[str], truth: list[str], shown: dict):
    """Maps for a few test crops per class, the report's examples first; (summary, pictured ids)."""
    from ml.saliency import OCCLUSION_GRID, saliency_maps

    of_class: dict[str, list[str]] = {}
    for label, rows in shown.items():
        for kind in ("true_positives", "false_negatives", "false_positives"):
            of_class.setdefault(label, []).extend(r["id"] for r in rows.get(kind, []) if r.get("true") == label)
    for i, label in zip(ids, truth):
        of_class.setdefault(label, []).append(i)
    chosen = {label: list(dict.fromkeys(v))[:SALIENCY_PER_CLASS] for label, v in of_class.items()}
    pictured = [i for label in predictor.labels for i in chosen.get(label, [])[:SALIENCY_PICTURED]]
    crops = {i: store.get_bytes(crop_key(i)) for v in chosen.values() for i in v}
    by_id = dict(zip(ids, truth))
    pool = None
    if predictor.kind == "probe" and len(crops) * (OCCLUSION_GRID ** 2 + 1) >= 64:
        from ml.embeddings import embedding_pool

        pool = embedding_pool(ctl.embed_workers())
    try:
        summary = saliency_maps(predictor, crops, {i: by_id[i] for i in crops}, detector=predictor.cropper, pool=pool)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return summary, pictured


def run_controls(store, run, splits, placed, main: dict, wanted: list[str], *, blur_sigma: float,
                 index, main_correct: dict, n_permutations: int, seed: int, step: Callable[[str], None]) -> dict:
    from ml import context_controls as cc

    from ml.embeddings import embedding_pool

    config = ctl.model_config_of(run.config)
    common = {"main_correct": main_correct, "n_permutations": n_permutations, "seed": seed}
    # the controls on transformed crops embed every crop anew: one set of worker processes for all
    crop_controls = [n for n in ("face_only", "context_only", "blur") if n in wanted]
    many = run.kind == "probe" and len(crop_controls) > 1 and len(splits) >= ctl.EMBED_POOL_FROM
    pool = embedding_pool(ctl.embed_workers()) if many else None
    out = {}
    try:
        for name in CONTROL_NAMES:
            if name not in wanted:
                out[name] = ctl.not_run(name)
                continue
            step(f"control: {name.replace('_', ' ')}" + ("" if name in ("photo_style", "demographic")
                                                          else f" (retrains {run.kind})"))
            if name == "face_only":
                out[name] = cc.face_only_control(store, run.kind, config, splits, pool=pool, **common)
            elif name == "context_only":
                out[name] = cc.context_only_control(store, run.kind, config, splits, pool=pool, **common)
            elif name == "photo_style":
                out[name] = cc.photo_style_control(store, splits, index=index, **common)
            elif name == "demographic":
                from ml.demographic import demographic_control

                out[name] = demographic_control(store, splits, **common)
            elif name == "blur":
                out[name] = ctl.blur_control(store, run.kind, config, splits, sigma_fraction=blur_sigma, pool=pool,
                                             **common)
            else:
                out[name] = ctl.lodo_control(store, run.kind, config, placed, main, **common)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return out


def tuning_of(store: ObjectStore, run_id: str) -> dict | None:
    """The run's hyper-parameter search (models/<run>/tuning.json); None for untuned runs."""
    try:
        return read_json(store, f"{MODELS}{run_id}/{TUNING_FILE}")
    except KeyNotFound:
        return None


def learned_ids(store: ObjectStore, run_id: str) -> set[str] | None:
    """Ids the run trained or validated on (models/<run>/data_ids.txt); None for runs without it."""
    try:
        return set(store.get_bytes(f"{MODELS}{run_id}/{DATA_IDS}").decode().split())
    except KeyNotFound:
        return None


def write_report(store: ObjectStore, run_id: str, metrics: dict, saliency=None) -> dict[str, bytes]:
    """Render and upload the report; report.html goes last (its presence means complete).
    `saliency`: this evaluation's ml.saliency.SaliencySummary, for its pictures."""
    from ml.report import build_report

    try:
        history = read_json(store, f"{MODELS}{run_id}/history.json")
    except KeyNotFound:
        history = {}
    wanted = {row["id"] for rows in metrics["examples"].values() for kind in rows.values() for row in kind}
    wanted |= set((metrics.get("saliency") or {}).get("examples", []))
    images = {i: store.get_bytes(crop_key(i)) for i in sorted(wanted) if store.exists(crop_key(i))}
    files = build_report(metrics, history, images, saliency=saliency)
    for name in sorted(files, key=lambda n: n == REPORT_LAST):
        store.put_bytes(report_key(run_id, name), files[name], content_type(name))
    return files


def content_type(name: str) -> str:
    return {".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
            ".json": "application/json", ".png": "image/png"}.get(Path(name).suffix, "application/octet-stream")


def read_report_metrics(store: ObjectStore, run_id: str) -> dict:
    try:
        return json.loads(store.get_bytes(report_key(run_id, "metrics.json")))
    except KeyNotFound:
        raise no_report_error(run_id) from None


def no_report_error(run_id: str) -> RuntimeError:
    return RuntimeError(f"no report for run {run_id!r}: run `academic-faces evaluate --run {run_id}` first")


def download_report(store: ObjectStore, run_id: str, folder: Path) -> Path:
    """Copy reports/<run>/ into `folder`; returns the local report.html."""
    prefix = report_key(run_id, "")
    objects = list(store.list(prefix))
    if not any(o.key.endswith(REPORT_LAST) for o in objects):
        raise no_report_error(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        target = folder / obj.key[len(prefix):]
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(store.get_bytes(obj.key))
        tmp.replace(target)
    return folder / REPORT_LAST
