"""spreadsheets.values.*: get, batchGet, update, batchUpdate, clear, batchClear, append.

Reply shapes follow the recorded exchanges: trailing blanks trimmed, no "values" key for an empty block, ranges
echoed normalised and clipped to the grid. Values writes grow the grid as Google's do; nothing else grows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cells
from .a1 import WHOLE, Span, col_letters
from .errors import invalid
from .protection import check_edit
from .state import FORMATTED, FORMULA, UNFORMATTED, Sheet, Spreadsheet

Block = tuple[int, int, int, int]
_RENDER_OPTIONS = (FORMATTED, UNFORMATTED, FORMULA)
_DATE_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
_DIMENSIONS = ("ROWS", "COLUMNS")


def read_block(book: Spreadsheet, text: str) -> tuple[Sheet, Block]:
    """A range to read or clear, clipped to the grid; a start past the edge is Google's "exceeds grid limits"."""
    sheet, span = book.resolve(text)
    block = span.clip(sheet.row_count, sheet.col_count)
    if span is not WHOLE and (span.r0 >= sheet.row_count or span.c0 >= sheet.col_count):
        sheet.check_inside(span.r0 + 1, span.c0 + 1, text)
    return sheet, block


def _option(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise invalid(f"Invalid value at '{_snake(name)}', \"{value}\"")
    return str(value)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def value_range(book: Spreadsheet, text: str, params: dict[str, Any]) -> dict[str, Any]:
    """One ValueRange as values.get / batchGet return it."""
    mode = _option(params, "valueRenderOption", _RENDER_OPTIONS, FORMATTED)
    date_strings = _option(params, "dateTimeRenderOption", _DATE_OPTIONS, "SERIAL_NUMBER") == "FORMATTED_STRING"
    major = _option(params, "majorDimension", _DIMENSIONS, "ROWS")
    sheet, block = read_block(book, text)
    rows = sheet.render(block, mode, date_strings and mode != FORMATTED, book.locale)
    reply: dict[str, Any] = {"range": book.echo(sheet, block), "majorDimension": major}
    if major == "COLUMNS":
        rows = _transpose(rows)
    if rows:
        reply["values"] = rows
    return reply


def _transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(row) for row in rows), default=0)
    columns = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
    for column in columns:
        while column and column[-1] == "":
            column.pop()
    return columns


def batch_get(book: Spreadsheet, params: dict[str, Any], ranges: list[str]) -> dict[str, Any]:
    return {"spreadsheetId": book.id, "valueRanges": [value_range(book, text, params) for text in ranges]}


class _Write:
    """One ValueRange to write, checked before anything is stored so a batch fails as a whole."""

    def __init__(self, book: Spreadsheet, text: str, values: Any, major: str | None, bounded: bool = True) -> None:
        if major not in (None, "ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"):
            raise invalid(f"Invalid value at 'data.major_dimension', \"{major}\"")
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values or []):
            raise invalid("Invalid values: expected a list of lists")
        self.sheet, self.span = book.resolve(text)
        self.rows = _transpose_input(values) if major == "COLUMNS" else values
        self.height = len(self.rows)
        self.width = max((len(row) for row in self.rows), default=0)
        if bounded:
            self._check_fits(book)
            r0, c0 = self.span.r0, self.span.c0
            check_edit(book, self.sheet, (r0, r0 + self.height, c0, c0 + self.width))

    def _check_fits(self, book: Spreadsheet) -> None:
        span = self.span
        if span.single or span is WHOLE:
            return
        r1 = span.r1 if span.r1 is not None else max(self.sheet.row_count, span.r0 + self.height)
        c1 = span.c1 if span.c1 is not None else max(self.sheet.col_count, span.c0 + self.width)
        asked = book.echo(self.sheet, (span.r0, r1, span.c0, c1))
        if span.r0 + self.height > r1:
            raise invalid(f"Requested writing within range [{asked}], but tried writing to row [{r1 + 1}]")
        if span.c0 + self.width > c1:
            raise invalid(f"Requested writing within range [{asked}], but tried writing to column [{col_letters(c1)}]")

    def apply(self, convert: Callable[[Any], Any], at: tuple[int, int] | None = None) -> Block:
        r0, c0 = at or (self.span.r0, self.span.c0)
        self.sheet.grow(r0 + self.height, c0 + self.width)
        for offset, row in enumerate(self.rows):
            if row:
                self.sheet.put_row(r0 + offset, c0, [convert(value) for value in row])
        return r0, r0 + self.height, c0, c0 + self.width

    def cell_count(self) -> int:
        return sum(len(row) for row in self.rows)


def _transpose_input(columns: list[list[Any]]) -> list[list[Any]]:
    height = max((len(column) for column in columns), default=0)
    return [[column[r] if r < len(column) else None for column in columns] for r in range(height)]


def _converter(book: Spreadsheet, option: str | None) -> Callable[[Any], Any]:
    if option == "RAW":
        return cells.from_raw
    if option == "USER_ENTERED":
        locale = book.locale
        return lambda value: cells.from_user_entered(value, locale)
    if not option:
        raise invalid("'valueInputOption' is required but not specified")
    raise invalid(f"Invalid value at 'value_input_option', \"{option}\"")


