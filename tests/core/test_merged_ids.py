"""Merged cells over kakosheet's cells: an ID is never written into a cell hidden under a merge.

Real workbooks (merged with openpyxl's ``merge_cells``, and one saved by LibreOffice), synced
into the team's real SQLite store.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import python_calamine
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config, load_config
from kakosheet.core.issues import Issue
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.app.test_sync import qc_case
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet, write_workbook

NOW = dt.datetime(2026, 6, 30, 9, 0)
MERGED = ("merged-id", "merged-cell")
FIX = "unmerge A3:A5 in 'QC Log': each case needs its own Case ID cell"


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def six_cases(team: Config) -> Path:
    """The master workbook with six cases on rows 2 to 7, none with an ID yet."""
    path = team.root / "master.xlsx"
    fill_master_workbook(path, team.load_schemas(), {"qc": [qc_case(Description=f"case {i}") for i in range(6)]})
    return path


def merge(path: Path, *areas: str) -> None:
    workbook = load_workbook(path)
    for area in areas:
        workbook["QC Log"].merge_cells(area)
    workbook.save(path)


def unmerge(path: Path, *areas: str) -> None:
    workbook = load_workbook(path)
    for area in areas:
        workbook["QC Log"].unmerge_cells(area)
    workbook.save(path)


def sync(team: Config) -> SyncResult:
    return sync_source(team, now=NOW)


def validate(team: Config, path: Path) -> list[Issue]:
    return validate_source(team, str(path), today=NOW.date()).issues


def merged(issues: list[Issue]) -> list[tuple[int | None, str | None, str, str, str]]:
    return [(i.row, i.column, i.code, i.severity, i.message) for i in issues if i.code in MERGED]


def cells(path: Path, label: str, tab: str = "QC Log") -> dict[int, Any]:
    """Sheet row -> the column's cell as stored in the file, hidden cells too (calamine reads them)."""
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(tab).to_python()
    at = rows[0].index(label)
    return {number: row[at] or None for number, row in enumerate(rows[1:], start=2) if any(row)}


def stored(team: Config) -> dict[str, str]:
    """case ID -> description, as the store holds them."""
    engine = create_engine(f"sqlite:///{team.root / 'kakosheet.db'}")
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text("select case_id, description from case_qc")).all())
    finally:
        engine.dispose()


def missing(team: Config) -> set[str]:
    engine = create_engine(f"sqlite:///{team.root / 'kakosheet.db'}")
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(text("select case_id from case_qc where _missing_since is not null")).scalars()
            )
    finally:
        engine.dispose()


