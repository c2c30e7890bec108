"""Prefect flow `train`: one model kind on the current splits. Object-store calls retry
with backoff inside the store layer; the training task itself is not retried blindly
(a failed fit is a result to look at, not a hiccup)."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore
from ml.train import train as train_model


@task(retries=0, task_run_name="train-{kind}")
def fit(kind: str, config: dict, tune: int = 0) -> dict:
    logger = get_run_logger()

    def on_epoch(epoch: int, logs: dict) -> None:
        logger.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in logs.items() if isinstance(v, float)})
    with storage_settings(load_settings()) as settings:
        run = train_model(ObjectStore.from_settings(settings), settings, kind, config=config, on_epoch=on_epoch,
                          tune=tune, on_trial=lambda n, params, score: logger.info(
                              "trial %d: inner score %.4f %s", n + 1, score, params))
    return {"run": run.run_id, "metrics": run.metrics}


@flow(name="train", log_prints=True)
def train(model: str = "probe", epochs: int | None = None, seed: int = 0, tune: int = 0) -> dict:
    """`tune` > 0: search that many hyper-parameter settings on train + validation first (ml/tune.py)."""
    if tune < 0:
        raise ValueError(f"tune is a number of search trials (0: no search), got {tune}")
    config = {"seed": seed, **({"epochs": epochs} if epochs and model != "probe" else {})}
    with storage_settings(load_settings()):
        result = fit(model, config, tune)
    metrics = result["metrics"]
    create_markdown_artifact(key=f"train-{model}", markdown=(
        f"# {model}: run `{result['run']}`\n\nvalidation accuracy {metrics.get('val_accuracy', float('nan')):.3f}; "
        f"trained in {metrics.get('train_seconds', 0):.0f} s on {metrics.get('images')}"))
    return result
