"""Perceptual hashes, near-duplicate search and person groups (ml/groups.py)."""
from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image, ImageEnhance

from ml.groups import DEFAULT_MAX_DISTANCE, assign_groups, hamming, near_duplicate_pairs, perceptual_hash
from tests.conftest import require_shared_data


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def face_crop(path: Path) -> Image.Image:
    """The centre 128x128 of a 250x250 LFW photo: roughly the face, as a crop would be."""
    with Image.open(path) as image:
        return image.convert("RGB").crop((61, 61, 189, 189))


@pytest.fixture(scope="session")
def lfw_crops() -> dict[str, Image.Image]:
    root = require_shared_data() / "faces" / "lfw"
    return {p.stem: face_crop(p) for p in sorted(root.glob("*/*.jpg"))}


@pytest.fixture(scope="session")
def lfw_hashes(lfw_crops) -> dict[str, int]:
    return {k: perceptual_hash(jpeg(v)) for k, v in lfw_crops.items()}


def person(image_id: str) -> str:
    return image_id.rsplit("_", 1)[0]


def brute_force(hashes: dict[str, int], max_distance: int) -> list[tuple[str, str]]:
    return sorted(tuple(sorted((a, b))) for (a, x), (b, y) in itertools.combinations(hashes.items(), 2)
                  if hamming(x, y) <= max_distance)


# --- the hash ---------------------------------------------------------------------------

def test_hash_is_64_bit_deterministic_and_reads_any_image_format(lfw_crops):
    image = next(iter(lfw_crops.values()))
    value = perceptual_hash(jpeg(image))
    assert 0 <= value < 2 ** 64 and value == perceptual_hash(jpeg(image))
    png = io.BytesIO()
    image.convert("RGBA").save(png, "PNG")
    assert hamming(value, perceptual_hash(png.getvalue())) <= 2
    assert bin(value).count("1") == 32  # median threshold: balanced bits


def edits(image: Image.Image) -> dict[str, Image.Image]:
    return {
        "jpeg q40": Image.open(io.BytesIO(jpeg(image, 40))),
        "half size": image.resize((64, 64)),
        "96 px": image.resize((96, 96)),
        "224 px": image.resize((224, 224)),
        "brighter 10%": ImageEnhance.Brightness(image).enhance(1.1),
        "darker 10%": ImageEnhance.Brightness(image).enhance(0.9),
        "greyscale": image.convert("L"),
        "resized, brighter, q70": Image.open(io.BytesIO(jpeg(ImageEnhance.Brightness(image.resize((100, 100))).enhance(1.08), 70))),
    }


def test_reencoded_resized_or_brightened_copies_are_near_duplicates(lfw_crops):
    originals = list(lfw_crops.items())[::20]  # ~260 people
    worst = {}
    for image_id, image in originals:
        base = perceptual_hash(jpeg(image))
        for name, edited in edits(image).items():
            worst[name] = max(worst.get(name, 0), hamming(base, perceptual_hash(jpeg(edited, 95))))
    assert all(d <= DEFAULT_MAX_DISTANCE for d in worst.values()), worst


def test_re_crops_shifted_by_a_pixel_are_near_duplicates(shared_data):
    # The same photo cropped by a detector on two sites is off by a pixel or so. pHash is
    # not shift-invariant: nearly all, not all, such pairs are found (module comment).
    found = []
    for path in sorted((shared_data / "faces" / "lfw").glob("*/*_0001.jpg"))[::10]:
        with Image.open(path) as photo:
            photo = photo.convert("RGB")
            a = perceptual_hash(jpeg(photo.crop((61, 61, 189, 189))))
            for dx, dy in ((1, 0), (0, 1), (-1, 0), (1, -1)):
                b = perceptual_hash(jpeg(photo.crop((61 + dx, 61 + dy, 189 + dx, 189 + dy))))
                found.append(hamming(a, b) <= DEFAULT_MAX_DISTANCE)
    assert len(found) > 1000 and np.mean(found) >= 0.97, np.mean(found)


