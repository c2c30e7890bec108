"""Crawl summaries as a terminal table (rich) and as rows for a Prefect table artifact."""
from __future__ import annotations

import re
import sys

COLUMNS = ("department", "pages", "people", "new", "unchanged", "failed", "vanished", "finish")


FAILURE = re.compile(r"page_.*|http_\d+|timeout|download_failed|connection_refused|dns_error|store_error")


def top_reasons(skipped: dict[str, int], n: int = 4) -> str:
    """Every failure (a fault must never hide behind bad-input skips), then the n most frequent others."""
    failures = sorted(((k, v) for k, v in skipped.items() if FAILURE.fullmatch(k)), key=lambda kv: -kv[1])
    others = sorted(((k, v) for k, v in skipped.items() if not FAILURE.fullmatch(k)), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v}" for k, v in failures + others[:n])


def summary_rows(summaries: list[dict]) -> list[dict]:
    """Flat rows (one per department, plus a total) with the main skip reasons."""
    rows = [{**{c: s[c] for c in COLUMNS}, "skipped": top_reasons(s["skipped"])} for s in summaries]
    if rows:
        total = {c: sum(r[c] for r in rows) for c in COLUMNS[1:-1]}
        rows.append({"department": "TOTAL", **total, "finish": "", "skipped": ""})
    return rows


def crawl_table(summaries: list[dict]):
    from rich.table import Table

    table = Table(*COLUMNS, "skipped (top reasons)", title="crawl summary")
    for row in summary_rows(summaries):
        table.add_row(*(str(row[c]) for c in COLUMNS), row["skipped"])
    return table


def table_console():
    """Standard output; tables keep their columns when piped (no terminal width to go by)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def preprocess_rows(summary) -> list[dict]:
    """Counts per category and split, for the terminal and the Prefect artifact."""
    balance = summary.balance
    if balance is None or balance.empty:
        return []
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in balance.to_dict("records")]


def role_rows(summary) -> list[dict]:
    """One row per role class: photos per category, and whether the split kept them."""
    counts = getattr(summary, "roles", None)
    if counts is None or counts.empty:
        return []
    wide = counts.pivot_table(index=["role_class", "kept"], columns="category", values="photos", fill_value=0)
    return [{"role": role, "in splits": "yes" if kept else "no", **{c: int(v) for c, v in row.items()}}
            for (role, kept), row in wide.sort_index(level=[1, 0], ascending=[False, True]).iterrows()]


def preprocess_tables(summary):
    from rich.table import Table

    head = Table("images", "cropped now", "rejected now", "crops", "rejects", "crop rate (img/s)",
                 title="preprocess summary")
    head.add_row(str(summary.images), str(summary.cropped_now), str(summary.rejected_now), str(summary.crops_total),
                 str(summary.rejects_total), f"{summary.crop_rate:.1f}")
    tables = [head]
    rows = preprocess_rows(summary)
    if rows:
        balance = Table(*rows[0].keys(), title="class balance")
        for row in rows:
            balance.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
        tables.append(balance)
    roles = role_rows(summary)
    if roles:
        table = Table(*roles[0].keys(), title="roles (photos per category)")
        for row in roles:
            table.add_row(*(str(v) for v in row.values()))
        tables.append(table)
    if summary.reject_reasons:
        reasons = Table("reason", "images", title="rejects")
        for reason, count in sorted(summary.reject_reasons.items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason, str(count))
        tables.append(reasons)
    return tables
