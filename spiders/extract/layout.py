"""Pairing photos with names by page layout when an entry has no name of its own.

Two patterns are recognised inside a common container ("scope"):

* grid: a row of photos directly above (or below) a row of names, matched column by column
  (2000s tables, image rows in CMS galleries);
* alternating: photo, name, photo, name (or name first) in flat rich text, definition lists or
  table rows, where each name block follows its photo block within three siblings.

Anything less regular returns no pairs: the caller then falls back to alt texts or skips.
"""

from __future__ import annotations

from .cjk import keys_disagree
from .dom import BLOCK_TAGS, Doc, element_text, tag_of
from .images import ImageCandidate
from .names import clean_name_text, looks_like_person_name, split_name_prefix
from .textlines import NameCand

__all__ = ["sequence_pairs", "trailing_line_name"]


def _row_col(scope, el):
    """(row, column index) of *el* below *scope*: row = child of scope, column = index within the row."""
    path = []
    e = el
    while e is not None and e.getparent() is not scope:
        path.append(e)
        e = e.getparent()
    if e is None:
        return None, -1
    row = e
    cell = path[-1] if path else el
    if cell is row:
        return row, 0
    kids = [k for k in row if isinstance(k.tag, str)]
    try:
        return row, kids.index(cell)
    except ValueError:
        return row, -1


def sequence_pairs(doc: Doc, scope, slots: list[ImageCandidate], names: list[NameCand],
                    alt_keys: dict | None = None):
    """Pair photos and names by their order in *scope*; returns [(slot, name)] or [] when unsure."""
    if not names or not slots:
        return []
    top = max(n.tier for n in names)
    pairs = _pairs_of_tier(doc, scope, slots, [n for n in names if n.tier == top], alt_keys)
    if not pairs and top >= 2:
        # whole lines are alike, linked on-site (tier 2) or not (tier 1): a list may mix both
        pairs = _pairs_of_tier(doc, scope, slots, [n for n in names if n.tier >= 1], alt_keys)
    return pairs


def _pairs_of_tier(doc: Doc, scope, slots: list[ImageCandidate], names: list[NameCand], alt_keys: dict | None):
    events = sorted(
        [(doc.order[s.element], 0, s) for s in slots] + [(n.order, 1, n) for n in names],
        key=lambda e: (e[0], e[1]),
    )
    # collapse a name repeated right after itself (heading + link of the same person)
    compact = []
    for ev in events:
        if compact and ev[1] == 1 and compact[-1][1] == 1 and compact[-1][2].key == ev[2].key:
            continue
        compact.append(ev)
    kids = [k for k in scope if isinstance(k.tag, str)]
    kid_index = {id(k): i for i, k in enumerate(kids)}
    pairs = _grid_pairs(scope, compact, kid_index)
    if not pairs:
        pairs = _alternating_pairs(scope, compact, kid_index, alt_keys or {})
    return pairs if len(pairs) >= 2 else []


def _grid_pairs(scope, compact, kid_index):
    """Whole scope is S^k N^k S^k N^k ... (or N first): pair run by run."""
    runs: list[tuple[int, list]] = []
    for _, kind, item in compact:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(item)
        else:
            runs.append((kind, [item]))
    if len(runs) < 2 or len(runs) % 2:
        return []
    pairs = []
    for i in range(0, len(runs), 2):
        a, b = runs[i], runs[i + 1]
        if a[0] != runs[0][0] or len(a[1]) != len(b[1]):
            return []
        s_run, n_run = (a[1], b[1]) if a[0] == 0 else (b[1], a[1])
        s_pos = [_row_col(scope, s.element) for s in s_run]
        n_pos = [_row_col(scope, n.owner) for n in n_run]
        if any(r is None for r, _ in s_pos + n_pos):
            return []
        if len(s_run) > 1:
            # a row of photos above (or below) a row of names, column by column
            s_rows = {id(r) for r, _ in s_pos}
            n_rows = {id(r) for r, _ in n_pos}
            if len(s_rows) != 1 or len(n_rows) != 1 or s_rows == n_rows:
                return []
            s_cols = [c for _, c in s_pos]
            if s_cols != [c for _, c in n_pos] or any(c < 0 for c in s_cols) or s_cols != sorted(set(s_cols)):
                return []
            gap = kid_index[next(iter(n_rows))] - kid_index[next(iter(s_rows))]
            if abs(gap) != 1 or tag_of(s_pos[0][0]) != tag_of(n_pos[0][0]):
                return []
        else:
            if not _close(kid_index, s_pos[0][0], n_pos[0][0], forward=a[0] == 0):
                return []
        pairs.extend(zip(s_run, n_run))
    return pairs


