"""spreadsheets.batchUpdate: requests applied in order to a copy, committed only if every one succeeds.

Each handler takes the working copy and the request's parameters and returns its reply ({} for most kinds).
Failures raise RequestError; the caller turns that into 400 "Invalid requests[i].<kind>: <reason>".
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import cells, dimensions, fields, metadata
from .a1 import GridRange
from .batch_common import block_of, mask_of, sheet_of
from .batch_ranges import RANGE_HANDLERS
from .charts import CHART_HANDLERS
from .errors import RequestError, invalid
from .protection import check_edit
from .state import Sheet, Spreadsheet
from .styles import expand_mask, normal_format

Handler = Callable[[Spreadsheet, dict[str, Any]], dict[str, Any] | None]
CELL_FIELDS = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")


def apply_batch(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """Run a batchUpdate body atomically against book."""
    requests = body.get("requests")
    if not isinstance(requests, list):
        raise invalid("Invalid JSON payload: 'requests' must be a list.")
    work = book.clone()
    replies = [_one(work, index, request) for index, request in enumerate(requests)]
    book.adopt(work)
    reply: dict[str, Any] = {"spreadsheetId": book.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        reply["updatedSpreadsheet"] = metadata.spreadsheet_json(book)
    return reply


def _one(book: Spreadsheet, index: int, request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or len(request) != 1:
        raise invalid(f"Invalid requests[{index}]: exactly one kind of request must be set.")
    kind, params = next(iter(request.items()))
    handler = HANDLERS.get(kind)
    if handler is None:
        message = f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{index}]': Cannot find field."
        raise invalid(message)
    try:
        return handler(book, params or {}) or {}  # params are freshly parsed JSON: stored as they are
    except RequestError as error:
        raise invalid(f"Invalid requests[{index}].{kind}: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise invalid(f"Invalid requests[{index}].{kind}: malformed request ({error!r})") from None


def _cell_mask(mask: fields.Tree) -> dict[str, Any]:
    """The CellData fields a mask touches: {name: subtree-or-None}; "*" means all of them."""
    if "*" in mask:
        return dict.fromkeys(CELL_FIELDS)
    return {name: mask[name] for name in CELL_FIELDS if name in mask}


# -- sheets and spreadsheet properties ---------------------------------------------------------------------------


def add_sheet(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    given = copy.deepcopy(params.get("properties") or {})
    title = given.get("title") or _free_title(book)
    if book.sheet_by_title(title):
        raise RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet_id = given.get("sheetId")
    if sheet_id is not None and book.sheet_by_id(int(sheet_id)) is not None:
        raise RequestError(f"Sheet with id {sheet_id} already exists.")
    grid = {"rowCount": 1000, "columnCount": 26}
    grid.update(given.pop("gridProperties", {}) or {})
    props = {
        "sheetId": int(sheet_id) if sheet_id is not None else book.new_sheet_id(),
        "title": title,
        "index": int(given.get("index", len(book.sheets))),
        "sheetType": given.get("sheetType", "GRID"),
        "gridProperties": grid,
    }
    props.update({k: v for k, v in given.items() if k not in props})
    sheet = book.add_sheet(props)
    return {"addSheet": {"properties": metadata.sheet_props(sheet)}}


def _free_title(book: Spreadsheet) -> str:
    number = len(book.sheets) + 1
    while book.sheet_by_title(f"Sheet{number}"):
        number += 1
    return f"Sheet{number}"


def delete_sheet(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet = sheet_of(book, params.get("sheetId"))
    if len(book.sheets) == 1:
        raise RequestError("You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    book.reindex()


def update_sheet_properties(book: Spreadsheet, params: dict[str, Any]) -> None:
    given = params.get("properties") or {}
    sheet = sheet_of(book, given.get("sheetId"))
    mask = mask_of(params)
    mask.pop("sheetId", None)
    old_rows, old_cols = sheet.row_count, sheet.col_count
    props = fields.apply(sheet.props, given, mask)
    props["sheetId"] = sheet.id
    props.setdefault("sheetType", "GRID")
    title = props.get("title")
    if not title or any(s.title == title and s is not sheet for s in book.sheets):
        raise RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    grid = props.setdefault("gridProperties", {})
    rows, cols = int(grid.get("rowCount") or old_rows), int(grid.get("columnCount") or old_cols)
    grid["rowCount"], grid["columnCount"] = old_rows, old_cols
    index = int(props.get("index", sheet.props.get("index", 0)))
    sheet.props = props
    if (rows, cols) != (old_rows, old_cols):
        sheet.resize(rows, cols)
    if index != book.sheets.index(sheet):
        book.sheets.remove(sheet)
        book.sheets.insert(min(index, len(book.sheets)), sheet)
    book.reindex()
    if all(s.props.get("hidden") for s in book.sheets):
        raise RequestError("You can't hide all the sheets in a document.")


def update_spreadsheet_properties(book: Spreadsheet, params: dict[str, Any]) -> None:
    book.props = fields.apply(book.props, params.get("properties") or {}, mask_of(params))


# -- cells -------------------------------------------------------------------------------------------------------


def update_cells(book: Spreadsheet, params: dict[str, Any]) -> None:
    mask = _cell_mask(mask_of(params))
    rows = params.get("rows") or []
    if "range" in params:
        sheet, block = block_of(book, params["range"])
        clear_cells(sheet, block, mask)
        r0, c0 = block[0], block[2]
        limit = (block[1], block[3])
    else:
        start = params.get("start") or {}
        sheet = sheet_of(book, start.get("sheetId"))
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(row.get("values") or []) for row in rows), default=0)
        block_of(book, {"sheetId": sheet.id, "startRowIndex": r0, "endRowIndex": r0 + max(len(rows), 1),
                        "startColumnIndex": c0, "endColumnIndex": c0 + max(width, 1)})  # fmt: skip
        limit = (r0 + len(rows), c0 + width)
    check_edit(book, sheet, (r0, limit[0], c0, limit[1]))
    for dr, row in enumerate(rows):
        for dc, data in enumerate(row.get("values") or []):
            if r0 + dr < limit[0] and c0 + dc < limit[1]:
                write_cell(sheet, r0 + dr, c0 + dc, data or {}, mask)


def repeat_cell(book: Spreadsheet, params: dict[str, Any]) -> None:
    mask = _cell_mask(mask_of(params))
    sheet, (r0, r1, c0, c1) = block_of(book, params.get("range") or {})
    check_edit(book, sheet, (r0, r1, c0, c1))
    data = params.get("cell") or {}
    cache: dict[int, Any] = {}
    for row in range(r0, r1):
        for col in range(c0, c1):
            write_cell(sheet, row, col, data, mask, cache)


def write_cell(sheet: Sheet, row: int, col: int, data: dict, mask: dict, cache: dict | None = None) -> None:
    """Set the masked CellData fields of one cell (a field the data lacks is cleared)."""
    if "userEnteredValue" in mask:
        sheet.put(row, col, cells.from_extended(data.get("userEnteredValue")))
    if "userEnteredFormat" in mask:
        old = sheet.formats.get(row, col)
        key = id(old)
        if cache is None or key not in cache:
            sub = mask["userEnteredFormat"]
            given = data.get("userEnteredFormat")
            new = normal_format(fields.apply(old, given, expand_mask(sub)) if sub else given)
            if cache is not None:
                cache[key] = (old, new)  # old kept alive so its id is not reused
        else:
            new = cache[key][1]
        sheet.formats.set(row, col, new)  # shared, never mutated in place (see SparseGrid)
    for name, store in (("note", sheet.notes), ("dataValidation", sheet.validation)):
        if name in mask:
            store.set(row, col, data.get(name) or None)


def clear_cells(sheet: Sheet, block: tuple[int, int, int, int], mask: dict) -> None:
    """Clear the masked fields over a block (what updateCells does to the cells its rows do not cover)."""
    if "userEnteredValue" in mask:
        sheet.clear_values(*block)
    if "userEnteredFormat" in mask:
        sub = mask["userEnteredFormat"]
        if sub is None:
            sheet.formats.clear_block(*block)
        else:
            r0, r1, c0, c1 = block
            for row, col, fmt in list(sheet.formats.items()):
                if r0 <= row < r1 and c0 <= col < c1:
                    sheet.formats.set(row, col, fields.apply(fmt, None, expand_mask(sub)) or None)
    if "note" in mask:
        sheet.notes.clear_block(*block)
    if "dataValidation" in mask:
        sheet.validation.clear_block(*block)


def set_data_validation(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, (r0, r1, c0, c1) = block_of(book, params.get("range") or {})
    rule = params.get("rule")
    if rule is not None and not (rule.get("condition") or {}).get("type"):
        raise RequestError("Invalid data validation rule: condition type is required.")
    rule = copy.deepcopy(rule) or None  # one copy shared by the cells: stored extras are never mutated in place
    for row in range(r0, r1):
        for col in range(c0, c1):
            sheet.validation.set(row, col, rule)


def merge_cells(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, (r0, r1, c0, c1) = block_of(book, params.get("range") or {})
    kind = params.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ALL":
        parts = [(r0, r1, c0, c1)]
    elif kind == "MERGE_COLUMNS":
        parts = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        parts = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        raise RequestError(f"Unknown merge type {kind}.")
    for a0, a1, b0, b1 in parts:
        if (a1 - a0) * (b1 - b0) < 2:
            continue
        for row in range(a0, a1):
            for col in range(b0, b1):
                if (row, col) != (a0, b0):
                    sheet.put(row, col, None)
        merge = GridRange(sheet.id, a0, a1, b0, b1).to_json()
        sheet.merges.append(merge)


def unmerge_cells(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, (r0, r1, c0, c1) = block_of(book, params.get("range") or {})

    def inside(merge: dict[str, Any]) -> bool:
        grid = GridRange.from_json(merge)
        return r0 <= (grid.r0 or 0) and (grid.r1 or 0) <= r1 and c0 <= (grid.c0 or 0) and (grid.c1 or 0) <= c1

    sheet.merges = [m for m in sheet.merges if not inside(m)]


# -- dimensions --------------------------------------------------------------------------------------------------


def _dimension_range(book: Spreadsheet, data: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    sheet = sheet_of(book, data.get("sheetId"))
    dimension = data.get("dimension")
    if dimension not in (dimensions.ROWS, dimensions.COLUMNS):
        raise RequestError(f"Invalid dimension: {dimension}")
    size = sheet.row_count if dimension == dimensions.ROWS else sheet.col_count
    start = int(data.get("startIndex", 0))
    end = int(data["endIndex"]) if data.get("endIndex") is not None else size
    return sheet, dimension, start, end


def insert_dimension(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, dimension, start, end = _dimension_range(book, params.get("range") or {})
    dimensions.insert(sheet, dimension, start, end, bool(params.get("inheritFromBefore")))


def delete_dimension(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, dimension, start, end = _dimension_range(book, params.get("range") or {})
    dimensions.delete(sheet, dimension, start, end)


def append_dimension(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet = sheet_of(book, params.get("sheetId"))
    length = int(params.get("length", 0))
    if length <= 0:
        raise RequestError("length must be positive.")
    rows = params.get("dimension") == dimensions.ROWS
    sheet.resize(sheet.row_count + (length if rows else 0), sheet.col_count + (0 if rows else length))


def update_dimension_properties(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, dimension, start, end = _dimension_range(book, params.get("range") or {})
    size = sheet.row_count if dimension == dimensions.ROWS else sheet.col_count
    if end > size or start >= end:
        raise RequestError(f"Invalid dimension range [{start}, {end}) for a grid of {size}.")
    mask = mask_of(params)
    store = sheet.row_meta if dimension == dimensions.ROWS else sheet.col_meta
    for index in range(start, end):
        meta = fields.apply(store.get(index), params.get("properties") or {}, mask)
        if meta:
            store[index] = meta
        else:
            store.pop(index, None)


def auto_resize_dimensions(book: Spreadsheet, params: dict[str, Any]) -> None:
    _dimension_range(book, params.get("dimensions") or {})


def set_basic_filter(book: Spreadsheet, params: dict[str, Any]) -> None:
    given = copy.deepcopy(params.get("filter") or {})
    sheet, block = block_of(book, given.get("range") or {})
    given["range"] = GridRange(sheet.id, *block).to_json()
    sheet.basic_filter = given


def clear_basic_filter(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet_of(book, params.get("sheetId")).basic_filter = None


def update_borders(book: Spreadsheet, params: dict[str, Any]) -> None:
    block_of(book, params.get("range") or {})  # validated, not stored: no test reads borders back


HANDLERS: dict[str, Handler] = {
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "updateCells": update_cells,
    "repeatCell": repeat_cell,
    "setDataValidation": set_data_validation,
    "mergeCells": merge_cells,
    "unmergeCells": unmerge_cells,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "appendDimension": append_dimension,
    "updateDimensionProperties": update_dimension_properties,
    "autoResizeDimensions": auto_resize_dimensions,
    "setBasicFilter": set_basic_filter,
    "clearBasicFilter": clear_basic_filter,
    "updateBorders": update_borders,
    **RANGE_HANDLERS,
    **CHART_HANDLERS,
}
