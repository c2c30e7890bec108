"""Finding person entries (name + portrait, or name + detail link) on an unseen staff page.

Per photo slot: climb from the image to the largest ancestor that holds no other photo slot and
take the first level that contains name candidates; a unique name of the best tier wins, ties are
broken by the image's alt text or file name, otherwise the slot is skipped (precision first).
Photos whose entry has no name at all are paired by layout: alternating photo/name sequences
(flat lists, definition lists) and photo rows above name rows (old tables), checked column by column.
Names that link to a person page become entries to follow when no photo is known for them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .dom import Doc, is_page_link, tag_of
from .images import ImageCandidate
from .firstnames import is_known_first_name
from .names import clean_name_text, name_from_alt, name_key, strip_titles
from .textlines import NameCand, PageText

__all__ = ["Entry", "find_entries", "decide_name", "detail_link_in"]

_MAX_SCOPE_CLIMB = 3
_PARTICLES = {"von", "van", "der", "den", "de", "zu", "vom", "zur", "di", "da", "del", "la", "le", "du"}


@dataclass
class Entry:
    display: str
    key: str
    cand: ImageCandidate | None
    container: object
    order: int
    detail_url: str | None = None
    outer: object = None  # the largest ancestor of the photo holding no other photo
    evidence: bool = False  # independent support for the pairing (layout, title, alt, file name, ...)


# --------------------------------------------------------------------------- helpers
def _ascii_fold(s: str) -> str:
    s = s.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def _filename_key(url: str | None, keys: set[str]) -> str | None:
    """The one key whose surname appears in the image file name, if exactly one does."""
    if not url or url.startswith("data:"):
        return None
    try:
        base = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    except ValueError:
        return None
    folded = _ascii_fold(base)
    toks = set(re.split(r"[^a-z0-9]+", folded))
    hits = []
    for key in keys:
        parts = [p for p in re.split(r"[\s\-']+", _ascii_fold(key)) if p and p not in _PARTICLES]
        if not parts:
            continue
        last = parts[-1]
        if last in toks or (len(last) >= 5 and last in folded):
            hits.append(key)
    return hits[0] if len(hits) == 1 else None


def decide_name(cands: list[NameCand], photo: ImageCandidate | None) -> tuple[NameCand | None, str]:
    """Pick the entry's name among *cands*: unique key of the best tier, else alt/file-name tie-break."""
    if not cands:
        return None, "no_name"
    top = max(c.tier for c in cands)
    best = [c for c in cands if c.tier == top]
    keys = {c.key for c in best}
    if len(keys) == 1:
        return best[0], "ok"
    if photo is not None:
        all_keys = {c.key for c in cands}
        for attr in (photo.alt, photo.title):
            alt = name_from_alt(attr)
            if alt:
                ak = name_key(alt)
                hit = [c for c in cands if c.key == ak]
                if hit:
                    return max(hit, key=lambda c: c.tier), "ok"
        fk = _filename_key(photo.url, keys) or _filename_key(photo.url, all_keys)
        if fk:
            return max((c for c in cands if c.key == fk), key=lambda c: c.tier), "ok"
    return None, "ambiguous"


def detail_link_in(doc: Doc, text: PageText, container, key: str, photo_el=None, name: NameCand | None = None):
    """The person's own page linked from the entry: the name link, a link around the photo, a 'more' link."""
    if name is not None and name.href:
        return name.href
    if photo_el is not None:
        e = photo_el
        stop = container.getparent()
        while e is not None and e is not stop:
            if tag_of(e) == "a":
                url = doc.resolve(e.get("href"))
                if is_page_link(url, doc.url):
                    return url
            e = e.getparent()
    for n in text.names_in(doc, container):
        if n.key == key and n.href:
            return n.href
    more = {m.href for m in text.more_in(doc, container)}
    if len(more) == 1:
        return more.pop()
    return None


def _max_container(anchor, slot_count: dict):
    levels = [anchor]
    node = anchor
    while True:
        parent = node.getparent()
        if parent is None or slot_count.get(parent, 0) > 1 or tag_of(parent) in ("html",):
            break
        node = parent
        levels.append(node)
        if tag_of(node) == "body":
            break
    return levels


