"""Model tests for the face-or-website verdict, through the CLI on real LFW photos.

* website signal: random people per department, each department publishing its photos in
  its own style (colour cast, pixel size, JPEG quality or PNG), as web teams do; category =
  department, as in the study. The verdict must not be face_signal, and a control that
  never relies on the face (photo_style or context_only) must be above chance.
* face signal: sex from lfw_labels.csv as the label, both "departments" publishing the LFW
  photos unchanged. face_only must be above chance; the verdict face_signal or mixed (hair
  stays in context_only, and hair carries sex too); the occlusion maps put most of their
  weight inside the face ellipse.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict

import numpy as np
import pytest

from tests.conftest import require_shared_data
from tests.photo_styles import DEPARTMENT_STYLES, publish

pytestmark = pytest.mark.slow

DECIDING = "face_only,context_only,photo_style"


def lfw_people(min_photos: int) -> dict[str, dict]:
    """identity -> {"gender", "paths"} for LFW people with at least `min_photos` photos."""
    data = require_shared_data() / "faces"
    people: dict[str, dict] = defaultdict(lambda: {"paths": []})
    for row in csv.DictReader(open(data / "lfw_labels.csv", newline="")):
        people[row["identity"]]["gender"] = row["gender"]
        people[row["identity"]]["paths"].append(str(data / row["path"]))
    return {k: v for k, v in sorted(people.items()) if len(v["paths"]) >= min_photos}


def import_departments(cli, folder, departments: dict[str, list[tuple[str, list[bytes]]]]) -> None:
    """departments: category -> [(person, [photo bytes])]; one department (slug) per category."""
    for category, members in departments.items():
        rows = []
        for person, photos in members:
            for k, data in enumerate(photos):
                path = folder / "photos" / category / f"{person}_{k}.img"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                rows.append([str(path), person.replace("_", " "), category, "Uni A", category.title()])
        manifest = folder / f"{category}.csv"
        with open(manifest, "w", newline="") as fh:
            csv.writer(fh).writerows([["path", "name", "category", "university", "department"], *rows])
        cli("import", str(manifest), "--slug", f"uni-a-{category}")


def train_and_evaluate(cli, folder, controls: str = DECIDING, saliency: str = "auto") -> dict:
    cli("preprocess", "--workers", "2")
    cli("train", "--model", "probe")
    return json.loads(cli("evaluate", "--controls", controls, "--saliency", saliency, "--json", "--out",
                          str(folder / "report"), timeout=600).stdout)


def show(metrics: dict) -> str:
    return (f"main {metrics['accuracy']:.2f} [{metrics['ci_low']:.2f}, {metrics['ci_high']:.2f}]; "
            + "; ".join(f"{k} {v['accuracy']:.2f} [{v['ci_low']:.2f}, {v['ci_high']:.2f}] p={v['p_value']:.3f}"
                        for k, v in metrics["controls"].items() if v.get("status") == "done")
            + f" -> {metrics['verdict']}")


def above_chance(r: dict) -> bool:
    return r.get("status", "done") == "done" and r["p_value"] < 0.05 and r["ci_low"] > r["chance"]


def test_each_website_publishing_in_its_own_style_is_not_a_face_signal(cli, tmp_path):
    people = list(lfw_people(2))
    order = np.random.default_rng(3).permutation(len(people))
    styles = DEPARTMENT_STYLES[:4]
    departments = {}
    for d, style in enumerate(styles):
        chosen = [people[i] for i in order[d * 8:(d + 1) * 8]]  # random people: no face signal
        departments[f"dept{d}"] = [
            (p, [publish(open(path, "rb").read(), style) for path in lfw_people(2)[p]["paths"][:2]]) for p in chosen]
    import_departments(cli, tmp_path, departments)
    # the two controls that never rely on the face (face_only runs in the test below)
    metrics = train_and_evaluate(cli, tmp_path, "photo_style,context_only", saliency="off")
    print("\n[website style]", show(metrics))
    controls = metrics["controls"]
    assert metrics["verdict"] != "face_signal", show(metrics)
    assert above_chance(controls["photo_style"]) or above_chance(controls["context_only"]), show(metrics)
    assert controls["face_only"]["status"] == controls["blur"]["status"] == controls["lodo"]["status"] == "not_run"
    report = (tmp_path / "report" / "report.html").read_text()
    assert "Face or website?" in report and metrics["verdict"] in report


def test_a_label_the_face_carries_is_found_in_the_face(cli, tmp_path):
    people = lfw_people(1)
    by_sex = defaultdict(list)
    for person, info in people.items():
        by_sex[info["gender"]].append(person)
    rng = np.random.default_rng(5)
    departments = {}
    for sex in ("female", "male"):
        chosen = rng.choice(by_sex[sex], size=26, replace=False)
        departments[sex] = [(p, [open(people[p]["paths"][0], "rb").read()]) for p in chosen]
    import_departments(cli, tmp_path, departments)
    metrics = train_and_evaluate(cli, tmp_path)
    print("\n[sex]", show(metrics))
    assert above_chance(metrics), show(metrics)
    assert above_chance(metrics["controls"]["face_only"]), show(metrics)
    assert metrics["verdict"] in ("face_signal", "mixed"), show(metrics)
    assert metrics["controls"]["face_only"]["paired"]["n_test"] == metrics["n_test"]
    # where the model looks: mostly inside the face ellipse, which covers about a quarter of the crop
    looks = metrics["saliency"]["occlusion"]
    print("[sex] saliency", looks)
    assert looks["n"] == 4 and looks["face_share"] > 0.5 > looks["face_area"], looks
    report = tmp_path / "report"
    assert (report / "saliency-mean.png").stat().st_size > 0 and (report / "saliency-examples.png").stat().st_size > 0
    assert "Where the model looks" in (report / "report.html").read_text()
