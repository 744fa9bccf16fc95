"""kakosheet's own tabs (core/owned_tab.py) drawn into a Google Sheet as spreadsheets.batchUpdate requests.

A tab is written whole: one ``updateCells`` over the whole grid sets every cell kakosheet wants and clears what
a previous run left below or to the right. Values are typed, never parsed: text goes as a stringValue, so a
"=HYPERLINK(...)" someone typed stays text; the one formula kakosheet writes is the HYPERLINK of a link to a
cell. Charts sit in slots: a chart's ID is derived from the tab's sheet ID and the slot's name, so a re-run
updates the chart in its slot, adds a missing one and deletes the charts of the tab that are in no slot. A tab
whose cells read back as wanted and whose charts are as wanted is left alone: no request at all.

Which tab is kakosheet's is told by its mark in A1, never by its title: a team's own tab with the title gets
"kakosheet <title>" beside it (core/owned_tab.fallback_title), and a tab of kakosheet's the team renamed is
found by its mark under their title (the first cell of every tab is looked at) and keeps it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kakosheet.core.owned_tab import Chart, ChartKind, OwnedTab, Span, TabCell, fallback_title

if TYPE_CHECKING:
    from kakosheet.sources.gsheet_writeback import SheetState, Tab

PIXELS_PER_CHARACTER = 7  # a column's width in characters of the default font, as pixels
COLUMN_PIXELS, ROW_PIXELS = 100, 21  # Google's default column width and row height
EPOCH = dt.datetime(1899, 12, 30)  # day 0 of Google's (and Excel's) serial dates
DATE_PATTERN, DATETIME_PATTERN = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
CHART_TYPES = {ChartKind.BAR: "BAR", ChartKind.COLUMN: "COLUMN", ChartKind.LINE: "LINE"}
_ID_BITS = 0x7FFFFFFF  # Google's IDs are positive int32
_CELL_FIELDS = "userEnteredValue,userEnteredFormat"


@dataclass(frozen=True)
class Placement:
    """Where an owned tab goes: its sheet title (its own or the fallback) and whether that tab is there."""

    title: str
    exists: bool


def candidate_titles(tab: OwnedTab) -> list[str]:
    """The titles an owned tab may have in the sheet: its own, then the fallback beside a team's tab."""
    return list(dict.fromkeys((tab.title, fallback_title(tab.title))))


def titles_to_read(state: SheetState, tabs: Iterable[OwnedTab]) -> list[str]:
    """The tabs to read before planning: those that may be kakosheet's and were not read yet (under its
    titles, or under one the team gave it: its first cell shows the mark)."""
    marks = {tab.mark for tab in tabs}
    wanted = [title for tab in tabs for title in candidate_titles(tab)]
    wanted += [title for title, head in state.heads.items() if head in marks]
    return [title for title in dict.fromkeys(wanted) if title in state.tabs and title not in state.read]


def heads_to_look_at(state: SheetState, tabs: Sequence[OwnedTab]) -> list[str]:
    """The tabs whose first cell to look at for a mark (an owned tab the team renamed): every tab neither
    read nor looked at yet, unless each owned tab is known to be under one of its own titles."""
    if all(_under_its_titles(state, tab) for tab in tabs):
        return []
    titles = {title for tab in tabs for title in candidate_titles(tab)}
    return [t for t in state.tabs if t not in state.read and t not in state.heads and t not in titles]


def place(state: SheetState, tab: OwnedTab) -> Placement | None:
    """The tab holding the mark, under its titles or, renamed by the team, under theirs; else the first free
    title; None when both titles are the team's."""
    titles = candidate_titles(tab)
    for title in titles:
        if title in state.tabs and _holds(state.read.get(title), tab.mark):
            return Placement(title, exists=True)
    for title in state.tabs:  # still kakosheet's tab: it keeps the team's title, as in a workbook
        if title not in titles and _holds(state.read.get(title), tab.mark):
            return Placement(title, exists=True)
    for title in titles:
        if title not in state.tabs:
            return Placement(title, exists=False)
    return None


