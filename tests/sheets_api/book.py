"""Book: a test's handle on one spreadsheet, to set it up and inspect it without going through HTTP.

Every method takes the server's lock, so a before-hook may call them while a request waits; none of them is
recorded in api.requests.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import batch, cells, dimensions, metadata
from .a1 import parse_span
from .state import Sheet, Spreadsheet
from .styles import normal_format

if TYPE_CHECKING:
    from .server import SheetsApiServer


class Book:
    """A spreadsheet on the test server, addressed by key."""

    def __init__(self, api: SheetsApiServer, key: str) -> None:
        self._api = api
        self.key = key

    def __repr__(self) -> str:
        return f"Book({self.key!r})"

    def _book(self) -> Spreadsheet:
        return self._api._books[self.key]

    def _sheet(self, tab: str) -> Sheet:
        sheet = self._book().sheet_by_title(tab)
        if sheet is None:
            raise KeyError(f"no tab {tab!r} in {self.key}")
        return sheet

    @staticmethod
    def _cell(a1: str) -> tuple[int, int]:
        span = parse_span(a1)
        if span is None:
            raise ValueError(f"not a cell reference: {a1!r}")
        return span.r0, span.c0

    @property
    def title(self) -> str:
        with self._api._lock:
            return str(self._book().props["title"])

    def tabs(self) -> list[str]:
        """Tab titles in tab order."""
        with self._api._lock:
            return [sheet.title for sheet in self._book().sheets]

    def sheet_id(self, tab: str) -> int:
        with self._api._lock:
            return self._sheet(tab).id

    # -- sharing -----------------------------------------------------------------------------------------------

    def share(self, email: str) -> None:
        with self._api._lock:
            book = self._book()
            if book.shared_with is not None:
                book.shared_with.add(email)

    def unshare(self, email: str) -> None:
        """Stop sharing with email (a book shared with everyone becomes shared with every other known principal)."""
        with self._api._lock:
            book = self._book()
            if book.shared_with is None:
                book.shared_with = self._api._auth.known()
            book.shared_with.discard(email)

    def delete(self) -> None:
        """Remove the file: later calls get 404."""
        with self._api._lock:
            del self._api._books[self.key]

    # -- reading -----------------------------------------------------------------------------------------------

    def values(self, tab: str) -> list[list[Any]]:
        """Typed, unformatted values: None for blank, numbers (dates as serials), str, bool, "#N/A"-style errors."""
        with self._api._lock:
            sheet = self._sheet(tab)
            height, width = sheet.extent()
            return [(row[:width] + [None] * (width - len(row)))[:width] for row in sheet.rows[:height]]

    def formula(self, tab: str, a1: str) -> str | None:
        with self._api._lock:
            return self._sheet(tab).formulas.get(*self._cell(a1))

    def note(self, tab: str, a1: str) -> str | None:
        with self._api._lock:
            return self._sheet(tab).notes.get(*self._cell(a1))

    def validation(self, tab: str, a1: str) -> dict[str, Any] | None:
        """The cell's DataValidationRule (a copy), None when unset."""
        with self._api._lock:
            return copy.deepcopy(self._sheet(tab).validation.get(*self._cell(a1)))

    def format(self, tab: str, a1: str) -> dict[str, Any] | None:
        """The cell's userEnteredFormat (a copy), None when unset."""
        with self._api._lock:
            return copy.deepcopy(self._sheet(tab).formats.get(*self._cell(a1)))

    def sheet(self, tab: str) -> dict[str, Any]:
        """The tab's metadata exactly as spreadsheets.get shows it (no grid data)."""
        with self._api._lock:
            return metadata.sheet_json(self._book(), self._sheet(tab), None)

    def charts(self, tab: str) -> list[dict[str, Any]]:
        """The EmbeddedCharts drawn over the tab (copies), as spreadsheets.get lists them."""
        with self._api._lock:
            return copy.deepcopy(self._sheet(tab).charts)

    def column_pixels(self, tab: str, count: int) -> list[int]:
        """The widths of the first count columns in pixels (100 where none was set)."""
        with self._api._lock:
            meta = self._sheet(tab).col_meta
            return [int((meta.get(c) or {}).get("pixelSize", metadata.COLUMN_PIXELS)) for c in range(count)]

    def properties(self) -> dict[str, Any]:
        """The spreadsheet's properties (title, locale, timeZone, ...)."""
        with self._api._lock:
            return copy.deepcopy(self._book().props)

    # -- changing ----------------------------------------------------------------------------------------------

    def set_values(self, tab: str, a1: str, rows: list[list[Any]]) -> None:
        """Type values in from a1 on: Python values as in create_spreadsheet; None blanks a cell; grows the grid."""
        with self._api._lock:
            sheet = self._sheet(tab)
            r0, c0 = self._cell(a1)
            width = max((len(row) for row in rows), default=0)
            sheet.grow(r0 + len(rows), c0 + width)
            for dr, row in enumerate(rows):
                for dc, value in enumerate(row):
                    sheet.put(r0 + dr, c0 + dc, cells.from_python(value))
            self._book().touch()

    def set_note(self, tab: str, a1: str, note: str | None) -> None:
        with self._api._lock:
            self._sheet(tab).notes.set(*self._cell(a1), note or None)

    def set_format(self, tab: str, a1: str, user_entered_format: dict[str, Any] | None) -> None:
        with self._api._lock:
            self._sheet(tab).formats.set(*self._cell(a1), normal_format(copy.deepcopy(user_entered_format)))

    def set_validation(self, tab: str, a1: str, rule: dict[str, Any] | None) -> None:
        with self._api._lock:
            self._sheet(tab).validation.set(*self._cell(a1), copy.deepcopy(rule) or None)

    def insert_rows(self, tab: str, before_row: int, count: int = 1) -> None:
        """Insert rows above 1-based before_row as a person does: all below shifts down, formatting inherited."""
        with self._api._lock:
            start = before_row - 1
            dimensions.insert(self._sheet(tab), dimensions.ROWS, start, start + count, inherit_before=start > 0)
            self._book().touch()

    def delete_rows(self, tab: str, first_row: int, count: int = 1) -> None:
        with self._api._lock:
            start = first_row - 1
            dimensions.delete(self._sheet(tab), dimensions.ROWS, start, start + count)
            self._book().touch()

    def insert_columns(self, tab: str, before_column: int, count: int = 1) -> None:
        """Insert columns left of 0-based before_column as a person does: all to the right shifts right."""
        with self._api._lock:
            inherit = before_column > 0
            dimensions.insert(self._sheet(tab), dimensions.COLUMNS, before_column, before_column + count, inherit)
            self._book().touch()

    def delete_columns(self, tab: str, first_column: int, count: int = 1) -> None:
        """Delete columns from 0-based first_column on: all to the right shifts left."""
        with self._api._lock:
            dimensions.delete(self._sheet(tab), dimensions.COLUMNS, first_column, first_column + count)
            self._book().touch()

    def batch_update(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply spreadsheets.batchUpdate requests directly (setup: conditional formats, protection...)."""
        with self._api._lock:
            return batch.apply_batch(self._book(), {"requests": copy.deepcopy(requests)})["replies"]
