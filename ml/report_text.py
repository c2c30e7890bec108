"""The evaluation report as a list of blocks, rendered twice: self-contained HTML and Markdown.

One document model keeps both files saying the same thing.  Every string in a block is
plain text (labels and ids come from crawled web pages); the renderers escape it.
"""
from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass
from typing import Any

MISSING = "—"


# ---------- blocks ----------

@dataclass(frozen=True)
class Code:
    """An inline code span (a command to run)."""
    text: str


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[str | Code, ...]
    warning: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Picture:
    file: str
    element_id: str
    alt: str


Block = Heading | Paragraph | Table | BulletList | Picture


def paragraph(*parts: str | Code, warning: bool = False) -> Paragraph:
    return Paragraph(tuple(parts), warning)


def table(header: list[str] | tuple[str, ...], rows: list[list[str]] | list[tuple[str, ...]]) -> Table:
    return Table(tuple(header), tuple(tuple(row) for row in rows))


# ---------- number formatting ("—" for anything missing) ----------

def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt(value: Any, digits: int = 3) -> str:
    f = number(value)
    return MISSING if f is None else f"{f:.{digits}f}"


def fmt_int(value: Any) -> str:
    f = number(value)
    return MISSING if f is None else str(int(f))


def fmt_percent(fraction: Any, digits: int = 1) -> str:
    f = number(fraction)
    return MISSING if f is None else f"{100 * f:.{digits}f} %"


def fmt_interval(low: Any, high: Any, digits: int = 3) -> str:
    if number(low) is None or number(high) is None:
        return MISSING
    return f"{fmt(low, digits)}–{fmt(high, digits)}"


def fmt_p(value: Any) -> str:
    f = number(value)
    if f is None:
        return MISSING
    return f"{f:.3f}" if f >= 0.001 else f"{f:.2g}"


def text(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


# ---------- HTML ----------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { border-bottom: 2px solid #ccc; padding-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f2f2f2; padding: 0 .25em; border-radius: 3px; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: .5em .8em; border-radius: 4px; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9em; }
"""


def _html_inline(parts: tuple[str | Code, ...]) -> str:
    return "".join(f"<code>{html.escape(p.text)}</code>" if isinstance(p, Code) else html.escape(p)
                   for p in parts)


def _html_table(block: Table) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>\n"
                   for row in block.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _html_picture(block: Picture, files: dict[str, bytes]) -> str:
    data = base64.b64encode(files[block.file]).decode("ascii")
    alt = html.escape(block.alt)
    return (f'<figure><img id="{html.escape(block.element_id)}" alt="{alt}" '
            f'src="data:image/png;base64,{data}"><figcaption>{alt}</figcaption></figure>')


def _html_block(block: Block, files: dict[str, bytes]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        css = ' class="warning"' if block.warning else ""
        return f"<p{css}>{_html_inline(block.parts)}</p>"
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, BulletList):
        return "<ul>\n" + "".join(f"<li>{html.escape(item)}</li>\n" for item in block.items) + "</ul>"
    return _html_picture(block, files)


def render_html(blocks: list[Block], files: dict[str, bytes]) -> str:
    """A single offline page: inline CSS, pictures as data: URIs, no scripts, no URLs."""
    title = next((b.text for b in blocks if isinstance(b, Heading)), "Evaluation report")
    body = "\n".join(_html_block(block, files) for block in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
            f"{body}\n</main>\n</body>\n</html>\n")


# ---------- Markdown ----------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|&#!~])")


def md_escape(value: str) -> str:
    """Backslash-escape Markdown syntax (and raw HTML); newlines would break tables."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _md_inline(parts: tuple[str | Code, ...]) -> str:
    return "".join(f"`{p.text}`" if isinstance(p, Code) else md_escape(p) for p in parts)


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(md_escape(cell) or " " for cell in cells) + " |"


def _md_table(block: Table) -> str:
    lines = [_md_row(block.header), "|" + "|".join("---" for _ in block.header) + "|"]
    return "\n".join(lines + [_md_row(row) for row in block.rows])


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + md_escape(block.text)
    if isinstance(block, Paragraph):
        inline = _md_inline(block.parts)
        return f"> **Warning:** {inline}" if block.warning else inline
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, BulletList):
        return "\n".join(f"- {md_escape(item)}" for item in block.items)
    return f"![{md_escape(block.alt)}]({block.file})"


def render_markdown(blocks: list[Block]) -> str:
    """The same document as Markdown; pictures linked by relative file name."""
    return "\n\n".join(_md_block(block) for block in blocks) + "\n"
