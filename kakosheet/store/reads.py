"""The store's read models for reports: typed queries that group in SQL (SQLite and PostgreSQL
alike), with date bucketing per dialect and exact money sums in minor units.

Nothing here loads every case: a query returns one row per group, with the IDs of the cases
behind it aggregated by the database (only for the cases a report lists, e.g. the period's and
the previous period's, when a query groups a longer span such as a trend).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    Connection,
    Date,
    Executable,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import OperationalError, PendingRollbackError

from kakosheet.store.minor import minor_column
from kakosheet.store.store import Store, connection_lost


class Bucket(StrEnum):
    """Periods a date column is grouped into: the first day of its ISO week (a Monday) or month."""

    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class PeriodOf:
    """Group by the period (week or month) a case's date falls in."""

    bucket: Bucket


@dataclass(frozen=True)
class AgeOf:
    """Group by age in days on ``as_of`` (the case's date against that day), into these buckets.

    ``edges`` are the lowest ages of each bucket after the first, e.g. (3, 8, 15, 31) for
    0-2, 3-7, 8-14, 15-30 and > 30 days; a case's bucket is its index. Cases dated after
    ``as_of``, or not dated, are left out (in SQL by the bucket, not by a range on the date:
    a range over most of a table would make the database walk the date index row by row).
    """

    as_of: dt.date
    edges: tuple[int, ...]


Key = str | PeriodOf | AgeOf


@dataclass(frozen=True)
class Between:
    """A field's value within [start, end): local dates or wall-clock times, as the sheet holds them."""

    field: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class In:
    """A field's value in some values; with ``negate``, any other value or blank."""

    field: str
    values: frozenset[str]
    negate: bool = False


@dataclass(frozen=True)
class Flag:
    """A condition kakosheet keeps on every case."""

    name: str  # "incomplete", "has_issues", "missing", "undated:<field>"


Condition = Between | In | Flag


@dataclass(frozen=True)
class Scope:
    """The cases of one log a read covers: present in the sheet unless asked, of one source or all."""

    log: str
    conditions: tuple[Condition, ...] = ()
    source: str | None = None
    missing: bool = False  # True: only cases missing from the sheet; False: only present ones


@dataclass(frozen=True)
class Group:
    """One group of cases: its keys, how many, which, and its exact money sums.

    With ``ids_within`` (Reads.groups), the IDs (``case_ids``, ``unsummed``, ``summed``,
    ``flagged``) are those of the group's cases within it only; ``count`` and the sums are of all."""

    keys: tuple[Any, ...]
    count: int
    case_ids: tuple[str, ...]
    minor: dict[str, int] = field(default_factory=dict)  # money field -> sum in minor units of the group's currency
    unsummed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # money field -> cases whose amount has none
    summed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # money field -> cases in its sum
    flagged: tuple[tuple[str, ...], ...] = ()  # per condition asked for, the group's cases that meet it


@dataclass(frozen=True)
class Repeat:
    """A group of cases in consecutive periods: its keys, and per period (oldest first) its cases."""

    keys: tuple[Any, ...]
    case_ids: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Span:
    """A case's date and the date it closed, for times to close."""

    case_id: str
    opened: dt.date
    closed: dt.date


@dataclass(frozen=True)
class Closing:
    """A case that closed: the date it closed, and its own date (None when it has none)."""

    case_id: str
    opened: dt.date | None
    closed: dt.date


_LEFT_OUT = -1  # the bucket of cases an AgeOf leaves out
READ_ONLY = "kakosheet_read_only"  # a connection option: SQLite begins a deferred transaction (store.py)
SQLITE_CACHE_KB = 65536
POSTGRES_WORK_MEM = "64MB"


