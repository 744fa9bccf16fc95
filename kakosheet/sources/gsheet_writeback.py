"""Writing kakosheet's cells into a Google Sheet that staff keep editing meanwhile.

The Sheets API writes to positions and has no compare-and-set, so a write-back:
1. re-reads the tabs and leaves alone every target row that no longer holds what was read
   (it moved or changed: the next sync takes it);
2. writes the IDs, notes and filled blanks in one ``values:batchUpdate`` (RAW: a note that
   starts with "=" stays text);
3. re-reads, and where a row slid into a written position in between (a row inserted
   above), puts back what that row held and leaves the intended row for the next sync;
4. brings the formats up to date in one ``spreadsheets:batchUpdate``: kakosheet's
   highlight rule, date formats of filled dates, and the Issues tab. Adding a rule or a
   tab is not idempotent, so a 5xx answer is not blindly re-sent: the sheet's state is
   fetched again and only what is still missing is sent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kakosheet.core.grid import Grid, column_letters
from kakosheet.core.issues_tab import ISSUES_HEADER, ISSUES_MARK, ISSUES_TAB, ISSUES_WIDTHS, issue_lines
from kakosheet.core.writeback import CellUpdate, CellValue, SheetWrite, WriteBack
from kakosheet.sources.base import WriteResult
from kakosheet.sources.gsheet_client import SheetsClient, quote_sheet

EPOCH = dt.datetime(1899, 12, 30)
HIGHLIGHT_MARK = '"; "&'  # in the formula of kakosheet's highlight rule
HIGHLIGHT = {"red": 1.0, "green": 0.78, "blue": 0.81}
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATETIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
PIXELS_PER_CHARACTER = 7


@dataclass
class Tab:
    sheet_id: int
    title: str
    row_count: int
    rules: list[dict[str, Any]] = field(default_factory=list)  # conditional formats, in order


@dataclass
class SheetState:
    """The spreadsheet as kakosheet last saw it: its tabs, and the rows it read from them."""

    title: str
    tabs: dict[str, Tab]
    read: dict[str, list[list[Any]]] = field(default_factory=dict)  # FORMULA-rendered rows as read

    @classmethod
    def of(cls, metadata: dict[str, Any]) -> SheetState:
        tabs = {}
        for sheet in metadata.get("sheets", []):
            props = sheet.get("properties", {})
            if props.get("sheetType", "GRID") != "GRID":
                continue
            tabs[props["title"]] = Tab(
                sheet_id=props["sheetId"],
                title=props["title"],
                row_count=props.get("gridProperties", {}).get("rowCount", 0),
                rules=list(sheet.get("conditionalFormats", [])),
            )
        return cls(title=metadata.get("properties", {}).get("title", ""), tabs=tabs)

    def remember(self, grids: dict[str, Grid]) -> None:
        """Keep the rows as read, before formulas are replaced by their values."""
        self.read = {sheet: [list(row) for row in grid.rows] for sheet, grid in grids.items()}


@dataclass(frozen=True)
class Placed:
    """A cell to write, on its tab."""

    sheet: str
    cell: CellUpdate


def write_back(client: SheetsClient, state: SheetState, changes: WriteBack) -> WriteResult:
    targets = [write for write in changes.sheets if write.cells]
    skipped: set[tuple[str, int]] = set()
    written: list[Placed] = []
    if targets:
        before = _current_rows(client, [write.sheet for write in targets])
        safe, moved = _unmoved(targets, state.read, before)
        skipped |= moved
        if safe:
            client.write_values(_value_ranges(safe))
            written = safe
            after = _current_rows(client, [write.sheet for write in targets])
            repairs, misplaced = _misplaced(safe, before, after)
            if repairs:
                client.write_values(_value_ranges(repairs))
            skipped |= misplaced
    formatted = _update_formats(client, state, changes, [p for p in written if (p.sheet, p.cell.row) not in skipped])
    return WriteResult(written=bool(written) or formatted, skipped=frozenset(skipped))


# --------------------------------------------------------------------------- values


def _current_rows(client: SheetsClient, sheets: list[str]) -> dict[str, list[list[Any]]]:
    ranges = client.batch_get([quote_sheet(sheet) for sheet in sheets], "FORMULA")
    return {sheet: value_range.get("values") or [] for sheet, value_range in zip(sheets, ranges, strict=True)}


def _trimmed(row: list[Any] | None) -> list[Any]:
    row = list(row or [])
    while row and row[-1] in ("", None):
        row.pop()
    return row


def _row(rows: list[list[Any]], sheet_row: int) -> list[Any]:
    return _trimmed(rows[sheet_row - 1]) if 0 < sheet_row <= len(rows) else []


def _unmoved(
    targets: list[SheetWrite], read: dict[str, list[list[Any]]], current: dict[str, list[list[Any]]]
) -> tuple[list[Placed], set[tuple[str, int]]]:
    """The cells whose row still holds exactly what was read, and the rows that do not."""
    safe: list[Placed] = []
    moved: set[tuple[str, int]] = set()
    for write in targets:
        for cell in write.cells:
            if (write.sheet, cell.row) in moved:
                continue
            if _row(read.get(write.sheet, []), cell.row) == _row(current[write.sheet], cell.row):
                safe.append(Placed(write.sheet, cell))
            else:
                moved.add((write.sheet, cell.row))
    safe = [placed for placed in safe if (placed.sheet, placed.cell.row) not in moved]
    return safe, moved


def _misplaced(
    written: list[Placed], before: dict[str, list[list[Any]]], after: dict[str, list[list[Any]]]
) -> tuple[list[Placed], set[tuple[str, int]]]:
    """Values that landed in a row other than the one checked (a row slid in between the check
    and the write), with what to put back, and the rows that therefore did not get theirs."""
    ours: dict[str, set[int]] = defaultdict(set)
    for placed in written:
        ours[placed.sheet].add(placed.cell.column)

    def content(row: list[Any], sheet: str) -> tuple[Any, ...]:
        return tuple(_trimmed([value for column, value in enumerate(row) if column not in ours[sheet]]))

    rows_by_content: dict[str, dict[tuple[Any, ...], list[int]]] = {}
    repairs: list[Placed] = []
    misplaced: set[tuple[str, int]] = set()
    for placed in written:
        sheet, cell = placed.sheet, placed.cell
        now, checked = _row(after[sheet], cell.row), _row(before[sheet], cell.row)
        if content(now, sheet) == content(checked, sheet):
            continue
        landed = now[cell.column] if cell.column < len(now) else ""
        if not _same(landed, _api_value(cell.value)):
            continue  # not ours any more: the row moved after the write (taking the value along)
        if sheet not in rows_by_content:
            index: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for number, row in enumerate(before[sheet], start=1):
                index[content(row, sheet)].append(number)
            rows_by_content[sheet] = index
        origin = rows_by_content[sheet].get(content(now, sheet), [])
        held = _row(before[sheet], origin[0]) if len(origin) == 1 else []
        restored = held[cell.column] if cell.column < len(held) else ""
        repairs.append(Placed(sheet, CellUpdate(cell.row, cell.column, restored or None, landed)))
        misplaced.add((sheet, cell.row))
    return repairs, misplaced


def _same(a: Any, b: Any) -> bool:
    return str(a if a is not None else "") == str(b if b is not None else "")


def _api_value(value: CellValue | Any) -> Any:
    """A value as the API stores it: dates as serial numbers, None as a cleared cell."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return round((value - EPOCH).total_seconds() / 86400, 6)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    return value


