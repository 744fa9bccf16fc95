"""Column-at-a-time normalization: each distinct value is normalized once.

A column of 100k cells usually holds a few hundred distinct values (statuses, dates,
vendors). ``pandas.factorize`` hashes the column in C; the distinct values are
normalized in Python; the results are broadcast back to the rows with numpy indexing.
Nothing here loops over rows in Python.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, partial
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from kakosheet.core.cells import (
    NORMALIZERS,
    NUMBER_LIMIT,
    WHOLE_TEXT_PATTERNS,
    CellContext,
    Problem,
    Result,
    normalize_enum,
)
from kakosheet.core.schema import Column

BLANK = -1
# Types whose text or float cells normalize trivially (trimmed text; the float's decimal).
PLAIN_TEXT_TYPES = frozenset({"text", "code", "id"})
PLAIN_NUMBER_TYPES = frozenset({"money", "number"})
_NUMBER_LIMIT = float(NUMBER_LIMIT)  # a float beyond goes through its normalizer, which flags it


@dataclass
class TypedColumn:
    """A column's distinct values, normalized, and which one each row holds.

    ``codes[i]`` indexes the distinct values of row ``i``; ``BLANK`` (-1) means blank.
    ``values`` and ``raw`` end with a None, so indexing them with the codes gives None
    for blank rows.
    """

    column: Column
    codes: np.ndarray
    raw: np.ndarray
    values: np.ndarray
    problems: list[Problem | None]
    removed: dict[int, Problem] = field(default_factory=dict)  # distinct cells cleaned of unstorable characters
    # Every distinct value a valid text of its own (none blank, no two alike: a column of IDs or links),
    # so checks over them can skip looking for problems, blanks and repeats.
    distinct_texts: bool = False

    @property
    def blank(self) -> np.ndarray:
        return self.codes == BLANK

    @property
    def present(self) -> np.ndarray:
        return self.codes != BLANK

    def row_values(self) -> np.ndarray:
        return self.values[self.codes]

    def row_raw(self) -> np.ndarray:
        return self.raw[self.codes]

    def rows_where(self, unique_mask: Sequence[bool] | np.ndarray) -> np.ndarray:
        """Row indexes whose distinct value is flagged in ``unique_mask``."""
        flags = np.append(np.asarray(unique_mask, dtype=bool), False)
        return np.flatnonzero(flags[self.codes])

    def mask_where(self, unique_mask: Sequence[bool] | np.ndarray) -> np.ndarray:
        flags = np.append(np.asarray(unique_mask, dtype=bool), False)
        return flags[self.codes]

    def take(self, rows: np.ndarray) -> TypedColumn:
        """The same column restricted to some rows (the distinct values are shared)."""
        return TypedColumn(
            self.column, self.codes[rows], self.raw, self.values, self.problems, self.removed, self.distinct_texts
        )

    def valid_uniques(self) -> list[tuple[int, Any]]:
        """(index, value) of distinct values that normalized without a problem."""
        return list(zip(*self.valid_values(), strict=True))

    def valid_values(self) -> tuple[Sequence[int], list[Any]]:
        """The indexes and the values of the distinct values that normalized without a problem (as
        two lists: a column of IDs has as many as rows)."""
        values = self.values[:-1].tolist()
        # A column of IDs, links or order numbers (distinct_texts: no need to look).
        if self.distinct_texts or (not any(self.problems) and None not in values):
            return range(len(values)), values
        indexes = [
            i
            for i, (value, problem) in enumerate(zip(values, self.problems, strict=True))
            if problem is None and value is not None
        ]
        return indexes, [values[i] for i in indexes]


def normalizer_for(column: Column) -> Callable[[Any, CellContext], Result]:
    if column.type == "enum":
        choices = {" ".join(v.split()).casefold(): v for v in column.values}
        return partial(normalize_enum, choices=choices)
    return NORMALIZERS[column.type]


def normalize_column(cells: Sequence[Any] | np.ndarray, column: Column, ctx: CellContext) -> TypedColumn:
    """Normalize every cell of a column, each distinct value once."""
    codes, uniques = pd.factorize(np.asarray(cells, dtype=object), use_na_sentinel=True)
    distinct = uniques.tolist()
    removed = _remove_unstorable(distinct)
    plain_text = column.type in PLAIN_TEXT_TYPES
    # Text columns of unique-ish cells (descriptions, order numbers, links): trimmed in C.
    texts = _plain_texts(distinct) if plain_text else _valid_texts(distinct, column.type)
    raw = _with_blank(distinct) if removed else _array_with_blank(uniques)
    if texts is not None:
        values: list[Any] = texts
        problems: list[Problem | None] = [None] * len(values)
        blank = _blank_texts(texts)
        untrimmed = values == distinct  # nothing to trim (blank cells aside): one array for both
        for i in blank:
            values[i] = None
        typed_values = _blanked(raw, blank) if untrimmed else _with_blank(values)
        distinct_texts = untrimmed and not blank and not removed  # none cleaned into another's text: all distinct
    else:
        values, problems = _normalize_each(distinct, column, ctx, plain_text=plain_text)
        distinct_texts = False
        blank = [i for i, (v, p) in enumerate(zip(values, problems, strict=True)) if v is None and p is None]
        typed_values = _with_blank(values)
    if blank:  # distinct cells that are blank once trimmed ("", " "): their rows are blank
        is_blank = np.zeros(len(values) + 1, dtype=bool)  # the last one stands for code -1: blank already
        is_blank[blank] = True
        codes = np.where(is_blank[codes], BLANK, codes)
    return TypedColumn(
        column=column,
        codes=np.asarray(codes, dtype=np.int64),
        raw=raw,
        values=typed_values,
        problems=problems,
        removed=removed,
        distinct_texts=distinct_texts,
    )


# NUL (Excel's _x0000_) and lone surrogates (_xD800_): no database text can hold them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CHARACTER_REMOVED = Problem(
    "character-removed",
    "this cell held a character no database can store (NUL, typed in Excel as _x0000_, or a broken "
    "surrogate); it was removed from the stored value: retype the value without it",
    severity="warning",
)


def _remove_unstorable(distinct: list[Any]) -> dict[int, Problem]:
    """Strip NUL and lone surrogates from the distinct texts, in place; which ones held any.

    C passes over all the texts joined (a find, an ASCII check or a UTF-8 encode; a regex takes
    tens of milliseconds per 100k texts) find nothing in nearly every column."""
    try:
        joined = "".join(distinct)
    except TypeError:  # numbers, dates: only the texts can hold such characters
        joined = "".join([u for u in distinct if type(u) is str])
    if "\x00" not in joined and (joined.isascii() or _encodes(joined)):
        return {}
    removed: dict[int, Problem] = {}
    for i, unique in enumerate(distinct):
        if type(unique) is str and _UNSTORABLE.search(unique):
            distinct[i] = _UNSTORABLE.sub("", unique)
            removed[i] = CHARACTER_REMOVED
    return removed


def _normalize_each(
    uniques: list[Any], column: Column, ctx: CellContext, *, plain_text: bool
) -> tuple[list[Any], list[Problem | None]]:
    """Each distinct value normalized: the commonest cases inline, the others by the type's normalizer."""
    normalize = normalizer_for(column)
    values: list[Any] = []
    problems: list[Problem | None] = []
    plain_number = column.type in PLAIN_NUMBER_TYPES
    whole_text = _whole_text_match(column.type)
    # A date and time as a workbook gives it (no time zone): as its normalizer returns it, without the call.
    datetimes, dates = column.type == "datetime", column.type == "date"
    for unique in uniques:
        if plain_text and type(unique) is str:
            values.append(unique.strip() or None)
            problems.append(None)
        elif whole_text is not None and type(unique) is str and whole_text(unique.strip()):
            values.append(unique.strip())
            problems.append(None)
        elif plain_number and type(unique) is float and -_NUMBER_LIMIT < unique < _NUMBER_LIMIT:  # NaN, inf: False
            values.append(Decimal(repr(unique)))  # to_decimal of a float, without the call
            problems.append(None)
        elif (datetimes or dates) and type(unique) is dt.datetime and unique.tzinfo is None:
            values.append(unique if datetimes else unique.date())
            problems.append(None)
        else:
            value, problem = normalize(unique, ctx)
            values.append(value)
            problems.append(problem)
    return values, problems