def test_different_photos_of_one_person_are_not_near_duplicates(lfw_hashes):
    by_person: dict[str, list[int]] = {}
    for image_id, value in lfw_hashes.items():
        by_person.setdefault(person(image_id), []).append(value)
    pairs = [hamming(a, b) for values in by_person.values() if len(values) >= 4
             for a, b in itertools.combinations(values, 2)]
    assert len(pairs) > 1000
    close = sum(d <= DEFAULT_MAX_DISTANCE for d in pairs)
    # The few exceptions are the same press photo filed twice (LFW has some).
    assert close / len(pairs) < 0.01, (close, len(pairs))
    assert np.median(pairs) >= 20


def test_near_duplicates_do_not_chain_lfw_into_large_groups(lfw_hashes):
    pairs = near_duplicate_pairs(lfw_hashes)
    assert len(pairs) < 0.02 * len(lfw_hashes)
    groups = assign_groups(pd.DataFrame({"id": list(lfw_hashes)}), lfw_hashes)
    assert groups.groupby("group").size().max() <= 6
    # The same photo filed under two names (LFW's own duplicate) is found.
    assert ("Bart_Hendricks_0001", "Ricky_Ray_0001") in pairs


def test_banding_finds_what_brute_force_finds_on_real_hashes(lfw_hashes):
    values = np.array(list(lfw_hashes.values()), dtype=np.uint64)
    ids = list(lfw_hashes)
    for max_distance in (4, DEFAULT_MAX_DISTANCE, 12):
        distance = np.bitwise_count(values[:, None] ^ values[None, :])
        i, j = np.nonzero(np.triu(distance <= max_distance, k=1))
        expected = sorted(tuple(sorted((ids[a], ids[b]))) for a, b in zip(i, j))
        assert near_duplicate_pairs(lfw_hashes, max_distance) == expected


# --- near-duplicate search --------------------------------------------------------------

def test_hamming():
    assert hamming(0, 0) == 0 and hamming(0, 2 ** 64 - 1) == 64 and hamming(0b1011, 0b0001) == 2


@st.composite
def clustered_hashes(draw):
    """Random 64-bit hashes plus copies with a few bits flipped (near-duplicates)."""
    seeds = draw(st.lists(st.integers(0, 2 ** 64 - 1), min_size=0, max_size=40))
    values = list(seeds)
    for seed in seeds:
        for flips in draw(st.lists(st.sets(st.integers(0, 63), max_size=14), max_size=3)):
            values.append(seed ^ sum(1 << b for b in flips))
    return {f"i{k:03d}": v for k, v in enumerate(values)}


@settings(max_examples=150, deadline=None)
@given(hashes=clustered_hashes(), max_distance=st.integers(0, 20))
def test_banding_equals_brute_force(hashes, max_distance):
    assert near_duplicate_pairs(hashes, max_distance) == brute_force(hashes, max_distance)


def test_near_duplicate_pairs_scales_to_100k_hashes():
    rng = np.random.default_rng(0)
    values = [int(v) for v in rng.integers(0, 2 ** 63, size=100_000, dtype=np.uint64)]
    hashes = {f"r{k}": v for k, v in enumerate(values)}
    hashes |= {f"d{k}": values[k] ^ 0b1010_0000_0001 for k in range(1000)}  # 3 bits apart
    pairs = near_duplicate_pairs(hashes)
    assert {(f"d{k}", f"r{k}") for k in range(1000)} <= set(pairs)


def test_rejects_values_that_are_not_64_bit():
    with pytest.raises(ValueError):
        near_duplicate_pairs({"a": 2 ** 64, "b": 0})
    with pytest.raises(ValueError):
        near_duplicate_pairs({"a": 1, "b": 0}, -1)


# --- groups -----------------------------------------------------------------------------

def index(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "university", "name_key"], dtype="string")


def group_of(groups: pd.DataFrame) -> dict[str, str]:
    return dict(zip(groups["id"], groups["group"]))


def far_apart(ids) -> dict[str, int]:
    """Hashes that are pairwise far apart (no near-duplicates)."""
    rng = np.random.default_rng(1)
    return {i: int(v) for i, v in zip(ids, rng.integers(0, 2 ** 63, size=len(ids), dtype=np.uint64))}


