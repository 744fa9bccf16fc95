"""spreadsheets.get replies: properties, sheets[] metadata, and grid data (CellData) when asked for.

Google leaves out keys that hold their default (frozenRowCount 0, hidden false, an empty list), so this does too:
clients that test "key in reply" must see the same thing here as against the real service.
"""

from __future__ import annotations

import copy
from typing import Any

from . import cells, fields
from .numfmt import Locale
from .protection import can_edit
from .state import Sheet, Spreadsheet

Block = tuple[int, int, int, int]
ROW_PIXELS, COLUMN_PIXELS = 21, 100


def spreadsheet_url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def spreadsheet_json(
    book: Spreadsheet, grid: dict[int, list[Block]] | None = None, only: set[int] | None = None
) -> dict[str, Any]:
    """The Spreadsheet resource; grid maps sheetId -> blocks to include as data[]; only limits the sheets."""
    sheets = [s for s in book.sheets if only is None or s.id in only]
    return {
        "spreadsheetId": book.id,
        "properties": copy.deepcopy(book.props),
        "sheets": [sheet_json(book, s, None if grid is None else grid.get(s.id, [])) for s in sheets],
        "spreadsheetUrl": spreadsheet_url(book.id),
    }


def sheet_props(sheet: Sheet) -> dict[str, Any]:
    """SheetProperties without default-valued keys."""
    props = copy.deepcopy(sheet.props)
    grid = props.get("gridProperties", {})
    for key in ("frozenRowCount", "frozenColumnCount"):
        if not grid.get(key):
            grid.pop(key, None)
    for key in ("hideGridlines", "rowGroupControlAfter", "columnGroupControlAfter"):
        if grid.get(key) is False:
            grid.pop(key)
    for key in ("hidden", "rightToLeft"):
        if props.get(key) is False:
            props.pop(key)
    return props


def sheet_json(book: Spreadsheet, sheet: Sheet, blocks: list[Block] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": sheet_props(sheet)}
    if blocks is not None:
        out["data"] = [grid_data(sheet, block, book.locale, book.props.get("defaultFormat")) for block in blocks]
    if sheet.merges:
        out["merges"] = copy.deepcopy(sheet.merges)
    if sheet.conditional:
        out["conditionalFormats"] = copy.deepcopy(sheet.conditional)
    if sheet.protected:
        out["protectedRanges"] = [
            dict(copy.deepcopy(p), requestingUserCanEdit=can_edit(p, book.principal)) for p in sheet.protected
        ]
    if sheet.basic_filter:
        out["basicFilter"] = copy.deepcopy(sheet.basic_filter)
    if sheet.charts:
        out["charts"] = copy.deepcopy(sheet.charts)
    return out


def grid_data(sheet: Sheet, block: Block, locale: Locale, default_format: dict | None) -> dict[str, Any]:
    """GridData for a block: rowData trimmed like Google's, plus row and column metadata."""
    r0, r1, c0, c1 = block
    data: dict[str, Any] = {}
    if r0:
        data["startRow"] = r0
    if c0:
        data["startColumn"] = c0
    row_data = [_row_data(sheet, r, c0, c1, locale, default_format) for r in range(r0, r1)]
    while row_data and not row_data[-1]:
        row_data.pop()
    if row_data:
        data["rowData"] = row_data
    data["rowMetadata"] = [_dimension(sheet.row_meta.get(r), ROW_PIXELS) for r in range(r0, r1)]
    data["columnMetadata"] = [_dimension(sheet.col_meta.get(c), COLUMN_PIXELS) for c in range(c0, c1)]
    return data


def _dimension(meta: dict[str, Any] | None, pixels: int) -> dict[str, Any]:
    out = {"pixelSize": pixels}
    out.update(copy.deepcopy(meta or {}))
    if out.get("hiddenByUser") is False:
        out.pop("hiddenByUser")
    return out


def _row_data(sheet: Sheet, row: int, c0: int, c1: int, locale: Locale, default: dict | None) -> dict[str, Any]:
    values = [cell_data(sheet, row, col, locale, default) for col in range(c0, c1)]
    while values and not values[-1]:
        values.pop()
    return {"values": values} if values else {}


def cell_data(sheet: Sheet, row: int, col: int, locale: Locale, default: dict | None) -> dict[str, Any]:
    """One CellData: userEnteredValue, effectiveValue, formattedValue, formats, note and validation."""
    value = sheet.value(row, col)
    formula = sheet.formulas.get(row, col)
    fmt = sheet.formats.get(row, col)
    out: dict[str, Any] = {}
    entered = {"formulaValue": formula} if formula is not None else cells.extended_of(value)
    if entered:
        out["userEnteredValue"] = entered
    effective = cells.extended_of(value)
    if effective:
        out["effectiveValue"] = effective
        out["formattedValue"] = cells.formatted(value, (fmt or {}).get("numberFormat"), locale)
    if fmt:
        out["userEnteredFormat"] = copy.deepcopy(fmt)
    if out:
        out["effectiveFormat"] = _merged(default or {}, fmt or {})
    for key, store in (("note", sheet.notes), ("dataValidation", sheet.validation)):
        extra = store.get(row, col)
        if extra is not None:
            out[key] = copy.deepcopy(extra)
    return out


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def filtered(reply: dict[str, Any], mask: str | None) -> dict[str, Any]:
    """Apply a `fields=` selector; a malformed one is ignored rather than failing the call."""
    if not mask:
        return reply
    try:
        return fields.project(reply, fields.parse(mask))
    except ValueError:
        return reply
