"""Excel workbooks (.xlsx, .xlsm) as a source: read with python-calamine, never modified."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Any

import python_calamine as calamine

from kakosheet.core.grid import Grid
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_package import (
    Package,
    SheetScan,
    check_container,
    column_letters,
    inspect_package,
    scan_sheet,
)

EXTENSIONS = (".xlsx", ".xlsm")
# A tab whose rectangle from A1 to its farthest cell holds more cells than this is refused
# before it is read: the reader would allocate every one of them (17 billion for XFD1048576).
MAX_CELLS = 50_000_000


class XlsxSource:
    """A workbook file. Reading it never writes to it (nor to a corrupt or locked file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix.lower() not in EXTENSIONS:
            raise SourceError(
                f"{path.name}: kakosheet reads .xlsx and .xlsm workbooks; open it in Excel and save it as .xlsx"
            )
        if not path.is_file():
            raise SourceError(f"{path}: no such file; check the path (or `source` in kakosheet.toml)")
        check_container(path)
        self._package: Package = inspect_package(path)
        self._scans: dict[str, SheetScan] = {}
        try:
            self._workbook = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError as exc:
            raise SourceError(
                f"{path.name}: the workbook is encrypted with a password; save a copy without one"
            ) from exc
        except (calamine.CalamineError, OSError, ValueError) as exc:
            raise SourceError(f"{path.name}: cannot read the workbook ({_short(exc)}); the file is damaged") from exc

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date1904(self) -> bool:
        return self._package.date1904

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self._workbook.sheets_metadata if sheet.typ == calamine.SheetTypeEnum.WorkSheet]

    def _scan(self, sheet: str) -> SheetScan:
        """The sheet's extent, formulas and errors (one pass over its XML, kept for later)."""
        if sheet not in self._scans:
            part = self._package.sheet_parts.get(sheet)
            try:
                self._scans[sheet] = scan_sheet(self.path, part) if part else SheetScan()
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise SourceError(
                    f"{self.name}: cannot read the tab {sheet!r} ({_short(exc)}); the file is damaged"
                ) from exc
        scan = self._scans[sheet]
        if scan.cells > MAX_CELLS:
            farthest = f"{column_letters(scan.max_column)}{scan.max_row}"
            raise SourceError(
                f"{self.name}: the tab {sheet!r} reaches cell {farthest}, {scan.cells:,} cells in all; "
                "delete the stray cells far below or to the right of the data and save again"
            )
        return scan

    def _rows(self, sheet: str, nrows: int | None = None) -> list[list[Any]]:
        self._scan(sheet)
        try:
            return self._workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows)
        except (calamine.CalamineError, OSError, ValueError) as exc:
            raise SourceError(
                f"{self.name}: cannot read the tab {sheet!r} ({_short(exc)}); the tab is damaged"
            ) from exc

    def read_head(self, sheet: str, rows: int) -> Grid:
        return Grid(sheet=sheet, rows=self._rows(sheet, rows))

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        grids = {}
        for sheet in sheets:
            rows = self._rows(sheet)
            scan = self._scan(sheet)
            grids[sheet] = Grid(sheet=sheet, rows=rows, errors=scan.errors, formulas=scan.formulas)
        return grids


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
