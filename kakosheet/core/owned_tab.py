"""The tabs kakosheet owns in the team's workbook (Issues today; a report tab, Credit Memos and
Quarantine next), as one typed model each source adapter draws.

A tab is owned when its first cell holds its mark: kakosheet rewrites such a tab whole, and
never touches a tab of the team's, even one with the same title (it then writes
"kakosheet <title>" beside it). Cells are typed values, never formulas: a text that starts with
"=" stays text in every adapter. Links lead to a cell of the same workbook; charts draw ranges
of the tab itself and sit in named slots, so a re-run replaces each chart in its slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kakosheet.core.grid import column_letters

CellData = str | int | float | Decimal | dt.date | dt.datetime | None

SHEET_ROWS = 1_048_576  # rows of a worksheet in Excel (and LibreOffice)
CELL_CHARS = 32_767  # characters a cell holds in Excel, counted as it counts them (excel_length)
TITLE_CHARS = 31  # characters of a tab's title in Excel
TITLE_REFUSED = frozenset("[]:*?/\\")  # characters Excel refuses in a tab's title
MARK_PREFIX = "kakosheet: "  # how every mark begins: a reader tells an owned tab without knowing which


@dataclass(frozen=True, slots=True)
class CellLink:
    """A cell of the same workbook a cell leads to (a tab's title and an A1 reference)."""

    sheet: str
    cell: str

    @property
    def reference(self) -> str:
        """As a formula or a hyperlink location names it: 'QC Log'!E12."""
        return f"'{self.sheet.replace(chr(39), chr(39) * 2)}'!{self.cell}"


@dataclass(frozen=True, slots=True)
class TabCell:
    """One typed cell. ``number_format`` is an Excel format code ("0.0%", "yyyy-mm-dd",
    '#,##0.00 "EUR"'); Google Sheets reads the same patterns."""

    value: CellData
    number_format: str | None = None
    link: CellLink | None = None
    bold: bool = False


class ChartKind(StrEnum):
    BAR = "bar"  # horizontal bars: categories read down the side
    COLUMN = "column"  # vertical bars
    LINE = "line"


@dataclass(frozen=True, slots=True)
class Span:
    """Cells of one column of the tab, 1-based sheet rows, both ends included; column 0 = A."""

    column: int
    first_row: int
    last_row: int

    def a1(self, *, absolute: bool = False) -> str:
        letters, dollar = column_letters(self.column), "$" if absolute else ""
        return f"{dollar}{letters}{dollar}{self.first_row}:{dollar}{letters}{dollar}{self.last_row}"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Span


@dataclass(frozen=True)
class Chart:
    """A native chart of the tab's own cells, in a slot that keeps its name across re-runs."""

    slot: str  # "reasons", "trend", "parties": a re-run replaces the chart in its slot
    kind: ChartKind
    title: str
    categories: Span
    series: tuple[Series, ...]
    anchor_row: int  # the top-left cell it is drawn over: 1-based row, 0-based column
    anchor_column: int
    width_columns: int = 8
    height_rows: int = 16


@dataclass(frozen=True)
class Filter:
    """An autofilter over a table of the tab: its header row and its last row (1-based)."""

    header_row: int
    last_row: int
    first_column: int
    last_column: int

    @property
    def a1(self) -> str:
        return f"{column_letters(self.first_column)}{self.header_row}:{column_letters(self.last_column)}{self.last_row}"


@dataclass(frozen=True)
class OwnedTab:
    """A tab kakosheet writes whole. Row 1's first cell is the mark (a mark is its own text,
    so the mark cell is ``rows[0][0]``)."""

    title: str
    mark: str
    rows: tuple[tuple[TabCell | None, ...], ...]  # from row 1
    widths: tuple[float, ...] = ()  # in characters, from column A
    frozen_rows: int = 0
    filter: Filter | None = None
    charts: tuple[Chart, ...] = field(default_factory=tuple)
    create: bool = True  # False: written only when the tab is already there (an Issues tab with nothing to list)

    def __post_init__(self) -> None:
        if not self.rows or not self.rows[0] or self.rows[0][0] is None or self.rows[0][0].value != self.mark:
            raise ValueError(f"an owned tab's first cell is its mark: {self.mark!r}")
        if not self.mark.startswith(MARK_PREFIX):
            raise ValueError(f"an owned tab's mark begins {MARK_PREFIX!r}: {self.mark!r}")
        if len(self.title) > TITLE_CHARS:
            raise ValueError(f"a tab's title holds {TITLE_CHARS} characters: {self.title!r}")
        if set(self.title) & TITLE_REFUSED or self.title.startswith("'") or self.title.endswith("'"):
            raise ValueError(f"Excel refuses this tab title: {self.title!r}")

    @property
    def column_count(self) -> int:
        return max((len(row) for row in self.rows), default=0)


def fallback_title(title: str) -> str:
    """The title an owned tab takes when the team has a tab of its own with its title."""
    return f"kakosheet {title}"[:TITLE_CHARS]


def excel_length(text: str) -> int:
    """A text's length as Excel counts it: UTF-16 code units (an emoji, or a rare CJK character, is two)."""
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str, room: int = CELL_CHARS) -> str:
    """A text cut to what a cell holds (or ``room``), visibly (…)."""
    if len(text) <= room // 2 or excel_length(text) <= room:
        return text
    # The first room - 1 units; a character of two units cut in half is left out whole.
    return text.encode("utf-16-le")[: (room - 1) * 2].decode("utf-16-le", errors="ignore") + "…"