def _update_reply(book: Spreadsheet, write: _Write, block: Block, params: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {"spreadsheetId": book.id}
    if write.height == 0:
        return reply
    reply.update(
        updatedRange=book.echo(write.sheet, block),
        updatedRows=write.height,
        updatedColumns=write.width,
        updatedCells=write.cell_count(),
    )
    if _truthy(params.get("includeValuesInResponse")):
        options = {
            "valueRenderOption": params.get("responseValueRenderOption"),
            "dateTimeRenderOption": params.get("responseDateTimeRenderOption"),
        }
        reply["updatedData"] = value_range(book, reply["updatedRange"], options)
    return reply


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def update(book: Spreadsheet, text: str, body: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """values.update (PUT .../values/{range})."""
    convert = _converter(book, params.get("valueInputOption"))
    write = _Write(book, text, body.get("values") or [], body.get("majorDimension"))
    block = write.apply(convert)
    book.touch()
    return _update_reply(book, write, block, params)


def batch_update(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """values.batchUpdate: every range is checked before any is written."""
    convert = _converter(book, body.get("valueInputOption"))
    data = body.get("data") or []
    writes = [_Write(book, d.get("range", ""), d.get("values") or [], d.get("majorDimension")) for d in data]
    replies = [_update_reply(book, write, write.apply(convert), body) for write in writes]
    book.touch()
    reply: dict[str, Any] = {"spreadsheetId": book.id}
    if not writes:
        return reply
    reply.update(_totals(writes, replies))
    reply["responses"] = replies
    return reply


def _totals(writes: list[_Write], replies: list[dict[str, Any]]) -> dict[str, int]:
    """Distinct rows and columns touched per sheet, as Google counts totalUpdatedRows/Columns."""
    rows: dict[int, set[int]] = {}
    cols: dict[int, set[int]] = {}
    for write in writes:
        r0, c0 = write.span.r0, write.span.c0
        rows.setdefault(write.sheet.id, set()).update(range(r0, r0 + write.height))
        cols.setdefault(write.sheet.id, set()).update(range(c0, c0 + write.width))
    return {
        "totalUpdatedRows": sum(len(s) for s in rows.values()),
        "totalUpdatedColumns": sum(len(s) for s in cols.values()),
        "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in replies),
        "totalUpdatedSheets": len({write.sheet.id for write in writes if write.height}),
    }


def clear(book: Spreadsheet, text: str) -> dict[str, Any]:
    sheet, block = read_block(book, text)
    check_edit(book, sheet, block)
    sheet.clear_values(*block)
    book.touch()
    return {"spreadsheetId": book.id, "clearedRange": book.echo(sheet, block)}


def batch_clear(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    targets = [read_block(book, text) for text in body.get("ranges") or []]
    for sheet, block in targets:
        check_edit(book, sheet, block)
    for sheet, block in targets:
        sheet.clear_values(*block)
    book.touch()
    return {"spreadsheetId": book.id, "clearedRanges": [book.echo(sheet, block) for sheet, block in targets]}


def append(
    book: Spreadsheet, text: str, body: dict[str, Any], params: dict[str, Any], insert_rows: Callable[..., None]
) -> dict[str, Any]:
    """values.append: find the table at the range, write below its last row (inserting rows if asked)."""
    convert = _converter(book, params.get("valueInputOption"))
    option = params.get("insertDataOption") or "OVERWRITE"
    if option not in ("OVERWRITE", "INSERT_ROWS"):
        raise invalid(f"Invalid value at 'insert_data_option', \"{option}\"")
    write = _Write(book, text, body.get("values") or [], body.get("majorDimension"), bounded=False)
    table = find_table(write.sheet, write.span)
    at = (table[1], table[2]) if table else (write.span.r0, write.span.c0)
    if option == "INSERT_ROWS" and write.height and at[0] < write.sheet.row_count:
        insert_rows(write.sheet, at[0], write.height)
    block = write.apply(convert, at)
    book.touch()
    reply: dict[str, Any] = {"spreadsheetId": book.id}
    if table:
        reply["tableRange"] = book.echo(write.sheet, table)
    reply["updates"] = _update_reply(book, write, block, params)
    return reply


def find_table(sheet: Sheet, span: Span) -> Block | None:
    """The block of data an append continues.

    A heuristic shaped on Google's replies: the first row at or below the range with data in the range's
    columns starts the table; it runs down while rows have data in its columns. For a one-cell range the
    table's columns are the run of non-blank cells right of that cell, so "A1" with B1 blank is just A1.
    """
    single = span.single
    c_end = span.c0 + 1 if single else min(span.c1 or sheet.col_count, sheet.col_count)
    last_row = len(sheet.rows) if single or span.r1 is None else min(span.r1, len(sheet.rows))
    first = next((r for r in range(span.r0, last_row) if _has_data(sheet.rows[r], span.c0, c_end)), None)
    if first is None:
        return None
    if single:
        c_end = span.c0
        row = sheet.rows[first]
        while c_end < len(row) and row[c_end] is not None:
            c_end += 1
    end = first + 1
    while end < len(sheet.rows) and _has_data(sheet.rows[end], span.c0, c_end):
        end += 1
    c_start, c_stop = span.c0, c_end
    if not single:
        rows = sheet.rows[first:end]
        used = [c for row in rows for c, value in enumerate(row[:c_end]) if c >= span.c0 and value is not None]
        c_start, c_stop = min(used), max(used) + 1
    return first, end, c_start, c_stop


def _has_data(row: list[Any], c0: int, c1: int) -> bool:
    return any(value is not None for value in row[c0:c1])
