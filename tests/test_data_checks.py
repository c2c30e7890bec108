"""Data checks (ml/checks.py): each fires on a crafted bad frame and passes on a good one."""
from __future__ import annotations

import pandas as pd
import pytest

from infra.index import normalise
from ml.checks import DataCheckError, check_index, check_splits, class_balance, raise_if_failed


def good_index() -> pd.DataFrame:
    rows = [{"id": f"id{k:02d}", "category": ["cs", "econ", "german", "mechanical"][k % 4],
             "image_url": f"https://u.example/{k}.jpg", "name": f"Person {k}", "sha256": f"{k:064x}",
             "image_key": f"raw/images/id{k:02d}.jpg", "status": "present", "slug": "u-dept"} for k in range(12)]
    return normalise(pd.DataFrame(rows))


def good_splits(index: pd.DataFrame) -> pd.DataFrame:
    ids = index["id"].tolist()[:10]  # id10, id11 were rejected
    return pd.DataFrame({"id": ids, "group": [f"g{i}" for i in ids],
                         "category": index["category"].tolist()[:10],
                         "split": ["train"] * 6 + ["test"] * 3 + ["validation"]}, dtype="string")


@pytest.fixture
def data():
    index = good_index()
    return dict(index=index, splits=good_splits(index), rejected={"id10", "id11"},
                crops=set(index["id"][:10]))


def run(data) -> list[str]:
    return check_splits(data["splits"], data["index"], data["rejected"], data["crops"])


def test_good_data_passes(data):
    assert check_index(data["index"]) == []
    assert check_index(data["index"], {"cs", "econ", "german", "mechanical"}) == []
    assert run(data) == []
    raise_if_failed([])


@pytest.mark.parametrize("change, expected", [
    (lambda f: f.drop(columns="name_key"), "lacks columns ['name_key']"),
    (lambda f: pd.concat([f, f.tail(1)]), "duplicate id(s): id11"),
    (lambda f: f.assign(id=f["id"].mask(f.index == 3, pd.NA)), "without an id"),
    (lambda f: f.assign(category=f["category"].mask(f.index == 2, " ")), "without a category: id02"),
    (lambda f: f.assign(category=f["category"].mask(f.index == 1, "Computer Science")), "not short lowercase labels"),
    (lambda f: f.assign(status=f["status"].mask(f.index == 0, "deleted")), "status values"),
])
def test_index_checks_fire(change, expected):
    problems = check_index(change(good_index()))
    assert len(problems) == 1 and expected in problems[0], problems


def test_index_labels_outside_the_allowed_set():
    index = good_index()
    problems = check_index(index, {"cs", "econ", "german"})
    assert len(problems) == 1 and "outside ['cs', 'econ', 'german']" in problems[0]
    assert "mechanical" in problems[0] and "id03" in problems[0]


def test_split_schema(data):
    data["splits"] = data["splits"].drop(columns="group")
    assert run(data) == ["splits lack columns ['group']"]


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["splits"].loc.__setitem__((0, "split"), "holdout"), "split values outside"),
    (lambda d: d["splits"].loc.__setitem__((0, "group"), pd.NA), "column 'group' has 1 empty"),
    # id00 listed twice, in train and test: in two splits (and its group too)
    (lambda d: d.__setitem__("splits", pd.concat([d["splits"], d["splits"].head(1).assign(split="test")])),
     "id(s) in two splits: id00"),
    (lambda d: d["splits"].loc.__setitem__((8, "group"), "gid00"), "group(s) in two splits (leak): gid00"),
    (lambda d: d["crops"].discard("id04"), "without a crop: id04"),
    (lambda d: d.__setitem__("splits", pd.concat([d["splits"], pd.DataFrame(
        [{"id": "id10", "group": "gid10", "category": "german", "split": "train"}])])), "rejected id(s) in the splits: id10"),
    (lambda d: d["crops"].add("id11"), "rejected image(s) have a crop: id11"),
    (lambda d: d["splits"].loc.__setitem__((5, "category"), "cs"), "category differs from the index: id05"),
    (lambda d: d["splits"].loc.__setitem__((5, "id"), "nope"), "not in the index: nope"),
])
def test_split_checks_fire(data, change, expected):
    change(data)
    problems = run(data)
    assert any(expected in p for p in problems), problems


def test_every_failure_is_listed_in_one_error(data):
    data["splits"].loc[0, "split"] = "holdout"
    data["crops"].add("id11")
    with pytest.raises(DataCheckError) as error:
        raise_if_failed(run(data))
    message = str(error.value)
    assert message.startswith("2 data check(s) failed") and "id00" in message and "id11" in message
    assert isinstance(error.value, ValueError)


def test_examples_are_capped():
    index = normalise(pd.DataFrame({"id": [f"x{k:02d}" for k in range(20)], "category": "BAD", "image_url": "u",
                                    "name": "n", "sha256": "s", "image_key": "k", "status": "present"}))
    (problem,) = check_index(index)
    assert "x00, x01, x02, x03, x04 (+15 more)" in problem


def test_class_balance(data):
    balance = class_balance(data["splits"])
    assert list(balance.columns) == ["category", "split", "images", "groups", "fraction"]
    assert len(balance) == (4 + 1) * 3  # every category x split, zeros included, and "(all)"
    cs = balance[balance["category"] == "cs"].set_index("split")
    assert cs["images"].to_dict() == {"train": 2, "test": 1, "validation": 0}  # id00, id04 / id08
    assert cs.loc["train", "fraction"] == pytest.approx(2 / 3, abs=1e-4)
    total = balance[balance["category"] == "(all)"].set_index("split")
    assert total["images"].sum() == 10 and total.loc["test", "fraction"] == 0.3
