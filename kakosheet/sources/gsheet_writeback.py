"""Writing kakosheet's cells into a Google Sheet that staff keep editing meanwhile.

The Sheets API writes to positions and has no compare-and-set, so a write-back:
1. re-reads the tabs (with kakosheet's own tabs it is about to rewrite, in the same request) and
   leaves alone every target row that no longer holds what was read (it moved or changed: the
   next sync takes it), and every row identical to another apart from the cells to write (after
   a move nothing would tell them apart);
2. writes the IDs, notes and filled blanks in one ``values:batchUpdate`` (RAW: a note that
   starts with "=" stays text);
3. re-reads, and where rows or columns moved in between (gsheet_landing.py: headers compared,
   rows aligned), puts back exactly what each wrongly written cell held, names the cells whose
   former value cannot be known (and leaves them), and leaves the intended rows for the next sync;
4. brings the formats up to date in one ``spreadsheets:batchUpdate``: kakosheet's
   highlight rule, date formats of filled dates, and the tabs kakosheet owns (``changes.tabs``,
   drawn by gsheet_owned.py: the Issues tab, a report). Adding a rule or a
   tab is not idempotent, so a 5xx answer is not blindly re-sent: the sheet's state is
   fetched again and only what is still missing is sent. A part the sheet's protections
   keep kakosheet from writing is not sent (the metadata says so); when Google refuses the
   request anyway, each part is sent on its own and the refused ones are named with Google's
   reason. Either way the sync goes on: the IDs are in the sheet, so its cases are stored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kakosheet.core.grid import Grid, MergedArea, column_letters
from kakosheet.core.looks import HIGHLIGHT_MARK, highlight_rule_formula
from kakosheet.core.merges import drop_hidden
from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.sources import gsheet_owned
from kakosheet.sources.base import WriteResult
from kakosheet.sources.gsheet_client import SheetsClient, SheetsRefusedError, quote_sheet
from kakosheet.sources.gsheet_landing import Placed, api_value, check_landing, indistinct_rows, row_of

HIGHLIGHT = {"red": 1.0, "green": 0.78, "blue": 0.81}
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATETIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}

Area = tuple[int, int | None, int, int | None]  # rows [r0, r1), columns [c0, c1); None: to the end


@dataclass
class Tab:
    sheet_id: int
    title: str
    row_count: int
    rules: list[dict[str, Any]] = field(default_factory=list)  # conditional formats, in order
    locked: list[tuple[Area, str]] = field(default_factory=list)  # protected against kakosheet: area, description
    column_count: int = 26
    frozen_rows: int = 0
    has_filter: bool = False
    charts: list[dict[str, Any]] = field(default_factory=list)  # EmbeddedCharts drawn over the tab
    merges: list[MergedArea] = field(default_factory=list)


@dataclass
class SheetState:
    """The spreadsheet as kakosheet last saw it: its tabs, and the rows it read from them."""

    title: str
    tabs: dict[str, Tab]
    read: dict[str, list[list[Any]]] = field(default_factory=dict)  # FORMULA-rendered rows as read
    heads: dict[str, Any] = field(default_factory=dict)  # the first cell of tabs not read: a renamed owned tab's mark
    locale: str | None = None  # the spreadsheet's (File > Settings), e.g. de_DE
    stale: bool = False  # a write changed the tabs' metadata: look again before the next write

    @classmethod
    def of(cls, metadata: dict[str, Any]) -> SheetState:
        tabs = {}
        for sheet in metadata.get("sheets", []):
            props = sheet.get("properties", {})
            if props.get("sheetType", "GRID") != "GRID":
                continue
            grid = props.get("gridProperties", {})
            tabs[props["title"]] = Tab(
                sheet_id=props.get("sheetId", 0),
                title=props["title"],
                row_count=grid.get("rowCount", 0),
                rules=list(sheet.get("conditionalFormats", [])),
                locked=[_locked(p) for p in sheet.get("protectedRanges", []) if _refuses(p)],
                column_count=grid.get("columnCount", 0),
                frozen_rows=grid.get("frozenRowCount", 0),
                has_filter="basicFilter" in sheet,
                charts=list(sheet.get("charts", [])),
                merges=_merged_areas(sheet.get("merges", []), grid),
            )
        properties = metadata.get("properties", {})
        return cls(title=properties.get("title", ""), tabs=tabs, locale=properties.get("locale"))

    def refresh(self, metadata: dict[str, Any]) -> None:
        """Take the tabs as the sheet shows them now (after a write), keeping the rows read."""
        fresh = SheetState.of(metadata)
        self.title, self.tabs, self.locale, self.stale = fresh.title, fresh.tabs, fresh.locale, False

    def remember(self, grids: dict[str, Grid]) -> None:
        """Keep the rows as read, before formulas are replaced by their values."""
        self.read = {sheet: [list(row) for row in grid.rows] for sheet, grid in grids.items()}


def _merged_areas(merges: list[dict[str, Any]], grid: dict[str, Any]) -> list[MergedArea]:
    """The tab's merges (GridRanges: 0-based, end exclusive; Google leaves out a 0 start) as
    sheet rows and column indexes; an open end reaches the tab's edge."""
    areas = []
    for merge in merges:
        r0, c0 = merge.get("startRowIndex", 0), merge.get("startColumnIndex", 0)
        r1 = merge.get("endRowIndex", grid.get("rowCount", r0 + 1))
        c1 = merge.get("endColumnIndex", grid.get("columnCount", c0 + 1))
        if (r1 - r0) * (c1 - c0) > 1:
            areas.append(MergedArea(first_row=r0 + 1, last_row=r1, first_column=c0, last_column=c1 - 1))
    return areas


