"""md and html are drawn from the report's records: the same numbers as the JSON, text from
cases escaped (never markup, never a formula), and the html fetches nothing."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from kakosheet.app.report import ReportOptions, make_report
from kakosheet.reports.periods import PeriodKind
from kakosheet.reports.render_html import render_html
from kakosheet.reports.render_json import jsonable
from kakosheet.reports.render_md import render_md
from tests.reports.store import build_team, qc

HOSTILE = '<script>alert("x")</script>=HYPERLINK("https://evil.example/")'


class _Tables(HTMLParser):
    """The text of every table cell, per section id."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[list[str]]] = {}
        self.section: str | None = None
        self.cell: list[str] | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "section":
            self.section = dict(attrs)["id"]
            self.sections[self.section or ""] = []
        elif tag == "tr":
            self.sections[self.section or ""].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.sections[self.section or ""][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def built(tmp_path: Path, extra: list[dict[str, Any]] | None = None) -> tuple[Any, dict[str, Any]]:
    extra = extra or [qc("H1", dt.datetime(2026, 12, 29, 9, 0), "Damaged", HOSTILE, "Supplier")]
    config = build_team(tmp_path / "team", f"sqlite:///{tmp_path / 'store.db'}", extra_qc=extra)
    report = make_report(
        config, ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=f"sqlite:///{tmp_path / 'store.db'}")
    )
    return report, jsonable(report)


def test_md_and_html_show_the_json_numbers_and_escape_case_text(tmp_path: Path) -> None:
    report, doc = built(tmp_path)
    md, html = render_md(report), render_html(report)

    parsed = _Tables()
    parsed.feed(html)
    html_reasons = parsed.sections["reasons"][1:]
    assert len(html_reasons) == len(doc["reasons"]["rows"])
    for cells, row in zip(html_reasons, doc["reasons"]["rows"], strict=True):
        figure = row["figure"]
        assert cells[:5] == [
            row["log"],
            row["reason"],
            str(figure["count"]),
            str(figure["previous"]),
            f"{figure['change']:+}" if figure["change"] else "0",
        ]
        md_row = f"| {row['log']} | {row['reason']} | {figure['count']} | {figure['previous']} |"
        assert md_row in md.replace("\\_", "_")
    html_costs = parsed.sections["costs"][1:]
    expected = [
        (c["currency"], line["category"], line["money"]["amount"])
        for c in doc["costs"]["currencies"]
        for line in c["lines"]
    ]
    assert [(r[0], r[1], r[3].split()[0]) for r in html_costs if r[1] != "net"] == expected
    nets = {r[0]: r[3] for r in html_costs if r[1] == "net"}
    assert nets == {c["currency"]: f"{c['net']['amount']} {c['currency']}" for c in doc["costs"]["currencies"]}
    assert nets["USD"] == "85.50 USD"
    html_refunds = parsed.sections["refunds"][1:]
    assert html_refunds == [["V01", "USD", "2", "50.00 USD", "5.00 USD", "45.00 USD"]]
    assert "| V01 | USD | 2 | 50.00 USD | 5.00 USD | 45.00 USD |" in md

    # The hostile party name is text in both: escaped, never a tag, never a live formula.
    assert "<script" not in html and "&lt;script&gt;" in html
    assert any(HOSTILE in " ".join(cells) for cells in parsed.sections["parties"])
    assert "\\<script\\>" in md and "<script>" not in md

    # Self-contained: no script, no stylesheet or image fetched; only SVG's namespace names remain.
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    addresses = {a for a in re.findall(r"https?://[^\s\"'<>)&]+", html) if "evil.example" not in a}  # case text
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not re.search(r"(src|href)\s*=", html)
    assert html.count("<svg") == 3
    assert len(html.encode()) < 300_000
