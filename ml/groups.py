"""Near-duplicate photos and people: the groups a leak-free split keeps together.

A group is a connected component of two relations over the images:

- the same person: equal ``name_key`` within one ``university`` (a person shown by two
  departments, or with an old and a new photo);
- near-duplicate face crops: perceptual hashes at most ``max_distance`` bits apart (the
  same photo re-encoded or resized, or one person's photo on two websites).

Group ids are strings and stable across runs (see ``assign_groups``).
"""
from __future__ import annotations

import io
from itertools import combinations
from math import comb
from typing import Mapping

import numpy as np
import pandas as pd
from PIL import Image

# Measured on the 5,176 LFW photos, centre 128x128 crops (tests/test_groups.py keeps the
# numbers honest): JPEG q40, resizing 96-224 px, +-15 % brightness, greyscale: <= 6 bits
# apart; the same photo re-cropped 1 pixel off: <= 8 for 98-100 %, 2 pixels off or 2 %
# zoomed: <= 8 for ~90-98 % (pHash is not shift-invariant; a re-crop is the hard case).
# All 5,176 crops: 37 pairs within 8 bits (8 of one person; some cross-name ones are the
# same news photo filed twice), largest group 5; within 10 bits: 248 pairs that already
# chain 20 people into one group. Hashes are balanced (32 ones), so distances are even.
# 8 keeps every re-encoding and nearly every re-crop while false pairs stay rare (~2e-6 of
# all pairs: ~0.2 per image at 100k images, too few to chain into giant groups). A false
# pair only makes a group larger; a missed one leaks.
DEFAULT_MAX_DISTANCE = 8
HASH_SIZE = 32  # the grey image is reduced to 32x32 before the DCT


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


_DCT = _dct_matrix(HASH_SIZE)


