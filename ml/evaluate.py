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
from ml.predict import Predictor
from ml.runs import MODELS, download_run, latest_run_id, load_run, read_json
from ml.train import load_splits

REPORTS = "reports/"
CONTROL_NAMES = {"blur": "blur", "lodo": "leave_one_department_out"}
REPORT_LAST = "report.html"  # written last: once it exists, the whole report does


def report_key(run_id: str, name: str) -> str:
    return f"{REPORTS}{run_id}/{name}"


def parse_controls(text: str | Iterable[str] | None) -> list[str]:
    """'blur,lodo' / 'all' / 'none' -> control names, with a clear error for unknown ones."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text or []) if t.strip()]
    if items in (["all"], ["none"]):
        return list(CONTROL_NAMES) if items == ["all"] else []
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
                 seed: int = 0, on_step: Callable[[str], None] | None = None) -> dict:
    """Metrics and report of a run (default: the latest of `kind`) on the current test split."""
    step = on_step or (lambda _: None)
    wanted = parse_controls(controls)
    run_id = run_id or latest_run_id(store, kind)
    run = load_run(store, run_id)
    splits, fingerprint = load_splits(store)
    test = splits[splits["split"] == "test"].reset_index(drop=True)
    if test.empty:
        raise RuntimeError("the test split is empty: more data is needed")
    step("predicting the test split")
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        predictor = Predictor(download_run(store, run_id, Path(tmp)))
        ids = test["id"].tolist()
        proba = test_probabilities(store, predictor, ids)
    labels, truth = predictor.labels, test["category"].tolist()
    unknown = sorted(set(truth) - set(labels))
    if unknown:
        raise RuntimeError(f"the test split has categories the model never learned: {unknown}; retrain on "
                           "the current splits")
    metrics = evaluate_predictions(truth, proba, labels, groups=test["group"].tolist(),
                                   n_permutations=n_permutations, seed=seed)
    placed = ctl.with_departments(splits, read_merged_index(store))
    metrics.update(run=run_id, kind=run.kind, data_fingerprint=fingerprint,
                   same_data_as_training=fingerprint == run.config.get("data_fingerprint"),
                   examples=examples(ids, truth, proba, labels, groups=test["group"].tolist()),
                   per_department=ctl.per_department(placed[placed["split"] == "test"].reset_index(drop=True),
                                                     proba, labels))
    metrics["controls"] = run_controls(store, run, splits, placed, metrics, wanted, blur_sigma=blur_sigma,
                                       n_permutations=n_permutations, seed=seed, step=step)
    step("writing the report")
    write_report(store, run_id, metrics)
    return metrics


def run_controls(store, run, splits, placed, main: dict, wanted: list[str], *, blur_sigma: float,
                 n_permutations: int, seed: int, step: Callable[[str], None]) -> dict:
    config = ctl.model_config_of(run.config)
    out = {}
    for name, long_name in CONTROL_NAMES.items():
        if name not in wanted:
            out[long_name] = ctl.not_run(name)
            continue
        step(f"control: {long_name.replace('_', ' ')} (retrains {run.kind})")
        if name == "blur":
            out[long_name] = ctl.blur_control(store, run.kind, config, splits, sigma_fraction=blur_sigma,
                                              n_permutations=n_permutations, seed=seed)
        else:
            out[long_name] = ctl.lodo_control(store, run.kind, config, placed, main,
                                              n_permutations=n_permutations, seed=seed)
    return out


def write_report(store: ObjectStore, run_id: str, metrics: dict) -> dict[str, bytes]:
    """Render and upload the report; report.html goes last (its presence means complete)."""
    from ml.report import build_report

    try:
        history = read_json(store, f"{MODELS}{run_id}/history.json")
    except KeyNotFound:
        history = {}
    wanted = {row["id"] for rows in metrics["examples"].values() for kind in rows.values() for row in kind}
    images = {i: store.get_bytes(crop_key(i)) for i in sorted(wanted) if store.exists(crop_key(i))}
    files = build_report(metrics, history, images)
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