# --------------------------------------------------------------------------- layout pairing
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


def _sequence_pairs(doc: Doc, scope, slots: list[ImageCandidate], names: list[NameCand],
                    alt_keys: dict | None = None):
    """Pair photos and names by their order in *scope*; returns [(slot, name)] or [] when unsure."""
    if not names or not slots:
        return []
    top = max(n.tier for n in names)
    names = [n for n in names if n.tier == top]
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
            ak = alt_keys.get(id(s))
            if ak and ak != nm.key:
                continue
            rs, _ = _row_col(scope, s.element)
            rn, _ = _row_col(scope, nm.owner)
            if rs is None or rn is None or not _close(kid_index, rs, rn, forward):
                continue
            out.append((s, nm))
        return out

    fwd, bwd = plausible(fwd, True), plausible(bwd, False)
    if len(fwd) == len(bwd):
        return []
    return fwd if len(fwd) > len(bwd) else bwd


# --------------------------------------------------------------------------- main
def find_entries(doc: Doc, text: PageText, cands: list[ImageCandidate], skipped: Counter) -> tuple[list[Entry], list[Entry]]:
    """(photo entries, name-only entries with a detail link) of a page; fills *skipped*."""
    slots = [c for c in cands if c.is_slot]
    for c in cands:
        if not c.is_slot:
            skipped[c.reason or "tiny"] += 1
    slot_count: dict = {}
    for s in slots:
        e = s.element
        while e is not None:
            slot_count[e] = slot_count.get(e, 0) + 1
            e = e.getparent()

    entries: list[Entry] = []
    pending: list[tuple[ImageCandidate, list]] = []
    used_containers: list = []
    for s in slots:
        levels = _max_container(s.element, slot_count)
        chosen = None
        status = "no_name"
        for level in levels:
            cs = text.names_in(doc, level)
            if not cs:
                if text.multi_in(doc, level):
                    status = "group_photo"
                    break
                continue
            chosen, status = decide_name(cs, s)
            if chosen is not None:
                url = detail_link_in(doc, text, level, chosen.key, s.element, chosen)
                ev = _evidence(doc, chosen.display, chosen.key, s, chosen)
                entries.append(Entry(chosen.display, chosen.key, s, level, doc.order[s.element], url, levels[-1], ev))
                used_containers.append(level)
            break
        if chosen is not None:
            continue
        if status in ("group_photo", "ambiguous"):
            skipped[status] += 1
            used_containers.append(levels[-1])
            continue
        alt = name_from_alt(s.alt) or name_from_alt(s.title)
        pending.append((s, levels, alt))

    # photos without a name of their own: pair by layout, then fall back to the alt text
    by_scope: dict = {}
    for s, levels, alt in pending:
        scope = levels[-1].getparent()
        hops = 0
        while scope is not None and hops < _MAX_SCOPE_CLIMB and not text.names_in(doc, scope):
            scope = scope.getparent()
            hops += 1
        if scope is None:
            continue
        by_scope.setdefault(scope, []).append((s, levels, alt))
    paired: dict = {}
    for scope, items in by_scope.items():
        free = [n for n in text.names_in(doc, scope) if not any(doc.contains(c, n.owner) for c in used_containers)]
        alts = {id(s): alt for s, _, alt in items}
        alt_keys = {k: name_key(v) for k, v in alts.items() if v}
        pairs = _sequence_pairs(doc, scope, [s for s, _, _ in items], free, alt_keys)
        if any(alts[id(s)] and name_key(alts[id(s)]) != n.key for s, n in pairs):
            pairs = []  # the layout pairing contradicts the alt texts: trust neither
        for s, n in pairs:
            paired[id(s)] = n
    for s, levels, alt in pending:
        n = paired.get(id(s))
        if n is not None:
            url = detail_link_in(doc, text, levels[-1], n.key, s.element, n)
            entries.append(Entry(n.display, n.key, s, levels[-1], doc.order[s.element], url, levels[-1], True))
        elif alt:
            key = name_key(alt)
            url = detail_link_in(doc, text, levels[-1], key, s.element, None)
            ev = _evidence(doc, alt, key, s, None)
            entries.append(Entry(alt, key, s, levels[-1], doc.order[s.element], url, levels[-1], ev))
        else:
            skipped["no_name"] += 1

    entries.sort(key=lambda e: e.order)
    entries = _drop_unsupported_singletons(entries, skipped)
    entries = _reject_shared_and_bad(entries, skipped)
    name_only = _name_only_entries(doc, text, entries, used_containers)
    return entries, name_only