def _plain_texts(uniques: list[Any]) -> list[str] | None:
    """The distinct values trimmed, when every one is a text (a str, not of a subclass)."""
    try:
        texts = list(map(str.strip, uniques))
    except TypeError:  # a number, a date: not a text
        return None
    # A str with nothing to trim comes back as itself, and only a str does: the types need no look then.
    if all(map(operator.is_, texts, uniques)) or set(map(type, uniques)) <= {str}:
        return texts
    return None


def _blank_texts(texts: list[str]) -> list[int]:
    """Which trimmed texts are blank, found in C: a column of 100k distinct texts has one or two."""
    count = texts.count("")
    if count < 2:
        return [texts.index("")] if count else []
    return [i for i, text in enumerate(texts) if not text]


def _valid_texts(uniques: list[Any], column_type: str) -> list[str] | None:
    """The distinct values trimmed, when every one is text, blank or matching the type's pattern (one regex
    call): the column normalizes as plain text does (a blank cell, "" or spaces, is blank in both)."""
    if column_type not in WHOLE_TEXT_PATTERNS or not uniques:
        return None
    texts = _plain_texts(uniques)
    if texts is None:
        return None
    joined = "\n".join(filter(None, texts))
    if joined and _all_lines_match(column_type, joined.isascii())(joined) is None:
        return None
    return texts


