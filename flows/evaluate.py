"""Prefect flow `evaluate`: metrics, confound controls and the report of a trained run, with
artifacts: a markdown summary, tables, and time-limited presigned links to the report and
its pictures (the bucket stays private)."""
from __future__ import annotations

from datetime import timedelta

from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from flows.retries import STORAGE_RETRIES
from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore
from ml.evaluate import evaluate_run, parse_controls, report_key

MAX_LINK_HOURS = 7 * 24  # the longest an S3 v4 signature may live


@task(**STORAGE_RETRIES, task_run_name="evaluate-{kind}")
def evaluate(run: str | None, kind: str, controls: list[str], blur: float) -> dict:
    with storage_settings(load_settings()) as settings:
        metrics = evaluate_run(ObjectStore.from_settings(settings), run, kind, controls=controls, blur_sigma=blur)
    return {k: v for k, v in metrics.items() if k != "examples"}


@task(**STORAGE_RETRIES)
def report_links(run: str, hours: int) -> dict[str, str]:
    """Presigned GET links to reports/<run>/ objects, by file name."""
    with storage_settings(load_settings()) as settings:
        store = ObjectStore.from_settings(settings)
        prefix = report_key(run, "")
        return {o.key[len(prefix):]: store.presigned_url(o.key, timedelta(hours=hours)) for o in store.list(prefix)}


def summary_markdown(metrics: dict, links: dict[str, str], hours: int) -> str:
    lines = [f"# Evaluation of `{metrics['run']}` ({metrics['kind']})", "",
             f"Accuracy **{metrics['accuracy']:.3f}** (95 % CI {metrics['ci_low']:.3f}-{metrics['ci_high']:.3f}) "
             f"on {metrics['n_test']} test images; chance {metrics['chance']:.3f}, majority class "
             f"{metrics['majority_baseline']:.3f}; permutation p = {metrics['p_value']:.4f}.", "",
             f"**Face or website?** `{metrics.get('verdict', 'not assessed')}`: {metrics.get('verdict_reason', '')}",
             "", "## Confound controls", ""]
    lines += [f"- **{name.replace('_', ' ')}**: {c['finding']}" for name, c in metrics.get("controls", {}).items()]
    if excess := metrics.get("excess_over_demographic"):
        lines += ["", f"Excess over the demographic baseline (perceived gender alone): {excess['estimate']:+.3f} "
                      f"(95 % CI {excess['ci_low']:+.3f} to {excess['ci_high']:+.3f}, paired by person)."]
    looks = metrics.get("saliency") or {}
    for method in looks.get("methods", []):
        r = looks.get(method) or {}
        if r.get("face_share") is not None:
            lines += ["", f"Where the model looks ({method.replace('_', '-')}, {r['n']} test faces): "
                          f"{r['face_share']:.0%} of the saliency inside the face ellipse, which covers "
                          f"{r['face_area']:.0%} of the crop."]
    lines += ["", f"## Report and pictures (links valid {hours} h)", ""]
    lines += [f"- [{name}]({url})" for name, url in sorted(links.items(), key=lambda kv: kv[0] != "report.html")]
    return "\n".join(lines) + "\n"


@flow(name="evaluate", log_prints=True)
def evaluate_flow(run: str | None = None, model: str = "probe", controls: str = "none", blur: float = 0.08,
                  link_hours: int = 24) -> dict:
    """Evaluate `run` (default: the latest `model` run); `controls`: face_only, context_only, photo_style,
    blur, lodo, demographic (comma-separated), all or none."""
    wanted = parse_controls(controls)
    hours = max(1, min(int(link_hours), MAX_LINK_HOURS))
    with storage_settings(load_settings()):  # one embedded S3 server for all tasks
        metrics = evaluate(run, model, wanted, blur)
        links = report_links(metrics["run"], hours)
    key = metrics["run"].lower()  # artifact keys: lowercase letters, digits and dashes
    create_markdown_artifact(key=f"evaluation-{key}", markdown=summary_markdown(metrics, links, hours))
    create_table_artifact(key=f"per-class-{key}", description="per-class precision, recall, F1 (test split)",
                          table=[{"class": label, **values} for label, values in metrics["per_class"].items()])
    if metrics.get("per_department"):
        create_table_artifact(key=f"per-department-{key}", table=metrics["per_department"],
                              description="accuracy per department (test split, 95 % CI over people)")
    create_link_artifact(key=f"report-{key}", link=links["report.html"], link_text="report.html",
                         description=f"the evaluation report (link valid {hours} h)")
    return metrics