def issues_tab(path: Path) -> list[list[Any]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Issues").to_python()


def test_a_merged_case_id_column_is_flagged_by_validate_and_sync_in_the_same_words(team: Config) -> None:
    """Staff merged A3:A5 to group three rows: each of the three is flagged, naming the tab, the range
    and the fix; validate, the sync's summary, the Issues column and the Issues tab say it alike."""
    path = six_cases(team)
    merge(path, "A3:A5")
    checked = merged(validate(team, path))
    assert [(row, column, code, severity) for row, column, code, severity, _ in checked] == [
        (row, "Case ID", "merged-id", "error") for row in (3, 4, 5)
    ]
    message = checked[0][4]
    assert message.endswith(FIX) and "not stored" in message
    result = sync(team)
    assert merged(result.report.issues) == checked
    assert result.counts["qc"]["conflicts"] == 3 and result.counts["qc"]["new"] == 3
    notes = cells(path, "Issues")
    assert [notes.get(row) for row in (3, 4, 5)] == [f"Case ID: {message}"] * 3
    lines = [row for row in issues_tab(path) if message in row]
    assert len(lines) == 3
    cli = run_kakosheet("validate", "--format", "json", cwd=team.root)
    assert cli.returncode == 1 and cli.stdout.count(FIX) == 3


def test_no_id_is_written_under_a_merge_and_no_case_is_stored_under_one(team: Config) -> None:
    path = six_cases(team)
    merge(path, "A3:A5")
    sync(team)
    ids = cells(path, "Case ID")
    assert [ids.get(row) for row in (3, 4, 5)] == [None, None, None]  # not even the top-left: it reads as all three
    assert sorted(stored(team).values()) == ["case 0", "case 4", "case 5"]
    assert sorted(stored(team)) == sorted(ids[row] for row in (2, 6, 7))


def test_after_unmerging_every_case_gets_its_own_visible_id_stored_once(team: Config) -> None:
    path = six_cases(team)
    merge(path, "A3:A5")
    sync(team)
    unmerge(path, "A3:A5")
    result = sync(team)
    assert merged(result.report.issues) == [] and result.counts["qc"]["conflicts"] == 0
    assert result.counts["qc"]["new"] == 3  # the three held back, now each with its own ID
    ids = cells(path, "Case ID")
    assert len(set(ids.values())) == 6 and None not in ids.values()
    assert stored(team) == {ids[row]: f"case {row - 2}" for row in range(2, 8)}
    assert cells(path, "Issues") == dict.fromkeys(range(2, 8))  # the notes are cleared


def test_ids_hidden_under_a_merge_are_left_alone_and_their_cases_come_back_once(team: Config) -> None:
    """IDs written before staff merged the cells (LibreOffice can keep hidden contents): the rows are
    held back, nothing is overwritten, and after unmerging each case is its stored one again."""
    path = six_cases(team)
    sync(team)
    before = cells(path, "Case ID")
    workbook = load_workbook(path)
    workbook["QC Log"].merged_cells.add("A3:A5")  # a merge that keeps the cells under it
    workbook.save(path)
    result = sync(team)
    assert [row for row, *_ in merged(result.report.issues)] == [3, 4, 5]
    assert all(issue.case_id is None for issue in result.report.issues if issue.code == "merged-id")
    assert cells(path, "Case ID") == before
    assert missing(team) == {before[row] for row in (3, 4, 5)}  # out of the sheet's sight, kept in the store
    unmerge(path, "A3:A5")
    result = sync(team)
    # openpyxl, like Excel, clears what was under the merge: the two rows get their IDs back by content.
    assert result.counts["qc"]["returned"] + result.counts["qc"]["restored"] == 3 and result.counts["qc"]["new"] == 0
    assert cells(path, "Case ID") == before
    assert stored(team) == {before[row]: f"case {row - 2}" for row in range(2, 8)} and missing(team) == set()


def test_a_merge_reaching_into_blank_rows_below_one_case_shows_its_id(team: Config) -> None:
    """The top-left cell of a merge that spans one case row shows that row's ID and nobody else's."""
    path = six_cases(team)
    merge(path, "A7:A9")
    result = sync(team)
    assert merged(result.report.issues) == []
    assert cells(path, "Case ID")[7] is not None and len(stored(team)) == 6


def test_merged_cells_in_the_header_rows_are_not_flagged(team: Config, tmp_path: Path) -> None:
    """A title merged across the top, above the header: nothing of a case row is under it."""
    path = team.root / "master.xlsx"
    rows = [["QC failures, summer 2026"], *qc_tab([qc_row(Description=f"case {i}") for i in range(3)])]
    write_workbook(path, {"QC Log": rows})
    workbook = load_workbook(path)
    workbook["QC Log"].merge_cells("A1:F1")
    workbook.save(path)
    assert merged(validate(team, path)) == []
    result = sync(team)
    assert merged(result.report.issues) == [] and result.counts["qc"]["new"] == 3
    assert sorted(stored(team).values()) == ["case 0", "case 1", "case 2"]


def test_a_merge_in_a_staff_column_is_not_flagged(team: Config) -> None:
    path = six_cases(team)
    merge(path, "G3:G5")  # Media Links, the staff's: kakosheet never writes it
    assert QC_LABELS[6] == "Media Links"
    assert merged(validate(team, path)) == []
    result = sync(team)
    assert merged(result.report.issues) == [] and len(stored(team)) == 6


def test_a_merged_issues_or_date_logged_column_is_a_warning_and_nothing_is_written_under_it(team: Config) -> None:
    """The cases keep their own visible IDs and are stored; kakosheet writes no note and no date into a
    hidden cell, and says so on every row the merge spans."""
    path = six_cases(team)
    workbook = load_workbook(path)
    sheet = workbook["QC Log"]
    issues = QC_LABELS.index("Issues")
    for row in (3, 4, 5):
        sheet.cell(row=row, column=4).value = None  # Date Logged blank: kakosheet would fill it
    for row in (4, 5):
        sheet.cell(row=row, column=3).value = dt.datetime(2027, 1, 1)  # a future Date Identified: a note
    workbook.save(path)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[issues]
    merge(path, "D3:D5", f"{letters}3:{letters}5")
    checked = merged(validate(team, path))
    assert [(row, column, severity) for row, column, _, severity, _ in checked] == [
        (row, column, "warning") for row in (3, 4, 5) for column in ("Date Logged", "Issues")
    ]
    assert checked[1][4].endswith(f"unmerge {letters}3:{letters}5 in 'QC Log': each case needs its own Issues cell")
    result = sync(team)
    assert merged(result.report.issues) == checked
    assert len(stored(team)) == 6
    dates, notes = cells(path, "Date Logged"), cells(path, "Issues")
    assert dates[3] is not None and dates[4] is None and dates[5] is None  # the top-left shows its own row's
    assert notes.get(4) is None and notes.get(5) is None
    assert "each case needs its own Issues cell" in notes[3]


def test_a_workbook_saved_by_libreoffice_with_a_merged_id_column(team: Config, tmp_path: Path) -> None:
    """LibreOffice writes the merge its own way; it is read and flagged all the same."""
    from tests.sources.test_libreoffice import convert

    path = six_cases(team)
    merge(path, "A3:A5")
    saved = convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    shutil.copy(saved / "master.xlsx", path)
    with zipfile.ZipFile(path) as archive:
        assert b'<mergeCell ref="A3:A5"' in archive.read("xl/worksheets/sheet1.xml")
    result = sync(team)
    assert [(row, code) for row, _, code, *_ in merged(result.report.issues)] == [
        (row, "merged-id") for row in (3, 4, 5)
    ]
    assert [cells(path, "Case ID").get(row) for row in (3, 4, 5)] == [None, None, None]
    assert len(stored(team)) == 3
