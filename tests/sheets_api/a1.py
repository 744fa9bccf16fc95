"""A1 notation and GridRange: the two ways the API names a block of cells.

Google echoes every range back normalised (sheet name quoted only when needed, bounds clipped to the grid), and
clients compare those strings, so the formatting here follows what the recorded replies show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")
_SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|TRUE|FALSE|true|false)$")


def col_letters(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def col_index(letters: str) -> int:
    """ "A" -> 0, "AA" -> 26."""
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value - 1


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in a range: bare when it is a plain word, else single-quoted."""
    if _SIMPLE_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def cell_name(row: int, col: int) -> str:
    """0-based (row, col) -> "B3"."""
    return f"{col_letters(col)}{row + 1}"


def format_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """A concrete block as Google echoes it: "Sheet1!A1" for one cell, "'QC Log'!A1:D4" otherwise."""
    start = cell_name(r0, c0)
    if r1 - r0 == 1 and c1 - c0 == 1:
        return f"{quote_title(title)}!{start}"
    return f"{quote_title(title)}!{start}:{cell_name(r1 - 1, c1 - 1)}"


@dataclass(frozen=True)
class Span:
    """A block inside one sheet: 0-based, end-exclusive; an end of None runs to the edge of the grid."""

    r0: int = 0
    r1: int | None = None
    c0: int = 0
    c1: int | None = None
    single: bool = False  # written as one cell ("A1"): an anchor for writes, not a bound

    def clip(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        """The concrete block inside a rows x cols grid (may be empty when the span starts past the edge)."""
        r1 = rows if self.r1 is None else min(self.r1, rows)
        c1 = cols if self.c1 is None else min(self.c1, cols)
        return self.r0, max(r1, self.r0), self.c0, max(c1, self.c0)


WHOLE = Span()


def _endpoint(text: str) -> tuple[int | None, int | None] | None:
    """ "B3" -> (col 1, row 2); "B" -> (1, None); "3" -> (None, 2); None when it is not A1."""
    match = _CELL.match(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    letters, digits = match.groups()
    if digits and int(digits) == 0:
        return None
    return (col_index(letters) if letters else None, int(digits) - 1 if digits else None)


def parse_span(text: str) -> Span | None:
    """ "A1", "A1:D", "A:A", "2:2", "A2:C10" -> Span; None when the text is not A1 notation."""
    parts = text.split(":")
    if len(parts) > 2:
        return None
    ends = [_endpoint(part) for part in parts]
    if any(end is None for end in ends):
        return None
    if len(ends) == 1:
        col, row = ends[0]  # type: ignore[misc]
        if col is None or row is None:
            return None
        return Span(row, row + 1, col, col + 1, single=True)
    (ca, ra), (cb, rb) = ends  # type: ignore[misc]
    r0, r1 = _axis(ra, rb)
    c0, c1 = _axis(ca, cb)
    return Span(r0, r1, c0, c1)


def _axis(a: int | None, b: int | None) -> tuple[int, int | None]:
    """One axis of a two-ended range: both given -> sorted bounds; an end missing -> unbounded."""
    if a is not None and b is not None:
        return min(a, b), max(a, b) + 1
    if a is not None:
        return a, None
    if b is not None:
        return 0, b + 1
    return 0, None


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """ "'It''s'!A1" -> ("It's", "A1"); "Tab" -> (None, "Tab") (caller decides: title or A1 on the first sheet)."""
    text = text.strip()
    if text.startswith("'"):
        end = _closing_quote(text)
        if end is None:
            return None, None
        title = text[1:end].replace("''", "'")
        rest = text[end + 1 :]
        if not rest:
            return title, ""
        return (title, rest[1:]) if rest.startswith("!") else (None, None)
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def _closing_quote(text: str) -> int | None:
    index = 1
    while index < len(text):
        if text[index] == "'":
            if index + 1 < len(text) and text[index + 1] == "'":
                index += 2
                continue
            return index
        index += 1
    return None


@dataclass(frozen=True)
class GridRange:
    """The JSON GridRange: sheetId plus 0-based end-exclusive indexes; a missing index means unbounded."""

    sheet_id: int
    r0: int | None = None
    r1: int | None = None
    c0: int | None = None
    c1: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GridRange:
        return cls(
            int(data.get("sheetId", 0)),
            _opt(data, "startRowIndex"),
            _opt(data, "endRowIndex"),
            _opt(data, "startColumnIndex"),
            _opt(data, "endColumnIndex"),
        )

    def to_json(self) -> dict[str, Any]:
        """As Google echoes it: sheetId 0 is left out (proto3 default), set bounds are kept even when 0."""
        out: dict[str, Any] = {}
        if self.sheet_id:
            out["sheetId"] = self.sheet_id
        for key, value in zip(_KEYS, (self.r0, self.r1, self.c0, self.c1), strict=True):
            if value is not None:
                out[key] = value
        return out

    def span(self) -> Span:
        return Span(self.r0 or 0, self.r1, self.c0 or 0, self.c1)

    def clip(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        return self.span().clip(rows, cols)


_KEYS = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")


def _opt(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(value)
