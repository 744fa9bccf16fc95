"""The xlsx source against odd, broken and hostile workbooks: a clear message, never a traceback."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from kakosheet.core.grid import column_index, column_letters
from kakosheet.sources.xlsx_package import measure_extent, scan_cells
from tests.helpers import CORPUS, QC_LABELS, qc_row, qc_tab, run_kakosheet, write_workbook

HOSTILE = CORPUS / "hostile-xlsx"
HOSTILE_FILES = sorted(row["file"] for row in csv.DictReader((HOSTILE / "MANIFEST.tsv").open(), delimiter="\t"))


def test_the_corpus_is_there() -> None:
    assert len(HOSTILE_FILES) == 40, "the hostile-xlsx corpus should be beside the project"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_outcome(result, elapsed: float) -> None:  # type: ignore[no-untyped-def]
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode in (0, 1, 3) or (result.returncode == 2 and "save it as .xlsx" in result.stderr), (
        result.stderr
    )
    if result.returncode in (2, 3):
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kakosheet: "), result.stderr


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_workbook_validates_or_exits_3_with_one_line(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    shutil.copyfile(HOSTILE / name, path)
    before = _sha(path)
    started = time.monotonic()
    result = run_kakosheet("validate", str(path), cwd=tmp_path, timeout=30)
    _check_outcome(result, time.monotonic() - started)
    assert _sha(path) == before, "validate must never modify the source"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("calamine__pass_protected.xlsx", "encrypted"),
        ("poi__protected_passtika.xlsx", "encrypted"),
        ("pycalamine__empty_file.xlsx", "empty"),
        ("poi__clusterfuzz-testcase-minimized-XLSX2CSVFuzzer-6594557414080512.xlsx", "damaged or truncated"),
        ("poi__duplicate-filename.xlsx", "two parts named"),
        ("calamine__any_sheets.xlsb", "save it as .xlsx"),
        ("calamine__issue_594_dos.ods", "save it as .xlsx"),
        ("openpyxl__null_archive.xlsx", "no workbook part"),
        ("calamine__header-row.xlsx", "none of the log tabs"),
    ],
)
def test_what_is_wrong_with_the_file_is_said(name: str, says: str, tmp_path: Path) -> None:
    result = run_kakosheet("validate", str(HOSTILE / name), cwd=tmp_path)
    # Another kind of file than a workbook kakosheet reads is the command's to change (exit 2).
    assert result.returncode == (2 if Path(name).suffix in (".xlsb", ".ods") else 3)
    assert says in result.stderr


def _qc_workbook_with_far_cell(path: Path, cell: str) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "QC Log"
    for row in qc_tab([qc_row()]):
        sheet.append(row)
    sheet[cell] = "far away"
    workbook.save(path)
    return path


def test_a_sheet_reaching_the_last_row_and_column_ends_quickly(tmp_path: Path) -> None:
    path = _qc_workbook_with_far_cell(tmp_path / "huge.xlsx", "XFD1048576")
    started = time.monotonic()
    result = run_kakosheet("validate", str(path), cwd=tmp_path, timeout=30)
    _check_outcome(result, time.monotonic() - started)
    assert result.returncode == 3 and "'QC Log' reaches cell XFD1048576" in result.stderr


def _qc_log_with_sheet_xml(tmp_path: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A one-case QC log whose tab's XML is changed by ``change``, the rest of the package as written."""
    path = write_workbook(tmp_path / "written.xlsx", {"QC Log": qc_tab([qc_row()])})
    patched = tmp_path / name
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return patched


@pytest.mark.parametrize("command", ["validate", "sync"])
def test_a_dimension_claiming_too_little_does_not_hide_a_far_cell(tmp_path: Path, command: str) -> None:
    """A writer that leaves a small claim (here A1:V2) over a stray cell at XFD1048576: the reader
    would allocate 17 billion cells and the process die; the tab is refused instead."""

    def far_cell(xml: bytes) -> bytes:
        assert re.search(rb'<dimension ref="A1:[A-Z]+2"', xml)
        return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')

    patched = _qc_log_with_sheet_xml(tmp_path, "far.xlsx", far_cell)
    started = time.monotonic()
    result = run_kakosheet(command, str(patched), cwd=tmp_path, timeout=30)
    _check_outcome(result, time.monotonic() - started)
    assert result.returncode == 3 and "'QC Log' reaches cell XFD1048576" in result.stderr


def test_a_dimension_claiming_a_million_rows_is_harmless(tmp_path: Path) -> None:
    def claim_a_million(xml: bytes) -> bytes:
        claimed = re.sub(rb'<dimension ref="[A-Z0-9:]+"', b'<dimension ref="A1:XFD1048576"', xml)
        assert b"XFD1048576" in claimed
        return claimed

    patched = _qc_log_with_sheet_xml(tmp_path, "claims-million.xlsx", claim_a_million)
    started = time.monotonic()
    result = run_kakosheet("validate", str(patched), cwd=tmp_path, timeout=30)
    _check_outcome(result, time.monotonic() - started)
    assert result.returncode == 0


def test_a_log_with_16384_columns_validates(tmp_path: Path) -> None:
    path = _qc_workbook_with_far_cell(tmp_path / "wide.xlsx", "XFD2")
    started = time.monotonic()
    result = run_kakosheet("validate", str(path), cwd=tmp_path, timeout=30)
    _check_outcome(result, time.monotonic() - started)
    assert result.returncode == 0


def test_scan_finds_formula_and_error_cells(tmp_path: Path) -> None:
    rows = qc_tab([qc_row(Description="=A1&B1", Owner="#N/A"), qc_row(Penalty="#DIV/0!")])
    path = write_workbook(tmp_path / "f.xlsx", {"QC Log": rows})
    marks = scan_cells(path, "xl/worksheets/sheet1.xml")
    errors, formulas = marks.errors, marks.formulas
    assert errors == {(2, QC_LABELS.index("Owner")): "#N/A", (3, QC_LABELS.index("Penalty")): "#DIV/0!"}
    assert formulas == {(2, QC_LABELS.index("Description"))}


def test_scan_of_the_corpus_error_file_finds_all_seven_errors() -> None:
    errors = scan_cells(HOSTILE / "calamine__errors.xlsx", "xl/worksheets/sheet1.xml").errors
    assert sorted(errors.values()) == sorted(["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"])


def test_extent_is_measured_past_column_z(tmp_path: Path) -> None:
    narrow = write_workbook(tmp_path / "narrow.xlsx", {"QC Log": qc_tab([qc_row()])})
    assert measure_extent(narrow, "xl/worksheets/sheet1.xml") == (1_048_576, 25)
    wide = _qc_workbook_with_far_cell(tmp_path / "wide.xlsx", "AMJ7")
    assert measure_extent(wide, "xl/worksheets/sheet1.xml") == (7, column_index("AMJ"))


def test_column_letters_round_trip() -> None:
    for index in (0, 25, 26, 701, 702, 16383):
        assert column_index(column_letters(index)) == index
    assert column_letters(16383) == "XFD"
