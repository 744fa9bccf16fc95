"""Rendering results for people (text) and programs (JSON)."""

from __future__ import annotations

import json
from typing import TextIO

from kakosheet.core.issues import Report


def render_text(report: Report, out: TextIO) -> None:
    """One line per issue, grouped by tab, in sheet order."""
    current = None
    for issue in report.sorted():
        sheet = issue.sheet or issue.log
        if sheet != current:
            if current is not None:
                out.write("\n")
            out.write(f"{sheet}\n")
            current = sheet
        where = []
        if issue.row is not None:
            where.append(f"row {issue.row}")
        if issue.column:
            where.append(issue.column)
        location = ", ".join(where) or "tab"
        case = f" [{issue.case_id}]" if issue.case_id else ""
        out.write(f"  {location}{case}: {issue.severity} {issue.code}: {issue.message}\n")


def summary(report: Report) -> str:
    counts = ", ".join(f"{report.sheets_read[name]} {count}" for name, count in report.rows_read.items())
    bad_rows = sum(report.rows_with_errors().values())
    verdict = "no errors" if report.valid else f"{report.errors} error(s) in {bad_rows} row(s)"
    return f"Rows read: {counts or 'none'}. {verdict.capitalize()}, {report.warnings} warning(s)."


def render_json(report: Report, out: TextIO) -> None:
    json.dump(report.to_json(), out, ensure_ascii=False, indent=1, default=str)
    out.write("\n")
