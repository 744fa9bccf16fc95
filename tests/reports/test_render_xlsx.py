"""The standalone xlsx report, opened with openpyxl: real tables with formats and frozen headers,
native charts whose references cover the right cells, case text never a formula."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from kakosheet.reports.render_xlsx import HEADER_ROW, render_xlsx
from tests.reports.store import qc
from tests.reports.test_render import built

FORMULA = '=HYPERLINK("https://evil.example/","click")'


def test_the_xlsx_report(tmp_path: Path) -> None:
    report, doc = built(tmp_path, extra=[qc("F1", dt.datetime(2026, 12, 29, 10, 0), "Damaged", FORMULA, "Supplier")])
    data = render_xlsx(report)
    book = load_workbook(BytesIO(data))

    reasons = book["Reasons"]
    assert reasons.freeze_panes == f"A{HEADER_ROW + 1}"
    header = [c.value for c in reasons[HEADER_ROW]]
    assert header[:7] == ["Log", "Reason", "Cases", "Previous", "Change", "Share", "Cost"]
    rows = doc["reasons"]["rows"]
    assert reasons.tables["T_reasons"].ref == f"A{HEADER_ROW}:H{HEADER_ROW + len(rows)}"
    for offset, row in enumerate(rows, start=HEADER_ROW + 1):
        assert [reasons.cell(offset, c).value for c in (1, 2, 3, 4)] == [
            row["log"],
            row["reason"],
            row["figure"]["count"],
            row["figure"]["previous"],
        ]
        assert (
            Decimal(str(reasons.cell(offset, 6).value)) == Decimal(row["share"])
            and reasons.cell(offset, 6).number_format == "0.0%"
        )
    (chart,) = reasons._charts
    together = [i for i, r in enumerate(rows) if r["log"] == "all"]
    first, last = HEADER_ROW + 1 + together[0], HEADER_ROW + 1 + together[-1]
    assert chart.series[0].val.numRef.f == f"'Reasons'!$C${first}:$C${last}"
    categories = chart.series[0].cat
    assert (categories.numRef or categories.strRef).f == f"'Reasons'!$B${first}:$B${last}"

    costs = book["Costs"]
    usd_net = next(r for r in costs.iter_rows(min_row=HEADER_ROW + 1) if r[0].value == "USD" and r[1].value == "net")
    assert Decimal(str(usd_net[3].value)) == Decimal("85.50") and usd_net[3].number_format == '#,##0.00 "USD"'

    trend = book["Trend"]
    (line,) = trend._charts
    periods = len(doc["trend"]["periods"])
    assert [s.tx.v for s in line.series] == ["qc", "refunds"]
    assert line.series[1].val.numRef.f == f"'Trend'!$D${HEADER_ROW + 1 + periods}:$D${HEADER_ROW + 2 * periods}"
    assert all(trend.cell(HEADER_ROW + 1 + i, 3).value == "qc" for i in range(periods))
    assert book["Parties"]._charts

    cases = book["Cases"]
    case_rows = list(cases.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert len(case_rows) == len(doc["cases"]) and cases.tables["T_cases"]
    assert any(r[4] == FORMULA for r in case_rows)

    # The formula-looking party is a string cell in the file itself, not a formula.
    with zipfile.ZipFile(BytesIO(data)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in package.read(n) for n in sheets)
        strings = [*sheets, "xl/sharedStrings.xml"]
        assert any(b"<t>=HYPERLINK(" in package.read(n) for n in strings)  # a string, inline or shared
