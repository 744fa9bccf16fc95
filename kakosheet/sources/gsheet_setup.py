"""`kakosheet gsheet setup`: a Google Sheet made into the master workbook, the Sheets way.

The sheet gets what the xlsx template has (kakosheet/core/looks.py): a tab per log and per
reference table, headers coloured by who writes the column, a note on every header, dropdowns
from a hidden Lists tab, date and number checks, blank mandatory cells highlighted, number
formats (identifiers as text), a frozen header, and kakosheet's own columns guarded by a
warning-only protection.

The run reads the sheet (its metadata, then the first rows of the tabs it sets up with their
notes, validation and formats), works out what differs from the schemas, and sends only that,
in ONE ``spreadsheets:batchUpdate`` -- nothing at all when the sheet is already set up. Adding
a tab, a protected range or a conditional format is not idempotent, so a 5xx answer is never
blindly re-sent: the sheet is read again and only what is still missing is sent (the request
may have been applied before the answer was lost). kakosheet recognises its own protected
ranges by their description ("kakosheet: ...") and its own highlight rules by their formula.

Staff cells are never cleared or moved: an existing tab keeps its columns where they are, and
missing columns go to the right of everything used.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kakosheet.core.grid import Grid, column_letters
from kakosheet.core.header import SCAN_ROWS, locate_header
from kakosheet.core.looks import (
    BLANK_MANDATORY_COLOUR,
    LISTS_TAB,
    column_note,
    column_width,
    dropdown_lists,
    is_kakosheets_lists_header,
    lists_over,
    wanted_schemas,
)
from kakosheet.core.schema import Column, LogSchema, SchemaSet
from kakosheet.core.setup_result import SetupResult
from kakosheet.core.tabs import find_tab
from kakosheet.errors import SourceError
from kakosheet.sources.gsheet_client import SheetsClient, quote_sheet
from kakosheet.sources.gsheet_looks import (
    HEADER_FORMAT_FIELDS,
    colour,
    column_rule,
    data_format,
    format_key,
    header_style,
    hex_colour,
    list_ranges,
    rule_key,
    validation_kind,
)

PROTECTION_MARK = "kakosheet:"
NOTE_MARK = "(kakosheet)"  # the last line of kakosheet's header notes: any other note is the team's
BLANK_RULE = re.compile(r"^=AND\(COUNTA\(\$[A-Z]+\d+:\$[A-Z]+\d+\)>0,ISBLANK\([A-Z]+\d+\)\)$")
NEW_TAB_ROWS = 1000
PIXELS_PER_CHARACTER = 7
GRID_FIELDS = (
    "sheets(properties(sheetId,title),"
    "data(startRow,rowData(values(userEnteredValue,note,dataValidation,userEnteredFormat))))"
)


# --------------------------------------------------------------------------- the sheet as found


@dataclass
class FoundTab:
    """One tab as read: its properties, its first rows' cells, its rules and protections."""

    sheet_id: int
    title: str
    row_count: int
    col_count: int
    frozen_rows: int
    rules: list[dict[str, Any]]
    protected: list[dict[str, Any]]
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # (row, col) -> CellData

    def value(self, row: int, col: int) -> Any:
        entered = self.cells.get((row, col), {}).get("userEnteredValue", {})
        return next(iter(entered.values()), "") if entered else ""

    def grid(self, rows: int) -> Grid:
        width = max((col + 1 for _, col in self.cells), default=0)
        return Grid(self.title, [[self.value(r, c) for c in range(width)] for r in range(rows)])


@dataclass
class FoundSheet:
    """The spreadsheet as read: its title and every grid tab by title."""

    title: str
    tabs: dict[str, FoundTab]

    def next_sheet_id(self) -> int:
        return max((tab.sheet_id for tab in self.tabs.values()), default=0) + 1