def _close(kid_index, row_s, row_n, forward: bool) -> bool:
    """The name's block follows (forward) or precedes the photo's block within three siblings."""
    if row_s is row_n:
        return True
    gap = kid_index[id(row_n)] - kid_index[id(row_s)]
    if not forward:
        gap = -gap
    return 1 <= gap <= 3


def _alternating_pairs(scope, compact, kid_index, alt_keys: dict):
    """Photos directly followed (or preceded) by exactly one name; the direction most photos agree on."""
    n = len(compact)
    fwd, bwd = [], []
    for i, (_, kind, item) in enumerate(compact):
        if kind != 0:
            continue
        if i + 1 < n and compact[i + 1][1] == 1 and (i + 2 >= n or compact[i + 2][1] == 0):
            fwd.append((item, compact[i + 1][2]))
        if i >= 1 and compact[i - 1][1] == 1 and (i < 2 or compact[i - 2][1] == 0):
            bwd.append((item, compact[i - 1][2]))

    def plausible(pairs, forward):
        out = []
        for s, nm in pairs:
            if keys_disagree(alt_keys.get(id(s)), nm.key):
                continue
            rs, _ = _row_col(scope, s.element)
            rn, _ = _row_col(scope, nm.owner)
            if rs is None or rn is None or not _close(kid_index, rs, rn, forward):
                continue
            out.append((s, nm))
        return out

    fwd, bwd = plausible(fwd, True), plausible(bwd, False)
    if len(fwd) != len(bwd):
        return fwd if len(fwd) > len(bwd) else bwd
    # every photo followed by a run of name-like lines whose first line is the same kind of
    # element each time (name heading, then a role line that reads like a name): first of each run
    slots = [i for i, ev in enumerate(compact) if ev[1] == 0]
    heads = [(compact[i][2], compact[i + 1][2]) for i in slots if i + 1 < n and compact[i + 1][1] == 1]
    if len(heads) == len(slots) >= 2 and len({tag_of(nm.owner) for _, nm in heads}) == 1:
        runs = plausible(heads, True)
        if len(runs) == len(heads):
            return runs
    # as many each way (a name went unrecognised): the sequence's start tells the direction; read
    # backwards, a list that opens with a photo would leave that first photo without a name
    if fwd and compact[0][1] == 0:
        return fwd
    if bwd and compact[0][1] == 1 and compact[-1][1] == 0:
        return bwd
    return []


def trailing_line_name(img) -> str | None:
    """The name that starts the text line right after an inline photo (up to the next <br>,
    block or photo), if that line is a name or 'Name, role'."""
    parts = [img.tail or ""]
    sib = img.getnext()
    while sib is not None and tag_of(sib) not in BLOCK_TAGS and tag_of(sib) not in ("br", "img", "picture"):
        if sib.find(".//img") is not None:
            break
        parts += [element_text(sib), sib.tail or ""]
        sib = sib.getnext()
    line = clean_name_text(" ".join(parts))
    if not line or len(line) > 160:
        return None
    return line if looks_like_person_name(line) else split_name_prefix(line)
