"""Prefect flows `pipeline` (crawl -> preprocess -> train -> evaluate) and `retrain`
(preprocess -> train -> evaluate), the CLI's `academic-faces run`.

Each stage runs as a subflow with its own retried tasks. A stage whose inputs did not
change since it last succeeded is skipped (`infra.stages`: fingerprints of its input
objects and parameters, recorded in the shared object store), so an unchanged rerun only
recrawls (conditional requests) and checks fingerprints. With `fan_out=True` the crawl
runs one `crawl-department` flow run per department on the work pool (see flows/crawl.py).
"""
from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.crawl import crawl
from flows.crawl import _settings as crawl_settings
from flows.evaluate import evaluate_flow
from flows.preprocess import preprocess as preprocess_flow
from flows.retries import STORAGE_RETRIES
from flows.train import train as train_flow
from infra.services import open_store, storage_settings
from infra.settings import load_settings
from infra.stages import current_record, digest, index_digest, object_digest, write_record
from infra.store import ObjectStore, keys
from ml.evaluate import REPORT_LAST, parse_controls, report_key
from ml.preprocess import SPLITS
from ml.runs import MODELS
from spiders.roles import resolve_roles



def _fingerprint(store: ObjectStore, stage: str, params: dict) -> tuple[str, Callable[[dict], bool]]:
    """A stage's input fingerprint and the check that its recorded outputs still exist."""
    if stage == "crawl":
        return digest(stage, params), lambda o: store.exists(keys.RAW_INDEX)
    if stage == "preprocess":
        return digest(stage, index_digest(store, keys.RAW_INDEX), params), lambda o: store.exists(SPLITS)
    if stage.startswith("train-"):
        return (digest(stage, object_digest(store, SPLITS), params),
                lambda o: store.exists(f"{MODELS}{o.get('run')}/config.json"))
    return (digest(stage, object_digest(store, SPLITS), params),
            lambda o: store.exists(report_key(o.get("run", ""), REPORT_LAST)))


@task(**STORAGE_RETRIES, task_run_name="check-{stage}")
def check_stage(stage: str, params: dict, force: bool, max_age_hours: float | None = None) -> tuple[str, dict | None]:
    """(fingerprint, the recorded outputs when the stage can be skipped)."""
    with open_store(load_settings()) as store:
        fingerprint, outputs_exist = _fingerprint(store, stage, params)
        record = None if force else current_record(store, stage, fingerprint, outputs_exist, max_age_hours)
    return fingerprint, None if record is None else record.outputs


@task(**STORAGE_RETRIES, task_run_name="record-{stage}")
def record_stage(stage: str, fingerprint: str, outputs: dict, seconds: float) -> None:
    with open_store(load_settings()) as store:
        write_record(store, stage, fingerprint, outputs, seconds)


def run_stage(stage: str, params: dict, force: bool, run: Callable[[], dict],
              max_age_hours: float | None = None) -> dict:
    """Run `run` unless the stage's inputs are unchanged; returns the stage's row."""
    fingerprint, outputs = check_stage(stage, params, force, max_age_hours)
    if outputs is not None:
        get_run_logger().info("%s: inputs unchanged, skipped", stage)
        return {"stage": stage, "status": "skipped", "seconds": 0.0, "outputs": outputs}
    started = time.perf_counter()
    outputs = run()
    seconds = time.perf_counter() - started
    record_stage(stage, fingerprint, outputs, seconds)
    return {"stage": stage, "status": "ran", "seconds": round(seconds, 2), "outputs": outputs}


def _preprocess(size: int, split_by: str, seed: int, roles: str) -> dict:
    result = preprocess_flow(size=size, split_by=split_by, seed=seed, roles=roles)
    return {"crops": result["crops"], "rejects": result["rejects"], "groups": result["groups"]}


def _train(kind: str, epochs: int | None, seed: int) -> dict:
    result = train_flow(model=kind, epochs=epochs, seed=seed)
    return {"run": result["run"], "val_accuracy": result["metrics"].get("val_accuracy")}


def _evaluate(run: str, controls: str, blur: float) -> dict:
    metrics = evaluate_flow(run=run, controls=controls, blur=blur)
    return {"run": run, "report": report_key(run, REPORT_LAST),
            **{k: metrics[k] for k in ("accuracy", "ci_low", "ci_high", "chance", "p_value", "n_test")}}