def read_sheet(client: SheetsClient, wanted: list[LogSchema]) -> FoundSheet:
    """Two reads: every tab's properties, rules and protections; then the head of the tabs set up."""
    metadata = client.metadata({"includeGridData": "false"})
    found = FoundSheet(title=metadata.get("properties", {}).get("title", ""), tabs={})
    for sheet in metadata.get("sheets", []):
        props = sheet.get("properties", {})
        if props.get("sheetType", "GRID") != "GRID":
            continue
        grid = props.get("gridProperties", {})
        found.tabs[props["title"]] = FoundTab(
            sheet_id=int(props.get("sheetId", 0)),
            title=props["title"],
            row_count=int(grid.get("rowCount", 0)),
            col_count=int(grid.get("columnCount", 0)),
            frozen_rows=int(grid.get("frozenRowCount", 0)),
            rules=list(sheet.get("conditionalFormats", [])),
            protected=list(sheet.get("protectedRanges", [])),
        )
    heads = [tab for tab in (*(_tab_of(found, s) for s in wanted), found.tabs.get(LISTS_TAB)) if tab is not None]
    if heads:
        ranges = [
            quote_sheet(t.title) if t.title == LISTS_TAB else f"{quote_sheet(t.title)}!1:{SCAN_ROWS + 1}" for t in heads
        ]
        grid_reply = client.metadata({"includeGridData": "true", "ranges": ranges, "fields": GRID_FIELDS})
        for sheet in grid_reply.get("sheets", []):
            tab = found.tabs.get(sheet.get("properties", {}).get("title", ""))
            if tab is not None:
                tab.cells = _cells(sheet.get("data", []))
    return found


def _cells(data: list[dict[str, Any]]) -> dict[tuple[int, int], dict[str, Any]]:
    cells = {}
    for block in data:
        first_row, first_col = block.get("startRow", 0), block.get("startColumn", 0)
        for r, row in enumerate(block.get("rowData", [])):
            for c, cell in enumerate(row.get("values", [])):
                if cell:
                    cells[(first_row + r, first_col + c)] = cell
    return cells


def _tab_of(found: FoundSheet, schema: LogSchema) -> FoundTab | None:
    """The tab sync reads as the log: its exact name first, else one that reads the same."""
    match = find_tab(list(found.tabs), (schema.tab, *schema.tab_aliases))
    return found.tabs[match.tab] if match is not None else None


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """The requests of one batchUpdate, and what each one changes (for the result)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    added_tabs: list[str] = field(default_factory=list)
    added_columns: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str | None, *requests: dict[str, Any]) -> None:
        self.requests += requests
        self.count(kind)

    def count(self, kind: str | None) -> None:
        if kind:
            self.counts[kind] += 1


@dataclass
class Placed:
    """Where a log sits in the sheet: its tab, header row (0-based) and each field's column."""

    schema: LogSchema
    sheet_id: int
    header_row: int
    columns: dict[str, int]
    last_column: int  # the last column the header uses, staff columns included
    tab: FoundTab | None  # None for a tab this run adds


def plan_setup(found: FoundSheet, wanted: list[LogSchema], schemas: SchemaSet) -> Plan:
    """Every request that brings the sheet to what the schemas want; none when it is there already."""
    plan = Plan()
    next_id = found.next_sheet_id()
    wanted_lists = dropdown_lists(schemas)
    lists_tab = found.tabs.get(LISTS_TAB)
    present: list[list[Any]] = []
    if lists_tab is not None:
        _check_lists_tab_is_ours(lists_tab, list(wanted_lists))
        present = _rows_of(lists_tab, *_extent(lists_tab))
    lists = lists_over(wanted_lists, present)  # each list where the dropdowns read it
    ranges = list_ranges(lists)
    for schema in wanted:
        tab = _tab_of(found, schema)
        if tab is None:
            placed = _add_tab(plan, schema, next_id)
            next_id += 1
        else:
            placed = _place_columns(plan, schema, tab)
        for column in schema.columns:
            _plan_column(plan, placed, column, schemas, ranges)
        _plan_frozen_header(plan, placed)
        _plan_protections(plan, placed)
        _plan_blank_rules(plan, placed)
    _plan_lists_tab(plan, lists_tab, lists, next_id)
    return plan


def _add_tab(plan: Plan, schema: LogSchema, sheet_id: int) -> Placed:
    """A new tab with the schema's columns in order; frozen like the template (through the ID)."""
    id_field = schema.id.field if schema.id else schema.key
    frozen_columns = schema.fields.index(id_field) + 1 if id_field else 0
    grid = {"rowCount": NEW_TAB_ROWS, "columnCount": max(len(schema.columns), 26), "frozenRowCount": 1}
    if frozen_columns:
        grid["frozenColumnCount"] = frozen_columns
    plan.add(None, {"addSheet": {"properties": {"sheetId": sheet_id, "title": schema.tab, "gridProperties": grid}}})
    plan.added_tabs.append(schema.tab)
    columns = {column.field: index for index, column in enumerate(schema.columns)}
    for column in schema.columns:
        plan.add(None, _width_request(sheet_id, columns[column.field], column))
    return Placed(schema, sheet_id, 0, columns, len(schema.columns) - 1, None)


