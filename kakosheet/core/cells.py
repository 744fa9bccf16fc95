"""Normalizing one cell value to its column's type.

Each function takes a value as a source hands it over (str, float, int, bool, date,
datetime, time, timedelta, None, or a FormulaError) and returns ``(value, problem)``:
the normalized value (None when blank) and, when the value cannot be used, a Problem
saying what is wrong and how to fix it. Columns call these once per *distinct* value
(see core.columns), so they favour clarity over speed.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kakosheet.core.codes import COUNTRIES, CURRENCIES
from kakosheet.core.money import to_decimal


@dataclass(frozen=True, slots=True)
class FormulaError:
    """A cell whose formula returns an error such as ``#N/A`` or ``#REF!``."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a value cannot be used: a short code and a message that says how to fix it."""

    code: str
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class CellContext:
    """What normalizing needs to know besides the value."""

    date_order: str | None = None  # "DMY", "MDY" or None: only unambiguous text dates
    date1904: bool = False
    today: dt.date = dt.date(2100, 1, 1)
    timezone: dt.tzinfo = dt.UTC  # the team's: a text date with an offset is read as its local time here
    # The source's decimal and grouping symbols, for amounts typed as text (a Google Sheet's
    # locale: de_DE writes 1.500,25); None when the source does not say (a workbook file).
    number_symbols: tuple[str, str] | None = None


Result = tuple[Any, Problem | None]

_BLANK: Result = (None, None)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_1904_OFFSET = 1462
# Serial numbers of 1950-01-01 and 2199-12-31: a bare number outside is not a date.
_SERIAL_RANGE = (18264, 109574)
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_NAMED_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y")
_MONEY_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
# 1,500 or 1.500 as text: one and a half, or fifteen hundred? Only a locale can tell.
_EITHER_WAY = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")
_SPACES = str.maketrans("", "", " \u00a0\u202f")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_URL_SEPARATORS = re.compile(r"[\s,;]+")
_ONE_URL = re.compile(r"^[^\s,;]*$")
_URLS = re.compile(r"^https?://[^\s/$.?#][^\s,;]*(?:[\s,;]+https?://[^\s/$.?#][^\s,;]*)*$", re.IGNORECASE)
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0"}
# Excel keeps 15 significant digits: a number this large was rounded, or is a typo.
NUMBER_LIMIT = Decimal(10) ** 15
QUOTE_LIMIT = 120  # characters of a value quoted in a message


def is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and value != value)
    )