def _value_ranges(cells: Iterable[Placed]) -> list[dict[str, Any]]:
    """One range per run of adjacent rows in a column: the first sync's IDs are one range."""
    by_column: dict[tuple[str, int], list[CellUpdate]] = defaultdict(list)
    for placed in cells:
        by_column[(placed.sheet, placed.cell.column)].append(placed.cell)
    data = []
    for (sheet, column), column_cells in sorted(by_column.items()):
        column_cells.sort(key=lambda c: c.row)
        run: list[CellUpdate] = []
        for cell in [*column_cells, None]:
            if cell is not None and run and cell.row == run[-1].row + 1:
                run.append(cell)
                continue
            if run:
                letters = column_letters(column)
                data.append(
                    {
                        "range": f"{quote_sheet(sheet)}!{letters}{run[0].row}:{letters}{run[-1].row}",
                        "majorDimension": "ROWS",
                        "values": [[_api_value(c.value)] for c in run],
                    }
                )
            run = [cell] if cell is not None else []
    return data


# --------------------------------------------------------------------------- formats


def _update_formats(client: SheetsClient, state: SheetState, changes: WriteBack, written: list[Placed]) -> bool:
    """Send what the formats lack, in one request (after a 5xx, look again before re-sending)."""

    def plan(attempt: int) -> list[dict[str, Any]]:
        fresh = state
        if attempt:
            fresh = SheetState.of(client.metadata())
            fresh.read = state.read
        return _format_requests(fresh, changes, written)

    return client.send_missing(plan) > 0