def _place_columns(plan: Plan, schema: LogSchema, tab: FoundTab) -> Placed:
    """Existing columns stay where they are; missing ones go right of every used cell read."""
    header = locate_header(tab.grid(SCAN_ROWS), schema)
    used = [col for (row, col), cell in tab.cells.items() if row < SCAN_ROWS and "userEnteredValue" in cell]
    if header is None and used:
        raise SourceError(
            f"tab {tab.title!r} holds data but no {schema.title} header row kakosheet recognises; add the "
            f"header ({', '.join(c.label for c in schema.columns[:3])}, ...) above the data, or rename the tab"
        )
    header_row = header.row_index if header else 0
    columns = dict(header.columns) if header else {}
    next_free = max(used, default=-1) + 1
    missing = [column for column in schema.columns if column.field not in columns]
    for offset, column in enumerate(missing):
        columns[column.field] = next_free + offset
        plan.add(None, _width_request(tab.sheet_id, next_free + offset, column))
    if missing:
        plan.added_columns[tab.title] = [column.label for column in missing]
    last = max([*columns.values(), *used], default=0)
    if last >= tab.col_count or header_row + 1 >= tab.row_count:
        grid = {"columnCount": max(tab.col_count, last + 1), "rowCount": max(tab.row_count, header_row + NEW_TAB_ROWS)}
        plan.add(None, _grid_size_request(tab.sheet_id, grid))
    return Placed(schema, tab.sheet_id, header_row, columns, last, tab)


def _width_request(sheet_id: int, column: int, schema_column: Column) -> dict[str, Any]:
    """Widths are set only on columns this run adds: a width staff chose is theirs."""
    return {
        "updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": column, "endIndex": column + 1},
            "properties": {"pixelSize": round(column_width(schema_column) * PIXELS_PER_CHARACTER)},
            "fields": "pixelSize",
        }
    }


def _column_range(placed: Placed, col: int, first_row: int) -> dict[str, Any]:
    """A column from ``first_row`` down, open-ended: rows added later are covered too."""
    return {"sheetId": placed.sheet_id, "startRowIndex": first_row, "startColumnIndex": col, "endColumnIndex": col + 1}


def _detail(placed: Placed, kind: str) -> str | None:
    """Notes, colours and formats of a tab this run adds go without saying: not counted."""
    return kind if placed.tab is not None else None


def _cell(placed: Placed, row: int, col: int) -> dict[str, Any]:
    return placed.tab.cells.get((row, col), {}) if placed.tab else {}


def _plan_column(plan: Plan, placed: Placed, column: Column, schemas: SchemaSet, lists: dict[str, str]) -> None:
    col, header = placed.columns[column.field], placed.header_row
    _plan_header_cell(plan, placed, column, col)
    data_range = _column_range(placed, col, header + 1)
    first_data = _cell(placed, header + 1, col)
    rule = column_rule(column, schemas, lists)
    if rule is not None and rule_key(first_data.get("dataValidation")) != rule_key(rule):
        plan.add(validation_kind(column), {"setDataValidation": {"range": data_range, "rule": rule}})
    wanted_format, mask = data_format(column)
    current = first_data.get("userEnteredFormat", {})
    if wanted_format and format_key(current, wanted_format) != format_key(wanted_format, wanted_format):
        plan.add(
            _detail(placed, "number format" if "numberFormat" in wanted_format else "shaded column"),
            {"repeatCell": {"range": data_range, "cell": {"userEnteredFormat": wanted_format}, "fields": mask}},
        )


