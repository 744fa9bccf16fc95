"""batchUpdate requests for embedded charts: addChart, updateChartSpec, updateEmbeddedObjectPosition and
deleteEmbeddedObject.

A chart (an EmbeddedChart: chartId, spec, position) lives with the sheet it is drawn over, so deleting the sheet
deletes it; spreadsheets.get lists it under sheets[].charts. Chart IDs are unique in the spreadsheet. Every
ChartSourceRange of a spec is checked as Google checks it: each GridRange on an existing sheet, inside its grid,
one row or one column wide. Only charts over a grid (overlayPosition) are kept; a chart on a sheet of its own is
refused. Charts are not drawn, and their ranges do not move when rows are inserted.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from typing import Any

from . import fields
from .batch_common import block_of, sheet_of
from .errors import RequestError
from .state import Sheet, Spreadsheet

CHART_TYPES = frozenset({"BAR", "LINE", "AREA", "COLUMN", "SCATTER", "COMBO", "STEPPED_AREA"})
# Google's words for a source range that is neither one row nor one column (recorded in a public bug report).
NOT_A_LINE = "ChartSourceRange ranges require all rows or all columns to have length of 1"


def charts_of(book: Spreadsheet) -> Iterator[tuple[Sheet, dict[str, Any]]]:
    for sheet in book.sheets:
        for chart in sheet.charts:
            yield sheet, chart


def _find(book: Spreadsheet, chart_id: Any, missing: str) -> tuple[Sheet, dict[str, Any]]:
    for sheet, chart in charts_of(book):
        if chart["chartId"] == chart_id:
            return sheet, chart
    raise RequestError(missing.format(chart_id))


def _checked_spec(book: Spreadsheet, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec:
        raise RequestError("A chart needs a spec.")
    basic = spec.get("basicChart")
    if basic is not None and basic.get("chartType") not in CHART_TYPES:
        raise RequestError(f"Invalid value at 'basicChart.chartType': {basic.get('chartType')!r}")
    for source in _source_ranges(spec):
        for grid in source.get("sources") or []:
            _, (r0, r1, c0, c1) = block_of(book, grid)
            if r1 - r0 != 1 and c1 - c0 != 1:
                raise RequestError(NOT_A_LINE)
    return copy.deepcopy(spec)


def _source_ranges(value: Any) -> Iterator[dict[str, Any]]:
    """Every ChartSourceRange inside a spec (domains, series, any chart kind's ChartData)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "sourceRange" and isinstance(inner, dict):
                yield inner
            else:
                yield from _source_ranges(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _source_ranges(item)


def _checked_position(book: Spreadsheet, position: Any) -> tuple[Sheet, dict[str, Any]]:
    """The sheet a chart is drawn over, and its position as Google echoes it."""
    position = position or {}
    if position.get("sheetId") is not None and book.sheet_by_id(int(position["sheetId"])) is not None:
        sheet_id = position["sheetId"]
        raise RequestError(f"Cannot add chart to new sheet with ID: {sheet_id}, a sheet with that ID already exists.")
    overlay = position.get("overlayPosition")
    if not isinstance(overlay, dict):
        raise RequestError("the test server draws charts over a grid only: give position.overlayPosition")
    anchor = overlay.get("anchorCell") or {}
    sheet = sheet_of(book, anchor.get("sheetId"))
    row, column = int(anchor.get("rowIndex", 0)), int(anchor.get("columnIndex", 0))
    block_of(book, {"sheetId": sheet.id, "startRowIndex": row, "endRowIndex": row + 1,
                    "startColumnIndex": column, "endColumnIndex": column + 1})  # fmt: skip
    out = copy.deepcopy(overlay)
    out["anchorCell"] = {"sheetId": sheet.id, "rowIndex": row, "columnIndex": column}
    return sheet, {"overlayPosition": out}


def add_chart(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    given = params.get("chart") or {}
    taken = {chart["chartId"] for _, chart in charts_of(book)}
    chart_id = given.get("chartId")
    if chart_id is not None:
        chart_id = int(chart_id)
        if chart_id in taken:
            # The wording of Google's refusal is not in a recorded exchange; the status (400) and prefix are.
            raise RequestError(f"An object with ID {chart_id} already exists.")
        if chart_id < 0:
            raise RequestError(f"Invalid chart ID {chart_id}: it must be non-negative.")
    spec = _checked_spec(book, given.get("spec"))
    sheet, position = _checked_position(book, given.get("position"))
    if chart_id is None:
        chart_id = next(i for i in iter(lambda: secrets.randbelow(2**31 - 1) + 1, 0) if i not in taken)
    stored = {"chartId": chart_id, "spec": spec, "position": position}
    sheet.charts.append(stored)
    return {"addChart": {"chart": copy.deepcopy(stored)}}


def update_chart_spec(book: Spreadsheet, params: dict[str, Any]) -> None:
    _, chart = _find(book, params.get("chartId"), "No chart with id: {}")
    chart["spec"] = _checked_spec(book, params.get("spec"))


def update_embedded_object_position(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    sheet, chart = _find(book, params.get("objectId"), "No object with id: {}")
    new = params.get("newPosition") or {}
    if "overlayPosition" not in new:
        raise RequestError("the test server draws charts over a grid only: give newPosition.overlayPosition")
    mask = params.get("fields")
    if not mask:
        raise RequestError("At least one field must be updated, but none were specified.")
    merged = fields.apply(chart["position"]["overlayPosition"], new["overlayPosition"], fields.parse(mask))
    target, position = _checked_position(book, {"overlayPosition": merged})
    chart["position"] = position
    if target is not sheet:
        sheet.charts.remove(chart)
        target.charts.append(chart)
    return {"updateEmbeddedObjectPosition": {"position": copy.deepcopy(position)}}


def delete_embedded_object(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, chart = _find(book, params.get("objectId"), "No object with id: {}")
    sheet.charts.remove(chart)


CHART_HANDLERS = {
    "addChart": add_chart,
    "updateChartSpec": update_chart_spec,
    "updateEmbeddedObjectPosition": update_embedded_object_position,
    "deleteEmbeddedObject": delete_embedded_object,
}
