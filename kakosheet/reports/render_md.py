"""The report as Markdown tables, for chat and email."""

from __future__ import annotations

from kakosheet.reports.model import Report
from kakosheet.reports.tables import Table, layout

MAX_IDS = 12  # per row in md; the JSON and html list them all


def _escape(text: str) -> str:
    """Cell text that cannot end a cell, start a new line, or be read as markup."""
    text = " ".join(text.split())
    for char in "\\|*_`[]<>#":
        text = text.replace(char, "\\" + char)
    return text


def _ids(ids: tuple[str, ...]) -> str:
    shown = ", ".join(ids[:MAX_IDS])
    return shown + (f" and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else "")


def _table(table: Table) -> list[str]:
    lines = [f"## {_escape(table.title)}", ""]
    if table.note:
        lines += [f"_{_escape(table.note)}_", ""]
    if not table.rows:
        return [*lines, "No cases.", ""]
    header = [*table.columns, "Case IDs"]
    lines.append("| " + " | ".join(_escape(c) for c in header) + " |")
    lines.append("|" + "|".join("---:" if i > 1 and i < len(header) - 1 else "---" for i in range(len(header))) + "|")
    for row, ids in zip(table.rows, table.case_ids, strict=True):
        cells = [_escape(cell.text()) for cell in row] + [_escape(_ids(ids))]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def render_md(report: Report) -> str:
    laid = layout(report)
    lines = [f"# {_escape(laid.title)}", "", _escape(laid.subtitle), ""]
    for table in laid.tables:
        lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"
