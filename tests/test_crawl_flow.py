"""The Prefect flow `crawl` on a real (temporary, local) Prefect API: one task per
department, a summary table artifact, failures surfaced after retries."""
from __future__ import annotations

import json

import pytest

from infra.demosite import DemoServer, build_site
from infra.index import read_merged_index
from infra.settings import settings_env
from infra.store import ObjectStore
from tests.conftest import require_shared_data, run_artifact

pytestmark = pytest.mark.slow


def test_crawl_flow_runs_each_department_and_publishes_summary(prefect_api, settings, tmp_path, monkeypatch):
    from flows.crawl import crawl, crawl_department

    data = require_shared_data()
    truth = build_site(tmp_path / "site", data / "faces" / "lfw", data / "nonface", people_per_department=3, seed=11)
    with DemoServer(tmp_path / "site") as server:
        registry = tmp_path / "departments.yaml"
        registry.write_text(truth.departments_yaml(server.base_url))
        for name, value in settings_env(settings).items():
            monkeypatch.setenv(name, value)
        slugs = [d.slug for d in truth.departments if d.category != "mechanical"]  # no browser needed here
        state = crawl(departments_file=str(registry), only=slugs, return_state=True)
        summaries = state.result()

    assert [s["department"] for s in summaries] == slugs
    store = ObjectStore.from_settings(settings)
    index = read_merged_index(store)
    expected = {p.sha256 for d in truth.departments if d.slug in slugs for p in d.people}
    assert set(index.loc[index["status"] == "present", "sha256"]) == expected
    assert sum(s["new"] for s in summaries) == len(expected)

    artifact = run_artifact(state, "crawl-summary")
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [r["department"] for r in rows] == slugs + ["TOTAL"]
    assert rows[-1]["new"] == len(expected)
    assert crawl_department.retries == 2  # storage/network hiccups are retried by Prefect
    # No secret reaches the Prefect API: task parameters hold the slug and registry path only.
    assert settings.s3_secret_key not in json.dumps(rows)
