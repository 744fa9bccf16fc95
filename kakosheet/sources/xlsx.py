"""Excel workbooks (.xlsx, .xlsm) as a source: read with python-calamine, never modified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import python_calamine as calamine

from kakosheet.core.grid import Grid
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_package import Package, check_container, inspect_package, scan_cells

EXTENSIONS = (".xlsx", ".xlsm")


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
        try:
            self._workbook = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError as exc:
            raise SourceError(f"{path.name}: the workbook is encrypted with a password; save a copy without one") from exc
        except (calamine.CalamineError, OSError, ValueError) as exc:
            raise SourceError(f"{path.name}: cannot read the workbook ({_short(exc)}); the file is damaged") from exc

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date1904(self) -> bool:
        return self._package.date1904

    def sheet_names(self) -> list[str]:
        return [
            sheet.name
            for sheet in self._workbook.sheets_metadata
            if sheet.typ == calamine.SheetTypeEnum.WorkSheet
        ]

    def _rows(self, sheet: str, nrows: int | None = None) -> list[list[Any]]:
        try:
            return self._workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows)
        except (calamine.CalamineError, OSError, ValueError) as exc:
            raise SourceError(f"{self.name}: cannot read the tab {sheet!r} ({_short(exc)}); the tab is damaged") from exc

    def read_head(self, sheet: str, rows: int) -> Grid:
        return Grid(sheet=sheet, rows=self._rows(sheet, rows))

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        grids = {}
        for sheet in sheets:
            rows = self._rows(sheet)
            errors: dict[tuple[int, int], str] = {}
            formulas: set[tuple[int, int]] = set()
            part = self._package.sheet_parts.get(sheet)
            if part is not None:
                errors, formulas = scan_cells(self.path, part)
            grids[sheet] = Grid(sheet=sheet, rows=rows, errors=errors, formulas=formulas)
        return grids


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
