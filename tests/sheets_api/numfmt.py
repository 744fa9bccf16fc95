"""Number and date formatting the way Sheets renders FORMATTED_VALUE, for the locales tests use.

Only the subset a sync tool meets: the automatic number format, simple patterns ("#,##0.00", "0%"), and date /
time patterns ("yyyy-mm-dd hh:mm:ss"). Dates are serial numbers: days since 1899-12-30, the fraction is the time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
DATE_KINDS = frozenset({"DATE", "TIME", "DATE_TIME"})


@dataclass(frozen=True)
class Locale:
    """What a spreadsheet locale changes for typed and rendered numbers and dates."""

    decimal: str
    group: str
    date_order: str  # "MDY", "DMY" or "YMD": how a typed "1/2/2024" reads
    date_sep: str
    date_pattern: str  # the pattern Sheets gives a date typed in the locale's own style


_EN_US = Locale(".", ",", "MDY", "/", "m/d/yyyy")
LOCALES = {
    "en_US": _EN_US,
    "en_GB": Locale(".", ",", "DMY", "/", "dd/mm/yyyy"),
    "de_DE": Locale(",", ".", "DMY", ".", "dd.mm.yyyy"),
    "de_AT": Locale(",", ".", "DMY", ".", "dd.mm.yyyy"),
    "de_CH": Locale(".", "'", "DMY", ".", "dd.mm.yyyy"),
    "fr_FR": Locale(",", "\u202f", "DMY", "/", "dd/mm/yyyy"),
    "es_ES": Locale(",", ".", "DMY", "/", "d/m/yyyy"),
    "it_IT": Locale(",", ".", "DMY", "/", "d/m/yyyy"),
    "nl_NL": Locale(",", ".", "DMY", "-", "d-m-yyyy"),
    "pt_BR": Locale(",", ".", "DMY", "/", "dd/mm/yyyy"),
    "pl_PL": Locale(",", "\u00a0", "DMY", ".", "dd.mm.yyyy"),
    "ja_JP": Locale(".", ",", "YMD", "/", "yyyy/mm/dd"),
}


def locale_of(name: str) -> Locale:
    """Unknown locales render like en_US rather than failing: the server must not be stricter than Google."""
    return LOCALES.get(name, _EN_US)


def to_serial(value: dt.date | dt.datetime | dt.time) -> int | float:
    """A Python date/datetime/time as a Sheets serial number (whole days for dates)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return normalise(delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    return normalise((value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400)


def from_serial(serial: float) -> dt.datetime:
    """The datetime a serial number stands for, rounded to the millisecond as Sheets does."""
    return EPOCH + dt.timedelta(milliseconds=round(serial * 86400000))


def normalise(number: int | float) -> int | float:
    """Numbers as Sheets keeps them: doubles, with integral ones as ints so JSON says 53, not 53.0, as Google does."""
    if isinstance(number, float):
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if not isinstance(number, bool) and abs(number) >= 2**53:
        return float(number)
    return number


def format_automatic(number: int | float, locale: Locale) -> str:
    """The "automatic" format: integers plainly, fractions to at most 10 places, huge/tiny in scientific."""
    if isinstance(number, int):
        text = str(number) if abs(number) < 10**15 else _scientific(float(number))
    else:
        magnitude = abs(number)
        if magnitude >= 1e15 or (0 < magnitude < 1e-10):
            text = _scientific(number)
        else:
            text = format(round(number, 10), ".15g")
            if "e" in text:
                text = format(round(number, 10), "f").rstrip("0").rstrip(".")
    return text.replace(".", locale.decimal) if locale.decimal != "." else text


def automatic_formatter(locale: Locale) -> Callable[[Any], str]:
    """A fast FORMATTED_VALUE renderer for cells without a number format (the bulk of a big read)."""
    decimal = locale.decimal

    def render(value: Any) -> str:
        kind = type(value)
        if kind is int and -(10**15) < value < 10**15:
            return str(value)
        if kind is float:
            text = repr(value)
            whole, _, fraction = text.partition(".")
            if fraction and len(fraction) <= 10 and len(whole) + len(fraction) <= 16 and "e" not in fraction:
                return text if decimal == "." else text.replace(".", decimal)
            return format_automatic(value, locale)
        if value is None:
            return ""
        if kind is bool:
            return "TRUE" if value else "FALSE"
        if kind is int:
            return format_automatic(value, locale)
        return str(value)

    return render


def _scientific(number: float) -> str:
    mantissa, exponent = format(number, ".5E").split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"


def format_number(number: int | float, number_format: dict | None, locale: Locale) -> str:
    """FORMATTED_VALUE of a number under its cell's numberFormat (None: automatic)."""
    if not number_format:
        return format_automatic(number, locale)
    kind = number_format.get("type", "NUMBER")
    pattern = number_format.get("pattern", "")
    if kind in DATE_KINDS:
        return format_date(number, pattern or _DEFAULT_DATE_PATTERNS[kind])
    if kind == "TEXT" or not pattern:
        return format_automatic(number, locale)
    return _format_numeric_pattern(number, pattern, locale)


_DEFAULT_DATE_PATTERNS = {"DATE": "yyyy-mm-dd", "TIME": "hh:mm:ss", "DATE_TIME": "yyyy-mm-dd hh:mm:ss"}
_NUMERIC_CORE = re.compile(r"[#0?][#0?,]*(?:\.[#0?]*)?|\.[#0?]+")


def _format_numeric_pattern(number: float, pattern: str, locale: Locale) -> str:
    """ "#,##0.00", "0%", "[$€]#,##0.00", "0.00E+00": enough of the pattern language for money and ratios."""
    sections = pattern.split(";")
    section = sections[1] if number < 0 and len(sections) > 1 else sections[0]
    negative = number < 0 and len(sections) == 1
    section = re.sub(r"\[\$([^\]-]*)[^\]]*\]", lambda m: m.group(1), section)
    section = section.replace('"', "").replace("\\", "")
    value = abs(number)
    if "%" in section:
        value *= 100
    match = _NUMERIC_CORE.search(section)
    if not match:
        return section
    core = match.group(0)
    if "E+" in section[match.end() : match.end() + 2]:
        return ("-" if negative else "") + section[: match.start()] + _scientific(value)
    integer, _, fraction = core.partition(".")
    digits = _render_digits(value, integer, fraction, locale)
    return ("-" if negative else "") + section[: match.start()] + digits + section[match.end() :]


def _render_digits(value: float, integer: str, fraction: str, locale: Locale) -> str:
    places = len(fraction)
    required = fraction.count("0")
    text = f"{value:.{places}f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(required, "0") if places > required else decimals
    if "," in integer:
        whole = f"{int(whole):,}".replace(",", locale.group)
    if integer.strip(",").startswith("#") and whole == "0" and "0" not in integer:
        whole = ""
    return whole + (locale.decimal + decimals if decimals else "")


_DATE_TOKENS = re.compile(
    r'"[^"]*"|\\.|yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|\.000|\.00|\.0|am/pm|AM/PM|a/p|A/P|.',
)


def format_date(serial: float, pattern: str) -> str:
    """A serial number under a date/time pattern ("yyyy-mm-dd", "dd.mm.yyyy hh:mm", "h:mm am/pm")."""
    moment = from_serial(serial)
    tokens = _DATE_TOKENS.findall(pattern)
    twelve_hour = any(token.lower() in ("am/pm", "a/p") for token in tokens)
    out = []
    for index, token in enumerate(tokens):
        out.append(_date_token(token, moment, _is_minute(tokens, index), twelve_hour))
    return "".join(out)


def _is_minute(tokens: list[str], index: int) -> bool:
    """ "mm" means minutes right after an hour token or right before a seconds token, as in Sheets."""
    if tokens[index] not in ("m", "mm"):
        return False
    before = [t for t in tokens[:index] if t.isalpha()]
    after = [t for t in tokens[index + 1 :] if t.isalpha()]
    return bool(before and before[-1] in ("h", "hh")) or bool(after and after[0] in ("s", "ss"))


def _date_token(token: str, moment: dt.datetime, minute: bool, twelve_hour: bool) -> str:
    hour = moment.hour % 12 or 12 if twelve_hour else moment.hour
    simple = {
        "yyyy": f"{moment.year:04d}",
        "yy": f"{moment.year % 100:02d}",
        "mmmmm": moment.strftime("%B")[:1],
        "mmmm": moment.strftime("%B"),
        "mmm": moment.strftime("%b"),
        "dddd": moment.strftime("%A"),
        "ddd": moment.strftime("%a"),
        "dd": f"{moment.day:02d}",
        "d": str(moment.day),
        "hh": f"{hour:02d}",
        "h": str(hour),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        ".000": f".{moment.microsecond // 1000:03d}",
        ".00": f".{moment.microsecond // 10000:02d}",
        ".0": f".{moment.microsecond // 100000}",
        "am/pm": "am" if moment.hour < 12 else "pm",
        "AM/PM": "AM" if moment.hour < 12 else "PM",
        "a/p": "a" if moment.hour < 12 else "p",
        "A/P": "A" if moment.hour < 12 else "P",
    }
    if token in ("mm", "m"):
        value = moment.minute if minute else moment.month
        return f"{value:02d}" if token == "mm" else str(value)
    if token in simple:
        return simple[token]
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    return token