class Reads:
    """Report queries over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dialect = store.dialect
        self._connection: Connection | None = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the store at one moment, so a report's figures agree with each other
        while a sync writes: one read transaction (SQLite: a deferred one, which takes no write lock;
        PostgreSQL: repeatable read, read only)."""
        if self.dialect == "sqlite":
            options: dict[str, Any] = {READ_ONLY: True}
        else:
            options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        try:
            with self.store.engine.connect().execution_options(**options) as connection:
                if self.dialect == "sqlite":  # the pages one query read stay for the next (the same period's)
                    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
                else:  # a trend's groups are sorted in memory, not in temporary files
                    connection.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
                self._connection = connection
                try:
                    yield
                finally:
                    self._connection = None
                    if self.dialect == "sqlite" and not connection.invalidated:
                        connection.exec_driver_sql("PRAGMA cache_size=-2000")  # the connection goes back to the pool
        except (OperationalError, PendingRollbackError) as exc:  # the server went away mid-report
            if isinstance(exc, PendingRollbackError) and not connection_lost(exc):
                raise
            raise self.store.failure(exc) from exc

    def _all(self, query: Executable) -> list[Any]:
        if self._connection is not None:
            return list(self._connection.execute(query).all())
        with self.store.engine.connect() as connection:
            return list(connection.execute(query).all())

    def groups(
        self,
        scope: Scope,
        by: Sequence[Key],
        *,
        money: Sequence[str] = (),
        ids_within: Condition | None = None,
        flagged: Sequence[Condition] = (),
    ) -> list[Group]:
        """Cases of ``scope`` grouped by ``by`` (fields, a period of the date, an age bucket), in one
        query; the IDs only of cases ``ids_within`` when given (a trend lists the last periods' only),
        and per condition of ``flagged`` the cases that meet it."""
        table = self.store.table(scope.log)
        date_field = self._date_field(scope.log)
        keys = [self._key(table, key, date_field).label(f"k{i}") for i, key in enumerate(by)]
        listed = None if ids_within is None else self._condition(table, ids_within)

        def ids_where(condition: ColumnElement[bool] | None) -> ColumnElement[Any]:
            both = [c for c in (listed, condition) if c is not None]
            if not both:
                return self._ids(table.c.case_id)
            return self._ids(case((and_(*both), table.c.case_id), else_=None))

        columns: list[ColumnElement[Any]] = [*keys, func.count().label("n"), ids_where(None).label("ids")]
        for i, name in enumerate(money):
            amount, minor = table.c[name], table.c[minor_column(name)]
            columns.append(func.sum(minor).label(f"m{i}"))
            columns.append(ids_where(and_(amount.is_not(None), minor.is_(None))).label(f"u{i}"))
            columns.append(ids_where(minor.is_not(None)).label(f"s{i}"))
        columns += [ids_where(self._condition(table, c)).label(f"f{i}") for i, c in enumerate(flagged)]
        query = select(*columns).where(*self._where(table, scope))
        if keys:
            query = query.group_by(*keys)
        rows = self._all(query)
        width = len(by)
        convert = [self._converter(key) for key in by]
        ages = [i for i, key in enumerate(by) if isinstance(key, AgeOf)]
        first_money = width + 2
        first_flag = first_money + 3 * len(money)
        decorated = []
        for row in rows:
            count = int(row[width])
            values = tuple(v if c is None else c(v) for c, v in zip(convert, row[:width], strict=True))
            if count == 0 or any(values[i] == _LEFT_OUT for i in ages):
                continue  # an aggregate without groups still returns one row; cases an age leaves out
            rest = row[first_money:first_flag]
            group = Group(
                keys=values,
                count=count,
                case_ids=_split(row[width + 1]),
                minor={name: int(rest[3 * i] or 0) for i, name in enumerate(money)},
                unsummed={name: ids for i, name in enumerate(money) if (ids := _split(rest[3 * i + 1]))},
                summed={name: _split(rest[3 * i + 2]) for i, name in enumerate(money)},
                flagged=tuple(_split(ids) for ids in row[first_flag:]),
            )
            decorated.append((tuple((1, "") if v is None else (0, v) for v in values), group))
        decorated.sort(key=lambda pair: pair[0])  # in Python: the databases order NULLs and text differently
        return [group for _, group in decorated]

    def repeats(self, scope: Scope, by: Sequence[str], periods: Sequence[Between], minimum: int) -> list[Repeat]:
        """Groups of ``by`` (none of it blank) with at least ``minimum`` cases in the last of some
        consecutive periods, or cases in each of them: the database keeps only those, with their cases
        per period (an SKU's repeated problem, among thousands of SKU and reason pairs)."""
        table = self.store.table(scope.log)
        keys = [table.c[name] for name in by]
        inside = [self._condition(table, period) for period in periods]
        counts = [func.sum(case((within, 1), else_=0)) for within in inside]
        ids = [self._ids(case((within, table.c.case_id), else_=None)) for within in inside]
        span = Between(periods[0].field, periods[0].start, periods[-1].end)
        query = (
            select(*keys, *ids)
            .where(*self._where(table, scope), self._condition(table, span), *(k.is_not(None) for k in keys))
            .group_by(*keys)
            .having(or_(counts[-1] >= minimum, and_(*(c > 0 for c in counts))))
        )
        return [Repeat(tuple(row[: len(by)]), tuple(_split(i) for i in row[len(by) :])) for row in self._all(query)]

    def spans(self, scope: Scope, closed_on: str) -> list[Span]:
        """The date and closing date of each case in scope that has both (one period's closed cases)."""
        return [Span(c.case_id, c.opened, c.closed) for c in self.closings(scope, closed_on) if c.opened is not None]

    def closings(self, scope: Scope, closed_on: str) -> list[Closing]:
        """The closing date (and the case's own date, if any) of each case in scope that has one, by ID:
        the cases closed in a period and the period before, in one query on the closing date's index."""
        table = self.store.table(scope.log)
        date_field = self._date_field(scope.log)
        query = select(table.c.case_id, table.c[date_field], table.c[closed_on]).where(
            *self._where(table, scope), table.c[closed_on].is_not(None)
        )
        rows = self._all(query.order_by(table.c.case_id))
        return [Closing(r[0], None if r[1] is None else _as_date(r[1]), _as_date(r[2])) for r in rows]

    def rows(self, scope: Scope, fields: Sequence[str]) -> list[tuple[Any, ...]]:
        """The case ID and some columns of each case in scope, by ID: for one period's cases only."""
        table = self.store.table(scope.log)
        query = select(table.c.case_id, *(table.c[f] for f in fields)).where(*self._where(table, scope))
        return [tuple(r) for r in self._all(query.order_by(table.c.case_id))]

    # ------------------------------------------------------------------ SQL pieces

    def _date_field(self, log: str) -> str:
        schema = self.store.schemas[log]
        assert schema.id is not None and schema.id.year_from is not None
        return schema.id.year_from

    def _key(self, table: Table, key: Key, date_field: str) -> ColumnElement[Any]:
        if isinstance(key, str):
            return table.c[key]
        column = table.c[date_field]
        if isinstance(key, PeriodOf):
            return self._bucket(column, key.bucket)
        whens = [(column.is_(None), _LEFT_OUT), (column >= _bound(column, key.as_of + dt.timedelta(days=1)), _LEFT_OUT)]
        whens += [
            (column >= _bound(column, key.as_of - dt.timedelta(days=edge - 1)), index)
            for index, edge in enumerate(key.edges)
        ]
        return case(*whens, else_=len(key.edges))

    def _bucket(self, column: ColumnElement[Any], bucket: Bucket) -> ColumnElement[Any]:
        """The first day of the week (Monday, as ISO weeks start) or month of a date or time."""
        if self.dialect == "sqlite":
            if bucket is Bucket.WEEK:  # back 6 days, then forward to a Monday: the Monday on or before
                return func.date(column, "-6 days", "weekday 1")
            return func.date(column, "start of month")
        # On PostgreSQL a date is first made a timestamp without time zone: no session zone moves it.
        return cast(func.date_trunc(bucket.value, cast(column, TIMESTAMP())), Date)

    def _ids(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return func.group_concat(column, ",")
        return func.string_agg(column, literal(","))

    def _where(self, table: Table, scope: Scope) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            table.c._missing_since.is_not(None) if scope.missing else table.c._missing_since.is_(None)
        ]
        if scope.source is not None:
            clauses.append(table.c._source == scope.source)
        for condition in scope.conditions:
            clauses.append(self._condition(table, condition))
        return clauses

    def _condition(self, table: Table, condition: Condition) -> ColumnElement[bool]:
        if isinstance(condition, Between):
            column = table.c[condition.field]
            return and_(column >= _bound(column, condition.start), column < _bound(column, condition.end))
        if isinstance(condition, In):
            column = table.c[condition.field]
            if not condition.negate:
                return column.in_(sorted(condition.values))
            # Any other value as ranges between the values left out: both databases read ranges off
            # the field's index (open cases of all time), where NOT IN would read every case.
            values = sorted(condition.values)
            if not values:
                return literal(True)
            between = [and_(column > low, column < high) for low, high in zip(values, values[1:], strict=False)]
            return or_(column.is_(None), column < values[0], *between, column > values[-1])
        if condition.name == "incomplete":
            return table.c._incomplete.is_(True) if self.dialect == "postgresql" else table.c._incomplete == 1
        if condition.name == "has_issues":
            notes = cast(table.c._issues, Text)
            return and_(table.c._issues.is_not(None), notes != "[]", notes != "null")
        if condition.name.startswith("undated:"):
            return table.c[condition.name.split(":", 1)[1]].is_(None)
        raise ValueError(f"unknown condition {condition.name!r}")

    @staticmethod
    def _converter(key: Key) -> Callable[[Any], Any] | None:
        """How a group key's value comes back: a period's first day as a date (each converted once),
        an age bucket as its index, a field as it is."""
        if isinstance(key, PeriodOf):
            return functools.cache(_as_date)
        if isinstance(key, AgeOf):
            return int
        return None


def _bound(column: ColumnElement[Any], day: dt.date) -> dt.date | dt.datetime:
    """A day as the column compares it: a date for a date column, its midnight for a date-time one."""
    if isinstance(column.type, Date):
        return day
    return dt.datetime.combine(day, dt.time())


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _split(ids: str | None) -> tuple[str, ...]:
    return tuple(sorted(ids.split(","))) if ids else ()
