"""End to end: the CLI crawls the demo university (served on 127.0.0.1) into real
SeaweedFS, with real Chromium for the JavaScript department."""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from infra.demosite import DemoServer, build_site
from infra.index import read_merged_index, read_shard
from infra.store import ObjectStore, keys
from tests.conftest import require_shared_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, s3_server):
    data = require_shared_data()
    root = tmp_path_factory.mktemp("demo")
    truth = build_site(root / "site", data / "faces" / "lfw", data / "nonface", people_per_department=8, seed=7)
    with DemoServer(root / "site") as server:
        registry = root / "departments.yaml"
        registry.write_text(truth.departments_yaml(server.base_url))
        yield {"truth": truth, "server": server, "registry": registry, "site": root / "site",
               "bucket": "e2e-" + uuid.uuid4().hex[:8]}


@pytest.fixture
def demo_settings(settings, demo):
    return settings.replace(bucket=demo["bucket"])


@pytest.fixture
def demo_store(demo_settings):
    store = ObjectStore.from_settings(demo_settings)
    store.ensure_bucket()
    return store


@pytest.fixture
def crawl(cli, demo, demo_settings):
    from infra.settings import settings_env

    def run(*extra):
        return cli("crawl", "--departments", str(demo["registry"]), *extra, env=settings_env(demo_settings))
    return run


def present(store):
    index = read_merged_index(store)
    return index[index["status"] == "present"]


def test_first_crawl_stores_exactly_the_ground_truth(crawl, demo, demo_store):
    truth = demo["truth"]
    crawl()
    index = present(demo_store)
    expected = {p.sha256: (p.name, d.category) for d in truth.departments for p in d.people}
    found = {row.sha256: (row.name, row.category) for row in index.itertuples()}
    assert found == expected  # names, categories, and nothing else (no decoys, no disallowed)

    # Original bytes, byte for byte, under their content address.
    for row in index.itertuples():
        data = demo_store.get_bytes(row.image_key)
        assert hashlib.sha256(data).hexdigest() == row.sha256 and row.sha256.startswith(row.id)

    stored_urls = set(index["image_url"])
    assert not any(url.endswith(tuple(truth.decoy_paths)) for url in stored_urls)
    disallowed = {p.sha256 for p in truth.disallowed_people}
    assert disallowed and not disallowed & set(index["sha256"])
    assert not set(truth.absent_names) & set(index["name"])
    assert len(index[index["category"] == truth.department("mechanical").category]) == len(
        truth.department("mechanical").people)  # the JavaScript department was rendered

    # Every bad input was skipped with its reason, counted in the crawl reports.
    reports = [json.loads(demo_store.get_bytes(keys.crawl_report(d.slug))) for d in truth.departments]
    reasons = {}
    for report in reports:
        for key, value in report["stats"].items():
            if key.startswith("skip/"):
                reasons[key[5:]] = reasons.get(key[5:], 0) + value
    for reason in truth.bad_inputs:
        assert reasons.get(reason), f"no skip counted for {reason}: {reasons}"
    assert reasons.get("page_robots_disallowed") or reasons.get("robots_disallowed")
    assert demo["server"].hits("/intern/team.html") == 0


def test_recrawl_transfers_nothing_then_exactly_the_changed_photo(crawl, demo, demo_store):
    truth, server = demo["truth"], demo["server"]
    if read_merged_index(demo_store).empty:
        crawl()
    before = present(demo_store)
    images_before = {o.key for o in demo_store.list(keys.RAW_IMAGES)}

    server.reset_counters()
    crawl()
    assert server.image_bodies_served == 0, server.image_bodies()
    after = present(demo_store)
    assert set(after["id"]) == set(before["id"])
    assert (after.set_index("id")["last_seen"] >= before.set_index("id")["last_seen"]).all()
    assert (after.set_index("id")["first_seen"] == before.set_index("id")["first_seen"]).all()

    cs = truth.department("cs")
    changed = truth.replace_photo(demo["site"], cs.slug, 0, _other_face(truth))
    server.reset_counters()
    crawl()
    assert server.image_bodies_served == 1
    images_after = {o.key for o in demo_store.list(keys.RAW_IMAGES)}
    assert len(images_after - images_before) == 1
    shard = read_shard(demo_store, cs.slug)
    person = shard[shard["name"] == changed.name].set_index("status")
    assert person.loc["present", "sha256"] == changed.sha256
    assert "replaced" in person.index


