"""Model test of the demographic baseline, through the CLI on real LFW photos.

Two departments whose faces are random LFW people except for their share of women (80 % in
one, 20 % in the other): a model scores above chance on "field" by recognising perceived
gender alone. The demographic control must be above chance too, and the main model's excess
over it must have an interval that includes 0 (no signal beyond gender may be claimed).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from ml import demographic as dm
from tests.conftest import require_shared_data
from tests.test_face_or_website_e2e import above_chance, import_departments, lfw_people

pytestmark = pytest.mark.slow

# Per department. With 24 (19 of the majority gender, ~20 test people) two of four world seeds
# failed: once the test people's mix left the baseline at chance, once the probe, trained on ~29
# people, was clearly worse than the baseline. With 40, seeds 1-7 all passed (65-105 s on 2 cores).
PEOPLE = 40
MAJORITY = 32  # of them of the department's majority gender: 80 %
PHOTOS = 1  # per person: the intervals are over people; a second photo only doubled the cost


def test_a_field_signal_that_is_only_the_share_of_women_does_not_beat_the_demographic_baseline(cli, tmp_path):
    labels = require_shared_data() / "faces" / "lfw_labels.csv"
    # The gender model trains on these LFW people (drawn the same way every time): they are kept out
    # of this world by identity, so its accuracy on the world's faces is not flattered by having
    # seen them.
    gender_people = set(dm.training_people(dm.load_gender_labels(labels))["identity"])
    people = {k: v for k, v in lfw_people(2).items() if k not in gender_people}
    rng = np.random.default_rng(7)
    order = rng.permutation(sorted(people))
    women, men = ([p for p in order if people[p]["gender"] == sex] for sex in ("female", "male"))
    minority = PEOPLE - MAJORITY
    members = {"german": women[:MAJORITY] + men[:minority],
               "mechanical": women[MAJORITY:PEOPLE] + men[minority:PEOPLE]}
    import_departments(cli, tmp_path, {
        dept: [(p, [open(path, "rb").read() for path in people[p]["paths"][:PHOTOS]]) for p in chosen]
        for dept, chosen in members.items()})
    cli("preprocess", "--workers", "2", "--ratios", "0.5,0.4,0.1")  # ~32 test people: enough to see 0.8
    cli("train", "--model", "probe")
    metrics = json.loads(cli("evaluate", "--controls", "demographic", "--saliency", "off", "--json", "--out",
                             str(tmp_path / "report"), timeout=600).stdout)
    control, excess = metrics["controls"]["demographic"], metrics["excess_over_demographic"]
    gender = control["gender_model"]
    print(f"\n[demographic] main {metrics['accuracy']:.3f} [{metrics['ci_low']:.3f}, {metrics['ci_high']:.3f}]; "
          f"demographic {control['accuracy']:.3f} [{control['ci_low']:.3f}, {control['ci_high']:.3f}] "
          f"p={control['p_value']:.4f}; excess {excess['estimate']:+.3f} [{excess['ci_low']:+.3f}, "
          f"{excess['ci_high']:+.3f}]; gender model {gender['accuracy']:.3f} [{gender['ci_low']:.3f}, "
          f"{gender['ci_high']:.3f}] on {gender['n_people']} people; composition {control['composition']}; "
          f"verdict {metrics['verdict']}")
    assert not set(gender["people"]) & set(members["german"] + members["mechanical"])
    assert gender["accuracy"] > 0.9 and gender["n_people"] >= 190, gender
    shares = {c["category"]: c["share_female"] for c in control["composition"]}
    assert shares["german"] > 0.6 > 0.4 > shares["mechanical"], shares
    assert above_chance(control), control
    assert excess["ci_low"] <= 0 <= excess["ci_high"], excess
    assert excess["n_groups"] == metrics["n_groups"]  # the same test people as the main model
    assert "no signal beyond perceived gender" in control["finding"]
    report = (tmp_path / "report" / "report.md").read_text()
    assert "Is it just gender?" in report and "Perceived-gender composition per category" in report