def _format_requests(state: SheetState, changes: WriteBack, written: list[Placed]) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for write in changes.sheets:
        tab = state.tabs.get(write.sheet)
        if tab is not None and write.issues_column is not None:
            requests += _highlight_requests(tab, write)
    requests += _date_format_requests(state, written)
    requests += _issues_tab_requests(state, changes)
    return requests


def _highlight_rule(tab: Tab, write: SheetWrite) -> dict[str, Any]:
    """Cells whose label the row's Issues note names ("; Label:") turn red."""
    assert write.issues_column is not None
    first, notes, top = column_letters(write.first_column), column_letters(write.issues_column), write.header_row + 1
    formula = f'=ISNUMBER(SEARCH("; "&{first}${write.header_row}&":","; "&${notes}{top}))'
    return {
        "ranges": [
            {
                "sheetId": tab.sheet_id,
                "startRowIndex": write.header_row,
                "startColumnIndex": write.first_column,
                "endColumnIndex": write.last_column + 1,
            }
        ],
        "booleanRule": {
            "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
            "format": {"backgroundColor": HIGHLIGHT},
        },
    }


def _is_ours(rule: dict[str, Any]) -> bool:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return any(HIGHLIGHT_MARK in str(v.get("userEnteredValue", "")) for v in values)


def _highlight_requests(tab: Tab, write: SheetWrite) -> list[dict[str, Any]]:
    wanted = _highlight_rule(tab, write)
    mine = [index for index, rule in enumerate(tab.rules) if _is_ours(rule)]
    if len(mine) == 1 and _rule_key(tab.rules[mine[0]]) == _rule_key(wanted):
        return []
    deletes = [{"deleteConditionalFormatRule": {"sheetId": tab.sheet_id, "index": i}} for i in reversed(mine)]
    return [*deletes, {"addConditionalFormatRule": {"rule": wanted, "index": 0}}]


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    condition = rule.get("booleanRule", {}).get("condition", {})
    ranges = [
        tuple(r.get(k, 0) for k in ("sheetId", "startRowIndex", "startColumnIndex", "endColumnIndex"))
        for r in rule.get("ranges", [])
    ]
    return tuple(ranges), str(condition.get("values", []))


