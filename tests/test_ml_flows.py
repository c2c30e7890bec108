"""The Prefect flows `preprocess`, `train` and `evaluate` on a real (temporary, local) Prefect API."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from infra.settings import settings_env
from ml.runs import latest_run_id
from spiders.local_import import import_photos
from tests.conftest import run_artifact
from tests.test_train_e2e import gender_manifest

pytestmark = pytest.mark.slow


def test_preprocess_and_train_flows(prefect_api, settings, store, tmp_path, monkeypatch):
    from prefect.artifacts import Artifact

    from flows.evaluate import evaluate_flow
    from flows.preprocess import preprocess
    from flows.train import train

    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    gender_manifest(tmp_path / "gender.csv", per_gender=20)
    import_photos(store, tmp_path / "gender.csv", "lfw-gender", university="LFW")

    state = preprocess(workers=1, return_state=True)
    result = state.result()
    assert result["crops"] >= 39 and result["groups"] >= 20
    balance = run_artifact(state, "preprocess-balance")
    rows = json.loads(balance.data) if isinstance(balance.data, str) else balance.data
    assert {r["category"] for r in rows} >= {"female", "male"}
    assert "images/s" in run_artifact(state, "preprocess-summary").data

    state = train(model="probe", seed=0, return_state=True)
    trained = state.result()
    assert trained["run"] == latest_run_id(store, "probe")
    assert 0.0 <= trained["metrics"]["test_accuracy"] <= 1.0
    assert "validation accuracy" in run_artifact(state, "train-probe").data

    evaluated = evaluate_flow(model="probe", controls="blur", link_hours=2)
    key = trained["run"].lower()
    assert evaluated["run"] == trained["run"] and evaluated["controls"]["blur"]["status"] == "done"
    summary = Artifact.get(f"evaluation-{key}").data
    assert "Confound controls" in summary and "**blur**" in summary and "report.html" in summary
    assert f"**Face or website?** `{evaluated['verdict']}`" in summary
    assert "Where the model looks (occlusion, 4 test faces)" in summary  # saliency runs with the controls
    link = re.search(r"\((http[^)]+)\)", Artifact.get(f"report-{key}").data).group(1)  # a presigned URL
    assert "X-Amz-Expires=7200" in link
    with urllib.request.urlopen(link) as response:
        assert b"confusion-heatmap" in response.read()
    with pytest.raises(urllib.error.HTTPError):  # the bucket itself is private
        urllib.request.urlopen(link.split("?")[0])
    assert Artifact.get(f"per-class-{key}") is not None
