"""The write-back never writes into a cell hidden under a merged area, whatever it is asked to write."""

from __future__ import annotations

from pathlib import Path

import python_calamine
from openpyxl import load_workbook

from kakosheet.core.grid import MergedArea
from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.sources.xlsx import XlsxSource
from tests.helpers import QC_LABELS, qc_row, qc_tab, write_workbook

ID, ISSUES = QC_LABELS.index("Case ID"), QC_LABELS.index("Issues")


def asked_to_write_under(path: Path) -> WriteBack:
    """IDs and notes for rows 2 to 4, as a plan that knew nothing of merges would ask."""
    cells = [CellUpdate(row, ID, f"QC-2026-000{row}", None) for row in (2, 3, 4)]
    cells += [CellUpdate(row, ISSUES, f"note {row}", None) for row in (2, 3, 4)]
    write = SheetWrite(
        sheet="QC Log",
        header_row=1,
        first_column=0,
        last_column=ISSUES,
        issues_column=ISSUES,
        id_column=ID,
        labels={label: index for index, label in enumerate(QC_LABELS)},
        cells=sorted(cells, key=lambda c: (c.row, c.column)),
    )
    return WriteBack(sheets=[write])


def test_the_xlsx_write_back_skips_hidden_cells_and_leaves_their_rows_for_the_next_sync(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "log.xlsx", {"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(3)])}
    )
    workbook = load_workbook(path)
    workbook["QC Log"].merge_cells("A3:A4")
    workbook.save(path)
    source = XlsxSource(path)
    grids = source.read_grids(["QC Log"])
    assert grids["QC Log"].merges == [MergedArea(first_row=3, last_row=4, first_column=0, last_column=0)]
    result = source.write_back(asked_to_write_under(path))
    assert result.skipped == frozenset({("QC Log", 4)})  # its ID would not show: its case must wait
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("QC Log").to_python()
    assert [rows[r][ID] for r in (1, 2, 3)] == ["QC-2026-0002", "QC-2026-0003", ""]  # the top-left is written
    assert [rows[r][ISSUES] for r in (1, 2, 3)] == ["note 2", "note 3", "note 4"]  # the Issues column is not merged
    assert [r.coord for r in load_workbook(path)["QC Log"].merged_cells.ranges] == ["A3:A4"]  # the merge is kept