def _refuses(protected: dict[str, Any]) -> bool:
    return protected.get("requestingUserCanEdit") is False and not protected.get("warningOnly")


def _locked(protected: dict[str, Any]) -> tuple[Area, str]:
    grid = protected.get("range", {})
    area = (
        grid.get("startRowIndex", 0),
        grid.get("endRowIndex"),
        grid.get("startColumnIndex", 0),
        grid.get("endColumnIndex"),
    )
    return area, str(protected.get("description") or "")


def write_back(client: SheetsClient, state: SheetState, changes: WriteBack) -> WriteResult:
    if state.stale:  # written before in this run (a sync, then a report): its tabs and charts changed
        state.refresh(client.metadata())
    # A cell hidden under a merge is never written; a row whose ID cell is hidden waits.
    changes, unshown = drop_hidden(changes, {title: tab.merges for title, tab in state.tabs.items()})
    # A cell protected against kakosheet would make Google refuse the whole write: it is left, and named.
    changes, waiting, warnings = _drop_locked(changes, state, client.principal)
    targets = [write for write in changes.sheets if write.cells]
    skipped: set[tuple[str, int]] = set(unshown) | waiting
    written: list[Placed] = []
    # Read with the re-read below, in one request: the owned tabs, and the first cell of the other tabs when
    # an owned tab is not under its titles (the team renamed it: it is found by its mark).
    owned = gsheet_owned.titles_to_read(state, changes.tabs)
    heads = gsheet_owned.heads_to_look_at(state, changes.tabs)
    if (owned or heads) and not targets:
        state.read.update(_current_rows(client, owned, heads=heads, state=state))
    if targets:
        before = _current_rows(client, [*[write.sheet for write in targets], *owned], heads=heads, state=state)
        state.read.update({title: before.pop(title) for title in owned})
        safe, moved = _unmoved(targets, state.read, before)
        skipped |= moved
        by_sheet: dict[str, list[CellUpdate]] = defaultdict(list)
        for placed in safe:
            by_sheet[placed.sheet].append(placed.cell)
        alike, notes = indistinct_rows(by_sheet, before)
        skipped |= alike
        warnings += notes
        safe = [placed for placed in safe if (placed.sheet, placed.cell.row) not in alike]
        if safe:
            client.write_values(_value_ranges(safe))
            written = safe
            after = _current_rows(client, [write.sheet for write in targets])
            landing = check_landing(safe, {write.sheet: write.header_row for write in targets}, before, after)
            _put_back(client, landing.repairs)
            skipped |= landing.left
            warnings += landing.warnings
    renamed = gsheet_owned.titles_to_read(state, changes.tabs)  # a first cell looked at showed a mark
    if renamed:
        state.read.update(_current_rows(client, renamed))
    unmoved = [p for p in written if (p.sheet, p.cell.row) not in skipped]
    places = {tab.mark: (tab, gsheet_owned.place(state, tab)) for tab in changes.tabs}
    warnings += [gsheet_owned.no_room(tab) for tab, where in places.values() if where is None]
    titles = {mark: where.title for mark, (tab, where) in places.items() if where and (where.exists or tab.create)}
    formatted, notes = _update_formats(client, state, changes, unmoved)
    warnings += notes
    if formatted:  # tabs, sizes and charts changed: the next write looks again, and reads its tabs anew
        state.stale = True
        for title in {title for tab in changes.tabs for title in gsheet_owned.candidate_titles(tab)} | {
            where.title for _, where in places.values() if where is not None
        }:
            state.read.pop(title, None)
            state.heads.pop(title, None)
    return WriteResult(
        written=bool(written) or formatted, skipped=frozenset(skipped), warnings=tuple(warnings), tab_titles=titles
    )


