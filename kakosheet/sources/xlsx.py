"""Excel workbooks (.xlsx, .xlsm) as a source: read with python-calamine, never modified."""

from __future__ import annotations

import functools
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import python_calamine as calamine

from kakosheet.core.grid import Grid, MergedArea, column_letters
from kakosheet.core.merges import drop_hidden
from kakosheet.core.writeback import WriteBack
from kakosheet.errors import KakosheetError, SourceChangedError, SourceError
from kakosheet.sources.base import KnownRows, WriteResult
from kakosheet.sources.forked import in_forked_child
from kakosheet.sources.xlsx_changed_rows import ChangedRows, ChangedRowsScan
from kakosheet.sources.xlsx_file import FileStamp, changed_or_damaged, changed_since, check_backup_usable, real_file
from kakosheet.sources.xlsx_identity import read_identity
from kakosheet.sources.xlsx_owned_look import ShownTabs
from kakosheet.sources.xlsx_package import (
    CellMarks,
    CellScan,
    Package,
    SentLook,
    check_container,
    claimed_cells,
    inspect_package,
    lower_priority,
    measure_extent,
)
from kakosheet.sources.xlsx_reading import TabsReading
from kakosheet.sources.xlsx_writeback import check_patchable, write_back

EXTENSIONS = (".xlsx", ".xlsm")
# A tab whose rectangle from A1 to its farthest cell holds more cells than this is refused
# before it is read: the reader would allocate every one of them (17 billion for XFD1048576).
MAX_CELLS = 50_000_000
# A tab's part up to this size is measured whatever its <dimension> claims (a few hundredths of a
# second): a claim can be too small as well (a writer that leaves "A1"), and a stray far cell then
# made the reader allocate past all memory. A bigger part's claim is trusted when it fits, which
# saves reading a 100k-row log twice (0.14 s, a tenth of its read): Excel, LibreOffice, openpyxl
# and XlsxWriter write it from the cells.
MEASURED_SIZE = 8_000_000


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
        self._stamp = FileStamp.of(path)  # before anything is read: a save from then on is noticed
        check_container(path)
        self._sized: set[str] = set()
        self._merges: dict[str, list[MergedArea]] = {}  # tab -> its merged areas, as read
        self._highlighted: dict[str, bool] = {}  # part -> whether it holds the highlight rule, as read
        self._shown: Future[SentLook | None] | None = None  # what the tabs show, as read (xlsx_reading)
        self._ahead: TabsReading | None = None  # tabs being read ahead of read_grids
        self._early: ChangedRowsScan | None = None  # rows being digested before read_ahead (digest_ahead)
        self._changes: ChangedRowsScan | None = None  # which rows changed since the last sync, being told
        self._digests: dict[str, dict[int, bytes] | None] = {}  # tab -> its rows' digests, as read
        self._digest_tabs: list[str] = []  # the tabs whose rows' digests read_ahead was asked to tell
        self._digesting: ChangedRowsScan | None = None  # telling them after a whole read, on its own core
        self._read_version = ""  # the package digest of the version read
        try:
            self._package: Package = inspect_package(path)
            with zipfile.ZipFile(path) as archive:  # a damaged identity part is a damaged workbook, said below
                self._identity = read_identity(archive)
            self._workbook: calamine.CalamineWorkbook | None = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError as exc:
            raise SourceError(
                f"{path.name}: the workbook is encrypted with a password; save a copy without one"
            ) from exc
        except (calamine.CalamineError, OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise changed_or_damaged(path, self._stamp, _short(exc)) from exc
        except SourceError as exc:  # a save in progress reads as a damaged package
            if self._changed():
                raise changed_or_damaged(path, self._stamp, str(exc)) from exc
            raise
        self._digest: str | None = self._package.digest
        self._sheet_names: list[str] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def location(self) -> str:
        return str(self.path.resolve())

    @property
    def identity(self) -> str | None:
        return f"workbook:{self._identity}" if self._identity else None

    def check_writable(self) -> None:
        try:
            check_patchable(self.path)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # a save under way reads as damaged
            raise changed_or_damaged(self.path, self._stamp, _short(exc)) from exc
        real = real_file(self.path)  # through a symlink, the real file is replaced, in its own folder
        if not os.access(real, os.W_OK) or not os.access(real.parent, os.W_OK):
            raise SourceError(f"{self.name}: kakosheet may not write to it or its folder; check the permissions")
        check_backup_usable(self.path)

    @property
    def content_digest(self) -> str | None:
        return self._digest

    def write_back(self, changes: WriteBack) -> WriteResult:
        changes, unshown = drop_hidden(changes, self._merges)  # a cell hidden under a merge is never written
        # In a child of its own: a sync's store transaction runs meanwhile on a thread (sources/forked.py).
        work = functools.partial(
            write_back,
            self.path,
            self._package.sheet_parts,
            changes,
            self._stamp,
            date1904=self.date1904,
            highlighted=self._highlighted,
            shown=self._shown_as_read(),
        )
        patched = in_forked_child(work, what=f"writing back to {self.path.name}")
        if patched.digest is not None:
            self._digest = patched.digest
            self._written(patched.stamp)
        # A new row whose ID cell holds a formula, or is hidden, does not show its ID: its case waits (sources/base.py).
        id_columns = {write.sheet: write.id_column for write in changes.sheets}
        skipped = frozenset((tab, row) for tab, row, column in patched.formulas_kept if id_columns.get(tab) == column)
        return WriteResult(
            written=patched.digest is not None,
            skipped=skipped | unshown,
            formulas_kept=patched.formulas_kept,
            tab_titles=patched.tab_titles,
        )

    def _shown_as_read(self) -> ShownTabs | None:
        """What the read's scan found the tabs show, once it has (None: it did not look)."""
        sent = self._shown.result() if self._shown is not None else None
        return sent.shown() if sent is not None else None

    def _written(self, stamp: FileStamp | None) -> None:
        """After a write-back the file is the version kakosheet wrote: a second write in the same run
        (a sync, then its report) is checked against it, and a read reads it, not the version opened."""
        if stamp is not None:
            self._stamp = stamp
        self._package = inspect_package(self.path)
        self._workbook = None  # reopened when read again
        self._sheet_names = None
        self._ahead = None  # what was read ahead is of the version before
        self._sized.clear()
        self._highlighted.clear()  # what the read's scan found is of the version before
        self._shown = None

    def _book(self) -> calamine.CalamineWorkbook:
        if self._workbook is None:
            try:
                self._workbook = calamine.CalamineWorkbook.from_path(str(self.path))
            except (calamine.CalamineError, OSError, ValueError) as exc:
                raise changed_or_damaged(self.path, self._stamp, _short(exc)) from exc
        return self._workbook

    def _changed(self) -> bool:
        return changed_since(self.path, self._stamp)

    def _check_still_as_read(self) -> None:
        """Refuse cells read from a workbook someone saved while it was read: parts of two versions."""
        if self._changed():
            raise changed_or_damaged(self.path, self._stamp, "")

    @property
    def number_symbols(self) -> tuple[str, str] | None:
        return None  # a number typed in Excel is a number cell; text carries no locale

    @property
    def date1904(self) -> bool:
        return self._package.date1904

    def sheet_names(self) -> list[str]:
        if self._sheet_names is None:  # kept: the workbook that told them may be handed to a reading
            metadata = self._book().sheets_metadata
            self._sheet_names = [sheet.name for sheet in metadata if sheet.typ == calamine.SheetTypeEnum.WorkSheet]
        return list(self._sheet_names)

    def _part(self, sheet: str) -> str | None:
        return self._package.sheet_parts.get(sheet)

    def _check_size(self, sheet: str) -> None:
        """Refuse a tab too large to read, before the reader allocates it."""
        part = self._part(sheet)
        if part is None or sheet in self._sized:
            return
        with self._damaged(sheet):
            claimed, size = claimed_cells(self.path, part)
            if claimed is None or claimed > MAX_CELLS or size <= MEASURED_SIZE:
                max_row, max_column = measure_extent(self.path, part)
                cells = max_row * (max_column + 1)
                if cells > MAX_CELLS:
                    raise SourceError(
                        f"{self.name}: the tab {sheet!r} reaches cell {column_letters(max_column)}{max_row}, "
                        f"{cells:,} cells in all; delete the stray cells far below or to the right of the data "
                        "and save again"
                    )
        self._sized.add(sheet)

    @contextmanager
    def _damaged(self, sheet: str) -> Iterator[None]:
        try:
            yield
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            if self._changed():
                raise changed_or_damaged(self.path, self._stamp, _short(exc)) from exc
            raise SourceError(
                f"{self.name}: cannot read the tab {sheet!r} ({_short(exc)}); the file is damaged"
            ) from exc

    @contextmanager
    def _reading_tab(self, sheet: str) -> Iterator[None]:
        """What stopped python-calamine reading a tab, said as the source's fault."""
        try:
            yield
        except (calamine.CalamineError, OSError, ValueError) as exc:
            if self._changed():
                raise changed_or_damaged(self.path, self._stamp, _short(exc)) from exc
            raise SourceError(
                f"{self.name}: cannot read the tab {sheet!r} ({_short(exc)}); the tab is damaged"
            ) from exc

    def _rows(self, sheet: str, nrows: int | None = None) -> list[list[Any]]:
        self._check_size(sheet)
        with self._reading_tab(sheet):
            return self._book().get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows)

    def read_head(self, sheet: str, rows: int) -> Grid:
        return Grid(sheet=sheet, rows=self._rows(sheet, rows))

    def digest_ahead(self, sheets: list[str]) -> None:
        """Start telling these tabs' rows' digests now, on the other core, before it is known what
        the last sync recorded of them (read_ahead is told that)."""
        parts = [part for sheet in sheets if (part := self._part(sheet))]
        if parts and self._early is None:
            try:
                self._early = ChangedRowsScan(self.path, parts)
            except OSError:  # no child process to be had: read_ahead starts none either
                self._early = None

    def read_ahead(
        self, sheets: list[str], *, write_back_follows: bool = False, known: dict[str, KnownRows | None] | None = None
    ) -> None:
        """Start reading these tabs on a thread (sources/xlsx_reading.py); read_grids takes them.
        A tab too large or not readable is left to read_grids, which says why.

        ``known``: tabs whose rows' digests to tell, with what the last sync recorded of them (None:
        nothing). A child process digests them first (sources/xlsx_changed_rows.py; digest_ahead
        may have started it); a tab of which few rows changed is then read from a copy holding only
        those. With nothing recorded, the digests are told behind the read, for the next sync."""
        if self._ahead is not None or self._changes is not None:
            if known and not self._digest_tabs:  # read ahead already: the digests are told behind the read
                self._digest_tabs = [sheet for sheet in known if self._part(sheet)]
            return
        readable = []
        for sheet in sheets:
            try:
                self._check_size(sheet)
            except KakosheetError:
                continue
            readable.append(sheet)
        parts = {part: before for sheet, before in (known or {}).items() if (part := self._part(sheet))}
        self._digest_tabs = [sheet for sheet in known or {} if self._part(sheet)]
        early, self._early = self._early, None
        if early is not None and early.parts != list(parts):  # started for other tabs, or none are wanted
            early.close()
            early = None
        if any(parts.values()):  # the rows' digests first: the tabs are read once it is known which rows changed
            try:
                self._changes = early or ChangedRowsScan(self.path, list(parts))
            except OSError:  # no child process to be had: every row is read, as without a memo
                self._changes = None
            else:
                self._changes.tell(parts)
                if write_back_follows:  # looked at meanwhile, by a child of its own: the other core is idle
                    self._shown = self._looked_at()
                return
        if early is not None:  # nothing recorded to compare: told behind the read, for the next sync
            early.tell(parts)
            early.lower_priority()
            self._digesting, self._read_version = early, self._package.digest
        self._ahead = self._reading(readable, look=write_back_follows)

    def _reading(self, sheets: list[str], *, look: bool) -> TabsReading:
        """A reading of these tabs; with ``look``, its scan also looks at what the tabs show, which
        the write-back takes instead of reading them again."""
        parts = {sheet: part for sheet in sheets if (part := self._part(sheet)) is not None}
        # The workbook opened to tell the tabs is handed over, its shared strings parsed once (at 100k
        # rows, 10 MB of them): the reading's thread alone uses it, and the source opens another if asked.
        self.sheet_names()
        book, self._workbook = self._workbook, None
        reading = TabsReading(self.path, sheets, parts, look=look, book=book)
        if look:
            self._shown = reading.shown
        return reading

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        """The tabs' cells, read by python-calamine while a second process scans their XML (what
        was read ahead is taken as read, the rest is read now)."""
        for sheet in sheets:
            self._check_size(sheet)
        changes, self._changes = self._changes, None
        found = changes.result() if changes is not None else None
        if changes is not None and found is not None and found.reduced is not None:
            try:
                return self._read_reduced(sheets, found)
            except SourceChangedError:
                raise
            except KakosheetError:  # the copy did not read as the workbook would: the workbook is read whole
                pass
            finally:
                changes.close()
        if changes is not None:  # nothing to reduce: the tabs are read whole (and were looked at already)
            changes.close()
            self._ahead = self._reading(sheets, look=self._shown is None)
        grids = self._read_whole(sheets)
        if found is not None:
            self._digests = {sheet: found.digests.get(self._part(sheet) or "") for sheet in self._digest_tabs}
        elif self._digest_tabs and not self._digests and self._digesting is None:
            # Told while the sync goes on, at a lower priority: rows_as_read waits for them.
            self._read_version = self._package.digest
            self._digesting = ChangedRowsScan(self.path, [p for sheet in self._digest_tabs if (p := self._part(sheet))])
            self._digesting.tell({})
            self._digesting.lower_priority()
        return grids

    def styles_digest(self) -> str | None:
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
        except (OSError, zipfile.BadZipFile) as exc:  # a save under way reads as damaged
            raise changed_or_damaged(self.path, self._stamp, _short(exc)) from exc
        return "\n".join(
            sorted(f"{i.filename}:{i.file_size}:{i.CRC:08x}" for i in infos if i.filename.endswith("styles.xml"))
        )

    def rows_as_read(self, sheet: str) -> dict[int, bytes] | None:
        """The digest of each row of a tab, as read (sources/xlsx_row_digests.py), when read_ahead was
        asked to tell them; None otherwise, or when the tab's XML is not in a form digested."""
        if self._digesting is not None:
            scan, self._digesting = self._digesting, None
            try:
                found = scan.result()
            finally:
                scan.close()
            # Of the version read, or of the one this sync wrote (whose other rows are as read); of any
            # other (a save since the read), they would say rows are as read that were not.
            if found is not None and found.package in (self._read_version, self._package.digest):
                self._digests = {s: found.digests.get(self._part(s) or "") for s in self._digest_tabs}
        return self._digests.get(sheet)

    def close(self) -> None:
        """End what still runs for this source (a child telling rows' digests nobody asked for)."""
        for scan in (self._early, self._changes, self._digesting):
            if scan is not None:
                scan.close()
        self._early = self._changes = self._digesting = None
        if self._ahead is not None:  # read ahead, never taken (the sync stopped before): nothing left running
            self._ahead.end()
            self._ahead = None

    def _looked_at(self) -> Future[SentLook | None]:
        """What the tabs show, looked at by a child process (CellScan's) while the sync goes on."""
        shown: Future[SentLook | None] = Future()

        def look() -> None:
            try:
                with CellScan(self.path, [], look=True) as scan:
                    if scan.process is not None:  # wanted at the write-back: the rows' digests come first
                        lower_priority(scan.process)
                    scan.marks()
                    shown.set_result(scan.look())
            except BaseException:  # the write-back looks itself, and says what is wrong
                if not shown.done():
                    shown.set_result(None)

        threading.Thread(target=look, name="kakosheet-look", daemon=True).start()
        return shown

    def _read_reduced(self, sheets: list[str], found: ChangedRows) -> dict[str, Grid]:
        """The tabs read from the copy holding only the changed rows of the reduced ones."""
        assert found.reduced is not None
        unscanned = {s: p for s in sheets if (p := self._part(s)) and p not in found.marks}
        reading = TabsReading(found.reduced, sheets, unscanned, look=False)  # no scan's child for the parts at hand
        grids: dict[str, Grid] = {}
        for sheet in sheets:
            with self._reading_tab(sheet):
                grids[sheet] = Grid(sheet=sheet, rows=reading.rows(sheet))
        with self._damaged(sheet):
            marks = found.marks | reading.marks()
        self._check_still_as_read()
        for sheet in sheets:
            part = self._part(sheet)
            if part is None:
                continue
            grid, mark = grids[sheet], marks[part]
            tab = found.tabs.get(part)
            if tab is None:  # read whole from the copy
                grid.errors, grid.formulas, grid.merges = mark.errors, mark.formulas, mark.merges
                self._merges[sheet] = mark.merges
                self._highlighted[part] = mark.highlighted
                continue
            numbers = tab.rows
            grid.rows = grid.rows[: len(numbers)]
            width = max((len(row) for row in grid.rows), default=0)
            grid.rows.extend([None] * width for _ in range(len(numbers) - len(grid.rows)))
            grid.row_numbers = numbers
            grid.errors = {(numbers[row - 1], column): code for (row, column), code in mark.errors.items()}
            grid.formulas = {(numbers[row - 1], column) for row, column in mark.formulas}
            self._merges[sheet] = []
            self._highlighted[part] = found.highlighted.get(part, False)
        self._digests = {sheet: found.digests.get(self._part(sheet) or "") for sheet in self._digest_tabs}
        return grids

    def _read_whole(self, sheets: list[str]) -> dict[str, Grid]:
        ahead, self._ahead = self._ahead, None
        rest = [sheet for sheet in sheets if ahead is None or sheet not in ahead.sheets]
        rest_reading = self._reading(rest, look=ahead is None) if rest else None  # the tabs are looked at once
        readings = [reading for reading in (ahead, rest_reading) if reading is not None]
        by_sheet = {sheet: reading for reading in readings for sheet in reading.sheets}
        grids = {}
        for sheet in sheets:
            with self._reading_tab(sheet):
                grids[sheet] = Grid(sheet=sheet, rows=by_sheet[sheet].rows(sheet))
        parts = {sheet: part for sheet in sheets if (part := self._part(sheet)) is not None}
        marks: dict[str, CellMarks] = {}
        with self._damaged(", ".join(parts)):
            for reading in readings:
                marks.update(reading.marks())
        self._check_still_as_read()
        for sheet, part in parts.items():
            found = marks[part]
            grids[sheet].errors, grids[sheet].formulas, grids[sheet].merges = found.errors, found.formulas, found.merges
            self._merges[sheet] = found.merges
            self._highlighted[part] = found.highlighted
        return grids


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