@cache
def _all_lines_match(column_type: str, ascii_only: bool) -> Callable[[str], re.Match[str] | None]:
    """A check that every line of a text matches the type's pattern. For ASCII text its ASCII flavour, a
    third faster with the same matches: re's ASCII \\s leaves out \\x1c-\\x1f, which str.isspace counts
    (the patterns name \\s only inside sets)."""
    pattern = WHOLE_TEXT_PATTERNS[column_type]
    if ascii_only:
        pattern = pattern.replace(r"\s", r"\s\x1c-\x1f")
    flags = re.IGNORECASE | re.ASCII if ascii_only else re.IGNORECASE
    return re.compile(f"(?:{pattern})(?:\n(?:{pattern}))*", flags).fullmatch


@cache
def _whole_text_match(column_type: str) -> Callable[[str], re.Match[str] | None] | None:
    """For a type of WHOLE_TEXT_PATTERNS, a check that a trimmed text is valid as it is (its
    normalizer would return it unchanged, without a problem): one regex call instead of the
    normalizer, for the columns where not every distinct value passes (a list of links)."""
    pattern = WHOLE_TEXT_PATTERNS.get(column_type)
    return None if pattern is None else re.compile(pattern, re.IGNORECASE).fullmatch


def _with_blank(items: list[Any]) -> np.ndarray:
    """The items and a None after them, as an object array (fromiter: a list assigned to an array is
    first checked item by item for nested sequences)."""
    return np.fromiter(chain(items, (None,)), dtype=object, count=len(items) + 1)


def _array_with_blank(items: np.ndarray) -> np.ndarray:
    """The items and a None after them, copied from an array (a third of the time a list takes)."""
    array = np.empty(len(items) + 1, dtype=object)
    array[:-1] = items
    return array


def _blanked(items: np.ndarray, blank: list[int]) -> np.ndarray:
    """The items (ending with the blank's None) with those at ``blank`` made None too; the items themselves
    when there are none."""
    if not blank:
        return items
    blanked = items.copy()
    blanked[blank] = None
    return blanked


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
