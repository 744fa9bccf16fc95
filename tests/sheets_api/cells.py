"""Cell values: what tests put in, what API writes store, and how reads render them.

A stored value is None (blank), str, bool, int, float or CellError; a formula is kept beside it (sparse), the
value being its last computed result. Integral floats are stored as ints so replies say 53, not 53.0.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Any

from .numfmt import DATE_KINDS, Locale, format_date, format_number, normalise, to_serial

SKIP = object()  # a null in a values write: leave the cell as it is

ERROR_TYPES = {
    "#NULL!": "NULL_VALUE",
    "#DIV/0!": "DIVIDE_BY_ZERO",
    "#VALUE!": "VALUE",
    "#REF!": "REF",
    "#NAME?": "NAME",
    "#NUM!": "NUM",
    "#N/A": "N_A",
    "#ERROR!": "ERROR",
    "Loading...": "LOADING",
}
ERROR_TEXTS = {kind: text for text, kind in ERROR_TYPES.items()}


class CellError(str):
    """An error result ("#N/A"): a str so reads render its text, a type so it is never mistaken for typed text."""

    @property
    def kind(self) -> str:
        return ERROR_TYPES.get(str(self), "ERROR")

    def error_value(self) -> dict[str, str]:
        """The ErrorValue of CellData.effectiveValue."""
        return {"type": self.kind, "message": _ERROR_MESSAGES.get(self.kind, "Formula parse error.")}


_ERROR_MESSAGES = {
    "N_A": "Did not find value in lookup evaluation.",
    "DIVIDE_BY_ZERO": "Function DIVIDE parameter 2 cannot be zero.",
    "VALUE": "Function parameter has the wrong type.",
    "REF": "Reference does not exist.",
    "NAME": "Unknown function.",
    "NUM": "Result is not a number.",
}


@dataclass(frozen=True)
class Formula:
    """A formula cell for test fixtures, with the value Sheets would have computed ("#N/A" etc. for errors)."""

    formula: str
    value: Any = None


@dataclass(frozen=True)
class Cell:
    """What a write puts into one cell."""

    value: Any = None
    formula: str | None = None
    number_format: dict | None = None  # set only when the input itself implies one (a typed date)


BLANK = None  # a blank cell is stored as None; writers return plain values unless a formula or format comes along
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATE_TIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
TIME_FORMAT = {"type": "TIME", "pattern": "hh:mm:ss"}


def from_python(value: Any) -> Any:
    """A fixture value (str, number, bool, None, date, datetime, Formula) as a person would have entered it."""
    if isinstance(value, Formula):
        result = _stored_result(value.value)
        number_format = from_python(value.value).number_format if isinstance(value.value, dt.date | dt.time) else None
        return Cell(result, value.formula, number_format)
    if isinstance(value, dt.datetime):
        return Cell(to_serial(value), None, DATE_TIME_FORMAT)
    if isinstance(value, dt.date):
        return Cell(to_serial(value), None, DATE_FORMAT)
    if isinstance(value, dt.time):
        return Cell(to_serial(value), None, TIME_FORMAT)
    if value is None or value == "":
        return BLANK
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return normalise(value)
    raise TypeError(f"unsupported cell value {value!r}")


def _stored_result(value: Any) -> Any:
    """A formula's computed value as stored: error texts become CellError, dates serials."""
    if isinstance(value, str) and value in ERROR_TYPES:
        return CellError(value)
    if value is None or value == "":
        return None
    stored = from_python(value)
    return stored.value if isinstance(stored, Cell) else stored


def from_raw(value: Any) -> Any:
    """valueInputOption=RAW: strings stay strings (never a formula, number or date), numbers stay numbers."""
    kind = type(value)
    if kind is str:
        return value or BLANK
    if kind is bool:
        return value
    if kind is int:
        return value if -(2**53) < value < 2**53 else float(value)
    if kind is float:
        return normalise(value)
    if value is None:
        return SKIP
    return str(value)


def from_user_entered(value: Any, locale: Locale) -> Any:
    """valueInputOption=USER_ENTERED: parse strings as the Sheets UI would (formula, number, boolean, date)."""
    if type(value) is not str:
        return from_raw(value)
    if not value:
        return BLANK
    first = value[0]
    if first.isalpha() and value.upper() not in ("TRUE", "FALSE") and not first.isdigit():
        return value  # plain text: the common case, kept fast
    if first == "'":
        return value[1:] or BLANK
    if first == "=" and len(value) > 1:
        return Cell(evaluate(value), value)
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    number = parse_number(text, locale)
    if number is not None:
        return number
    moment = parse_date(text, locale)
    return moment if moment is not None else value