def _plan_header_cell(plan: Plan, placed: Placed, column: Column, col: int) -> None:
    """A missing label is written; an existing one keeps its text and gets the colour, and the
    note unless the team wrote one of its own there."""
    current = _cell(placed, placed.header_row, col)
    cell: dict[str, Any] = {}
    fields = []
    if "userEnteredValue" not in current:
        cell["userEnteredValue"] = {"stringValue": column.label}
        fields.append("userEnteredValue")
    note = f"{column_note(column, placed.schema)}\n{NOTE_MARK}"
    present = current.get("note") or ""
    if present != note and (not present or present.endswith(NOTE_MARK)):  # a note of the team's own stays
        cell["note"] = note
        fields.append("note")
        plan.count(_detail(placed, "header note"))
    style = header_style(column)
    if format_key(current.get("userEnteredFormat", {}), style) != format_key(style, style):
        cell["userEnteredFormat"] = style
        fields.append(HEADER_FORMAT_FIELDS)
        plan.count(_detail(placed, "header colour"))
    if fields:
        header = placed.header_row
        grid_range = {
            "sheetId": placed.sheet_id,
            "startRowIndex": header,
            "endRowIndex": header + 1,
            "startColumnIndex": col,
            "endColumnIndex": col + 1,
        }
        plan.add(None, {"updateCells": {"range": grid_range, "rows": [{"values": [cell]}], "fields": ",".join(fields)}})


# --------------------------------------------------------------------------- frozen header, protection, highlight


