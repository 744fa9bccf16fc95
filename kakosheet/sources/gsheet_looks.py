"""How a master Google Sheet's cells look and what they accept, as the Sheets API spells it.

The choices of kakosheet/core/looks.py (shared with the xlsx adapter) — header colours by who
writes the column, number formats, dropdown lists, date and minimum checks — and the way to
compare them with what Google echoes back (colours rounded, zero channels and false flags
left out, quotes dropped), so that a second setup finds nothing to change.
"""

from __future__ import annotations

from typing import Any

from kakosheet.core.grid import column_letters
from kakosheet.core.looks import LISTS_TAB, NUMBER_FORMATS, OWNED_CELL_COLOUR, header_colour
from kakosheet.core.schema import Column, SchemaSet
from kakosheet.sources.gsheet_client import quote_sheet

HEADER_FORMAT_FIELDS = "userEnteredFormat(backgroundColor,textFormat.bold,wrapStrategy,verticalAlignment)"
SHEETS_NUMBER_TYPES = {
    "date": "DATE",
    "datetime": "DATE_TIME",
    "money": "NUMBER",
    "number": "NUMBER",
    "integer": "NUMBER",
    "percent": "PERCENT",
    "id": "TEXT",
    "code": "TEXT",
}


def header_style(column: Column) -> dict[str, Any]:
    return {
        "backgroundColor": colour(header_colour(column)),
        "textFormat": {"bold": True},
        "wrapStrategy": "WRAP",
        "verticalAlignment": "MIDDLE",
    }


def data_format(column: Column) -> tuple[dict[str, Any], str]:
    """The number format of the column's cells (text for IDs and codes), and kakosheet's shading."""
    wanted: dict[str, Any] = {}
    masks = []
    if column.type in NUMBER_FORMATS:
        wanted["numberFormat"] = {"type": SHEETS_NUMBER_TYPES[column.type], "pattern": NUMBER_FORMATS[column.type]}
        masks.append("userEnteredFormat.numberFormat")
    if column.kind in ("owned", "computed"):
        wanted["backgroundColor"] = colour(OWNED_CELL_COLOUR)
        masks.append("userEnteredFormat.backgroundColor")
    return wanted, ",".join(masks)


def format_key(current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Any, ...]:
    """The parts of a format that ``wanted`` sets, comparable however Google echoes them."""
    key: list[Any] = []
    for name in sorted(wanted):
        value = current.get(name)
        if name == "backgroundColor":
            key.append(hex_colour(value))
        elif name == "numberFormat":
            value = value or {}
            # Google may echo a plain-text format without its "@" pattern
            key.append((value.get("type"), "" if value.get("type") == "TEXT" else value.get("pattern")))
        elif name == "textFormat":
            key.append(bool((value or {}).get("bold")))
        else:
            key.append(value)
    return tuple(key)


def colour(argb: str) -> dict[str, float]:
    rgb = argb[-6:]
    return {name: int(rgb[i : i + 2], 16) / 255 for name, i in (("red", 0), ("green", 2), ("blue", 4))}


def hex_colour(colour: dict[str, Any] | None) -> str | None:
    """A colour as RRGGBB; Google leaves out zero channels and echoes floats rounded."""
    if not colour:
        return None
    return "".join(f"{round(float(colour.get(name, 0)) * 255):02X}" for name in ("red", "green", "blue"))


# --------------------------------------------------------------------------- validation


def list_ranges(lists: dict[str, tuple[str, ...]]) -> dict[str, str]:
    ranges = {}
    for index, (name, values) in enumerate(lists.items()):
        letter = column_letters(index)
        ranges[name] = f"={quote_sheet(LISTS_TAB)}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def column_rule(column: Column, schemas: SchemaSet, lists: dict[str, str]) -> dict[str, Any] | None:
    """The data validation of a column's cells: strict for lists kakosheet rejects, a warning otherwise.

    kakosheet's own columns get none: their warning-only protection already says "leave it".
    """
    if column.kind in ("owned", "computed"):
        return None
    if column.type == "enum":
        message = f"Choose a {column.label} from the list."
        return validation_rule("ONE_OF_RANGE", [lists[schemas.list_name(column.values)]], strict=True, message=message)
    if column.type in ("currency", "country"):
        return validation_rule(
            "ONE_OF_RANGE", [lists[column.type]], strict=False, message=f"A {column.type} code, from the list."
        )
    if column.type in ("date", "datetime"):
        return validation_rule("DATE_IS_VALID", [], strict=False, message="Type a date, e.g. 2026-03-15.")
    if column.type in ("money", "number", "integer", "percent") and column.minimum is not None:
        message = f"{column.label} should be a number of at least {column.minimum}."
        return validation_rule("NUMBER_GREATER_THAN_EQ", [str(column.minimum)], strict=False, message=message)
    return None


def validation_rule(kind: str, values: list[str], *, strict: bool, message: str) -> dict[str, Any]:
    """A rule with its help text; lists show their dropdown (showCustomUi)."""
    condition: dict[str, Any] = {"type": kind}
    if values:
        condition["values"] = [{"userEnteredValue": value} for value in values]
    return {"condition": condition, "inputMessage": message, "strict": strict, "showCustomUi": kind == "ONE_OF_RANGE"}


def rule_key(rule: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """A validation rule, comparable however Google echoes it (false and empty values left out)."""
    if not rule:
        return None
    condition = rule.get("condition", {})
    # Google may drop the quotes of a plain tab name ('Lists'!A2 -> Lists!A2)
    values = tuple(
        str(v.get("userEnteredValue", v.get("relativeDate", ""))).replace("'", "") for v in condition.get("values", [])
    )
    return (
        condition.get("type"),
        values,
        bool(rule.get("strict")),
        bool(rule.get("showCustomUi")),
        rule.get("inputMessage", ""),
    )


def validation_kind(column: Column) -> str:
    if column.type in ("enum", "currency", "country"):
        return "dropdown"
    return "date check" if column.type in ("date", "datetime") else "number check"
