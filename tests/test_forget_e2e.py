"""Removal requests end to end through the CLI: crawl the demo university, preprocess,
train and evaluate; `forget --name` one person: every derived object goes (the bucket is
listed before and after), the denylist and the audit log record it without the name, the
affected model run is named; a recrawl does not collect the person again, and the next
split and training exclude them."""
from __future__ import annotations

import json

import pytest

from infra.index import read_merged_index
from infra.privacy import read_audit
from tests.demo import served_demo
from tests.test_train_e2e import run_json

pytestmark = pytest.mark.slow


def keys_of(store) -> set[str]:
    return {o.key for o in store.list("")}


def test_forget_a_person_everywhere_and_forever(cli, store, tmp_path):
    with served_demo(tmp_path, people_per_department=4) as (registry, truth):
        fast = {"ACADEMIC_FACES_DOWNLOAD_DELAY": "0.1"}
        cli("crawl", "--departments", str(registry), env=fast, timeout=600)
        cli("preprocess", "--workers", "2")
        trained = run_json(cli("train", "--model", "probe"))
        evaluated = json.loads(cli("evaluate", "--saliency", "on", "--json").stdout)
        learned = set(store.get_bytes(f"models/{trained['run']}/data_ids.txt").decode().split())
        person = next(p for d in truth.departments for p in d.people if p.sha256[:20] in learned)
        photo_id = person.sha256[:20]
        before = keys_of(store)
        assert {k for k in before if photo_id in k} >= {f"preprocessed/crops/{photo_id}.jpg"}

        dry = json.loads(cli("forget", "--name", person.name, "--dry-run", "--json").stdout)
        assert dry["ids"] == [photo_id] and dry["objects"] and keys_of(store) == before  # nothing changed

        out = cli("forget", "--name", person.name, "--reason", "asked by e-mail").stdout
        after = keys_of(store)
        assert not any(photo_id in k for k in after)  # raw image, crop, layout copy, embedding: all gone
        removed = before - after
        assert {k for k in before if photo_id in k} <= removed
        assert all(photo_id in k or "/examples-" in k or k.endswith(("report.html", "report.md")) for k in removed)
        assert trained["run"] in out and "cannot be untrained" in out and "academic-faces train --model probe" in out
        for key in ("raw/index.csv", "preprocessed/splits.csv", "preprocessed/groups.csv", "preprocessed/hashes.csv"):
            assert photo_id.encode() not in store.get_bytes(key)
        assert person.name.encode() not in store.get_bytes("raw/index.csv")
        denylist = store.get_bytes("privacy/denylist.csv").decode()
        assert person.name not in denylist and photo_id in denylist
        (audit,) = read_audit(store)
        assert audit["action"] == "forget" and audit["reason"] == "asked by e-mail"
        assert audit["images"] == 1 and audit["runs_trained_on_removed_data"] == [trained["run"]]
        assert person.name not in json.dumps(audit)

        # A person the report shows with a saliency map: the pictures of faces go, the mean maps stay.
        run = evaluated["run"]
        shown_id = evaluated["saliency"]["examples"][0]
        shown = next(p for d in truth.departments for p in d.people if p.sha256[:20] == shown_id)
        assert store.exists(f"reports/{run}/saliency-examples.png")
        cli("forget", "--name", shown.name)
        assert not store.exists(f"reports/{run}/saliency-examples.png") and store.exists(f"reports/{run}/saliency-mean.png")
        stripped = json.loads(store.get_bytes(f"reports/{run}/metrics.json"))
        assert shown_id not in stripped["saliency"]["examples"] and not any(shown_id in k for k in keys_of(store))

        # The person is never collected again, though the site still shows them.
        cli("crawl", "--departments", str(registry), env=fast, timeout=600)
    index = read_merged_index(store)
    assert not {photo_id, shown_id} & set(index["id"]) and not any(photo_id in k for k in keys_of(store))
    reports = [json.loads(store.get_bytes(o.key)) for o in store.list("raw/crawl-reports/")]
    assert sum(r["stats"].get("skip/denied", 0) for r in reports) == 2  # both forgotten people
    cli("preprocess", "--workers", "2")
    assert photo_id.encode() not in store.get_bytes("preprocessed/splits.csv")
    again = run_json(cli("train", "--model", "probe"))
    assert photo_id not in store.get_bytes(f"models/{again['run']}/data_ids.txt").decode().split()
