"""Tabs of a workbook being read: python-calamine parses them on a thread while a child
process scans their XML for what calamine does not tell (formula, error and merged cells), and
then, asked to, looks at what the tabs show for the write-back.

python-calamine releases the GIL while it parses a tab, so the caller goes on meanwhile: a
sync names its tabs before it loads pandas and the store's cases (Source.read_ahead), and
the parse is done when it needs the cells. The thread opens its own calamine workbook: the
caller's is never used from two threads.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import python_calamine as calamine

from kakosheet.sources.xlsx_package import CellMarks, CellScan, SentLook


class TabsReading:
    """The cells of some tabs and the marks of their parts, read on a thread from the start; with
    ``look``, also what every tab shows, which comes after (CellScan): ``shown`` holds it (None:
    not looked at), a small thing to keep for the write-back once the cells are taken."""

    def __init__(
        self,
        path: Path,
        sheets: list[str],
        parts: dict[str, str],
        *,
        look: bool = False,
        book: calamine.CalamineWorkbook | None = None,
    ) -> None:
        self.sheets = list(sheets)
        self._book = book  # the workbook as opened already (its shared strings parsed), or None
        self._parts = dict(parts)  # tab -> its part, for the tabs the package names
        self._look = look
        self._rows: dict[str, list[list[Any]] | BaseException] = {}
        self._marks: dict[str, CellMarks] | BaseException = {}
        self.shown: Future[SentLook | None] = Future()
        self._read_done = threading.Event()  # the cells and the marks are in
        self._thread = threading.Thread(target=self._read, args=(path,), name="kakosheet-read", daemon=True)
        self._thread.start()

    def _read(self, path: Path) -> None:
        # The scan's child starts first, so it runs on the other core while calamine parses here;
        # its results are collected here too, so the child never waits on a full pipe nobody reads.
        try:
            with CellScan(path, list(self._parts.values()), look=self._look) as scan:
                self._parse(path)
                try:
                    self._marks = scan.marks()
                except BaseException as exc:
                    self._marks = exc
                self._read_done.set()
                self.shown.set_result(scan.look())
        finally:
            self._read_done.set()
            if not self.shown.done():
                self.shown.set_result(None)

    def _parse(self, path: Path) -> None:
        """Each tab's cells, or what stopped python-calamine reading it."""
        try:
            book, self._book = self._book or calamine.CalamineWorkbook.from_path(str(path)), None
            for sheet in self.sheets:
                try:
                    self._rows[sheet] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                except BaseException as exc:  # raised where the cells are asked for
                    self._rows[sheet] = exc
        except BaseException as exc:
            self._rows = dict.fromkeys(self.sheets, exc)

    def end(self) -> None:
        """Wait for the reading to end (its scan's child with it), for a caller that will not take it."""
        self._thread.join()

    def rows(self, sheet: str) -> list[list[Any]]:
        """A tab's cells, once read; what stopped the reader is raised here."""
        self._read_done.wait()
        rows = self._rows[sheet]
        if isinstance(rows, BaseException):
            raise rows
        return rows

    def marks(self) -> dict[str, CellMarks]:
        """Part -> the formula, error and merged cells the scan found; what stopped it is raised here."""
        self._read_done.wait()
        if isinstance(self._marks, BaseException):
            raise self._marks
        return self._marks
