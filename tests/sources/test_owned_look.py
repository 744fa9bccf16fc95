"""What an owned tab shows, as the write-back decides whether it needs rewriting (sources/xlsx_owned_look.py).

What a tab would show is by definition its drawn part read back: worked out from the tab itself
(tab_look) it is exactly that. What a tab shows is looked at ahead by the read's scan, in its child
process: the write-back that takes it decides exactly as the one that reads the package itself,
after a LibreOffice or an Excel-like save, and a look of another version of the file is not taken.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakosheet.core.issues import Issue
from kakosheet.core.issues_tab import ISSUES_TAB, issues_tab
from kakosheet.core.owned_tab import CELL_CHARS, CellLink, OwnedTab, TabCell
from kakosheet.core.writeback import SheetWrite, WriteBack
from kakosheet.sources.xlsx import XlsxSource
from kakosheet.sources.xlsx_file import FileStamp
from kakosheet.sources.xlsx_owned import tabs_shown
from kakosheet.sources.xlsx_owned_look import Look, ShownTabs, no_shared, sheet_look
from kakosheet.sources.xlsx_owned_sheet import tab_look
from kakosheet.sources.xlsx_package import inspect_package, package_digest
from kakosheet.sources.xlsx_reading import TabsReading
from kakosheet.sources.xlsx_writeback import write_back
from kakosheet.sources.xlsx_writeback_styles import EXCEL_1904_EPOCH, EXCEL_EPOCH
from tests.helpers import QC_LABELS, qc_row, qc_tab, write_workbook
from tests.sources.test_owned_tabs import COST_CHART, MARK, TITLE, part_of, report, resave
from tests.sources.test_writeback import parts

LOG = "QC Log"


class Grade(StrEnum):
    EMPTY = ""
    A = "A & <B>"


def _every_kind_row() -> tuple[TabCell | None, ...]:
    """A cell of every kind a tab holds, and those sheet_xml treats apart (escapes, cuts, drops)."""
    values: list[object] = [
        "plain",
        "a & b < c > d \"quoted\" 'single'",
        "control \x00\x01\x0b\x0c\x1f\ufffe\uffff chars",
        "\x01\x02",  # nothing left once XML's forbidden characters go
        "lines\r\nand\ttabs",
        "&amp; typed as such, &#10; too",
        "x" * (CELL_CHARS + 5),
        "",
        '=HYPERLINK("http://example.com")',
        "é ü 漢字 🙂",
        0,
        -17,
        10**20,
        10**400,  # its text is a float's overflow: inf
        0.1,
        -2.5e-300,
        float("nan"),
        float("inf"),
        Decimal("1234.50"),
        Decimal("-0.000001"),
        Decimal("1E+3"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        True,
        False,
        dt.date(2026, 11, 23),
        dt.date(1899, 12, 1),
        dt.datetime(2026, 11, 23, 7, 30),
        dt.datetime(2026, 11, 23, 7, 30, 15, 123456),
        dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.UTC),
        None,
        Grade.EMPTY,
        Grade.A,
    ]
    return tuple(TabCell(value) for value in values)  # type: ignore[arg-type]


def _styled(row: tuple[TabCell | None, ...]) -> tuple[TabCell | None, ...]:
    """The same cells bold, with a number format, or linked: the other way sheet_xml writes them."""
    cells: list[TabCell | None] = []
    for k, cell in enumerate(row):
        assert cell is not None
        link = CellLink(LOG if k % 3 else 'Team\'s <odd> & "tab"\nname', f"B{k + 2}")
        cells.append(TabCell(cell.value, number_format="0.0%" if k % 2 else None, bold=k % 2 == 0, link=link))
    return (*cells, None, TabCell(None, bold=True), TabCell("", number_format="0"))


def _tab(*rows: tuple[TabCell | None, ...]) -> OwnedTab:
    return OwnedTab(title=TITLE, mark=MARK, rows=((TabCell(MARK),), *rows), widths=(12, 30))


def _written_look(workbook: Path, tab: OwnedTab) -> tuple[Look, Look]:
    """The tab drawn into the workbook by the write-back, its part read back, and tab_look's answer."""
    assert XlsxSource(workbook).write_back(WriteBack(tabs=[tab])).written
    package = parts(workbook)
    epoch = EXCEL_1904_EPOCH if inspect_package(workbook).date1904 else EXCEL_EPOCH
    return sheet_look(package[part_of(package, TITLE)], no_shared), tab_look(tab, epoch)


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_a_tabs_look_worked_out_from_it_is_its_written_part_read_back(tmp_path: Path, date1904: bool) -> None:
    workbook = write_workbook(tmp_path / "log.xlsx", {LOG: [["Case ID"]]}, date1904=date1904)
    row = _every_kind_row()
    read_back, worked_out = _written_look(workbook, _tab(row, _styled(row)))
    assert worked_out == read_back
    shown = read_back.cells
    assert shown["B2"] == ("s", "a & b < c > d \"quoted\" 'single'") and "D2" not in shown and "H2" not in shown
    assert len(read_back.links) == len(row)


