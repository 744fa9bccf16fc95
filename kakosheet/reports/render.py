"""The renderers, by format name: every one drawn from the same report records."""

from __future__ import annotations

from kakosheet.reports.model import Report
from kakosheet.reports.render_json import render_json


def render(report: Report, output_format: str) -> str | bytes:
    if output_format == "json":
        return render_json(report)
    if output_format == "md":
        from kakosheet.reports.render_md import render_md

        return render_md(report)
    if output_format == "html":
        from kakosheet.reports.render_html import render_html

        return render_html(report)
    if output_format == "xlsx":
        from kakosheet.reports.render_xlsx import render_xlsx

        return render_xlsx(report)
    raise ValueError(f"unknown report format {output_format!r}")
