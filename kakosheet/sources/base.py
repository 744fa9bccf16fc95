"""The one interface every source (xlsx file, Google Sheet) offers to the use cases."""

from __future__ import annotations

from typing import Protocol

from kakosheet.core.grid import Grid
from kakosheet.core.writeback import WriteBack


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

    @property
    def key(self) -> str:
        """What identifies the source in the store (a path, a sheet key): cases belong to it."""
        ...

    def check_writable(self) -> None:
        """Refuse, before anything is stored, a source kakosheet could not write back to."""
        ...

    def write_back(self, changes: WriteBack) -> bool:
        """Write kakosheet's cells; False when nothing had to change. SourceChangedError when the
        source changed since it was read (nothing is written then)."""
        ...
