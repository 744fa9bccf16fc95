"""Exact money in SQL: beside each money column, the amount in integer minor units of the row's
currency (``_minor_refund_amount`` = 1250 for 12.50 USD), so ``SUM`` is exact on SQLite too,
where the amount itself is text and would be summed as a float."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update

from kakosheet.core.codes import CURRENCIES, minor_units
from kakosheet.core.schema import LogSchema

PREFIX = "_minor_"
CURRENCY_FIELD = "currency"  # a log's money is in its `currency` column (core/schema.py)
_FILL_CHUNK = 5000


def minor_column(field: str) -> str:
    return PREFIX + field


def money_fields(schema: LogSchema) -> list[str]:
    """The money fields of a log that get minor units: all of them, when the log has a currency."""
    fields = [c.field for c in schema.columns]
    if CURRENCY_FIELD not in fields:
        return []
    return [c.field for c in schema.columns if c.type == "money"]


def to_minor(amount: Any, currency: Any) -> int | None:
    """The amount in minor units of its currency, rounded half-up; None when either is unusable."""
    return minor_units_in(currency, [amount])[0]


def minor_units_in(currency: Any, amounts: Iterable[Any]) -> list[int | None]:
    """Amounts of one currency in its minor units, rounded half-up as round_money rounds; None for
    an amount that is not a finite Decimal, and for all of them when the currency is unusable.
    One call per currency: a first sync converts a hundred thousand distinct amounts."""
    if not isinstance(currency, str) or currency not in CURRENCIES:
        return [None for _ in amounts]
    units = minor_units(currency)
    quantum = Decimal(1).scaleb(-units)
    return [
        int(amount.quantize(quantum, rounding=ROUND_HALF_UP).scaleb(units))
        if isinstance(amount, Decimal) and amount.is_finite()
        else None
        for amount in amounts
    ]


def minor_values(values: Mapping[str, Any], fields: list[str]) -> dict[str, int | None]:
    """The minor-unit columns of one row, from its stored values (the row-by-row definition)."""
    currency = values.get(CURRENCY_FIELD)
    return {minor_column(f): to_minor(values.get(f), currency) for f in fields}


def fill_minor_units(
    connection: Connection, table: Table, schema: LogSchema, added: set[str], *, converted: Iterable[str] = ()
) -> int:
    """Fill the minor-unit columns of an existing store (the migration): those just ``added``, and
    those of the amounts whose column was ``converted`` to another type (a money column that was
    text for a while kept the minor units of its old amounts; its currency converted: every amount's).
    Returns the rows updated."""
    converted = set(converted)
    money = money_fields(schema)
    stale = money if CURRENCY_FIELD in converted else [f for f in money if f in converted]
    if stale:  # what they held is of values since converted: none until filled again below
        connection.execute(update(table).values({minor_column(f): None for f in stale}))
    fields = [f for f in money if minor_column(f) in added or f in stale]
    if not fields:
        return 0
    amounts = [table.c[f] for f in fields]
    query = select(table.c.case_id, table.c[CURRENCY_FIELD], *amounts).where(table.c[CURRENCY_FIELD].is_not(None))
    statement = (
        update(table)
        .where(table.c.case_id == bindparam("key"))
        .values({minor_column(f): bindparam(f"minor_{i}") for i, f in enumerate(fields)})
    )
    updated = 0
    batch: list[dict[str, Any]] = []
    for row in connection.execute(query).all():
        values = dict(zip(fields, row[2:], strict=True))
        minor = minor_values({**values, CURRENCY_FIELD: row[1]}, fields)
        if any(v is not None for v in minor.values()):
            batch.append({"key": row[0], **{f"minor_{i}": minor[minor_column(f)] for i, f in enumerate(fields)}})
        if len(batch) >= _FILL_CHUNK:
            connection.execute(statement, batch)
            updated += len(batch)
            batch = []
    if batch:
        connection.execute(statement, batch)
        updated += len(batch)
    return updated
