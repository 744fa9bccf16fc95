"""Reading a workbook's tabs ahead (sources/xlsx_reading.py): python-calamine parses on a thread
while the sync loads what types the cells; what it gives, and what stops it, is exactly what
reading them when asked gives."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kakosheet.core.grid import Grid
from kakosheet.errors import SourceChangedError, SourceError
from kakosheet.sources.xlsx import XlsxSource
from kakosheet.sources.xlsx_identity import PART
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet, write_workbook


def _grids(source: XlsxSource, sheets: list[str], ahead: list[str] | None) -> dict[str, Grid]:
    if ahead is not None:
        source.read_ahead(ahead)
    return source.read_grids(sheets)


def _workbook_with_marks(path: Path) -> Path:
    """Two tabs; the log has formulas and a merged area (which only the XML scan tells)."""
    workbook = Workbook()
    log = workbook.active
    log.title = "QC Log"
    for row in qc_tab([qc_row(Description=f"case {n}") for n in range(40)]):
        log.append(row)
    log["F5"] = "=1/0"
    log["F6"] = '=CONCAT("a","b")'
    log.merge_cells("F10:F12")
    vendors = workbook.create_sheet("Vendors")
    vendors.append(["Vendor ID", "Vendor Name"])
    vendors.append(["V-1", "Acme Trading"])
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    "ahead",
    [None, ["QC Log", "Vendors"], ["QC Log"], ["Vendors", "No Such Tab"], []],
    ids=["not-ahead", "both-ahead", "one-ahead", "other-and-missing-ahead", "none-ahead"],
)
def test_tabs_read_ahead_are_the_tabs_read_when_asked(tmp_path: Path, ahead: list[str] | None) -> None:
    path = _workbook_with_marks(tmp_path / "master.xlsx")
    expected = XlsxSource(path).read_grids(["QC Log", "Vendors"])
    got = _grids(XlsxSource(path), ["QC Log", "Vendors"], ahead)
    assert got == expected
    log = got["QC Log"]
    assert log.rows[0][: len(QC_LABELS)] == QC_LABELS
    assert {(5, 5), (6, 5)} <= log.formulas
    assert [(m.first_row, m.first_column, m.last_row, m.last_column) for m in log.merges] == [(10, 5, 12, 5)]


def test_a_save_while_the_tabs_are_read_ahead_is_noticed(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "master.xlsx", {"QC Log": qc_tab([qc_row()])})
    source = XlsxSource(path)
    source.read_ahead(["QC Log"])
    saved = write_workbook(tmp_path / "saved.xlsx", {"QC Log": qc_tab([qc_row(), qc_row()])})
    os.replace(saved, path)  # as Excel saves: a new file in the old one's place
    with pytest.raises(SourceChangedError):
        source.read_grids(["QC Log"])


def _damage_tab(path: Path, member: str, data: bytes) -> Path:
    damaged = path.with_name("damaged.xlsx")
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info, data if info.filename == member else old.read(info.filename))
    return damaged


@pytest.mark.parametrize("ahead", [False, True], ids=["when-asked", "ahead"])
def test_a_damaged_tab_is_said_the_same_way_read_ahead_or_not(tmp_path: Path, ahead: bool) -> None:
    path = write_workbook(tmp_path / "master.xlsx", {"QC Log": qc_tab([qc_row()]), "Vendors": [["Vendor ID"]]})
    damaged = _damage_tab(path, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row r='1'><c r='A1' t='s'>")
    source = XlsxSource(damaged)
    if ahead:
        source.read_ahead(["QC Log", "Vendors"])
    with pytest.raises(SourceError) as raised:
        source.read_grids(["QC Log", "Vendors"])
    assert str(raised.value).startswith("damaged.xlsx: cannot read the tab 'QC Log' (")
    assert str(raised.value).endswith("); the tab is damaged")


def test_a_tab_too_large_to_read_is_refused_read_ahead_or_not(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.title = "QC Log"
    for row in qc_tab([qc_row()]):
        workbook.active.append(row)
    workbook.active["XFD1048576"] = "far away"
    workbook.save(tmp_path / "huge.xlsx")
    source = XlsxSource(tmp_path / "huge.xlsx")
    source.read_ahead(["QC Log"])  # never starts reading it: the reader would allocate 17 billion cells
    with pytest.raises(SourceError, match="'QC Log' reaches cell XFD1048576"):
        source.read_grids(["QC Log"])


def test_a_workbook_whose_identity_part_is_damaged_is_said_to_be_damaged(tmp_path: Path) -> None:
    """The custom properties part (where a synced workbook keeps its identity) damaged in the package,
    as a broken copy on a shared drive has it: exit 3 naming the file, never an unexpected error."""
    path = write_workbook(tmp_path / "master.xlsx", {"QC Log": qc_tab([qc_row()])})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PART, "<Properties>" + " " * 4000 + "</Properties>")
    data = bytearray(path.read_bytes())
    start = data.rfind(b"PK\x03\x04")  # the part just added: its header, then its name and its deflated bytes
    name, extra = (int.from_bytes(data[at : at + 2], "little") for at in (start + 26, start + 28))
    body = start + 30 + name + extra
    data[body + 2 : body + 24] = bytes(b ^ 0xFF for b in data[body + 2 : body + 24])
    path.write_bytes(bytes(data))

    with pytest.raises(SourceError, match=r"^master\.xlsx: cannot read the workbook \(.*\); the file is damaged$"):
        XlsxSource(path)
    result = run_kakosheet("validate", str(path), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "the file is damaged" in result.stderr and "unexpected error" not in result.stderr
