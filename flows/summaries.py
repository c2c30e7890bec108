"""Crawl summaries as a terminal table (rich) and as rows for a Prefect table artifact."""
from __future__ import annotations

import sys

COLUMNS = ("department", "pages", "people", "new", "unchanged", "failed", "vanished", "finish")


def top_reasons(skipped: dict[str, int], n: int = 4) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1])[:n])


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
