"""Plain-text and HTML tables for every report (doctor, engine IO table, parity reports).

Why one helper: each report used to pad columns and escape cells its own way; this keeps the
alignment rule and the escaping (untrusted names, paths and messages) in one place.
Cells are strings; HTML cells may be :class:`Cell` (style, colspan) holding :class:`Html`
(trusted markup, inserted as is). Everything else is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Html:
    """Trusted markup built by trtlab itself: inserted without escaping."""

    markup: str


@dataclass(frozen=True)
class Cell:
    """One HTML cell with an inline style and/or a column span."""

    value: str | Html
    style: str = ""
    colspan: int = 1


HtmlCell = Union[str, Html, Cell]


def text_table(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    rule: bool = False,
    indent: str = "",
    sep: str = "  ",
    extra: Mapping[int, Sequence[str]] | None = None,
    extra_column: int | None = None,
) -> str:
    """Rows as left-aligned columns (trailing spaces stripped).

    ``rule`` draws dashes under ``header``. ``extra[i]`` are lines printed under row ``i``: as
    given, or starting where column ``extra_column`` starts (e.g. a "fix:" line under a column).
    """
    table = [list(header)] if header is not None else []
    table += [list(r) for r in rows]
    if not table:
        return ""
    ncols = max(len(r) for r in table)
    table = [r + [""] * (ncols - len(r)) for r in table]
    widths = [max(len(r[i]) for r in table) for i in range(ncols)]
    offset = ""
    if extra_column is not None:
        offset = " " * (len(indent) + sum(widths[:extra_column]) + len(sep) * extra_column)

    def line(cells: Sequence[str]) -> str:
        return (indent + sep.join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

    lines: list[str] = []
    if header is not None:
        lines.append(line(table.pop(0)))
        if rule:
            lines.append(indent + sep.join("-" * w for w in widths))
    for i, row in enumerate(table):
        lines.append(line(row))
        lines.extend(offset + text for text in (extra or {}).get(i, ()))
    return "\n".join(lines)


def _cell(tag: str, cell: HtmlCell, code: bool) -> str:
    style, colspan = "", 1
    if isinstance(cell, Cell):
        style, colspan, cell = cell.style, cell.colspan, cell.value
    text = cell.markup if isinstance(cell, Html) else html.escape(str(cell))
    if code and not isinstance(cell, Html) and text:
        text = f"<code>{text}</code>"
    attrs = (f" colspan='{colspan}'" if colspan != 1 else "") + (
        f" style='{html.escape(style, quote=True)}'" if style else ""
    )
    return f"<{tag}{attrs}>{text}</{tag}>"


def html_table(
    rows: Iterable[Sequence[HtmlCell]],
    *,
    header: Sequence[HtmlCell] | None = None,
    caption: str | None = None,
    code: bool = False,
) -> str:
    """An HTML ``<table>``; ``code=True`` shows plain-text cells in ``<code>`` (names, shapes)."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header is not None:
        head = "".join(_cell("th", h, False) for h in header)
        parts.append(f"<thead><tr>{head}</tr></thead>")
    body = "".join("<tr>" + "".join(_cell("td", c, code) for c in row) + "</tr>" for row in rows)
    parts.append(f"<tbody>{body}</tbody></table>")
    return "".join(parts)


__all__ = ["Cell", "Html", "HtmlCell", "html_table", "text_table"]
