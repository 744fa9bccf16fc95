"""How a master workbook looks, whichever program shows it: one home for both adapters.

Header colours by who writes the column, number formats, widths, the header notes and the
hidden Lists tab the dropdowns read from. The xlsx template and setup (sources/xlsx_*.py) and
the Google Sheet setup (sources/gsheet_*.py) each spell these in their own format; none of
them imports another adapter to learn them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kakosheet.core.codes import COUNTRIES, CURRENCIES

if TYPE_CHECKING:  # (only annotations: a child process that scans sheet XML loads no schema)
    from kakosheet.core.schema import Column, LogSchema, SchemaSet

LISTS_TAB = "Lists"
REFERENCE_ORDER = ("vendors", "products", "orders", "known_defects")
LAST_ROW = 1048576  # a column's validation and highlight reach the sheet's last row

# Colours as RRGGBB.
MANDATORY_COLOUR = "FFD966"
INPUT_COLOUR = "DDEBF7"
KAKOSHEET_COLOUR = "D9D9D9"
OWNED_CELL_COLOUR = "F2F2F2"
FILLED_WHEN_BLANK_COLOUR = "E2EFDA"
BLANK_MANDATORY_COLOUR = "FCE4D6"

NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "money": "#,##0.00",
    "number": "0.####",
    "integer": "0",
    "percent": "0.00%",
    "id": "@",
    "code": "@",
}

TYPE_WIDTHS = {
    "id": 18,
    "date": 12,
    "datetime": 17,
    "money": 13,
    "integer": 10,
    "percent": 10,
    "currency": 10,
    "country": 10,
    "bool": 10,
    "email": 26,
    "urls": 30,
    "text": 24,
    "code": 18,
}

KAKOSHEET_KINDS = ("owned", "computed")  # columns kakosheet writes on each sync


def is_kakosheets(column: Column) -> bool:
    return column.kind in KAKOSHEET_KINDS


def header_colour(column: Column) -> str:
    """The header's colour says who writes the column: kakosheet, kakosheet when blank, or staff."""
    if is_kakosheets(column):
        return KAKOSHEET_COLOUR
    if column.kind == "fill_when_blank":
        return FILLED_WHEN_BLANK_COLOUR
    if column.required:
        return MANDATORY_COLOUR
    return INPUT_COLOUR


def column_width(column: Column) -> float:
    if column.width:
        return column.width
    width = TYPE_WIDTHS.get(column.type, 18)
    if column.type == "enum":
        width = max(len(v) for v in column.values) + 4
    return max(width, len(column.label) + 4)


def column_note(column: Column, schema: LogSchema) -> str:
    """The header note: what goes in the column, who writes it, when it is mandatory."""
    lines = [column.description or column.label]
    labels = schema.labels
    if column.kind == "owned":
        lines.append("Written by kakosheet; do not type here.")
    elif column.kind == "computed":
        lines.append("Computed by kakosheet on each sync.")
    elif column.kind == "fill_when_blank":
        lines.append("kakosheet fills it when left blank.")
    if column.required and column.kind == "input":
        lines.append("Mandatory.")
    if column.required_when:
        lines.append(f"Mandatory when {column.required_when.describe(labels)}.")
    if column.only_when:
        lines.append(f"Only when {column.only_when.describe(labels)}.")
    if column.type == "enum":
        lines.append("Choose from the list.")
    if column.type in ("date", "datetime"):
        lines.append("A date, e.g. 2026-03-15.")
    if column.references:
        lines.append(f"Must be on the {column.references.replace('_', ' ').title()} tab when it holds data.")
    return "\n".join(lines)


def dropdown_lists(schemas: SchemaSet) -> dict[str, tuple[str, ...]]:
    """The Lists tab's columns, in order: each list's name, then its values."""
    lists = dict(schemas.enum_lists())
    lists["currency"] = tuple(sorted(CURRENCIES))
    lists["country"] = tuple(sorted(COUNTRIES))
    return lists


def lists_over(wanted: dict[str, tuple[str, ...]], present: Sequence[Sequence[object]]) -> dict[str, tuple[str, ...]]:
    """The Lists tab's columns, in order, over the tab a workbook has (``present``: its rows, the list
    names first; none for a workbook without it). Each list there keeps its column, with the values
    the schemas give it now, so every dropdown that reads a column reads the same list after a setup:
    the dropdown of a column since removed from its schema (its cells are the team's now), and a copy
    of a dropdown on a column of the team's own. A list the schemas no longer have keeps its column and
    values; a new one comes after the others."""
    names = [("" if value is None else str(value)).strip() for value in (present[0] if present else ())]
    lists: dict[str, tuple[str, ...]] = {}
    for column, name in enumerate(names):
        if not name or name in lists:
            continue  # a blank column: the lists after it close up
        if name in wanted:
            lists[name] = wanted[name]
        else:
            cells = [row[column] if column < len(row) else None for row in present[1:]]
            kept = ["" if value is None else str(value) for value in cells]
            while kept and not kept[-1].strip():
                kept.pop()
            lists[name] = tuple(kept)
    return lists | {name: values for name, values in wanted.items() if name not in lists}


# A list's name as SchemaSet.enum_lists gives it: its log and field.
_LIST_NAME = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def is_kakosheets_lists_header(first_row: Sequence[object], names: Iterable[str]) -> bool:
    """Whether a Lists tab's first row is one kakosheet wrote: each cell blank, a list of these schemas,
    or a list name of earlier ones (a column removed or renamed since leaves its list's old name)."""
    known = {"", *names}
    texts = ("" if value is None else str(value) for value in first_row)
    return all(text in known or _LIST_NAME.fullmatch(text) for text in texts)


def list_name(column: Column, schemas: SchemaSet) -> str | None:
    """The Lists column a column's dropdown reads, None for a column without a dropdown."""
    if column.type == "enum":
        return schemas.list_name(column.values)
    if column.type in ("currency", "country"):
        return column.type
    return None


def wanted_schemas(schemas: SchemaSet, logs: tuple[str, ...]) -> list[LogSchema]:
    """The tabs a master holds: the configured logs, then every reference tab in a fixed order."""
    references = sorted(
        schemas.references,
        key=lambda s: (REFERENCE_ORDER.index(s.name) if s.name in REFERENCE_ORDER else len(REFERENCE_ORDER), s.name),
    )
    return [*(schemas[name] for name in logs), *references]


# In the formula of the Issues-note highlight: how a rule in a sheet is known as kakosheet's own.
HIGHLIGHT_MARK = '"; "&'


def highlight_rule_formula(first: str, header_row: int, notes: str, top: int) -> str:
    """The Issues-note highlight (columns as letters): a cell whose column's label, from the header
    row, the row's Issues note names ("; Label:") turns red."""
    return f'ISNUMBER(SEARCH({HIGHLIGHT_MARK}{first}${header_row}&":",{HIGHLIGHT_MARK}${notes}{top}))'


def blank_rule_formula(letter: str, top: int, last_letter: str) -> str:
    """The blank-mandatory highlight: a row that holds anything, with this cell blank."""
    return f"AND(COUNTA($A{top}:${last_letter}{top})>0,ISBLANK({letter}{top}))"
