"""A synced workbook its editor saved again (text as shared strings, not inline) keeps one Issues tab."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

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
