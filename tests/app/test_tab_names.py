"""A log's tab is found by its exact name first: a tab whose name differs only in spacing or case
is never read instead of it, and is named in one warning. On an .xlsx file and on a Google Sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kakosheet.app.sync import sync_source
from kakosheet.config import Config
from tests.gsheet.conftest import any_sheet, api, google_sheet, sheets_api, team  # noqa: F401 (fixtures)
from tests.gsheet.sheets import GoogleSheet, SheetUnderTest, XlsxSheet
from tests.helpers import QC_LABELS, qc_row, qc_tab

NOW = dt.datetime(2026, 6, 30, 9, 0)
ID, DESCRIPTION = QC_LABELS.index("Case ID"), QC_LABELS.index("Description")
LOOKALIKES = ["QC  Log", "QC\u00a0Log"]  # a workbook refuses two names that differ only in case


def ids(sheet: SheetUnderTest, tab: str) -> dict[str, Any]:
    return {row[DESCRIPTION]: row[ID] for row in sheet.values(tab)[1:] if len(row) > DESCRIPTION}


def add_tab(sheet: SheetUnderTest, title: str, rows: list[list[Any]]) -> None:
    """A person adds a tab to the workbook the team already syncs."""
    if isinstance(sheet, XlsxSheet):
        from openpyxl import load_workbook

        workbook = load_workbook(sheet.path)
        tab = workbook.create_sheet(title)
        for row in rows:
            tab.append(row)
        workbook.save(sheet.path)
    else:
        assert isinstance(sheet, GoogleSheet)
        sheet.book.batch_update([{"addSheet": {"properties": {"title": title}}}])
        sheet.set_values(title, "A1", rows)


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_the_exact_tab_name_wins_over_a_later_lookalike(
    any_sheet: SheetUnderTest,  # noqa: F811
    team: Config,  # noqa: F811
    lookalike: str,
) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(Description="real 1"), qc_row(Description="real 2")])})
    first = sync_source(team, any_sheet.spec, now=NOW)
    assert first.counts["qc"]["new"] == 2
    add_tab(any_sheet, lookalike, qc_tab([qc_row(Description="copy")]))
    any_sheet.set_values("QC Log", "A4", [[None, "0009876"]])
    any_sheet.set_values("QC Log", f"{chr(65 + DESCRIPTION)}4", [["real 3"]])

    second = sync_source(team, any_sheet.spec, now=NOW + dt.timedelta(hours=1))

    assert second.counts["qc"]["gone"] == 0 and second.counts["qc"]["new"] == 1
    assert ids(any_sheet, "QC Log") == {"real 1": "QC-2026-0001", "real 2": "QC-2026-0002", "real 3": "QC-2026-0003"}
    assert ids(any_sheet, lookalike) == {"copy": None}
    warnings = [i for i in second.report.issues if i.code == "lookalike-tab"]
    assert len(warnings) == 1
    assert warnings[0].sheet == "QC Log" and repr(lookalike) in warnings[0].message
    assert "'QC Log'" in warnings[0].message


def test_the_exact_name_wins_when_the_lookalike_comes_first(
    any_sheet: SheetUnderTest,  # noqa: F811
    team: Config,  # noqa: F811
) -> None:
    any_sheet.create(
        {
            "QC  Log": qc_tab([qc_row(Description="old copy")]),
            "QC Log": qc_tab([qc_row(Description="real")]),
        }
    )
    result = sync_source(team, any_sheet.spec, now=NOW)
    assert result.counts["qc"]["new"] == 1
    assert ids(any_sheet, "QC Log") == {"real": "QC-2026-0001"}
    assert ids(any_sheet, "QC  Log") == {"old copy": None}
    assert [i.code for i in result.report.issues] == ["lookalike-tab"]


def test_without_an_exact_name_the_first_lookalike_is_read_and_the_other_named(
    any_sheet: SheetUnderTest,  # noqa: F811
    team: Config,  # noqa: F811
) -> None:
    any_sheet.create(
        {
            "qc log": qc_tab([qc_row(Description="first")]),
            "QC  LOG": qc_tab([qc_row(Description="second")]),
        }
    )
    result = sync_source(team, any_sheet.spec, now=NOW)
    assert ids(any_sheet, "qc log") == {"first": "QC-2026-0001"}
    assert ids(any_sheet, "QC  LOG") == {"second": None}
    (warning,) = [i for i in result.report.issues if i.code == "lookalike-tab"]
    assert warning.sheet == "qc log" and "'QC  LOG'" in warning.message
