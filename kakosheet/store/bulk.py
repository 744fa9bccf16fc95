"""Inserting many rows at driver level: the statement compiled once, each column's values
converted by the dialect's own bind processor, and no per-row parameter processing.

SQLAlchemy's ``execute(insert, rows)`` looks up and applies every bind processor for every
row of every statement: for a first sync of 100k cases that was half of the store's time.
Here the same processors are applied by the caller, once per distinct value, and the rows
go to the driver's ``executemany`` as they are. SQLite and PostgreSQL share this path; only
the compiled SQL and the processors (the dialect's own) differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table

Processor = Callable[[Any], Any]


class BulkInsert:
    """An INSERT of some columns of a table, ready for rows of already-converted values."""

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        self.connection = connection
        self.columns = list(columns)
        dialect = connection.dialect
        compiled = table.insert().compile(dialect=dialect, column_keys=self.columns)
        self.sql = compiled.string
        positions = getattr(compiled, "positiontup", None) if compiled.positional else None
        if positions is not None and sorted(positions) != sorted(self.columns):
            raise AssertionError(f"unexpected bind names {positions} for {self.columns}")
        # Positional drivers (sqlite3) take tuples in the statement's order; named ones (psycopg) dicts.
        self.order = [self.columns.index(name) for name in positions] if positions is not None else None
        self.processors: dict[str, Processor | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.columns
        }

    def convert(self, column: str, values: Iterable[Any]) -> list[Any]:
        """Values of one column as the driver takes them (what SQLAlchemy would bind)."""
        process = self.processors[column]
        return list(values) if process is None else list(map(process, values))

    def execute(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert rows whose values are in ``columns`` order and already converted."""
        if not rows:
            return 0
        if self.order is None:
            params: list[Any] = [dict(zip(self.columns, row, strict=True)) for row in rows]
        elif self.order == list(range(len(self.columns))):
            params = list(rows)
        else:
            params = [tuple(row[i] for i in self.order) for row in rows]
        self.connection.exec_driver_sql(self.sql, params)
        return len(rows)


def driver_rows(connection: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a query as the driver gives them, in the caller's transaction: plain tuples,
    no value converted (the caller converts the few it needs, by the column types' processors).

    SQLAlchemy builds a Row and runs the result processors for every row: reading a log's 100k
    stored cases took twice as long through it."""
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})  # IN (...): one bind each
    params = compiled.construct_params()
    bound: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()
