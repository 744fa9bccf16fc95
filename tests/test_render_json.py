"""`validate --format json` writes the text json.dump(indent=1) would, byte for byte, however odd the values."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from kakosheet.app.validate import validate_source
from kakosheet.cli.render import render_json
from kakosheet.config import load_config
from kakosheet.core.issues import ERROR, WARNING, Issue, Report
from tests.helpers import qc_row, qc_tab, write_workbook


def _expected(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=1, default=str) + "\n"


def _rendered(report: Report) -> str:
    out = io.StringIO()
    render_json(report, out)
    return out.getvalue()


def test_a_real_reports_json_is_what_json_dump_writes(tmp_path: Path) -> None:
    rows = [qc_row(Status="Shipped"), qc_row(**{"Replacement Cost": "$12.50"}), qc_row(Currency="EURO"), qc_row()]
    path = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab(rows)})
    report = validate_source(load_config(None), str(path))
    assert len(report.issues) >= 3
    assert _rendered(report) == _expected(report)


def test_odd_values_are_written_as_json_dump_writes_them() -> None:
    odd = [
        'quote " backslash \\ slash /',
        "line\nbreak\ttab\r\x00\x1f",
        "naïve ünïcödé 华为 \u2028 \U0001f600",
        "",
    ]
    issues = [
        Issue(log="qc", sheet=None, row=None, column=None, code="missing-tab", severity=WARNING, message="tab"),
        *(
            Issue(log="qc", sheet="QC Log", row=n, column=text, code="x", severity=ERROR, message=text, value=text)
            for n, text in enumerate(odd, start=2)
        ),
    ]
    report = Report(issues=issues, rows_read={"qc": 4, "refunds": 0}, sheets_read={"qc": 'QC "Log"', "refunds": ""})
    assert _rendered(report) == _expected(report)
    # A value of another type (kakosheet's issues hold none today) is written as json.dump would too.
    other = Report(
        issues=[
            Issue(
                log="qc",
                sheet="QC Log",
                row=2,
                column="C",
                code="x",
                severity=ERROR,
                message="m",
                value=dt.date(2026, 1, 2),
                case_id=["QC-1", {"n": 1.5, "ok": True}],
            )
        ]  # type: ignore[arg-type]
    )
    assert _rendered(other) == _expected(other)


def test_a_report_without_issues() -> None:
    report = Report(rows_read={"qc": 0}, sheets_read={"qc": "QC Log"})
    assert _rendered(report) == _expected(report)
    assert _rendered(Report()) == _expected(Report())
