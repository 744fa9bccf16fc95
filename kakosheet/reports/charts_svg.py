"""Charts as inline SVG, drawn by pygal: no script, no font or style fetched from anywhere."""

from __future__ import annotations

import re

import pygal
from lxml import etree
from pygal.style import Style

from kakosheet.reports.model import Report

_STYLE = Style(background="white", plot_background="white", font_family="sans-serif")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)  # pygal's banner names its web site


def _svg(chart: pygal.graph.graph.Graph) -> str:
    """The chart's SVG without pygal's inline config script (the charts need no script) or banner."""
    tree = chart.render_tree()
    for script in tree.iter("{*}script", "script"):
        script.getparent().remove(script)
    return _COMMENT.sub("", etree.tostring(tree, encoding="unicode"))


def _config() -> dict[str, object]:
    return {
        "js": [],  # pygal's tooltips script lives on a web site: none, so nothing is fetched
        "disable_xml_declaration": True,
        "style": _STYLE,
        "width": 720,
        "height": 320,
        "explicit_size": False,  # scales with the page, readable on a phone
        "print_values": False,
        "legend_at_bottom": True,
        "truncate_label": 24,
    }


def reasons_chart(report: Report) -> str:
    rows = [r for r in report.reasons.rows if r.log == "all"][:10]
    chart = pygal.HorizontalBar(**_config(), show_legend=False)
    chart.title = "Top failure reasons (all logs)"
    chart.x_labels = [r.reason or "(blank)" for r in rows]
    chart.add("cases", [r.figure.count for r in rows])
    return _svg(chart)


def trend_chart(report: Report) -> str:
    chart = pygal.Line(**_config(), x_label_rotation=30)
    chart.title = "Cases per period"
    chart.x_labels = list(report.trend.periods)
    for log in report.logs:
        chart.add(log, [p.cases.count for p in report.trend.points if p.log == log])
    return _svg(chart)


def parties_chart(report: Report) -> str:
    rows = report.parties.rows[:12]
    chart = pygal.Bar(**_config(), x_label_rotation=30)
    labels = [f"{r.party or '(blank)'} ({r.kind})" for r in rows]
    chart.x_labels = labels
    if report.parties.ranked_by == "rate":
        chart.title = "After-sales rate by party, with the alarm limit"
        chart.add("rate", [float(r.rate) if r.rate is not None else None for r in rows])
        chart.add("alarm limit", [float(r.alarm[1]) if r.alarm else None for r in rows])
    else:
        chart.title = "Cases by party (no order data: counts, not rates)"
        chart.add("cases", [r.figure.count for r in rows])
    return _svg(chart)