_CELL_VALUES = st.one_of(
    st.text(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(
        st.tuples(_CELL_VALUES, st.sampled_from([None, "0.00", "yyyy-mm-dd"]), st.booleans(), st.none() | st.text()),
        min_size=1,
        max_size=8,
    ),
    date1904=st.booleans(),
)
def test_any_tabs_look_worked_out_from_it_is_its_written_part_read_back(
    cells: list[tuple[object, str | None, bool, str | None]], date1904: bool
) -> None:
    row = tuple(
        TabCell(value, number_format=number_format, bold=bold, link=CellLink(sheet, "C3") if sheet else None)  # type: ignore[arg-type]
        for value, number_format, bold, sheet in cells
    )
    with tempfile.TemporaryDirectory() as scratch:
        workbook = write_workbook(Path(scratch) / "log.xlsx", {LOG: [["Case ID"]]}, date1904=date1904)
        read_back, worked_out = _written_look(workbook, _tab(row))
    assert worked_out == read_back


# --------------------------------------------------------------------------- looked at ahead


def _issues(rows: int) -> OwnedTab:
    """An Issues tab of a row per issue, each linking to its cell of the log."""
    sheet = SheetWrite(LOG, header_row=1, first_column=0, last_column=len(QC_LABELS) - 1, issues_column=None)
    sheet.labels = {label: k for k, label in enumerate(QC_LABELS)}
    issues = [
        Issue(
            "qc", LOG, row, "Status", code="not-in-list", severity="error", message="not in the list", value=f"x{row}"
        )
        for row in range(2, rows + 2)
    ]
    return issues_tab(WriteBack(sheets=[sheet], issues=issues))


def _team_workbook(path: Path) -> Path:
    """A log whose Issues tab and report tab (two charts) kakosheet drew."""
    write_workbook(path, {LOG: qc_tab([qc_row(Description=f"case {n}") for n in range(30)])})
    assert XlsxSource(path).write_back(WriteBack(tabs=[_issues(30), report()])).written
    return path


def _edit_a_message(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)  # saves every text as a shared string, as Excel does
    book[ISSUES_TAB]["G5"] = "changed by hand"
    book.save(workbook)


def _excel_like_save(workbook: Path) -> None:
    openpyxl.load_workbook(workbook).save(workbook)


def _libreoffice_then_edit(workbook: Path) -> None:
    resave(workbook, workbook.parent)
    _edit_a_message(workbook)


SAVES: dict[str, Callable[[Path], None]] = {
    "as-written": lambda workbook: None,
    "libreoffice": lambda workbook: resave(workbook, workbook.parent),
    "excel-like": _excel_like_save,
    "libreoffice-then-one-message-edited": _libreoffice_then_edit,
}


def test_the_reads_scan_looks_at_what_the_tabs_show_as_the_write_back_would(tmp_path: Path) -> None:
    workbook = _team_workbook(tmp_path / "log.xlsx")
    resave(workbook, tmp_path)  # every text a shared string: the Issues tab's come last
    package = inspect_package(workbook)
    reading = TabsReading(workbook, [LOG], {LOG: package.sheet_parts[LOG]}, look=True)
    sent = reading.shown.result(timeout=120)
    assert sent is not None
    shown = sent.shown()
    with zipfile.ZipFile(workbook) as archive:
        expected = ShownTabs(package_digest(archive.infolist()), tabs_shown(archive))
    assert shown == expected
    issues = expected.tabs[package.sheet_parts[ISSUES_TAB]]
    assert issues.look is not None and len(issues.look.cells) == 1 + 8 + 30 * 7 and len(issues.look.links) == 30
    assert expected.tabs[package.sheet_parts[LOG]].look is None  # the team's tab: only its A1 is looked at
    assert TabsReading(workbook, [LOG], {LOG: package.sheet_parts[LOG]}).shown.result(timeout=120) is None


@pytest.mark.parametrize("save", list(SAVES))
@pytest.mark.parametrize("wanted", ["the-same", "one-issue-fixed", "other-charts"])
def test_the_write_back_decides_on_the_reads_look_as_on_its_own(tmp_path: Path, save: str, wanted: str) -> None:
    workbook = _team_workbook(tmp_path / "log.xlsx")
    SAVES[save](workbook)
    tabs = {
        "the-same": [_issues(30), report()],
        "one-issue-fixed": [_issues(29), report()],
        "other-charts": [_issues(30), report((COST_CHART,))],
    }[wanted]
    read, unread = tmp_path / "read" / "log.xlsx", tmp_path / "unread" / "log.xlsx"
    for copy in (read, unread):
        copy.parent.mkdir()
        shutil.copyfile(workbook, copy)
    looked = XlsxSource(read)
    looked.read_ahead([LOG], write_back_follows=True)
    looked.read_grids([LOG])  # its scan looks at the tabs too
    assert looked._shown_as_read() is not None  # the look the write-back takes instead of reading the tabs
    with_look = looked.write_back(WriteBack(tabs=tabs))
    without = XlsxSource(unread).write_back(WriteBack(tabs=tabs))  # nothing read: the write-back reads the tabs
    assert (with_look.written, with_look.tab_titles) == (without.written, without.tab_titles)
    assert parts(read) == parts(unread)
    assert with_look.written is not (wanted == "the-same" and "edited" not in save)


def test_a_look_at_another_version_of_the_workbook_is_not_taken(tmp_path: Path) -> None:
    workbook = _team_workbook(tmp_path / "log.xlsx")
    resave(workbook, tmp_path)
    package = inspect_package(workbook)
    sent = TabsReading(workbook, [], {}, look=True).shown.result(timeout=120)
    shown = sent.shown() if sent is not None else None
    assert shown is not None
    _edit_a_message(workbook)  # saved after the look: its Issues tab no longer shows what the look saw
    patched = write_back(
        workbook, package.sheet_parts, WriteBack(tabs=[_issues(30)]), FileStamp.of(workbook), shown=shown
    )
    assert patched.digest is not None  # rewritten: the tab shows one message other than the sync's


def test_a_tab_as_kakosheet_wrote_it_is_compared_byte_for_byte(tmp_path: Path) -> None:
    """Its values alone do not decide: the same values laid out otherwise (widths, a frozen header) are rewritten."""
    workbook = _team_workbook(tmp_path / "log.xlsx")
    tab = _issues(30)
    assert not XlsxSource(workbook).write_back(WriteBack(tabs=[tab])).written
    wider = OwnedTab(tab.title, tab.mark, tab.rows, widths=(40,) * 8, frozen_rows=tab.frozen_rows, filter=tab.filter)
    unfrozen = OwnedTab(tab.title, tab.mark, tab.rows, widths=tab.widths, filter=tab.filter)
    written = workbook.read_bytes()
    for other in (wider, unfrozen):
        workbook.write_bytes(written)
        source = XlsxSource(workbook)
        source.read_ahead([LOG], write_back_follows=True)
        source.read_grids([LOG])
        assert source.write_back(WriteBack(tabs=[other])).written


def test_a_mark_says_the_tab_is_kakosheets_in_its_first_words() -> None:
    """The scan knows an owned tab by how its mark begins, before anyone says which tabs are wanted."""
    with pytest.raises(ValueError, match="mark begins 'kakosheet: '"):
        OwnedTab(title="Notes", mark="our notes", rows=((TabCell("our notes"),),))