def test_one_person_is_one_group_within_a_university_only():
    frame = index([("b1", "Uni A", "ada lovelace"), ("a2", "Uni A", "ada lovelace"),
                   ("c3", "Uni B", "ada lovelace"), ("d4", "Uni A", "alan turing"), ("e5", "Uni A", None),
                   ("f6", "Uni A", None)])
    groups = assign_groups(frame, far_apart(frame["id"]))
    g = group_of(groups)
    assert list(groups.columns) == ["id", "group", "reason"] and list(groups["id"]) == list(frame["id"])
    assert g["b1"] == g["a2"] == "ga2"  # "g" + the smallest id
    assert len({g["a2"], g["c3"], g["d4"], g["e5"], g["f6"]}) == 5  # missing names never match
    assert dict(zip(groups["id"], groups["reason"])) == {
        "b1": "name", "a2": "name", "c3": "single", "d4": "single", "e5": "single", "f6": "single"}


def test_near_duplicates_join_people_and_chain():
    frame = index([("a", "U", "x"), ("b", "U", "x"), ("c", "V", "y"), ("d", "W", "z"), ("e", "W", "q")])
    hashes = far_apart(frame["id"])
    hashes["c"] = hashes["b"] ^ 0b111  # c's photo is b's, re-encoded on another site
    hashes["d"] = hashes["c"] ^ 0b111000
    groups = assign_groups(frame, hashes)
    g = group_of(groups)
    assert g["a"] == g["b"] == g["c"] == g["d"] == "ga" and g["e"] == "ge"
    assert dict(zip(groups["id"], groups["reason"]))["c"] == "near_duplicate"


def test_groups_are_stable_when_data_arrives():
    first = index([("m1", "U", "ann"), ("m2", "U", "ann"), ("n1", "U", "bob"), ("p1", "U", "cid")])
    hashes = far_apart(["m1", "m2", "n1", "p1", "a0", "z9", "q1"])
    before = assign_groups(first, hashes)
    assert group_of(before) == {"m1": "gm1", "m2": "gm1", "n1": "gn1", "p1": "gp1"}
    # New photos: a0 is another photo of ann (its id sorts first, yet ann keeps "gm1");
    # z9 is a new photo of cid that is a copy of bob's: it merges their groups into the
    # smaller id.
    hashes["z9"] = hashes["n1"] ^ 1
    second = index([("m1", "U", "ann"), ("m2", "U", "ann"), ("n1", "U", "bob"), ("p1", "U", "cid"),
                    ("a0", "U", "ann"), ("z9", "U", "cid"), ("q1", "V", "eve")])
    after = group_of(assign_groups(second, hashes, previous=before))
    assert after == {"m1": "gm1", "m2": "gm1", "a0": "gm1", "n1": "gn1", "p1": "gn1", "z9": "gn1", "q1": "gq1"}


def test_earlier_groups_never_split_and_ids_survive_a_departed_member():
    before = pd.DataFrame({"id": ["a", "b", "c"], "group": ["ga", "ga", "gc"],
                           "reason": ["near_duplicate", "near_duplicate", "single"]}, dtype="string")
    # "a" left; b no longer has a near-duplicate, but stays in "ga"; "a" coming back alone
    # (no longer similar to anything) cannot take the name "ga" held by b.
    now = index([("b", "U", "x"), ("c", "U", "y"), ("a", "U", "z")])
    groups = assign_groups(now, far_apart(["a", "b", "c"]), previous=before[before["id"] != "a"])
    assert group_of(groups) == {"b": "ga", "c": "gc", "a": "ga-2"}
    assert assign_groups(now, far_apart(["a", "b", "c"]), previous=before)["group"].tolist() == ["ga", "gc", "ga"]


def test_empty_previous_and_ids_without_a_hash():
    frame = index([("a", "U", "x"), ("b", "U", "x"), ("c", "U", "y")])
    empty = pd.DataFrame({c: pd.Series(dtype="string") for c in ("id", "group", "reason")})
    groups = assign_groups(frame, {"c": 5}, previous=empty)
    assert group_of(groups) == {"a": "ga", "b": "ga", "c": "gc"}
    assert groups.dtypes.eq("string").all()