def parse_number(text: str, locale: Locale) -> Any:
    """ "1,5" is 1.5 in de_DE; "1,234.5" is 1234.5 in en_US; "12%" is 0.12 with a percent format."""
    percent = text.endswith("%")
    body = text[:-1].strip() if percent else text
    group, decimal = re.escape(locale.group), re.escape(locale.decimal)
    pattern = rf"[+-]?(?:\d{{1,3}}(?:{group}\d{{3}})+|\d+)?(?:{decimal}\d+)?(?:[eE][+-]?\d+)?"
    if not body or not re.fullmatch(pattern, body) or not re.search(r"\d", body):
        return None
    plain = body.replace(locale.group, "").replace(locale.decimal, ".")
    try:
        number = float(plain)
    except ValueError:
        return None
    if percent:
        pattern = "0.00%" if locale.decimal in body else "0%"
        return Cell(normalise(number / 100), None, {"type": "PERCENT", "pattern": pattern})
    if re.fullmatch(r"[+-]?\d+", plain):
        return normalise(int(plain))
    return normalise(number)


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_date(text: str, locale: Locale) -> Cell | None:
    """ISO dates/date-times, the locale's own date style ("3/1/2024" en_US, "01.03.2024" de_DE) and times."""
    try:
        match = _ISO.fullmatch(text)
        if match:
            year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
            if hour is None:
                return Cell(to_serial(dt.date(year, month, day)), None, DATE_FORMAT)
            moment = dt.datetime(year, month, day, hour, minute, second or 0)
            return Cell(to_serial(moment), None, DATE_TIME_FORMAT)
        parts = text.split(locale.date_sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            numbers = dict(zip(locale.date_order, map(int, parts), strict=True))
            moment = dt.date(numbers["Y"], numbers["M"], numbers["D"])
            return Cell(to_serial(moment), None, {"type": "DATE", "pattern": locale.date_pattern})
        match = _TIME.fullmatch(text)
        if match:
            hour, minute, second = (int(g) if g else 0 for g in match.groups())
            return Cell(to_serial(dt.time(hour, minute, second)), None, TIME_FORMAT)
    except ValueError:
        return None
    return None


_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate(formula: str) -> Any:
    """The value of a constant-arithmetic formula ("=4/2" -> 2); None for anything needing a formula engine."""
    source = formula[1:].replace("^", "**").strip()
    if not source or not re.fullmatch(r"[\d\s.+\-*/()]+", source):
        return None
    try:
        result = _arith(ast.parse(source, mode="eval").body)
    except ZeroDivisionError:
        return CellError("#DIV/0!")
    except (SyntaxError, ValueError, TypeError, OverflowError):
        return None
    return normalise(result) if isinstance(result, int | float) else None


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arith(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_arith(node.left), _arith(node.right))
    raise ValueError("not arithmetic")


def from_extended(extended: dict[str, Any] | None) -> Any:
    """An ExtendedValue (updateCells' userEnteredValue) as a stored value, or a Cell for a formula."""
    extended = extended or {}
    if "formulaValue" in extended:
        return Cell(evaluate(extended["formulaValue"]), extended["formulaValue"])
    if "numberValue" in extended:
        return normalise(float(extended["numberValue"]))
    if "boolValue" in extended:
        return bool(extended["boolValue"])
    if "stringValue" in extended:
        return extended["stringValue"] or BLANK
    if "errorValue" in extended:
        return CellError(ERROR_TEXTS.get(extended["errorValue"].get("type"), "#ERROR!"))
    return BLANK


def extended_of(value: Any) -> dict[str, Any] | None:
    """A stored value as an ExtendedValue (None for blank)."""
    if value is None:
        return None
    if isinstance(value, CellError):
        return {"errorValue": value.error_value()}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": value}


def is_date_format(number_format: dict | None) -> bool:
    return bool(number_format) and number_format.get("type") in DATE_KINDS


def formatted(value: Any, number_format: dict | None, locale: Locale) -> str:
    """FORMATTED_VALUE of one stored value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return format_number(value, number_format, locale)


def unformatted(value: Any, number_format: dict | None, date_strings: bool) -> Any:
    """UNFORMATTED_VALUE of one stored value; date cells as strings under dateTimeRenderOption=FORMATTED_STRING."""
    if value is None:
        return ""
    if date_strings and is_date_format(number_format) and type(value) in (int, float):
        return format_date(value, number_format.get("pattern") or "yyyy-mm-dd")  # type: ignore[union-attr]
    return value


def formula_text(value: Any, formula: str | None, number_format: dict | None, date_strings: bool) -> Any:
    """What FORMULA render shows: the formula if there is one, else the unformatted value."""
    if formula is not None:
        return formula
    return unformatted(value, number_format, date_strings)
