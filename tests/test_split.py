"""Leak-free, stratified, stable splits (ml/split.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from ml.split import SPLITS, SplitConfig, assign_splits, assign_splits_per_image

CATEGORIES = {"cs": 0.35, "econ": 0.3, "german": 0.2, "mechanical": 0.15}


def make_items(n_images: int = 1000, seed: int = 0, prefix: str = "") -> pd.DataFrame:
    """People with 1-8 photos each, 4 categories of unequal size, 2-4 departments per category."""
    rng = np.random.default_rng(seed)
    rows, person = [], 0
    while len(rows) < n_images:
        category = rng.choice(list(CATEGORIES), p=list(CATEGORIES.values()))
        department = f"{category}-{rng.integers(0, 2 + list(CATEGORIES).index(category) % 3)}"
        group = f"g{prefix}{person:05d}"
        for k in range(int(rng.integers(1, 9))):
            rows.append((f"{prefix}{person:05d}-{k}", group, category, department))
        person += 1
    return pd.DataFrame(rows, columns=["id", "group", "category", "department"], dtype="string")


def fractions(splits: pd.DataFrame) -> pd.DataFrame:
    return pd.crosstab(splits["category"], splits["split"], normalize="index").reindex(columns=list(SPLITS), fill_value=0)


def assert_balanced(splits: pd.DataFrame, config: SplitConfig, tolerance: float = 0.05) -> None:
    target = pd.Series(config.ratios())
    error = (fractions(splits) - target).abs()
    assert (error <= tolerance).all().all(), f"\n{fractions(splits)}"


def assert_grouped(splits: pd.DataFrame) -> None:
    assert (splits.groupby("group")["split"].nunique() == 1).all()


def split_of(splits: pd.DataFrame) -> dict[str, str]:
    return dict(zip(splits["id"], splits["split"]))


@pytest.mark.parametrize("seed", range(5))
def test_groups_stay_whole_and_categories_are_stratified(seed):
    items = make_items(1000, seed=seed)
    config = SplitConfig(seed=seed)
    splits, conflicts = assign_splits(items, config)
    assert list(splits.columns) == ["id", "group", "category", "split"] and conflicts == []
    assert splits["id"].tolist() == items["id"].tolist() and set(splits["split"]) == set(SPLITS)
    assert_grouped(splits)
    assert_balanced(splits, config)


def test_deterministic_from_the_seed():
    items = make_items(600)
    first, _ = assign_splits(items, SplitConfig(seed=3))
    again, _ = assign_splits(items.sample(frac=1, random_state=1), SplitConfig(seed=3))  # row order is irrelevant
    assert split_of(first) == split_of(again)
    other, _ = assign_splits(items, SplitConfig(seed=4))
    assert split_of(first) != split_of(other)


def test_adding_30_percent_new_data_moves_no_earlier_image():
    full = make_items(1300, seed=7)
    rng = np.random.default_rng(0)
    # Earlier data: 70 % of the images, taken so that some people get new photos later.
    earlier = full[rng.random(len(full)) < 0.7]
    config = SplitConfig(seed=7)
    before, _ = assign_splits(earlier, config)
    after, conflicts = assign_splits(full, config, previous=before)
    assert conflicts == []
    old = split_of(before)
    assert all(split_of(after)[i] == s for i, s in old.items())
    assert_grouped(after)
    assert_balanced(after, config)
    # New photos of known people went where the person already was.
    group_split = dict(zip(before["group"], before["split"]))
    joined = after[~after["id"].isin(old) & after["group"].isin(group_split)]
    assert len(joined) > 50 and (joined["split"] == joined["group"].map(group_split)).all()


def test_growth_in_many_steps_stays_balanced():
    full = make_items(2000, seed=11)
    config = SplitConfig(seed=11)
    groups = sorted(full["group"].unique())
    previous = None
    for share in (0.2, 0.4, 0.6, 0.8, 1.0):
        current = full[full["group"].isin(groups[: int(share * len(groups))])]
        splits, _ = assign_splits(current, config, previous=previous)
        if previous is not None:
            kept = splits.merge(previous, on="id", suffixes=("", "_before"))
            assert (kept["split"] == kept["split_before"]).all()
        previous = splits
    assert_balanced(previous, config)


def test_a_merge_of_groups_in_different_splits_keeps_the_majority_and_reports_it():
    items = make_items(300)
    config = SplitConfig()
    before, _ = assign_splits(items, config)
    by_group = before.groupby("group")
    big = next(g for g, rows in by_group if len(rows) >= 3 and rows["split"].iloc[0] == "train")
    small = next(g for g, rows in by_group if len(rows) == 1 and rows["split"].iloc[0] == "test")
    merged = items.assign(group=items["group"].replace({small: big}))
    after, conflicts = assign_splits(merged, config, previous=before)
    assert set(after.loc[after["group"] == big, "split"]) == {"train"}
    assert len(conflicts) == 1 and big in conflicts[0] and "kept train" in conflicts[0] and "1 from test" in conflicts[0]
    changed = [i for i, s in split_of(before).items() if split_of(after)[i] != s]
    assert changed == before.loc[before["group"] == small, "id"].tolist()


def test_department_mode_keeps_each_department_in_one_split():
    items = make_items(1000, seed=2)
    config = SplitConfig(by="department", seed=2)
    splits, _ = assign_splits(items, config)
    department = splits.assign(department=items["department"])
    assert (department.groupby("department")["split"].nunique() == 1).all()
    assert_grouped(splits)
    assert set(splits["split"]) == set(SPLITS)


@pytest.mark.parametrize("n_departments", [3, 4, 5])
def test_department_mode_gives_every_split_a_department(n_departments):
    rows = [(f"{d}-{k}", f"g{d}-{k}", "cs" if d % 2 else "econ", f"dept{d}")
            for d in range(n_departments) for k in range(10 * (d + 1))]
    items = pd.DataFrame(rows, columns=["id", "group", "category", "department"])
    for seed in range(10):
        splits, _ = assign_splits(items, SplitConfig(by="department", seed=seed))
        assert set(splits["split"]) == set(SPLITS)


def test_department_mode_ties_departments_that_share_a_person():
    items = pd.DataFrame(
        [("a1", "ga", "cs", "uni1-cs"), ("a2", "ga", "cs", "uni1-ai"),  # one person, two departments
         ("b1", "gb", "cs", "uni1-ai"), ("c1", "gc", "econ", "uni2-econ"), ("d1", "gd", "cs", "uni3-cs"),
         ("e1", "ge", "econ", "uni4-econ")], columns=["id", "group", "category", "department"])
    for seed in range(10):
        splits, _ = assign_splits(items, SplitConfig(by="department", seed=seed))
        s = split_of(splits)
        assert s["a1"] == s["a2"] == s["b1"]


def test_department_mode_is_stable_for_new_departments():
    items = make_items(800, seed=5)
    config = SplitConfig(by="department", seed=5)
    before, _ = assign_splits(items, config)
    more = pd.concat([items, make_items(200, seed=6, prefix="n").assign(
        department=lambda f: "new-" + f["department"])], ignore_index=True)
    after, conflicts = assign_splits(more, config, previous=before)
    assert conflicts == [] and all(split_of(after)[i] == s for i, s in split_of(before).items())


def test_per_image_split_leaks_people_across_splits():
    items = make_items(1000)
    config = SplitConfig()
    leaky = assign_splits_per_image(items, config)
    assert split_of(leaky) == split_of(assign_splits_per_image(items, config))
    assert_balanced(leaky, config, tolerance=0.01)
    spans = leaky.groupby("group")["split"].nunique()
    assert (spans > 1).mean() > 0.3  # most people with several photos are in two splits
    grouped, _ = assign_splits(items, config)
    assert (grouped.groupby("group")["split"].nunique() == 1).all()


def test_a_group_with_two_categories_stays_together():
    items = make_items(200).copy()
    items.loc[0, "category"] = "econ" if items.loc[0, "category"] != "econ" else "cs"
    splits, _ = assign_splits(items, SplitConfig())
    assert_grouped(splits)


def test_config_and_items_are_validated():
    with pytest.raises(ValueError):
        SplitConfig(train=0.7, test=0.2, validation=0.2)
    with pytest.raises(ValueError):
        SplitConfig(by="university")
    assert SplitConfig().as_dict() == {"train": 0.7, "test": 0.2, "validation": 0.1, "seed": 0, "by": "person"}
    items = make_items(50)
    with pytest.raises(ValueError, match="department"):
        assign_splits(items.drop(columns="department"), SplitConfig(by="department"))
    with pytest.raises(ValueError, match="duplicate"):
        assign_splits(pd.concat([items, items.head(1)]), SplitConfig())
    splits, _ = assign_splits(items, SplitConfig(train=0.8, test=0.2, validation=0.0))
    assert set(splits["split"]) == {"train", "test"}


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["cs", "econ", "de"])), min_size=1, max_size=60),
       keep=st.floats(0, 1), seed=st.integers(0, 1000))
def test_properties_on_random_data(sizes, keep, seed):
    items = pd.DataFrame([(f"{g}-{k}", f"g{g}", c, f"d{g % 4}") for g, (n, c) in enumerate(sizes) for k in range(n)],
                         columns=["id", "group", "category", "department"])
    config = SplitConfig(seed=seed)
    first, _ = assign_splits(items.head(max(1, int(len(items) * keep))), config)
    splits, conflicts = assign_splits(items, config, previous=first)
    assert conflicts == [] and len(splits) == len(items) and splits["split"].isin(SPLITS).all()
    assert_grouped(splits)
    assert all(split_of(splits)[i] == s for i, s in split_of(first).items())
    if len(sizes) >= 3:
        assert set(first["split"]) == set(SPLITS) or len(set(first["group"])) < 3