def _under_its_titles(state: SheetState, tab: OwnedTab) -> bool:
    return any(title in state.tabs and _holds(state.read.get(title), tab.mark) for title in candidate_titles(tab))


def _holds(read: list[list[Any]] | None, mark: str) -> bool:
    """Whether a tab read shows the mark in its first cell."""
    return read[0][:1] == [mark] if read else False


def no_room(tab: OwnedTab) -> str:
    """The warning for an owned tab whose titles are both taken by the team's own tabs."""
    shown = " and ".join(repr(title) for title in candidate_titles(tab))
    return (
        f"kakosheet did not write its {tab.title!r} tab: {shown} are tabs of the team's own (their first cell is "
        "not kakosheet's mark); rename one of them and run again"
    )


def plan(state: SheetState, tabs: Sequence[OwnedTab]) -> list[tuple[Placement, list[dict[str, Any]]]]:
    """The requests of each owned tab that has a place, in the order given (an empty list: unchanged)."""
    placed = [(tab, place(state, tab)) for tab in tabs]
    taken = {t.sheet_id for t in state.tabs.values()}
    ids = {title: t.sheet_id for title, t in state.tabs.items()}
    for tab, where in placed:
        if where is None:
            continue
        if not where.exists:
            ids[where.title] = _free_sheet_id(taken)
            taken.add(ids[where.title])
        if where.title == tab.title or tab.title not in state.tabs:  # a team's tab keeps its own title
            ids[tab.title] = ids[where.title]
    chart_ids = {chart["chartId"] for t in state.tabs.values() for chart in t.charts}
    out = []
    for tab, where in placed:
        if where is None:
            continue
        existing = state.tabs.get(where.title) if where.exists else None
        drawing = _Drawing(tab, where.title, ids[where.title], ids)
        out.append((where, drawing.requests(existing, state.read.get(where.title), chart_ids)))
    return out


def _free_sheet_id(taken: set[int]) -> int:
    candidate = max(taken, default=0) + 1
    if candidate <= _ID_BITS:
        return candidate
    return next(i for i in range(1, _ID_BITS) if i not in taken)


