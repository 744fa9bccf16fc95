"""A synced workbook its editor saved again (text as shared strings, not inline) keeps one Issues tab."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import python_calamine

from kakosheet.app.sync import sync_source
from kakosheet.core.issues_tab import ISSUES_MARK, ISSUES_TAB
from tests.sources.test_libreoffice import convert
from tests.sources.test_writeback import rich_workbook, team_for


def _save_in_libreoffice(workbook: Path, scratch: Path) -> None:
    """Open and save the workbook as LibreOffice Calc does (every text cell a shared string)."""
    out = convert(workbook, "xlsx:Calc MS Excel 2007 XML", scratch)
    shutil.copyfile(out / workbook.name, workbook)


def test_a_resaved_workbooks_issues_tab_is_found_not_added_again(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    store = f"sqlite:///{tmp_path / 's.db'}"
    sync_source(config, store_url=store, now=dt.datetime(2026, 6, 30, 9))
    _save_in_libreoffice(workbook, tmp_path)
    with zipfile.ZipFile(workbook) as package:  # the mark is no longer in the tab's own XML
        parts = [name for name in package.namelist() if name.startswith("xl/worksheets/sheet")]
        assert not any(ISSUES_MARK.encode() in package.read(name) for name in parts)
    for day in (1, 2):
        sync_source(config, store_url=store, now=dt.datetime(2026, 7, day, 9))
        names = python_calamine.CalamineWorkbook.from_path(str(workbook)).sheet_names
        assert [name for name in names if ISSUES_TAB in name] == [ISSUES_TAB]


def test_a_resaved_workbook_whose_issues_are_unchanged_is_not_rewritten(tmp_path: Path) -> None:
    """Once its editor saved it, the Issues tab holds the same values as shared strings: no reason to write."""
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    store = f"sqlite:///{tmp_path / 's.db'}"
    now = dt.datetime(2026, 6, 30, 9)
    first = sync_source(config, store_url=store, now=now)
    assert first.written and first.report.issues
    _save_in_libreoffice(workbook, tmp_path)
    saved = workbook.read_bytes()
    again = sync_source(config, store_url=store, now=now + dt.timedelta(hours=1))
    assert again.unchanged_since is None  # the save changed the package: it was read and judged again
    assert not again.written
    assert workbook.read_bytes() == saved


def test_a_resaved_workbooks_issues_tab_is_rewritten_when_one_value_differs(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    store = f"sqlite:///{tmp_path / 's.db'}"
    now = dt.datetime(2026, 6, 30, 9)
    sync_source(config, store_url=store, now=now)
    _save_in_libreoffice(workbook, tmp_path)
    book = openpyxl.load_workbook(workbook)  # saves every text as a shared string, as LibreOffice did
    [cell] = [cell for row in book["QC Log"].iter_rows() for cell in row if cell.value == "Bogus"]
    cell.value = "Bogus again"
    book.save(workbook)
    again = sync_source(config, store_url=store, now=now + dt.timedelta(hours=1))
    assert again.written
    issues = python_calamine.CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name(ISSUES_TAB).to_python()
    values = [row[7] for row in issues[2:]]
    assert "Bogus again" in values and "Bogus" not in values