def display(value: Any) -> str:
    """A value as a person would recognise it in a message."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def quoted(value: Any) -> str:
    """A value quoted in a message, shortened visibly (…) so a huge cell does not swamp the message."""
    return repr(shortened(value if isinstance(value, str) else display(value)))


def shortened(text: str) -> str:
    """Text cut visibly (…) to the length a message quotes."""
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"


def _formula_problem(value: FormulaError) -> Result:
    return None, Problem(
        "formula-error",
        f"the formula in this cell returns {value.code}; fix the formula or type the value instead",
    )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return display(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def normalize_text(value: Any, ctx: CellContext) -> Result:
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    return _as_text(value), None


def normalize_code(value: Any, ctx: CellContext) -> Result:
    """Identifiers people type: order numbers, SKUs, serials. Always text."""
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    if isinstance(value, float) and abs(value) >= 1e15:
        return display(value), Problem(
            "digits-lost",
            "this number has more than 15 digits, so the spreadsheet stored it rounded (Excel and Google "
            "Sheets keep 15); format the column as Text and type the number again",
        )
    return _as_text(value), None


def normalize_enum(value: Any, ctx: CellContext, *, choices: dict[str, str]) -> Result:
    """``choices`` maps each allowed value, case-folded and with single spaces, to its spelling."""
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    text = _as_text(value)
    canonical = choices.get(" ".join(text.split()).casefold())
    if canonical is None:
        shown = ", ".join(dict.fromkeys(choices.values()))
        return text, Problem("not-in-list", f"{quoted(text)} is not in the list; choose one of: {shown}")
    return canonical, None


def _excel_serial(serial: float, ctx: CellContext) -> dt.datetime | None:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        return None
    days = serial + (_EXCEL_1904_OFFSET if ctx.date1904 else 0)
    # Round to the second: serials carry float noise (0.9999999 of a second).
    return _EXCEL_EPOCH + dt.timedelta(seconds=round(days * 86400))


def _parse_text_date(text: str, ctx: CellContext) -> dt.datetime | Problem:
    if _ISO_DATE.match(text):
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return _no_such_date(text)
        return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed
    match = _YMD_SLASH.match(text)
    if match:
        year, month, day = (int(g) for g in match.group(1, 2, 3))
        return _build_date(text, year, month, day, match.group(4, 5, 6))
    match = _NUMERIC_DATE.match(text)
    if match:
        first, second, year = (int(g) for g in match.group(1, 2, 3))
        if year < 100:
            year += 2000
        order = ctx.date_order
        if order is None:
            if first > 12 >= second:
                order = "DMY"
            elif second > 12 >= first:
                order = "MDY"
            elif first == second:
                order = "DMY"
            else:
                return Problem(
                    "ambiguous-date",
                    f"{quoted(text)} could be day/month or month/day; type it as YYYY-MM-DD, or set "
                    "date_order in kakosheet.toml",
                )
        day, month = (first, second) if order == "DMY" else (second, first)
        return _build_date(text, year, month, day, match.group(4, 5, 6))
    for fmt in _NAMED_MONTH_FORMATS:
        try:
            return dt.datetime.strptime(text.replace(",", " ").replace("  ", " "), fmt)
        except ValueError:
            continue
    return Problem("not-a-date", f"{quoted(text)} is not a date; type it as YYYY-MM-DD (e.g. 2026-03-15)")


def _no_such_date(text: str) -> Problem:
    return Problem("not-a-date", f"{quoted(text)} is not a day of the calendar; check the day and month")


def _build_date(text: str, year: int, month: int, day: int, time: tuple[str | None, ...]) -> dt.datetime | Problem:
    hour, minute, second = (int(t) if t else 0 for t in time)
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return _no_such_date(text)


def _to_datetime(value: Any, ctx: CellContext) -> dt.datetime | Problem:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return Problem("not-a-date", f"{display(value)} is not a date; type it as YYYY-MM-DD")
    if isinstance(value, (int, float)):
        parsed = _excel_serial(float(value), ctx)
        if parsed is None:
            return Problem("not-a-date", f"the number {display(value)} is not a date; type it as YYYY-MM-DD")
        return parsed
    if isinstance(value, (dt.time, dt.timedelta)):
        return Problem("not-a-date", f"{value} is a time or duration, not a date; type it as YYYY-MM-DD")
    return _parse_text_date(str(value).strip(), ctx)


def normalize_datetime(value: Any, ctx: CellContext) -> Result:
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    parsed = _to_datetime(value, ctx)
    if isinstance(parsed, Problem):
        return display(value), parsed
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(ctx.timezone).replace(tzinfo=None)
        except OverflowError:
            return display(value), Problem(
                "not-a-date",
                f"{quoted(display(value))} falls outside the calendar in the team's time zone; check the year",
            )
    return parsed, None


def normalize_date(value: Any, ctx: CellContext) -> Result:
    parsed, problem = normalize_datetime(value, ctx)
    if problem or parsed is None:
        return parsed, problem
    return parsed.date(), None


@functools.cache
def _locale_number(decimal: str, group: str) -> re.Pattern[str]:
    """A number as a locale writes it, its groups in place (1.500,25; India's 1,00,000), so text in the
    other convention (1,500.25 or 1.50 in de_DE) is flagged instead of read as another number."""
    d, g = re.escape(decimal), re.escape(group)
    grouped = rf"[0-9]{{1,3}}(?:{g}[0-9]{{3}})+|[0-9]{{1,2}}(?:{g}[0-9]{{2}})+{g}[0-9]{{3}}"
    return re.compile(rf"^[+-]?(?:{grouped}|[0-9]+)(?:{d}[0-9]+)?$")


def _to_decimal(value: Any, symbols: tuple[str, str] | None = None) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return None
        return to_decimal(value)
    text = str(value).strip().translate(_SPACES)
    if symbols is not None:  # the source's locale says which symbol is which
        decimal, group = symbols
        if not _locale_number(decimal, group).match(text):
            return None
        text = text.replace(group, "").replace(decimal, ".")
    elif not _MONEY_TEXT.match(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def normalize_number(value: Any, ctx: CellContext) -> Result:
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    if ctx.number_symbols is None and isinstance(value, str) and _EITHER_WAY.match(value.strip().translate(_SPACES)):
        return display(value), Problem(
            "ambiguous-number",
            f"{quoted(value)} could be a number with a thousands separator or with decimals; type it "
            "as a number (in a cell formatted as Number), or without the separator (1500, or 1.5)",
        )
    number = _to_decimal(value, ctx.number_symbols)
    if number is None:
        return display(value), Problem(
            "not-a-number", f"{quoted(value)} is not a number; type digits with a dot for decimals (e.g. 12.50)"
        )
    if abs(number) >= NUMBER_LIMIT:
        return display(value), Problem(
            "too-large",
            f"{quoted(value)} has more than 15 digits before the decimal point, more than a spreadsheet keeps exactly; "
            "check the number",
        )
    return number, None


def normalize_money(value: Any, ctx: CellContext) -> Result:
    number, problem = normalize_number(value, ctx)
    if problem and problem.code == "not-a-number":
        problem = Problem(
            "not-an-amount",
            f"{quoted(value)} is not an amount; type the number only (e.g. 12.50) and the "
            "currency code in the Currency column",
        )
    return number, problem


def normalize_integer(value: Any, ctx: CellContext) -> Result:
    number, problem = normalize_number(value, ctx)
    if problem or number is None:
        return number, problem
    if number != number.to_integral_value():
        return number, Problem("not-a-whole-number", f"{display(value)} should be a whole number")
    return int(number), None


def normalize_percent(value: Any, ctx: CellContext) -> Result:
    if isinstance(value, str) and value.strip().endswith("%"):
        number, problem = normalize_number(value.strip()[:-1], ctx)
        if problem and problem.code != "not-a-number":
            return value.strip(), problem
        if problem or number is None:
            return value.strip(), Problem(
                "not-a-percent", f"{quoted(value.strip())} is not a percentage (e.g. 12% or 0.12)"
            )
        return number / 100, None
    return normalize_number(value, ctx)


def normalize_email(value: Any, ctx: CellContext) -> Result:
    text, problem = normalize_text(value, ctx)
    if problem or text is None:
        return text, problem
    if not _EMAIL.match(text):
        return text, Problem("not-an-email", f"{quoted(text)} is not an email address (e.g. ana@example.com)")
    return text, None


def normalize_urls(value: Any, ctx: CellContext) -> Result:
    text, problem = normalize_text(value, ctx)
    if problem or text is None:
        return text, problem
    if _URLS.match(text):
        return (text if _ONE_URL.match(text) else "\n".join(_URL_SEPARATORS.split(text))), None
    links = [link for link in _URL_SEPARATORS.split(text) if link]
    bad = [link for link in links if not _URL.match(link)]
    if bad:
        return text, Problem(
            "not-a-link", f"{quoted(bad[0])} is not a link; give full links starting with https://, separated by spaces"
        )
    return "\n".join(links), None


def _code_in(value: Any, ctx: CellContext, codes: frozenset[str], what: str, example: str) -> Result:
    text, problem = normalize_text(value, ctx)
    if problem or text is None:
        return text, problem
    code = text.upper()
    if code not in codes:
        return text, Problem(f"not-a-{what}", f"{quoted(text)} is not an ISO {what} code (e.g. {example})")
    return code, None


def normalize_currency(value: Any, ctx: CellContext) -> Result:
    return _code_in(value, ctx, CURRENCIES, "currency", "USD, EUR, CNY")


def normalize_country(value: Any, ctx: CellContext) -> Result:
    return _code_in(value, ctx, COUNTRIES, "country", "DE, US, BR")


def normalize_bool(value: Any, ctx: CellContext) -> Result:
    if isinstance(value, FormulaError):
        return _formula_problem(value)
    if is_blank(value):
        return _BLANK
    if isinstance(value, bool):
        return value, None
    text = _as_text(value).casefold()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return display(value), Problem("not-yes-no", f"{quoted(value)} should be TRUE or FALSE")


# Types whose text values are valid exactly when they match a pattern that cannot span
# lines: a whole column's distinct texts can be checked by one match over all of them.
WHOLE_TEXT_PATTERNS = {
    "email": r"[^@\s]+@[^@\s]+\.[^@\s.]+",
    "urls": r"https?://[^\s/$.?#][^\s,;]*",  # one link; several go through normalize_urls
}


# What PostgreSQL's NUMERIC holds (digits before and after the point; NUMBER_LIMIT keeps whole
# numbers, BIGINT ones too, far below): more is an issue on its cell, kept as typed, never a
# sync the store refuses.
_MAX_WHOLE_DIGITS = 131072
_MAX_DECIMAL_PLACES = 16383


def _storable(normalize: Callable[[Any, CellContext], Result]) -> Callable[[Any, CellContext], Result]:
    """A number normalizer that flags a number with more digits than a store's NUMERIC holds."""

    def checked(value: Any, ctx: CellContext) -> Result:
        number, problem = normalize(value, ctx)
        if problem is None and isinstance(number, Decimal) and number.is_finite():
            _sign, digits, exponent = number.as_tuple()
            if len(digits) + int(exponent) > _MAX_WHOLE_DIGITS or -int(exponent) > _MAX_DECIMAL_PLACES:
                return display(value), Problem(
                    "too-many-digits",
                    f"{quoted(value)} has more digits than a number can hold; check the value",
                )
        return number, problem

    return checked


NORMALIZERS = {
    "id": normalize_code,
    "text": normalize_text,
    "code": normalize_code,
    "date": normalize_date,
    "datetime": normalize_datetime,
    "money": _storable(normalize_money),
    "number": _storable(normalize_number),
    "integer": normalize_integer,
    "percent": _storable(normalize_percent),
    "email": normalize_email,
    "urls": normalize_urls,
    "currency": normalize_currency,
    "country": normalize_country,
    "bool": normalize_bool,
}
