"""Bringing an existing store up to the schemas on the next sync: columns a schema gained,
staff text unbounded, columns whose type a schema changed converted in place, and the indexes
added since the store was made.

A changed column keeps every value: those that fit the new type are converted (the text
"12.50" becomes the amount 12.50), the others are kept as typed in ``_raw``, exactly as a
sync stores a cell that does not fit its type. Nothing is dropped before it has been read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, MetaData, String, Table, bindparam, column, inspect, select, text, update
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import TypeEngine

from kakosheet.core.plural import counted
from kakosheet.core.schema import Column as SchemaColumn
from kakosheet.core.schema import SchemaSet
from kakosheet.store.tables import KINDS, case_table_name, stored_fields, stored_kinds


def migrate(connection: Connection, metadata: MetaData, schemas: SchemaSet) -> list[str]:
    """Add missing columns, widen text, convert changed types; returns what was done, per column."""
    done: list[str] = []
    inspector = inspect(connection)
    logs = {case_table_name(schema.name): schema for schema in schemas.case_logs}
    for table in metadata.sorted_tables:
        reflected = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
        for col in table.columns:
            old = reflected.get(col.name)
            if old is None:
                _add_column(connection, table, col.name)
                done.append(f"{table.name}.{col.name} added")
            elif _widens(connection, col.type, old):
                wider = col.type.compile(dialect=connection.dialect)
                connection.execute(text(f'ALTER TABLE "{table.name}" ALTER COLUMN "{col.name}" TYPE {wider}'))
                done.append(f"{table.name}.{col.name} widened to {wider}")
        schema = logs.get(table.name)
        if schema is None:
            continue
        for field in stored_fields(schema):
            old = reflected.get(field)
            if old is None:
                continue
            kinds = stored_kinds(old, connection.dialect.name)
            wanted = schema.column(field)
            if kinds and KINDS[wanted.type] not in kinds:
                converted = _convert_column(connection, table, wanted, old)
                kept = counted(converted, "value")
                done.append(f"{table.name}.{field} converted to {wanted.type} ({kept} kept as typed)")
    done += _add_indexes(connection, metadata)
    return done


def _add_indexes(connection: Connection, metadata: MetaData) -> list[str]:
    """Create the indexes a table lacks (one a column converted above lost goes too): what reports
    read by, added to a store made before the index was."""
    inspector = inspect(connection)
    done = []
    for table in metadata.sorted_tables:
        if not table.indexes:
            continue
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name not in present:
                index.create(connection)
                done.append(f"{table.name}: index {index.name} added")
    return done


def _add_column(connection: Connection, table: Table, name: str) -> None:
    column_sql = CreateColumn(table.c[name]).compile(dialect=connection.dialect)
    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN {column_sql}'))


def _widens(connection: Connection, wanted: TypeEngine[Any], old: TypeEngine[Any]) -> bool:
    """A VARCHAR(n) that is longer, or TEXT, now. Only PostgreSQL enforces lengths; SQLite never refuses."""
    if connection.dialect.name != "postgresql" or not isinstance(wanted, String) or not isinstance(old, String):
        return False
    if old.length is None:
        return False
    return wanted.length is None or wanted.length > old.length


def _convert_column(connection: Connection, table: Table, wanted: SchemaColumn, old: TypeEngine[Any]) -> int:
    """Re-type one column: read every value (and its as-typed text), drop and re-add the column
    with the new type, write back the values that fit; returns how many were kept as typed."""
    from kakosheet.core.cells import CellContext, display  # pandas: only when a column is converted, never for a report
    from kakosheet.core.columns import BLANK, normalize_column

    name = wanted.field
    rows = connection.execute(select(table.c.case_id, column(name, old), table.c._raw).select_from(table)).all()
    cells = [_cell(value, (raw or {}).get(name)) for _, value, raw in rows]
    typed = normalize_column(cells, wanted, CellContext())
    for index in table.indexes:  # SQLite drops no indexed column; _add_indexes makes the index again
        if name in index.columns:
            connection.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
    connection.execute(text(f'ALTER TABLE "{table.name}" DROP COLUMN "{name}"'))
    _add_column(connection, table, name)
    updates = []
    kept = 0
    for (case_id, _, raw), code in zip(rows, typed.codes.tolist(), strict=True):
        raw = dict(raw or {})
        had_raw = name in raw
        raw.pop(name, None)
        value = None
        if code != BLANK:
            if typed.problems[code] is None:
                value = typed.values[code]
            else:
                raw[name] = display(typed.raw[code])
                kept += 1
        if value is not None or had_raw or name in raw:
            updates.append({"key": case_id, "value": value, "raw": raw or None})
    if updates:
        statement = (
            update(table)
            .where(table.c.case_id == bindparam("key"))
            .values(
                {name: bindparam("value", type_=table.c[name].type), "_raw": bindparam("raw", type_=table.c._raw.type)}
            )
        )
        connection.execute(statement, updates)
    return kept


def _cell(value: Any, as_typed: str | None) -> Any:
    """A stored value as a cell the normalizers take: its text as typed when it did not fit before."""
    if value is None:
        return as_typed
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bool, int, dt.date, str)):
        return value
    return str(value)