def _date_format_requests(state: SheetState, written: list[Placed]) -> list[dict[str, Any]]:
    """Filled dates are written as serial numbers; a date format makes them read as dates."""
    requests = []
    for placed in written:
        value = placed.cell.value
        tab = state.tabs.get(placed.sheet)
        if tab is None or not isinstance(value, dt.date):
            continue
        number_format = DATETIME_FORMAT if isinstance(value, dt.datetime) else DATE_FORMAT
        requests.append(
            {
                "repeatCell": {
                    "range": {
                        "sheetId": tab.sheet_id,
                        "startRowIndex": placed.cell.row - 1,
                        "endRowIndex": placed.cell.row,
                        "startColumnIndex": placed.cell.column,
                        "endColumnIndex": placed.cell.column + 1,
                    },
                    "cell": {"userEnteredFormat": {"numberFormat": number_format}},
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
    return requests


def issues_tab_rows(state: SheetState, changes: WriteBack) -> list[list[Any]]:
    """The Issues tab as the API shows it (FORMULA render): links are HYPERLINK formulas."""
    rows: list[list[Any]] = [[ISSUES_MARK], list(ISSUES_HEADER)]
    for line in issue_lines(changes):
        values = [_plain(value) for value in line.values]
        link = _link(state, line.target) if line.target else None
        if link is not None:
            values[0] = link
        rows.append(values)
    return rows


def _plain(value: Any) -> Any:
    """A value as it reads back from the sheet: numbers stay numbers, the rest is text."""
    if value is None:
        return ""
    return value if isinstance(value, int | float | bool) else str(value)


def _link(state: SheetState, target: str) -> str | None:
    sheet, _, cell = target.rpartition("!")
    tab = state.tabs.get(sheet[1:-1].replace("''", "'"))
    if tab is None:
        return None
    label = tab.title.replace('"', '""')
    return f'=HYPERLINK("#gid={tab.sheet_id}&range={cell}","{label}")'


def issues_tab_title(state: SheetState) -> str:
    """The Issues tab's title: "kakosheet Issues" when the team has a tab of its own called Issues."""
    read = state.read.get(ISSUES_TAB)
    if ISSUES_TAB in state.tabs and read and _row(read, 1)[:1] != [ISSUES_MARK]:
        return f"kakosheet {ISSUES_TAB}"
    return ISSUES_TAB


def _issues_tab_requests(state: SheetState, changes: WriteBack) -> list[dict[str, Any]]:
    wanted = issues_tab_rows(state, changes)
    title = issues_tab_title(state)
    tab = state.tabs.get(title)
    read = state.read.get(title)
    if tab is not None and read is not None and [_trimmed(r) for r in read] == [_trimmed(r) for r in wanted]:
        return []
    requests: list[dict[str, Any]] = []
    rows_needed = max(len(wanted) + 50, 1000)
    if tab is None:
        sheet_id = max((t.sheet_id for t in state.tabs.values()), default=0) + 1
        requests.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": title,
                        "gridProperties": {
                            "rowCount": rows_needed,
                            "columnCount": len(ISSUES_HEADER),
                            "frozenRowCount": 2,
                        },
                    }
                }
            }
        )
        requests += [
            {
                "updateDimensionProperties": {
                    "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": i, "endIndex": i + 1},
                    "properties": {"pixelSize": width * PIXELS_PER_CHARACTER},
                    "fields": "pixelSize",
                }
            }
            for i, width in enumerate(ISSUES_WIDTHS)
        ]
    else:
        sheet_id = tab.sheet_id
        if tab.row_count < len(wanted):
            requests.append(
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": rows_needed}},
                        "fields": "gridProperties.rowCount",
                    }
                }
            )
    requests.append(
        {
            "updateCells": {
                "range": {"sheetId": sheet_id},
                "rows": [
                    {"values": [_cell_data(value, link=number > 1 and column == 0) for column, value in enumerate(row)]}
                    for number, row in enumerate(wanted)
                ],
                "fields": "userEnteredValue",
            }
        }
    )
    return requests


def _cell_data(value: Any, *, link: bool) -> dict[str, Any]:
    if value == "" or value is None:
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    text = str(value)
    if link and text.startswith("=HYPERLINK("):
        return {"userEnteredValue": {"formulaValue": text}}
    return {"userEnteredValue": {"stringValue": text}}