def chart_id(sheet_id: int, slot: str, salt: int = 0) -> int:
    """A chart's stable ID: the same tab and slot give the same ID on every run."""
    digest = hashlib.sha256(f"{sheet_id}\x00{slot}\x00{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & _ID_BITS or 1


class _Drawing:
    """One owned tab as cells, sizes and charts on the sheet with ``sheet_id``."""

    def __init__(self, tab: OwnedTab, title: str, sheet_id: int, ids: dict[str, int]) -> None:
        self.tab = tab
        self.title = title
        self.sheet_id = sheet_id
        self.ids = ids  # sheet ID by title, for links (owned tabs under their own title too)
        self._plain: dict[tuple[type, Any], tuple[dict[str, Any], Any]] = {}
        self.rows = [[self._cell(cell) for cell in row] for row in tab.rows]

    def requests(self, existing: Tab | None, read: list[list[Any]] | None, chart_ids: set[int]) -> list[dict[str, Any]]:
        """Nothing for a tab that reads back as wanted, else the tab whole: grid, cells, widths, filter, charts."""
        if existing is None and not self.tab.create:
            return []  # an owned tab that is not there is added only when it has something to say
        charts = self._chart_requests(existing, chart_ids)
        rendered = [[render for _, render in row] for row in self.rows]
        if existing is not None and read is not None and not charts and _same(read, rendered):
            return []
        return [
            *self._grid_requests(existing),
            {
                "updateCells": {
                    "range": {"sheetId": self.sheet_id},
                    "rows": [{"values": _trimmed([data for data, _ in row])} for row in self.rows],
                    "fields": _CELL_FIELDS,
                }
            },
            *self._width_requests(),
            *self._filter_requests(existing),
            *charts,
        ]

    # -- cells -------------------------------------------------------------------------------------------------

    def _cell(self, cell: TabCell | None) -> tuple[dict[str, Any], Any]:
        """The CellData to write and the value the FORMULA render reads back."""
        if cell is None:
            return {}, None
        value: Any = cell.value
        if cell.link is None and cell.number_format is None and not cell.bold:  # most cells: plain text or a number
            kind = type(value)
            if kind is str or kind is int or (kind is float and math.isfinite(value)):
                # One CellData per distinct value: an Issues tab repeats its tabs, columns and codes on every
                # row, and every object kept until the request is sent is more for the garbage collector.
                key = (kind, value)
                known = self._plain.get(key)
                if known is None:
                    field = "stringValue" if kind is str else "numberValue"
                    known = ({"userEnteredValue": {field: value}}, value) if value != "" else ({}, None)
                    self._plain[key] = known
                return known
        extended: dict[str, Any] | None = None
        number_format: dict[str, str] | None = None
        if cell.link is not None and value is not None and cell.link.sheet in self.ids:
            label = str(value).replace('"', '""')
            formula = f'=HYPERLINK("#gid={self.ids[cell.link.sheet]}&range={cell.link.cell}","{label}")'
            extended, value = {"formulaValue": formula}, formula
        elif isinstance(value, bool):
            extended = {"boolValue": value}
        elif isinstance(value, dt.datetime):
            value = (value.replace(tzinfo=None) - EPOCH).total_seconds() / 86400
            extended, number_format = {"numberValue": value}, {"type": "DATE_TIME", "pattern": DATETIME_PATTERN}
        elif isinstance(value, dt.date):
            value = (value - EPOCH.date()).days
            extended, number_format = {"numberValue": value}, {"type": "DATE", "pattern": DATE_PATTERN}
        elif isinstance(value, int | float | Decimal):
            number = float(value) if isinstance(value, Decimal) else value
            if math.isfinite(number):
                extended, value = {"numberValue": number}, number
            else:
                extended, value = {"stringValue": str(value)}, str(value)
        elif isinstance(value, str) and value:
            extended = {"stringValue": value}
        else:
            value = None
        if cell.number_format and extended is not None:
            number_format = _number_format(cell.number_format, number_format, extended)
        data: dict[str, Any] = {"userEnteredValue": extended} if extended is not None else {}
        cell_format: dict[str, Any] = {}
        if number_format is not None:
            cell_format["numberFormat"] = number_format
        if cell.bold:
            cell_format["textFormat"] = {"bold": True}
        if cell_format:
            data["userEnteredFormat"] = cell_format
        return data, value

    # -- grid --------------------------------------------------------------------------------------------------

    def _size_needed(self) -> tuple[int, int]:
        """Rows and columns the cells, the filter and the charts (drawn over cells of the grid) need."""
        tab = self.tab
        rows, columns = len(tab.rows), max(tab.column_count, len(tab.widths), 1)
        if tab.filter is not None:
            rows, columns = max(rows, tab.filter.last_row), max(columns, tab.filter.last_column + 1)
        for chart in tab.charts:
            rows = max(rows, chart.anchor_row + chart.height_rows - 1)
            columns = max(columns, chart.anchor_column + chart.width_columns)
            for span in (chart.categories, *(series.values for series in chart.series)):
                rows, columns = max(rows, span.last_row), max(columns, span.column + 1)
        return rows, columns

    def _grid_requests(self, existing: Tab | None) -> list[dict[str, Any]]:
        rows, columns = self._size_needed()
        frozen = self.tab.frozen_rows
        if existing is None:
            grid = {"rowCount": max(rows + 50, 1000), "columnCount": columns, "frozenRowCount": frozen}
            properties = {"sheetId": self.sheet_id, "title": self.title, "gridProperties": grid}
            return [{"addSheet": {"properties": properties}}]
        grid, masks = {}, []
        if existing.row_count < rows:
            grid["rowCount"] = max(rows + 50, 1000)
            masks.append("gridProperties.rowCount")
        if existing.column_count < columns:
            grid["columnCount"] = columns
            masks.append("gridProperties.columnCount")
        if existing.frozen_rows != frozen:
            grid["frozenRowCount"] = frozen
            masks.append("gridProperties.frozenRowCount")
        if not masks:
            return []
        properties = {"sheetId": self.sheet_id, "gridProperties": grid}
        return [{"updateSheetProperties": {"properties": properties, "fields": ",".join(masks)}}]

    def _width_requests(self) -> list[dict[str, Any]]:
        """Column widths, one request per run of equal widths."""
        out: list[dict[str, Any]] = []
        start = 0
        pixels = [self._pixels(width) for width in self.tab.widths]
        for index in range(1, len(pixels) + 1):
            if index < len(pixels) and pixels[index] == pixels[start]:
                continue
            span = {"sheetId": self.sheet_id, "dimension": "COLUMNS", "startIndex": start, "endIndex": index}
            out.append(
                {
                    "updateDimensionProperties": {
                        "range": span,
                        "properties": {"pixelSize": pixels[start]},
                        "fields": "pixelSize",
                    }
                }
            )
            start = index
        return out

    @staticmethod
    def _pixels(width: float) -> int:
        return max(round(width * PIXELS_PER_CHARACTER), 1)

    def _filter_requests(self, existing: Tab | None) -> list[dict[str, Any]]:
        wanted = self.tab.filter
        if wanted is None:
            return [{"clearBasicFilter": {"sheetId": self.sheet_id}}] if existing and existing.has_filter else []
        area = {
            "sheetId": self.sheet_id,
            "startRowIndex": wanted.header_row - 1,
            "endRowIndex": wanted.last_row,
            "startColumnIndex": wanted.first_column,
            "endColumnIndex": wanted.last_column + 1,
        }
        return [{"setBasicFilter": {"filter": {"range": area}}}]

    # -- charts ------------------------------------------------------------------------------------------------

    def _chart_requests(self, existing: Tab | None, chart_ids: set[int]) -> list[dict[str, Any]]:
        """Delete the tab's charts in no slot, update the ones that differ, add the missing ones."""
        present = {chart["chartId"]: chart for chart in (existing.charts if existing else [])}
        elsewhere = chart_ids - set(present)
        wanted: dict[int, Chart] = {}
        for chart in self.tab.charts:
            if chart.categories.last_row < chart.categories.first_row:
                continue  # nothing to draw: the slot stays empty
            salt = 0
            while (number := chart_id(self.sheet_id, chart.slot, salt)) in elsewhere or number in wanted:
                salt += 1
            wanted[number] = chart
        out: list[dict[str, Any]] = [
            {"deleteEmbeddedObject": {"objectId": number}} for number in present if number not in wanted
        ]
        for number, chart in wanted.items():
            spec, position = self._spec(chart), self._position(chart)
            shown = present.get(number)
            if shown is None:
                out.append({"addChart": {"chart": {"chartId": number, "spec": spec, "position": position}}})
                continue
            if _spec_key(shown.get("spec") or {}) != _spec_key(spec):
                out.append({"updateChartSpec": {"chartId": number, "spec": spec}})
            if _position_key(shown.get("position") or {}) != _position_key(position):
                update = {"objectId": number, "newPosition": position, "fields": "*"}
                out.append({"updateEmbeddedObjectPosition": update})
        return out

    def _spec(self, chart: Chart) -> dict[str, Any]:
        """A basic chart: the categories as its domain, a series per Series, named from the row above."""
        header = self._names_above(chart)
        axis = "BOTTOM_AXIS" if chart.kind is ChartKind.BAR else "LEFT_AXIS"  # where the values are measured
        series = [
            {"series": {"sourceRange": {"sources": [self._grid(s.values, header)]}}, "targetAxis": axis}
            for s in chart.series
        ]
        return {
            "title": chart.title,
            "basicChart": {
                "chartType": CHART_TYPES[chart.kind],
                "legendPosition": "BOTTOM_LEGEND" if header and len(chart.series) > 1 else "NO_LEGEND",
                "headerCount": 1 if header else 0,
                "domains": [{"domain": {"sourceRange": {"sources": [self._grid(chart.categories, header)]}}}],
                "series": series,
            },
        }

    def _names_above(self, chart: Chart) -> bool:
        """Whether a text cell sits above each series' values, in one row with the categories' first row.

        Google names a series by the first cell of its range (BasicChartSeries has no name of its own): with
        ``headerCount`` 1 that row is the chart's header, so the legend shows the column's header (the series'
        name where the layout puts it there). Without one, the series are left unnamed."""
        first = chart.categories.first_row
        if first < 2 or any(s.values.first_row != first for s in chart.series):
            return False
        above = self.tab.rows[first - 2] if first - 2 < len(self.tab.rows) else ()
        return all(
            s.values.column < len(above)
            and (cell := above[s.values.column]) is not None
            and isinstance(cell.value, str)
            and bool(cell.value)
            for s in chart.series
        )

    def _grid(self, span: Span, header: bool) -> dict[str, Any]:
        return {
            "sheetId": self.sheet_id,
            "startRowIndex": span.first_row - 1 - (1 if header else 0),
            "endRowIndex": span.last_row,
            "startColumnIndex": span.column,
            "endColumnIndex": span.column + 1,
        }

    def _position(self, chart: Chart) -> dict[str, Any]:
        widths = self.tab.widths
        columns = range(chart.anchor_column, chart.anchor_column + chart.width_columns)
        width = sum(self._pixels(widths[c]) if c < len(widths) else COLUMN_PIXELS for c in columns)
        anchor = {"sheetId": self.sheet_id, "rowIndex": chart.anchor_row - 1, "columnIndex": chart.anchor_column}
        overlay = {"anchorCell": anchor, "widthPixels": width, "heightPixels": chart.height_rows * ROW_PIXELS}
        return {"overlayPosition": overlay}


def _number_format(pattern: str, date_format: dict[str, str] | None, extended: dict[str, Any]) -> dict[str, str] | None:
    """A cell's Excel format code as Google's NumberFormat: a date keeps its kind, a number is a percent or not."""
    if date_format is not None:
        return {"type": date_format["type"], "pattern": pattern}
    if "numberValue" in extended:
        return {"type": "PERCENT" if "%" in pattern else "NUMBER", "pattern": pattern}
    if pattern == "@":
        return {"type": "TEXT", "pattern": pattern}
    return None


def _trimmed(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


def _same(read: list[list[Any]], wanted: list[list[Any]]) -> bool:
    """Whether the tab reads back (FORMULA render, dates as serials) as the cells kakosheet would write."""
    return _comparable(read) == _comparable(wanted)


def _comparable(rows: list[list[Any]]) -> list[list[Any]]:
    out = []
    for row in rows:
        values = [_plain(value) for value in row]
        while values and values[-1] is None:
            values.pop()
        out.append(values)
    while out and not out[-1]:
        out.pop()
    return out


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


def _grid_key(grid: dict[str, Any]) -> tuple[int, ...]:
    """A GridRange as Google echoes it leaves out zeros (sheet 0, row 0): compare with them filled in."""
    keys = ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    return tuple(int(grid.get(key, 0)) for key in keys)


def _sources(data: dict[str, Any]) -> tuple[tuple[int, ...], ...]:
    return tuple(_grid_key(grid) for grid in (data.get("sourceRange") or {}).get("sources") or [])


def _spec_key(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What kakosheet sets in a chart's spec (Google adds defaults of its own to what it shows)."""
    basic = spec.get("basicChart") or {}
    return (
        spec.get("title"),
        basic.get("chartType"),
        basic.get("legendPosition"),
        int(basic.get("headerCount", 0)),
        tuple(_sources(d.get("domain") or {}) for d in basic.get("domains") or []),
        tuple((_sources(s.get("series") or {}), s.get("targetAxis")) for s in basic.get("series") or []),
    )


def _position_key(position: dict[str, Any]) -> tuple[Any, ...]:
    overlay = position.get("overlayPosition") or {}
    anchor = overlay.get("anchorCell") or {}
    return (
        int(anchor.get("sheetId", 0)),
        int(anchor.get("rowIndex", 0)),
        int(anchor.get("columnIndex", 0)),
        overlay.get("widthPixels"),
        overlay.get("heightPixels"),
    )