# --------------------------------------------------------------------------- values


def _drop_locked(
    changes: WriteBack, state: SheetState, principal: str
) -> tuple[WriteBack, set[tuple[str, int]], list[str]]:
    """The write-back without the cells a protection keeps kakosheet from writing, the (tab, row)
    of the dropped ID cells (those cases wait, as under a merge), and one warning per column."""
    sheets: list[SheetWrite] = []
    waiting: set[tuple[str, int]] = set()
    warnings: list[str] = []
    for write in changes.sheets:
        tab = state.tabs.get(write.sheet)
        if tab is None or not tab.locked or not write.cells:
            sheets.append(write)
            continue
        kept: list[CellUpdate] = []
        refused: dict[tuple[int, str], list[int]] = defaultdict(list)  # (column, protection) -> rows
        for cell in write.cells:
            lock = _lock_over(tab, (cell.row - 1, cell.row, cell.column, cell.column + 1))
            if lock is None:
                kept.append(cell)
            else:
                refused[(cell.column, lock)].append(cell.row)
        if not refused:
            sheets.append(write)
            continue
        sheets.append(replace(write, cells=kept))
        labels = {index: label for label, index in write.labels.items()}
        for (column, lock), rows in sorted(refused.items()):
            if column == write.id_column:
                waiting.update((write.sheet, row) for row in rows)
            label = labels.get(column, column_letters(column))
            shown = ", ".join(str(row) for row in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
            described = f" ({lock})" if lock else ""
            waits = "; their new cases wait for the next sync" if column == write.id_column else ""
            warnings.append(
                f"{write.sheet!r}, column {label}, row(s) {shown}: not written, the cells are protected{described} "
                f"and {principal} is not among the protection's editors; add {principal} to its editors, or remove "
                f"the protection{waits}"
            )
    return replace(changes, sheets=sheets), waiting, warnings


def _current_rows(
    client: SheetsClient, sheets: list[str], *, heads: Sequence[str] = (), state: SheetState | None = None
) -> dict[str, list[list[Any]]]:
    """The tabs' rows as they are now; in the same request, the first cell of the ``heads`` tabs (into ``state``)."""
    wanted = [quote_sheet(sheet) for sheet in sheets] + [f"{quote_sheet(title)}!A1" for title in heads]
    ranges = client.batch_get(wanted, "FORMULA")
    rows, firsts = ranges[: len(sheets)], ranges[len(sheets) :]
    if state is not None:
        state.heads.update(zip(heads, map(first_cell, firsts), strict=True))
    return {sheet: value_range.get("values") or [] for sheet, value_range in zip(sheets, rows, strict=True)}


def first_cell(value_range: dict[str, Any]) -> Any:
    """A1 of a range read from it (None: blank)."""
    values = value_range.get("values") or [[]]
    return values[0][0] if values[0] else None


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
            if row_of(read.get(write.sheet, []), cell.row) == row_of(current[write.sheet], cell.row):
                safe.append(Placed(write.sheet, cell))
            else:
                moved.add((write.sheet, cell.row))
    safe = [placed for placed in safe if (placed.sheet, placed.cell.row) not in moved]
    return safe, moved


def _put_back(client: SheetsClient, repairs: list[Placed]) -> None:
    """What the cells held, as it was: text and numbers RAW, a formula as a formula."""
    is_formula = [isinstance(p.cell.value, str) and p.cell.value.startswith("=") for p in repairs]
    formulas = [p for p, formula in zip(repairs, is_formula, strict=True) if formula]
    plain = [p for p, formula in zip(repairs, is_formula, strict=True) if not formula]
    if plain:
        client.write_values(_value_ranges(plain))
    if formulas:
        client.write_values(_value_ranges(formulas), formulas=True)


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
                        "values": [[api_value(c.value)] for c in run],
                    }
                )
            run = [cell] if cell is not None else []
    return data


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class _Part:
    """One part of the formats request, as a warning names it, with where it writes."""

    what: str
    tab: str | None
    area: Area | None  # None: not a cell write (a rule)
    requests: list[dict[str, Any]]


