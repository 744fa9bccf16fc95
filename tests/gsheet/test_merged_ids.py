"""A Google Sheet whose Case ID column staff merged: flagged, never written under, fixed by unmerging.

Through gspread over HTTP to the local Sheets API server; the merges come from the spreadsheet's
metadata (``sheets[].merges``), as kakosheet asks for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kakosheet.app.sync import sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config
from kakosheet.core.issues import Issue
from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.sources.gsheet import GoogleSheetSource
from kakosheet.sources.gsheet_spec import GoogleAccess
from tests.gsheet.sheets import GoogleSheet
from tests.gsheet.test_gsheet_sync import ID, ISSUES, stored
from tests.helpers import qc_row, qc_tab
from tests.sheets_api import SheetsApiServer

NOW = dt.datetime(2026, 6, 30, 9, 0)
MERGED = ("merged-id", "merged-cell")


def six_cases(sheet: GoogleSheet) -> None:
    sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(6)])})


def area(sheet: GoogleSheet, rows: tuple[int, int], columns: tuple[int, int]) -> dict[str, Any]:
    """A GridRange of sheet rows (1-based, inclusive) and column indexes (0 = A, inclusive)."""
    return {
        "sheetId": sheet.book.sheet_id("QC Log"),
        "startRowIndex": rows[0] - 1,
        "endRowIndex": rows[1],
        "startColumnIndex": columns[0],
        "endColumnIndex": columns[1] + 1,
    }


def merged(issues: list[Issue]) -> list[tuple[int | None, str | None, str, str, str]]:
    return [(i.row, i.column, i.code, i.severity, i.message) for i in issues if i.code in MERGED]


def column(sheet: GoogleSheet, index: int) -> dict[int, Any]:
    return {
        number: (row[index] if len(row) > index else None) for number, row in enumerate(sheet.values("QC Log")[1:], 2)
    }


def test_a_merged_case_id_column_is_flagged_never_written_under_and_fixed_by_unmerging(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    six_cases(google_sheet)
    google_sheet.book.batch_update([{"mergeCells": {"range": area(google_sheet, (3, 5), (ID, ID))}}])
    checked = merged(validate_source(team, google_sheet.spec, today=NOW.date()).issues)
    assert [(row, code, severity) for row, _, code, severity, _ in checked] == [
        (r, "merged-id", "error") for r in (3, 4, 5)
    ]
    assert checked[0][4].endswith("unmerge A3:A5 in 'QC Log': each case needs its own Case ID cell")
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert merged(result.report.issues) == checked
    ids, notes = column(google_sheet, ID), column(google_sheet, ISSUES)
    assert [ids[row] for row in (3, 4, 5)] == [None, None, None]
    assert [notes[row] for row in (3, 4, 5)] == [f"Case ID: {checked[0][4]}"] * 3
    assert sorted(stored(team).values()) == ["case 0", "case 4", "case 5"]
    issues_tab = google_sheet.values("Issues")
    assert sum(checked[0][4] in row for row in issues_tab) == 3

    google_sheet.book.batch_update([{"unmergeCells": {"range": area(google_sheet, (3, 5), (ID, ID))}}])
    again = sync_source(team, google_sheet.spec, now=NOW)
    assert merged(again.report.issues) == [] and again.counts["qc"]["new"] == 3
    ids = column(google_sheet, ID)
    assert None not in ids.values() and len(set(ids.values())) == 6
    assert stored(team) == {ids[row]: f"case {row - 2}" for row in range(2, 8)}


def test_a_merged_issues_column_is_a_warning_and_no_note_goes_under_it(google_sheet: GoogleSheet, team: Config) -> None:
    six_cases(google_sheet)
    google_sheet.set_values("QC Log", "C4", [[dt.datetime(2027, 1, 1)], [dt.datetime(2027, 1, 1)]])  # notes to write
    google_sheet.book.batch_update([{"mergeCells": {"range": area(google_sheet, (3, 5), (ISSUES, ISSUES))}}])
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert [(row, code, severity) for row, _, code, severity, _ in merged(result.report.issues)] == [
        (row, "merged-cell", "warning") for row in (3, 4, 5)
    ]
    notes = column(google_sheet, ISSUES)
    assert notes[4] is None and notes[5] is None and "each case needs its own Issues cell" in notes[3]
    assert len(stored(team)) == 6


def test_header_and_staff_column_merges_are_not_flagged(google_sheet: GoogleSheet, team: Config) -> None:
    rows = [["QC failures, summer 2026"], *qc_tab([qc_row(Description=f"case {i}") for i in range(3)])]
    google_sheet.create({"QC Log": rows})
    media = rows[1].index("Media Links")
    google_sheet.book.batch_update(
        [
            {"mergeCells": {"range": area(google_sheet, (1, 1), (0, 5))}},
            {"mergeCells": {"range": area(google_sheet, (3, 5), (media, media))}},
        ]
    )
    assert len(google_sheet.book.sheet("QC Log")["merges"]) == 2
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert merged(result.report.issues) == [] and result.counts["qc"]["new"] == 3
    assert sorted(stored(team).values()) == ["case 0", "case 1", "case 2"]


def test_the_write_back_never_writes_under_a_merge(google_sheet: GoogleSheet) -> None:
    """Asked to write into hidden cells (by a plan that knew nothing of merges), it leaves them and
    leaves their rows for the next sync."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(3)])})
    google_sheet.book.batch_update([{"mergeCells": {"range": area(google_sheet, (3, 4), (ID, ID))}}])
    source = GoogleSheetSource(google_sheet.spec, GoogleAccess.resolve(None, None))
    (grid,) = source.read_grids(["QC Log"]).values()
    assert [m.ref for m in grid.merges] == ["A3:A4"]
    cells = [CellUpdate(row, ID, f"QC-2026-000{row}", None) for row in (2, 3, 4)]
    write = SheetWrite("QC Log", header_row=1, first_column=0, last_column=ISSUES, issues_column=ISSUES, id_column=ID)
    write.cells = cells
    result = source.write_back(WriteBack(sheets=[write]))
    assert result.skipped == frozenset({("QC Log", 4)})
    ids = column(google_sheet, ID)
    assert [ids[row] for row in (2, 3, 4)] == ["QC-2026-0002", "QC-2026-0003", None]
