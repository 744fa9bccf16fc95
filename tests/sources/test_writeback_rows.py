"""The log tab's rows as the write-back patches them, on sheet XML as writers other than openpyxl lay it out.

Each workbook is a real package whose sheet part is written here (as Excel, LibreOffice or
another program writes rows); what was written is read back with python-calamine.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine
from openpyxl import Workbook

from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_file import FileStamp
from kakosheet.sources.xlsx_package import inspect_package
from kakosheet.sources.xlsx_writeback import write_back

PART = "xl/worksheets/sheet1.xml"
ID, TEXT, ISSUES = 0, 1, 2  # columns A, B, C
_HEAD = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_HEADER = (
    '<row r="1" spans="1:3"><c r="A1" t="inlineStr"><is><t>Case ID</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Text</t></is></c><c r="C1" t="inlineStr"><is><t>Issues</t></is></c></row>'
)


def workbook(path: Path, rows: str) -> Path:
    """A real package (openpyxl's) whose one tab, QC Log, holds a header and these rows of sheet XML."""
    book = Workbook()
    book.active.title = "QC Log"
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as made, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info in made.infolist():
            data = made.read(info)
            if info.filename == PART:
                data = (_HEAD + _HEADER + rows + "</sheetData></worksheet>").encode()
            package.writestr(info, data)
    return path


def write(path: Path, *cells: tuple[int, int, str | dt.datetime | None]) -> frozenset[tuple[str, int, int]]:
    """Write these (row, column, value) cells into the QC Log; the formula cells left as they were."""
    sheet = SheetWrite("QC Log", 1, ID, ISSUES, ISSUES, ID, cells=[CellUpdate(r, c, v, None) for r, c, v in cells])
    parts = inspect_package(path).sheet_parts
    patched = write_back(path, parts, WriteBack(sheets=[sheet]), FileStamp.of(path), highlighted={PART: True})
    assert patched.digest is not None
    return patched.formulas_kept


def values(path: Path) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("QC Log").to_python()[1:]


def row_xml(path: Path, number: int) -> bytes:
    with zipfile.ZipFile(path) as package:
        xml = package.read(PART)
    found = re.search(rb'<row r="%d"[^>]*?(?:/>|>.*?</row>)' % number, xml, re.S)
    assert found is not None
    return found.group(0)


def test_excel_rows_get_ids_before_their_first_cell_and_notes_after_their_last(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "log.xlsx",
        '<row r="2" spans="2:2"><c r="B2" s="1" t="inlineStr"><is><t>first</t></is></c></row>'
        '<row r="3" spans="1:3"><c r="A3" s="2"/><c r="B3" t="inlineStr"><is><t>second</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>old note</t></is></c></row>'
        '<row r="4" spans="2:2"><c r="B4"><f>1+1</f><v>2</v></c></row>',
    )
    kept = write(tmp_path / "log.xlsx", (2, ID, "QC-1"), (2, ISSUES, "Text: bad"), (3, ID, "QC-2"), (3, ISSUES, None))
    assert kept == frozenset()
    assert values(path) == [["QC-1", "first", "Text: bad"], ["QC-2", "second", ""], ["", 2.0, ""]]
    assert row_xml(path, 2).startswith(b'<row r="2"><c r="A2" t="inlineStr">')  # the spans no longer hold
    assert b'<c r="A3" s="2" t="inlineStr"><is><t xml:space="preserve">QC-2</t></is></c>' in row_xml(path, 3)
    assert row_xml(path, 4) == b'<row r="4" spans="2:2"><c r="B4"><f>1+1</f><v>2</v></c></row>'  # not written


def test_a_cell_holding_a_formula_is_kept(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "log.xlsx",
        '<row r="2"><c r="A2"><f>"QC-"&amp;ROW()</f><v>QC-2</v></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    assert write(path, (2, ID, "QC-9"), (2, ISSUES, "note")) == frozenset({("QC Log", 2, ID)})
    assert row_xml(path, 2).startswith(b'<row r="2"><c r="A2"><f>')
    assert values(path)[0][1:] == ["x", "note"]


def test_cells_whose_reference_is_not_their_first_attribute_are_not_doubled(tmp_path: Path) -> None:
    """Some writers put the style or type before the reference: such a row is parsed cell by cell,
    also after a new ID went in before its first cell."""
    path = workbook(
        tmp_path / "log.xlsx",
        '<row r="2"><c r="B2" t="inlineStr"><is><t>x</t></is></c><c t="inlineStr" r="C2"><is><t>old</t></is></c></row>'
        '<row r="3"><c s="0" t="inlineStr" r="B3"><is><t>y</t></is></c></row>',
    )
    write(path, (2, ID, "QC-1"), (2, ISSUES, "new"), (3, ID, "QC-2"), (3, ISSUES, "note"))
    assert values(path) == [["QC-1", "x", "new"], ["QC-2", "y", "note"]]
    for number in (2, 3):
        cells = re.findall(rb'\br="([A-C])%d"' % number, row_xml(path, number))
        assert cells == [b"A", b"B", b"C"]


def test_rows_laid_out_by_other_writers(tmp_path: Path) -> None:
    """A row of no cells (only a height), attributes before the number (LibreOffice writes many),
    a spans attribute after a line break."""
    path = workbook(
        tmp_path / "log.xlsx",
        '<row r="2" ht="20" customHeight="1"/>'
        '<row customFormat="false" ht="12.8" r="3" hidden="false"><c r="B3" t="inlineStr"><is><t>y</t></is></c></row>'
        '<row r="4"\n spans="2:2"><c r="B4" t="inlineStr"><is><t>z</t></is></c></row>',
    )
    write(path, (2, ID, "QC-1"), (3, ID, "QC-2"), (3, ISSUES, "note"), (4, ID, "QC-3"))
    assert values(path) == [["QC-1", "", ""], ["QC-2", "y", "note"], ["QC-3", "z", ""]]
    assert row_xml(path, 2).startswith(b'<row r="2" ht="20" customHeight="1"><c r="A2"')
    assert b"spans" not in row_xml(path, 4)


def test_a_row_missing_from_the_sheet_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = workbook(tmp_path / "log.xlsx", '<row><c t="inlineStr"><is><t>no number</t></is></c></row>')
    before = path.read_bytes()
    with pytest.raises(SourceError, match="row 2 is missing"):
        write(path, (2, ID, "QC-1"))
    assert path.read_bytes() == before


def test_dates_are_written_as_date_numbers_with_a_date_format(tmp_path: Path) -> None:
    path = workbook(tmp_path / "log.xlsx", '<row r="2"><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>')
    write(path, (2, ISSUES, dt.datetime(2026, 3, 2, 12, 0)))
    assert values(path) == [["", "x", dt.datetime(2026, 3, 2, 12, 0)]]
