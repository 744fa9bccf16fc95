"""The one interface every source (xlsx file, Google Sheet) offers to the use cases."""

from __future__ import annotations

from typing import Protocol

from kakosheet.core.grid import Grid


class Source(Protocol):
    """A spreadsheet kakosheet reads cases from (and, in sync, writes back to)."""

    @property
    def name(self) -> str:
        """How messages name the source (a file name, a sheet title), never a credential."""
        ...

    @property
    def date1904(self) -> bool:
        """True when bare date numbers count from 1904 (old Mac Excel workbooks)."""
        ...

    def sheet_names(self) -> list[str]:
        """The worksheet tabs, in the workbook's order."""
        ...

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        """The cells of the given tabs, each with its formula and error cells."""
        ...

    def read_head(self, sheet: str, rows: int) -> Grid:
        """The first rows of a tab, to recognise a log by its header."""
        ...