def _other_face(truth):
    data = require_shared_data()
    used = {p.source_file for p in truth.people} | {p.source_file for p in truth.disallowed_people}
    for path in sorted((data / "faces" / "lfw").glob("*/*.jpg"))[::-1]:
        if str(path) not in used and path.name not in {u.rsplit("/", 1)[-1] for u in used}:
            return path
    raise AssertionError("no unused face")


def test_dry_run_lists_people_and_stores_nothing(cli, demo, settings, store):
    cs = demo["truth"].department("cs")
    out = cli("crawl", "--departments", str(demo["registry"]), "--only", cs.slug, "--dry-run").stdout
    for person in cs.people:
        assert person.name in out
    # Candidates before any download check: the ground truth plus the photos that only the
    # download would reject (404, decompression bomb, redirect loop).
    assert f"{cs.slug}: {len(cs.people) + 3} people (dry run)" in out
    assert list(store.list("")) == []  # the test's own bucket stays empty
    images_before = demo["server"].image_bodies_served
    found = json.loads(cli("crawl", "--departments", str(demo["registry"]), "--only", cs.slug, "--dry-run",
                           "--json").stdout)
    assert [d["slug"] for d in found] == [cs.slug] and found[0]["ok"]
    assert {p.name for p in cs.people} <= {p["name"] for p in found[0]["people"]}
    assert len(found[0]["people"]) == len(cs.people) + 3 and found[0]["skipped"]
    assert demo["server"].image_bodies_served == images_before  # pages only, never photos


def test_roles_are_kept_and_preprocess_roles_academic_leaves_admin_and_students_out(cli, crawl, demo, demo_settings,
                                                                                     demo_store):
    from infra.settings import settings_env
    from ml.preprocess import SPLITS, read_csv

    if read_merged_index(demo_store).empty:
        crawl()
    truth = {p.sha256: p for p in demo["truth"].people}
    index = present(demo_store)
    assert {"title", "role", "role_class"} <= set(index.columns)
    rows = index[index["sha256"].isin(truth)]
    right = sum(row.role_class == truth[row.sha256].role_class for row in rows.itertuples())
    wrong = [(row.name, row.role, row.role_class, truth[row.sha256].role_class) for row in rows.itertuples()
             if row.role_class != truth[row.sha256].role_class]
    print(f"role_class right for {right} of {len(rows)} people")  # README, with -s
    assert len(rows) == len(truth) and right >= 0.9 * len(rows), "\n".join(map(str, wrong))
    assert {"admin", "student", "professor"} <= {p.role_class for p in truth.values()}  # the world has them
    chair = next(p for p in truth.values() if p.name.startswith("Prof. Dr."))
    assert index.set_index("sha256").loc[chair.sha256, "title"].startswith("Prof. Dr.")

    env = settings_env(demo_settings)
    out = cli("preprocess", "--workers", "2", "--roles", "academic", env=env).stdout
    assert "roles" in out and "student" in out  # the table says who was left out
    splits = read_csv(demo_store, SPLITS, ["id", "group", "category", "split"])
    kept = read_merged_index(demo_store).drop_duplicates("id").set_index("id").loc[splits["id"]]  # replaced too
    assert not kept.empty and set(kept["role_class"]) <= {"professor", "researcher", "doctoral", "lecturer"}
    assert not {truth[s].role_class for s in kept["sha256"] if s in truth} & {"admin", "student"}
    # the report says which roles the data holds
    cli("train", "--model", "probe", env=env)
    metrics = json.loads(cli("evaluate", "--saliency", "off", "--json", env=env).stdout)
    assert metrics["provenance"]["roles"]["included"] == ["doctoral", "lecturer", "professor", "researcher"]
    assert "Roles included: doctoral, lecturer, professor, researcher." in demo_store.get_bytes(
        f"reports/{metrics['run']}/report.md").decode()
    assert "unknown role" in cli("preprocess", "--roles", "deans", env=env, check=False).stderr