@flow(name="retrain", log_prints=True)
def retrain(models: list[str] | None = None, epochs: int | None = None, seed: int = 0, controls: str = "none",
            blur: float = 0.08, size: int = 128, split_by: str = "person", force: bool = False,
            roles: str = "all") -> list[dict]:
    """Preprocess, then train and evaluate each model; stages with unchanged inputs are skipped.
    `roles`: role classes kept in the splits ('academic', 'all', or a list)."""
    rows, models = [], models or ["probe"]
    kept = list(resolve_roles(roles))  # by class, not as typed: the fingerprint sees what is kept
    with storage_settings(load_settings()):  # one embedded S3 server for every stage
        params = {"size": size, "split_by": split_by, "seed": seed, **({"roles": kept} if kept else {})}
        rows.append(run_stage("preprocess", params, force, lambda: _preprocess(size, split_by, seed, roles)))
        for kind in models:
            trained = run_stage(f"train-{kind}", {"epochs": epochs, "seed": seed}, force,
                                lambda kind=kind: _train(kind, epochs, seed))
            run_id = trained["outputs"]["run"]
            rows.append(trained)
            # the controls by name, not as typed: "all" grows when a control is added
            wanted = parse_controls(controls)
            rows.append(run_stage(f"evaluate-{kind}", {"run": run_id, "controls": wanted, "blur": blur}, force,
                                  lambda run_id=run_id: _evaluate(run_id, controls, blur)))
    return rows


@flow(name="pipeline", log_prints=True)
def pipeline(departments_file: str | None = None, only: list[str] | None = None, models: list[str] | None = None,
             epochs: int | None = None, seed: int = 0, controls: str = "none", fan_out: bool = False,
             recrawl_after_hours: float = 12.0, force: bool = False, link_hours: int = 24, roles: str = "all") -> dict:
    """The whole job: crawl, preprocess, train `models`, evaluate them; the final artifact links the reports."""
    with storage_settings(crawl_settings(departments_file)):
        crawl_row = crawl_stage(departments_file, only, fan_out, recrawl_after_hours, force)
        rows = [crawl_row, *retrain(models=models, epochs=epochs, seed=seed, controls=controls, force=force,
                                    roles=roles)]
        links = report_links(rows, link_hours)
    create_markdown_artifact(key="pipeline-summary", markdown=summary_markdown(rows, links, link_hours))
    if crawl_row["status"] == "failed":  # the other stages ran on the data there was; the run still fails
        raise RuntimeError(f"crawl failed: {crawl_row['outputs']['error']}")
    return {"stages": rows, "reports": links}


def crawl_stage(departments_file: str | None, only: list[str] | None, fan_out: bool, recrawl_after_hours: float,
                force: bool) -> dict:
    """The crawl's input is the web, which a fingerprint cannot see: it is skipped only when
    the same departments were crawled less than `recrawl_after_hours` ago (politeness; the
    weekly schedule does the regular recrawls). A failed department does not stop the
    pipeline: the later stages use the photos collected so far."""
    registry = crawl_settings(departments_file).departments_file
    params = {"registry": hashlib.sha256(Path(registry).read_bytes()).hexdigest(), "only": sorted(only or [])}

    def crawl_now() -> dict:
        crawled = crawl(departments_file, only, fan_out=fan_out)
        return {"departments": len(crawled)}
    try:
        return run_stage("crawl", params, force, crawl_now, max_age_hours=recrawl_after_hours)
    except Exception as exc:  # noqa: BLE001 - reported in the summary and re-raised at the end
        get_run_logger().error("crawl failed, continuing with the data already collected: %s", exc)
        return {"stage": "crawl", "status": "failed", "seconds": 0.0, "outputs": {"error": str(exc).splitlines()[0][:500]}}


@task(**STORAGE_RETRIES)
def report_links(rows: list[dict], hours: int) -> dict[str, str]:
    """Presigned links to each evaluated run's report.html (the bucket stays private)."""
    with open_store(load_settings()) as store:
        return {row["outputs"]["run"]: store.presigned_url(row["outputs"]["report"], timedelta(hours=hours))
                for row in rows if row["stage"].startswith("evaluate-")}


def summary_markdown(rows: list[dict], links: dict[str, str], hours: int) -> str:
    lines = ["# Pipeline", "", "| stage | status | seconds | result |", "|---|---|---|---|"]
    for row in rows:
        out = row["outputs"]
        result = (f"accuracy {out['accuracy']:.3f} (95 % CI {out['ci_low']:.3f}-{out['ci_high']:.3f}), "
                  f"chance {out['chance']:.3f}, p = {out['p_value']:.3g}" if "accuracy" in out
                  else ", ".join(f"{k} {v}" for k, v in out.items()))
        lines.append(f"| {row['stage']} | {row['status']} | {row['seconds']:.1f} | {result} |")
    lines += ["", f"Reports (links valid {hours} h):", ""]
    lines += [f"- [{run}: report.html]({url})" for run, url in links.items()]
    return "\n".join(lines) + "\n"
