"""The report as one self-contained HTML file: inline style and SVG charts, nothing fetched,
every text escaped, readable on a phone."""

from __future__ import annotations

from html import escape

from kakosheet.core.plural import counted
from kakosheet.reports import charts_svg
from kakosheet.reports.model import Report
from kakosheet.reports.tables import Kind, Table, layout

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}
body{margin:0 auto;max-width:960px;padding:12px}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
.sub,.note{color:#666;font-size:.9em}.wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em;min-width:60%}th,td{padding:4px 8px;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
details{margin:.5em 0;font-size:.85em}summary{cursor:pointer;color:#245}.ids{color:#444;word-break:break-word}
svg{max-width:100%;height:auto}
"""

_NUMERIC = {Kind.COUNT, Kind.CHANGE, Kind.MONEY, Kind.SHARE, Kind.DAYS}


def _table(table: Table, chart: str | None) -> str:
    parts = [f'<section id="{escape(table.key)}"><h2>{escape(table.title)}</h2>']
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    if not table.rows:
        parts.append("<p>No cases.</p></section>")
        return "".join(parts)
    parts.append('<div class="wrap"><table><thead><tr>')
    parts += [f"<th>{escape(c)}</th>" for c in table.columns]
    parts.append("</tr></thead><tbody>")
    for row in table.rows:
        parts.append("<tr>")
        for cell in row:
            css = ' class="n"' if cell.kind in _NUMERIC else ""
            parts.append(f"<td{css}>{escape(cell.text())}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if chart:
        parts.append(f'<div class="chart">{chart}</div>')
    listed = [(row, ids) for row, ids in zip(table.rows, table.case_ids, strict=True) if ids]
    if listed:
        parts.append(f"<details><summary>Cases behind these figures ({counted(len(listed), 'row')})</summary><ul>")
        for row, ids in listed:
            label = " / ".join(cell.text() for cell in row[:3])
            parts.append(f'<li>{escape(label)}: <span class="ids">{escape(", ".join(ids))}</span></li>')
        parts.append("</ul></details>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    laid = layout(report)
    charts = {
        "reasons": charts_svg.reasons_chart(report) if report.reasons.rows else None,
        "parties": charts_svg.parties_chart(report) if report.parties.rows else None,
        "trend": charts_svg.trend_chart(report),
    }
    body = "".join(_table(table, charts.get(table.key)) for table in laid.tables)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(laid.title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{escape(laid.title)}</h1><p class="sub">{escape(laid.subtitle)}</p>{body}</body></html>\n'
    )