def _update_formats(
    client: SheetsClient, state: SheetState, changes: WriteBack, written: list[Placed]
) -> tuple[bool, list[str]]:
    """Send what the formats lack, in one request (after a 5xx, look again before re-sending).

    Parts on a range protected against kakosheet are not sent. A refused request is planned
    again from the sheet as it is now (a tab may have been deleted meanwhile), then split into
    its parts, so what may be written is, and what was refused is named with Google's reason.
    """

    def parts(attempt: int) -> list[_Part]:
        fresh = state
        if attempt:
            fresh = SheetState.of(client.metadata())
            fresh.read = state.read  # an owned tab added by the attempt before is unread: its part is not re-sent
        return _format_parts(fresh, changes, written)

    def plan_of(names: set[str], *, fresh: bool = False) -> Callable[[int], list[dict[str, Any]]]:
        return lambda attempt: [r for part in parts(attempt + fresh) if part.what in names for r in part.requests]

    warnings: list[str] = []
    wanted: list[str] = []
    for part in parts(0):
        lock = _lock_over(state.tabs.get(part.tab or ""), part.area)
        if lock is None:
            wanted.append(part.what)
            continue
        described = f" ({lock})" if lock else ""
        warnings.append(
            f"{part.what} was not updated: it is protected{described} and {client.principal} is not among its "
            f"editors; add {client.principal} to the protection's editors, or remove the protection"
        )
    if not wanted:
        return False, warnings
    try:
        return client.send_missing(plan_of(set(wanted))) > 0, warnings
    except SheetsRefusedError:
        pass  # refused as a whole, so nothing was applied; the sheet may have changed (a tab deleted)
    try:
        return client.send_missing(plan_of(set(wanted), fresh=True)) > 0, warnings
    except SheetsRefusedError as refusal:
        if len(wanted) == 1:
            return False, [*warnings, _refused(wanted[0], refusal)]
    sent = 0
    for what in wanted:  # which part is refused?
        try:
            sent += client.send_missing(plan_of({what}, fresh=True))
        except SheetsRefusedError as refusal:
            warnings.append(_refused(what, refusal))
    return sent > 0, warnings


def _refused(what: str, refusal: SheetsRefusedError) -> str:
    return (
        f"{what} was not written: Google refused it ({refusal.status}: {refusal.reason}); the IDs and notes are "
        "in the sheet and the cases are stored. If the team protected it, give kakosheet's account edit rights "
        "on it or remove the protection"
    )


def _lock_over(tab: Tab | None, area: Area | None) -> str | None:
    """The description of a protection against kakosheet over the area ("" without one), else None."""
    if tab is None or area is None:
        return None
    for (r0, r1, c0, c1), description in tab.locked:
        if _overlap(r0, r1, area[0], area[1]) and _overlap(c0, c1, area[2], area[3]):
            return description
    return None


def _overlap(a0: int, a1: int | None, b0: int, b1: int | None) -> bool:
    return (b1 is None or a0 < b1) and (a1 is None or b0 < a1)


def _format_parts(state: SheetState, changes: WriteBack, written: list[Placed]) -> list[_Part]:
    parts: list[_Part] = []
    for write in changes.sheets:
        tab = state.tabs.get(write.sheet)
        if tab is not None and write.issues_column is not None:
            requests = _highlight_requests(tab, write)
            if requests:
                parts.append(_Part(f"kakosheet's highlight rule on {write.sheet!r}", write.sheet, None, requests))
    dated: dict[str, list[Placed]] = defaultdict(list)
    for placed in written:
        if isinstance(placed.cell.value, dt.date):
            dated[placed.sheet].append(placed)
    for sheet, cells in dated.items():
        requests = _date_format_requests(state, cells)
        if requests:
            rows = [p.cell.row for p in cells]
            columns = [p.cell.column for p in cells]
            cells_area: Area = (min(rows) - 1, max(rows), min(columns), max(columns) + 1)
            parts.append(_Part(f"the date format of the dates filled in {sheet!r}", sheet, cells_area, requests))
    for where, requests in gsheet_owned.plan(state, changes.tabs):
        if requests:
            whole: Area | None = (0, None, 0, None) if where.exists else None
            parts.append(_Part(f"the {where.title!r} tab", where.title, whole, requests))
    return parts


def _highlight_rule(tab: Tab, write: SheetWrite) -> dict[str, Any]:
    """Cells whose label the row's Issues note names ("; Label:") turn red."""
    assert write.issues_column is not None
    first, notes, top = column_letters(write.first_column), column_letters(write.issues_column), write.header_row + 1
    formula = "=" + highlight_rule_formula(first, write.header_row, notes, top)
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
