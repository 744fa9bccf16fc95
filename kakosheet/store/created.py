"""Storing the cases a sync creates, column by column: a first sync creates every case of
the sheet, so this is the store's hot path.

Each distinct cell of a column is converted once (its bind processor) and the rows are
assembled from those conversions in C (``zip``): no dict per row, no per-row parameter
processing. What is stored is exactly what the row-by-row path stores (``RowCase.values``
and ``RowCase.raw``); a test holds both to it. Each case's "created" event carries no copy
of it: history tells the first version from the present (store/first_version.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table

from kakosheet.core.plan import RowCase, notes_digest
from kakosheet.store.bulk import BulkInsert
from kakosheet.store.minor import CURRENCY_FIELD, minor_column, minor_units_in
from kakosheet.store.store import CHUNK
from kakosheet.store.tables import case_fields

META_COLUMNS = (
    "_source",
    "_version",
    "_fingerprint",
    "_match",
    "_incomplete",
    "_issues",
    "_notes_digest",
    "_raw",
    "_missing_since",
    "_updated_run",
)
HISTORY_COLUMNS = ("log", "case_id", "version", "run_id", "source", "recorded_at", "event", "changes")


@dataclass(frozen=True)
class _Run:
    """What every created row shares."""

    log: str
    run_id: int
    source: str
    now: dt.datetime


def store_created(
    connection: Connection,
    table: Table,
    history: Table,
    creations: Sequence[tuple[str, RowCase]],
    *,
    log: str,
    run_id: int,
    source: str,
    now: dt.datetime,
) -> int:
    """Insert new cases (version 1) and their "created" events; returns the rows written."""
    if not creations:
        return 0
    run = _Run(log, run_id, source, now)
    first = creations[0][1].source
    by_table: dict[int, Sequence[tuple[str, RowCase]]] = {id(first): creations}
    if len(set(map(id, map(_SOURCE, map(_CASE, creations))))) > 1:  # rows of archive tabs too
        grouped: dict[int, list[tuple[str, RowCase]]] = {}
        for case_id, case in creations:
            grouped.setdefault(id(case.source), []).append((case_id, case))
        by_table = dict(grouped)
    fields = case_fields(table)
    minor = [c.name.removeprefix("_minor_") for c in table.columns if c.name.startswith("_minor_")]
    history_insert = BulkInsert(connection, history, HISTORY_COLUMNS)
    written = 0
    for group in by_table.values():
        present = [f for f in fields if f in group[0][1].source.columns]
        amounts = [f for f in minor if f in present] if CURRENCY_FIELD in present else []
        minor_columns = [minor_column(f) for f in amounts]
        cases_insert = BulkInsert(connection, table, ["case_id", *present, *META_COLUMNS, *minor_columns])
        written += _store_group(cases_insert, history_insert, group, present, run, amounts)
    return written


class _GroupColumns:
    """The converted columns of the created rows of one table, sliced per chunk."""

    def __init__(
        self, insert: BulkInsert, group: Sequence[tuple[str, RowCase]], fields: list[str], amounts: list[str]
    ) -> None:
        rows = group[0][1].source
        indexes = np.fromiter(map(_INDEX, map(_CASE, group)), dtype=np.int64, count=len(group))
        self.values: list[tuple[np.ndarray, np.ndarray]] = []  # per field: converted distinct, row codes
        self.typed: list[tuple[str, np.ndarray, np.ndarray]] = []  # fields with cells that did not fit
        kept: dict[str, tuple[list[Any], np.ndarray]] = {}  # the distinct values and codes minor units need
        for name in fields:
            column = rows.stored_column(name)
            blank = len(column.distinct) - 1  # the blank cell's value comes last; its code is -1
            codes = column.codes[indexes]
            codes = np.where(codes < 0, blank, codes)
            if name in amounts or (amounts and name == CURRENCY_FIELD):
                kept[name] = (column.distinct, codes)
            used = np.flatnonzero(np.bincount(codes, minlength=blank + 1))  # np.unique, without sorting
            distinct_used = _of(column.distinct, used)
            self.values.append((_spread(used, insert.convert(name, distinct_used)), codes))
            as_typed_used = _of(column.as_typed, used)
            if as_typed_used.count(None) < len(as_typed_used):
                self.typed.append((name, _spread(used, as_typed_used), codes))
        self.minor = [_minor_column(insert, name, kept[name], kept[CURRENCY_FIELD]) for name in amounts]

    def values_of(self, start: int, end: int) -> list[list[Any]]:
        return [distinct[codes[start:end]].tolist() for distinct, codes in self.values]

    def minor_of(self, start: int, end: int) -> list[list[Any]]:
        return [converted[codes[start:end]].tolist() for converted, codes in self.minor]

    def raw_of(self, start: int, end: int) -> list[dict[str, str] | None]:
        """Per row, its cells that did not fit, as typed (None for a row without any)."""
        if not self.typed:
            return [None] * (end - start)
        columns = [(name, as_typed[codes[start:end]]) for name, as_typed, codes in self.typed]
        raw: list[dict[str, str] | None] = [None] * (end - start)
        flagged = np.zeros(end - start, dtype=bool)
        for _, texts in columns:
            flagged |= texts != None  # noqa: E711 -- elementwise over an object array
        for k in np.flatnonzero(flagged).tolist():
            raw[k] = {name: texts[k] for name, texts in columns if texts[k] is not None}
        return raw


def _store_group(
    cases_insert: BulkInsert,
    history_insert: BulkInsert,
    group: Sequence[tuple[str, RowCase]],
    fields: list[str],
    run: _Run,
    amounts: list[str],
) -> int:
    columns = _GroupColumns(cases_insert, group, fields, amounts)
    constant = {
        name: cases_insert.convert(name, [value])[0]
        for name, value in (
            ("_source", run.source),
            ("_version", 1),
            ("_missing_since", None),
            ("_updated_run", run.run_id),
        )
    }
    notes_columns = _NotesColumns(cases_insert)
    raw_none = cases_insert.convert("_raw", [None])[0]
    recorded = history_insert.convert("recorded_at", [run.now])[0]
    no_copy = history_insert.convert("changes", [{}])[0]  # the first version is told from the present
    written = 0
    # In chunks, so a first sync of a big log never holds every row and event at once.
    for start in range(0, len(group), CHUNK):
        chunk = group[start : start + CHUNK]
        end = start + len(chunk)
        case_ids = [case_id for case_id, _ in chunk]
        notes = notes_columns.rows_of(case for _, case in chunk)
        raw = [raw_none if r is None else cases_insert.convert("_raw", [r])[0] for r in columns.raw_of(start, end)]
        rows = list(
            zip(
                case_ids,
                *columns.values_of(start, end),
                repeat(constant["_source"]),
                repeat(constant["_version"]),
                [case.fingerprint for _, case in chunk],
                [case.match for _, case in chunk],
                *zip(*notes, strict=True),
                raw,
                repeat(constant["_missing_since"]),
                repeat(constant["_updated_run"]),
                *columns.minor_of(start, end),
            )
        )
        written += cases_insert.execute(rows)
        events = list(
            zip(
                repeat(run.log),
                case_ids,
                repeat(1),
                repeat(run.run_id),
                repeat(run.source),
                repeat(recorded),
                repeat("created"),
                repeat(no_copy),
            )
        )
        written += history_insert.execute(events)
    return written


class _NotesColumns:
    """_incomplete, _issues and _notes_digest of a row, converted once per distinct notes
    (most rows have none at all)."""

    def __init__(self, insert: BulkInsert) -> None:
        self.insert = insert
        self.incomplete = {flag: insert.convert("_incomplete", [flag])[0] for flag in (False, True)}
        self.notes: dict[tuple[str, ...], tuple[Any, str]] = {}

    def of(self, notes: tuple[str, ...], incomplete: bool) -> tuple[Any, Any, str]:
        if notes not in self.notes:
            self.notes[notes] = (self.insert.convert("_issues", [list(notes)])[0], notes_digest(notes))
        issues, digest = self.notes[notes]
        return self.incomplete[incomplete], issues, digest

    def rows_of(self, cases: Iterable[RowCase]) -> list[tuple[Any, Any, str]]:
        """The three columns of each row; a complete row without notes (most of them) costs no call."""
        clean = self.of((), False)
        return [self.of(case.notes, case.incomplete) if case.notes or case.incomplete else clean for case in cases]


def _minor_column(
    insert: BulkInsert,
    name: str,
    amount: tuple[list[Any], np.ndarray],
    currency: tuple[list[Any], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """The minor units of an amount column, converted once per distinct (amount, currency) pair:
    the converted values by pair code, and each row's pair code."""
    (amounts, amount_codes), (currencies, currency_codes) = amount, currency
    pairs = amount_codes.astype(np.int64) * len(currencies) + currency_codes
    used, codes = np.unique(pairs, return_inverse=True)
    values = np.full(len(used), None, dtype=object)
    used_currencies = used % len(currencies)
    for code in np.unique(used_currencies).tolist():  # each currency's amounts in one call
        at = np.flatnonzero(used_currencies == code)
        of_currency: list[int] = (used[at] // len(currencies)).tolist()
        values[at] = minor_units_in(currencies[code], [amounts[a] for a in of_currency])
    converted = np.empty(len(values), dtype=object)
    converted[:] = insert.convert(minor_column(name), values.tolist())
    return converted, codes


def _of(distinct: list[Any], used: np.ndarray) -> list[Any]:
    """The distinct values at the ``used`` codes (ascending): on a first sync every one of them, or all but
    the blank cell's (the last), taken whole rather than looked up one by one."""
    if len(used) and int(used[-1]) == len(used) - 1:  # 0, 1, ..., k-1
        return distinct[: len(used)]
    return [distinct[i] for i in used.tolist()]  # Python ints: indexing a list with numpy integers is slow


def _spread(used: np.ndarray, items: Sequence[Any]) -> np.ndarray:
    """An object array indexed by distinct-value code: ``items`` at the ``used`` codes (ascending), None elsewhere."""
    size = int(used[-1]) + 1 if len(used) else 0
    spread = np.full(max(size, 1), None, dtype=object)
    spread[used] = items
    return spread


_CASE = itemgetter(1)  # of a (case ID, case) pair
_SOURCE = attrgetter("source")
_INDEX = attrgetter("index")