def _plan_frozen_header(plan: Plan, placed: Placed) -> None:
    """The header rows stay in view; more frozen rows than that are the staff's choice and kept."""
    if placed.tab is None or placed.tab.frozen_rows >= placed.header_row + 1:
        return
    plan.add(
        "frozen header",
        {
            "updateSheetProperties": {
                "properties": {"sheetId": placed.sheet_id, "gridProperties": {"frozenRowCount": placed.header_row + 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
    )


def _range_key(grid_range: dict[str, Any]) -> tuple[Any, ...]:
    """A GridRange as a tuple; Google leaves out zero bounds and sheetId 0."""
    return (
        int(grid_range.get("sheetId", 0)),
        int(grid_range.get("startRowIndex", 0)),
        grid_range.get("endRowIndex"),
        int(grid_range.get("startColumnIndex", 0)),
        grid_range.get("endColumnIndex"),
    )


def _plan_protections(plan: Plan, placed: Placed) -> None:
    """One warning-only protection per kakosheet column (header included); stale or doubled ones
    of kakosheet's are removed, anybody else's are left alone."""
    wanted = {}
    for column in placed.schema.columns:
        if column.kind in ("owned", "computed"):
            col = placed.columns[column.field]
            grid_range = _column_range(placed, col, placed.header_row)
            wanted[_range_key(grid_range)] = {
                "range": grid_range,
                "description": f"{PROTECTION_MARK} {column.label} is written by kakosheet on each sync",
                "warningOnly": True,
            }
    existing = placed.tab.protected if placed.tab else []
    for protected in existing:
        if not str(protected.get("description", "")).startswith(PROTECTION_MARK):
            continue
        key = _range_key(protected.get("range", {}))
        if (
            key in wanted
            and protected.get("warningOnly")
            and protected.get("description") == wanted[key]["description"]
        ):
            del wanted[key]  # the first of ours on that range is kept; any other is a duplicate
            continue
        plan.add(
            "stale protection removed", {"deleteProtectedRange": {"protectedRangeId": protected["protectedRangeId"]}}
        )
    for protected in wanted.values():
        plan.add("protected range", {"addProtectedRange": {"protectedRange": protected}})


def _plan_blank_rules(plan: Plan, placed: Placed) -> None:
    """Blank mandatory cells of a row that holds anything turn orange; rules of kakosheet's that no
    longer fit (the header grew, a column moved) are replaced, nobody else's are touched."""
    top = placed.header_row + 2  # the first data row, as the formula sees it
    last = column_letters(placed.last_column)
    wanted = {}
    for column in placed.schema.mandatory:
        col = placed.columns[column.field]
        letter = column_letters(col)
        rule = {
            "ranges": [_column_range(placed, col, placed.header_row + 1)],
            "booleanRule": {
                "condition": {
                    "type": "CUSTOM_FORMULA",
                    "values": [{"userEnteredValue": f"=AND(COUNTA($A{top}:${last}{top})>0,ISBLANK({letter}{top}))"}],
                },
                "format": {"backgroundColor": colour(BLANK_MANDATORY_COLOUR)},
            },
        }
        wanted[_blank_rule_key(rule)] = rule
    rules = placed.tab.rules if placed.tab else []
    deletes = []
    for index, rule in enumerate(rules):
        if not _is_blank_rule(rule):
            continue
        key = _blank_rule_key(rule)
        if key in wanted:
            del wanted[key]
        else:
            deletes.append(index)
    for index in reversed(deletes):
        plan.add(
            "stale highlight rule removed",
            {"deleteConditionalFormatRule": {"sheetId": placed.sheet_id, "index": index}},
        )
    remaining = len(rules) - len(deletes)
    for offset, rule in enumerate(wanted.values()):
        # last in priority: the issue highlight and the staff's own rules win over the orange
        plan.add("highlight rule", {"addConditionalFormatRule": {"rule": rule, "index": remaining + offset}})


def _is_blank_rule(rule: dict[str, Any]) -> bool:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return len(values) == 1 and bool(BLANK_RULE.match(str(values[0].get("userEnteredValue", ""))))


def _blank_rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    boolean = rule.get("booleanRule", {})
    values = boolean.get("condition", {}).get("values", [])
    return (
        tuple(_range_key(r) for r in rule.get("ranges", [])),
        tuple(str(v.get("userEnteredValue", "")) for v in values),
        hex_colour(boolean.get("format", {}).get("backgroundColor")),
    )


# --------------------------------------------------------------------------- the Lists tab


def _plan_lists_tab(plan: Plan, tab: FoundTab | None, lists: dict[str, tuple[str, ...]], sheet_id: int) -> None:
    """The hidden tab the dropdowns read their values from, as in the xlsx template."""
    wanted = _lists_rows(lists)
    height, width = len(wanted), len(lists)
    extent = (0, 0)
    if tab is None:
        grid = {"rowCount": height, "columnCount": width}
        properties = {"sheetId": sheet_id, "title": LISTS_TAB, "hidden": True, "gridProperties": grid}
        plan.add(None, {"addSheet": {"properties": properties}})
        plan.added_tabs.append(f"{LISTS_TAB} (hidden)")
    else:
        sheet_id, extent = tab.sheet_id, _extent(tab)
        if _rows_of(tab, max(height, extent[0]), max(width, extent[1])) == _padded(wanted, extent):
            return
        if tab.row_count < height or tab.col_count < width:
            grid = {"rowCount": max(tab.row_count, height), "columnCount": max(tab.col_count, width)}
            plan.add(None, _grid_size_request(sheet_id, grid))
    grid_range = {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": max(height, extent[0]),
        "startColumnIndex": 0,
        "endColumnIndex": max(width, extent[1]),
    }
    rows = [{"values": [_text_cell(text) for text in row]} for row in wanted]
    plan.add(
        "dropdown list" if tab else None,
        {"updateCells": {"range": grid_range, "rows": rows, "fields": "userEnteredValue"}},
    )


def _lists_rows(lists: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """A column per list: its name, then its values."""
    height = max(len(values) for values in lists.values()) + 1
    columns = [[name, *values, *[""] * (height - 1 - len(values))] for name, values in lists.items()]
    return [list(row) for row in zip(*columns, strict=True)]


def _extent(tab: FoundTab) -> tuple[int, int]:
    return max((r + 1 for r, _ in tab.cells), default=0), max((c + 1 for _, c in tab.cells), default=0)


def _rows_of(tab: FoundTab, height: int, width: int) -> list[list[Any]]:
    return [[tab.value(row, col) for col in range(width)] for row in range(height)]


def _padded(rows: list[list[str]], extent: tuple[int, int]) -> list[list[str]]:
    """The wanted rows, padded with blanks over what the tab holds now (to compare whole blocks)."""
    width = max(len(rows[0]), extent[1])
    padded = [row + [""] * (width - len(row)) for row in rows]
    return padded + [[""] * width for _ in range(extent[0] - len(rows))]


def _check_lists_tab_is_ours(tab: FoundTab, names: list[str]) -> None:
    """A Lists tab of the team's own is never overwritten."""
    first_row = _rows_of(tab, 1, _extent(tab)[1])[0] if tab.cells else []
    if not is_kakosheets_lists_header(first_row, names):
        raise SourceError(
            f"the tab {LISTS_TAB!r} is not kakosheet's (its first row holds {first_row[:3]!r}); kakosheet keeps "
            "its dropdown lists there: rename your tab and run setup again"
        )


def _grid_size_request(sheet_id: int, grid: dict[str, int]) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": grid},
            "fields": "gridProperties(rowCount,columnCount)",
        }
    }


def _text_cell(text: str) -> dict[str, Any]:
    return {"userEnteredValue": {"stringValue": text}} if text else {}


__all__ = ["SetupResult", "plan_setup", "read_sheet", "wanted_schemas"]