def perceptual_hash(jpeg_bytes: bytes) -> int:
    """64-bit DCT hash (pHash) of an image: robust to re-encoding, resizing, brightness.

    Grey 32x32 (box filter), 2-D DCT, the 8x8 lowest frequencies without the first row
    and column (as in the original pHash: the DC term and the pure horizontal/vertical
    ramps mostly encode lighting), one bit per coefficient above their median.
    """
    with Image.open(io.BytesIO(jpeg_bytes)) as image:
        grey = image.convert("L").resize((HASH_SIZE, HASH_SIZE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    block = (_DCT @ pixels @ _DCT.T)[1:9, 1:9]
    bits = (block > np.median(block)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _plan(n: int, max_distance: int) -> tuple[list[int], int]:
    """Band widths and per-band radius for multi-index hashing.

    Pigeonhole: if two hashes differ in at most d bits and are cut into m bands, some band
    differs in at most d // m bits. Each band is looked up in a dense table (<= 22 bits),
    probing every value within that radius; m is chosen by an estimated cost (tables +
    probes + candidate pairs under uniform hashes).
    """
    best: tuple[float, list[int], int] | None = None
    for m in range(3, 65):
        widths = [64 // m + (1 if b < 64 % m else 0) for b in range(m)]
        radius = max_distance // m
        probes = [sum(comb(w, k) for k in range(min(radius, w) + 1)) for w in widths]
        cost = (sum(2 ** w for w in widths) + 0.1 * n * sum(probes)
                + n * n / 2 * sum(p / 2 ** w for p, w in zip(probes, widths)))
        if best is None or cost < best[0]:
            best = (cost, widths, radius)
    assert best is not None
    return best[1], best[2]


def _pairs_by_index(values: np.ndarray, max_distance: int) -> np.ndarray:
    """(k, 2) array of index pairs i < j with hamming(values[i], values[j]) <= max_distance."""
    n = len(values)
    widths, radius = _plan(n, max_distance)
    found = []
    shift = 64
    for width in widths:
        shift -= width
        band = ((values >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.int64)
        order = np.argsort(band, kind="stable")
        counts = np.bincount(band, minlength=1 << width)
        starts = np.cumsum(counts) - counts
        for k in range(min(radius, width) + 1):
            for flipped in combinations(range(width), k):
                query = band ^ sum(1 << f for f in flipped)
                c = counts[query]
                hit = np.nonzero(c)[0]
                if not len(hit):
                    continue
                c = c[hit]
                i = np.repeat(hit, c)
                offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
                j = order[np.repeat(starts[query[hit]], c) + offsets]
                keep = i < j  # each pair is found from both ends; also drops i == j
                i, j = i[keep], j[keep]
                close = np.bitwise_count(values[i] ^ values[j]) <= max_distance
                found.append(np.stack([i[close], j[close]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def near_duplicate_pairs(hashes: Mapping[str, int], max_distance: int = DEFAULT_MAX_DISTANCE) -> list[tuple[str, str]]:
    """All pairs of ids whose hashes are at most `max_distance` bits apart, sorted, each as (smaller, larger).

    Multi-index hashing (see `_plan`) finds exactly the pairs brute force finds, in time
    close to linear for the default distance (100k hashes take a few seconds).
    """
    if max_distance < 0:
        raise ValueError("max_distance must be >= 0")
    ids = list(hashes)
    if len(ids) < 2:
        return []
    if any(not 0 <= int(h) < 1 << 64 for h in hashes.values()):
        raise ValueError("hashes must be 64-bit unsigned integers")
    values = np.array([int(h) for h in hashes.values()], dtype=np.uint64)
    pairs = _pairs_by_index(values, min(max_distance, 64))
    return sorted(tuple(sorted((ids[i], ids[j]))) for i, j in pairs.tolist())


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string").str.strip().replace("", pd.NA)


def assign_groups(index: pd.DataFrame, hashes: Mapping[str, int], previous: pd.DataFrame | None = None,
                  max_distance: int = DEFAULT_MAX_DISTANCE) -> pd.DataFrame:
    """Group the rows of `index` (columns id, university, name_key): columns id, group, reason.

    Every row passed is grouped, whatever its status (an old, replaced photo still shows the
    person, so it belongs to the person's group); pass the rows that will be split. `hashes`
    maps id -> `perceptual_hash` of the crop; ids without a hash are grouped by name only.

    Stability, given `previous` (an earlier result: id, group[, reason]): ids that shared a
    group keep sharing it (groups only grow, so a split never has to move half a group);
    a group formed from earlier groups takes the smallest of their ids (string order);
    a group with no earlier id is named "g" + its smallest image id.
    reason: "name" (shares a person key), "near_duplicate" (a near-duplicate crop), "single"
    (alone); an id held in its group only by an earlier grouping keeps its earlier reason.
    """
    frame = index.drop_duplicates("id").reset_index(drop=True)
    ids = frame["id"].astype(str).tolist()
    position = {image_id: k for k, image_id in enumerate(ids)}
    uf = _UnionFind(len(ids))

    person = _column(frame, "university") + "\x1f" + _column(frame, "name_key")
    named = person.notna() & person.duplicated(keep=False)
    first = {}
    for k in np.nonzero(named.to_numpy())[0]:
        uf.union(k, first.setdefault(person.iloc[k], k))

    near = set()
    present_hashes = {i: h for i, h in hashes.items() if i in position}
    for a, b in near_duplicate_pairs(present_hashes, max_distance):
        uf.union(position[a], position[b])
        near.update((a, b))

    old_group, old_reason = {}, {}
    if previous is not None and len(previous):
        prev = previous[previous["id"].astype(str).isin(position) & previous["group"].notna()]
        old_group = dict(zip(prev["id"].astype(str), prev["group"].astype(str)))
        if "reason" in prev:
            old_reason = dict(zip(prev["id"].astype(str), prev["reason"]))
        first = {}
        for image_id, group in old_group.items():
            uf.union(position[image_id], first.setdefault(group, position[image_id]))

    roots = [uf.find(k) for k in range(len(ids))]
    members: dict[int, list[str]] = {}
    for image_id, root in zip(ids, roots):
        members.setdefault(root, []).append(image_id)
    names: dict[int, str] = {}
    for root, group_ids in members.items():
        earlier = {old_group[i] for i in group_ids if i in old_group}
        if earlier:
            names[root] = min(earlier)
    in_use = set(names.values())
    for root, group_ids in sorted(members.items(), key=lambda kv: min(kv[1])):
        if root in names:
            continue
        name, suffix = "g" + min(group_ids), 1
        while name in in_use:  # only if an earlier group still carries a departed id's name
            suffix += 1
            name = f"g{min(group_ids)}-{suffix}"
        names[root] = name
        in_use.add(name)

    reasons = []
    for k, (image_id, root) in enumerate(zip(ids, roots)):
        earlier = old_reason.get(image_id)
        if named.iloc[k]:
            reasons.append("name")
        elif image_id in near:
            reasons.append("near_duplicate")
        elif len(members[root]) > 1 and isinstance(earlier, str) and earlier in ("name", "near_duplicate"):
            reasons.append(earlier)
        else:
            reasons.append("single")
    return pd.DataFrame({"id": ids, "group": [names[r] for r in roots], "reason": reasons}, dtype="string")