def _signature(el) -> tuple[str, str]:
    cls = [t for t in (el.get("class") or "").lower().split() if not any(ch.isdigit() for ch in t)]
    return tag_of(el), cls[0] if cls else ""


def _evidence(doc: Doc, display: str, key: str, photo: ImageCandidate, name: NameCand | None) -> bool:
    """Support for a photo/name pair beyond proximity: a title, a known given name, alt/file name, link."""
    if strip_titles(display) != clean_name_text(display).strip(" ,"):
        return True
    toks = key.split()
    if toks and is_known_first_name(toks[0]):
        return True
    for attr in (photo.alt, photo.title):
        alt = name_from_alt(attr)
        if alt and name_key(alt) == key:
            return True
    if _filename_key(photo.url, {key}):
        return True
    if name is not None and name.href:
        e = photo.element
        for _ in range(4):
            if e is None:
                break
            if tag_of(e) == "a" and doc.resolve(e.get("href")) == name.href:
                return True
            e = e.getparent()
    return False


def _drop_unsupported_singletons(entries: list[Entry], skipped: Counter) -> list[Entry]:
    """An isolated pair (no structurally similar sibling entry) needs independent evidence."""
    counts: Counter = Counter()
    for e in entries:
        for sig in {("o",) + _signature(e.outer), ("c",) + _signature(e.container)}:
            counts[sig] += 1
    out = []
    for e in entries:
        repeated = counts[("o",) + _signature(e.outer)] >= 2 or counts[("c",) + _signature(e.container)] >= 2
        if repeated or e.evidence:
            out.append(e)
        else:
            skipped["low_confidence"] += 1
    return out


def _reject_shared_and_bad(entries: list[Entry], skipped: Counter) -> list[Entry]:
    keys_by_url: dict[str, set[str]] = {}
    for e in entries:
        if e.cand is not None and e.cand.url:
            keys_by_url.setdefault(e.cand.url.split("#")[0], set()).add(e.key)
    for e in entries:
        url = e.cand.url.split("#")[0] if e.cand is not None and e.cand.url else None
        reason = e.cand.reason if e.cand is not None else None
        if url and len(keys_by_url.get(url, ())) >= 2:
            reason = "placeholder"
        if reason is not None:
            skipped[reason] += 1
            e.cand = None
            e.detail_url = None  # a listed person without a usable photo: nothing to follow
    with_photo = {e.key for e in entries if e.cand is not None}
    out: list[Entry] = []
    seen: set[str] = set()
    for e in entries:
        if e.key in seen or (e.cand is None and e.key in with_photo):
            continue
        seen.add(e.key)
        out.append(e)
    return out


def _name_only_entries(doc: Doc, text: PageText, entries: list[Entry], used: list) -> list[Entry]:
    known = {e.key for e in entries}
    out: list[Entry] = []
    for n in text.names:
        if not n.href or n.tier < 1 or n.key in known or doc.news.get(n.owner):
            continue
        known.add(n.key)
        out.append(Entry(n.display, n.key, None, n.owner, n.order, n.href))
    # "Profil"/"mehr" links next to a plain name
    for m in text.more_links:
        if doc.news.get(m.element) or any(doc.contains(c, m.element) for c in used):
            continue
        e = m.element.getparent()
        for _ in range(4):
            if e is None or tag_of(e) in ("body", "html"):
                break
            names = [n for n in text.names_in(doc, e) if n.tier >= 1]
            links = {x.href for x in text.more_in(doc, e)}
            if len(links) > 1:
                break
            keys = {n.key for n in names}
            if len(keys) == 1:
                n = names[0]
                if n.key not in known:
                    known.add(n.key)
                    out.append(Entry(n.display, n.key, None, e, n.order, m.href))
                break
            if len(keys) > 1:
                break
            e = e.getparent()
    out.sort(key=lambda x: x.order)
    return out
