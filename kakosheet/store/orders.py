"""The reference rows the store keeps — orders (for after-sales rates) and vendors (to know a party
by its name) — upserted by their key, and the orders of each party in a period.

An order is every row of its Order ID (an order may have several lines): importing it again
replaces its lines when any of them changed and leaves it untouched when none did. Rows come
from a workbook's reference tab (sync) or a file (`kakosheet import orders`) alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, DateTime, Index, Integer, MetaData, String, Table, func, select

from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.store.tables import COLUMN_TYPES

if TYPE_CHECKING:
    from kakosheet.store.store import Store

KEPT = ("orders", "vendors")  # the reference tabs the store keeps, under their log's name
CHUNK = 5000
UPSERT_LOCK = 0x6B6F7264  # advisory lock key: two imports of one order never interleave on PostgreSQL


@dataclass(frozen=True)
class ReferenceRow:
    """One valid row of a reference tab: its key, its typed values by field, and where it was read."""

    key: str
    values: Mapping[str, Any]
    row: int  # the row number a person sees in the tab or file


@dataclass(frozen=True)
class Upserted:
    """What an upsert did, counted in keys (orders, vendors), not rows."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0


def kept_schemas(schemas: SchemaSet) -> list[LogSchema]:
    """The team's reference schemas the store keeps (a team may have dropped one)."""
    return [schemas[name] for name in KEPT if name in schemas.logs and schemas[name].key is not None]


def reference_tables(metadata: MetaData, schemas: SchemaSet) -> None:
    """Add the kept reference tables to the store's tables: every schema field, the row's line
    within its key, which source or file it came from and when, and a digest of its key's rows."""
    for schema in kept_schemas(schemas):
        key = schema.key
        assert key is not None
        columns: list[Column[Any]] = [
            Column(key, COLUMN_TYPES[schema.column(key).type](), primary_key=True),
            Column("_line", Integer(), primary_key=True, autoincrement=False),
        ]
        columns += [Column(c.field, COLUMN_TYPES[c.type](), nullable=True) for c in schema.columns if c.field != key]
        columns += [
            Column("_source", String(512), nullable=False),  # a workbook's identity, or the imported file
            Column("_imported_at", DateTime(), nullable=False),  # naive UTC, as sync runs are stamped
            Column("_digest", String(40), nullable=False),  # of all the key's rows: unchanged ones stay untouched
        ]
        indexes = [Index(f"ix_{schema.name}_{c.field}", c.field) for c in schema.columns if c.type == "date"]
        Table(schema.name, metadata, *columns, *indexes)


def upsert_rows(
    store: Store,
    schema: LogSchema,
    rows: Sequence[ReferenceRow],
    *,
    source: str,
    at: dt.datetime,
    fields: Sequence[str] | None = None,
) -> Upserted:
    """Store the rows of a reference tab by key, in one transaction: new keys inserted, changed
    ones replaced whole, unchanged ones left as they are (their source and time too).

    ``fields`` are the columns the tab or file has (default: all): a key is unchanged when its
    rows hold the same values in those, so a file without the Incoterm column leaves the stored
    Incoterm of the orders it does not change."""
    table = store.metadata.tables[schema.name]
    by_key: dict[str, list[ReferenceRow]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    every = [c.field for c in schema.columns]
    compared = [f for f in every if fields is None or f in fields]
    seen = {key: _digest(compared, lines) for key, lines in by_key.items()}
    key_column = table.c[_key(schema)]
    with store.changes() as connection:
        if store.dialect == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(UPSERT_LOCK)))
        if compared == every:
            stored = _stored_digests(connection, table, schema, list(seen))
        else:
            before = _stored_lines(connection, table, schema, every, list(seen))
            stored = {key: _digest(compared, lines) for key, lines in before.items()}
            for key, lines in by_key.items():  # a column the file lacks keeps what the store holds for it
                if key in before and stored[key] != seen[key]:
                    by_key[key] = _carried(lines, before[key], every, compared)
        new = [key for key in seen if key not in stored]
        changed = [key for key in seen if key in stored and stored[key] != seen[key]]
        digests = {key: seen[key] if compared == every else _digest(every, by_key[key]) for key in [*new, *changed]}
        for chunk in _chunks(changed):
            connection.execute(table.delete().where(key_column.in_(chunk)))
        inserts = [
            {
                **{f: line.values.get(f) for f in every},
                "_line": number,
                "_source": source,
                "_imported_at": at,
                "_digest": digests[key],
            }
            for key in [*new, *changed]
            for number, line in enumerate(by_key[key], start=1)
        ]
        for start in range(0, len(inserts), CHUNK):
            connection.execute(table.insert(), inserts[start : start + CHUNK])
    return Upserted(imported=len(new), updated=len(changed), unchanged=len(seen) - len(new) - len(changed))


def _stored_digests(connection: Connection, table: Table, schema: LogSchema, keys: list[str]) -> dict[str, str]:
    key_column = table.c[_key(schema)]
    found: dict[str, str] = {}
    for chunk in _chunks(keys):
        query = select(key_column, table.c._digest).where(key_column.in_(chunk), table.c._line == 1)
        found.update({row[0]: row[1] for row in connection.execute(query)})
    return found


def _stored_lines(
    connection: Connection, table: Table, schema: LogSchema, fields: list[str], keys: list[str]
) -> dict[str, list[ReferenceRow]]:
    """The stored rows of some keys, in their line order."""
    key_column = table.c[_key(schema)]
    lines: dict[str, list[ReferenceRow]] = {}
    for chunk in _chunks(keys):
        query = select(key_column, *(table.c[f] for f in fields)).where(key_column.in_(chunk))
        for row in connection.execute(query.order_by(key_column, table.c._line)):
            lines.setdefault(row[0], []).append(ReferenceRow(row[0], dict(zip(fields, row[1:], strict=True)), 0))
    return lines


def _carried(
    lines: Sequence[ReferenceRow], before: Sequence[ReferenceRow], every: Sequence[str], read: Sequence[str]
) -> list[ReferenceRow]:
    """New rows of a key with the fields not read taken from the stored row at the same line."""
    carried = []
    for number, line in enumerate(lines):
        old = before[number].values if number < len(before) else {}
        values = {f: line.values.get(f) if f in read else old.get(f) for f in every}
        carried.append(ReferenceRow(line.key, values, line.row))
    return carried


def _digest(fields: Sequence[str], lines: Sequence[ReferenceRow]) -> str:
    """One key's rows as a digest, whatever their order in the tab (a re-sorted file changes nothing)."""
    texts = [repr([_plain(line.values.get(f)) for f in fields]) for line in lines]
    if len(texts) > 1:
        texts.sort()
    return hashlib.sha1("\n".join(texts).encode()).hexdigest()


_PLAIN = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)  # Decimal as typed: 12.50 and 12.5 are different text, the same amount


def _key(schema: LogSchema) -> str:
    assert schema.key is not None  # kept_schemas holds only schemas with a key
    return schema.key


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


# ---------------------------------------------------------------------- reading


def fold(name: str) -> str:
    """A party's name or code as compared: case and spacing ignored ("acme  gmbh" is "ACME GmbH"), the
    Turkish capital İ too ("İZMİR" is "İzmir" is "IZMIR": casefold alone makes İ an i with a dot mark)."""
    return " ".join(name.split()).casefold().replace("i\u0307", "i")


class PartyOrders(Mapping[str, int]):
    """Orders per party, looked up by what a case names the party: its Vendor ID, or its Name on the
    Vendors tab (case and spacing ignored). A code wins over a name; a name two vendors share
    matches neither. Iterates over the Vendor IDs that have orders."""

    def __init__(self, by_vendor: Mapping[str, int], names: Mapping[str, str]) -> None:
        self._by_code: dict[str, int] = {}
        self._ids: dict[str, str] = {}
        for vendor, count in by_vendor.items():
            folded = fold(vendor)
            self._by_code[folded] = self._by_code.get(folded, 0) + count
            self._ids.setdefault(folded, vendor)
        named: dict[str, set[str]] = {}
        for vendor, name in names.items():
            named.setdefault(fold(name), set()).add(fold(vendor))
        self._by_name = {name: codes.pop() for name, codes in named.items() if len(codes) == 1}

    def vendor_of(self, party: str) -> str | None:
        """The Vendor ID whose orders a party's are (one vendor named two ways is one party), if any."""
        folded = fold(party)
        code = folded if folded in self._by_code else self._by_name.get(folded)
        return self._ids.get(code) if code is not None else None

    def __getitem__(self, party: str) -> int:
        vendor = self.vendor_of(party)
        if vendor is None:
            raise KeyError(party)
        return self._by_code[fold(vendor)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids.values())

    def __len__(self) -> int:
        return len(self._by_code)


def party_orders(store: Store, start: dt.date, end: dt.date) -> PartyOrders:
    """The orders dated in [start, end) per party (Order Date is a local date, as the tab holds it):
    distinct Order IDs per Vendor ID counted in SQL; empty when the store keeps no orders."""
    schemas = store.schemas
    if "orders" not in schemas.logs or "orders" not in store.metadata.tables:
        return PartyOrders({}, {})
    orders = store.metadata.tables["orders"]
    needed = {"order_id", "vendor_id", "order_date"}
    if not needed <= set(orders.c.keys()):
        return PartyOrders({}, {})
    by_vendor: dict[str, int] = {}
    query = (
        select(orders.c.vendor_id, func.count(orders.c.order_id.distinct()))
        .where(orders.c.order_date >= start, orders.c.order_date < end, orders.c.vendor_id.is_not(None))
        .group_by(orders.c.vendor_id)
    )
    names: dict[str, str] = {}
    with store.engine.connect() as connection:
        by_vendor = {vendor: int(count) for vendor, count in connection.execute(query)}
        vendors = store.metadata.tables.get("vendors")
        if by_vendor and vendors is not None and {"vendor_id", "name"} <= set(vendors.c.keys()):
            rows = connection.execute(
                select(vendors.c.vendor_id, vendors.c.name).where(vendors.c.name.is_not(None), vendors.c._line == 1)
            )
            names = {vendor: name for vendor, name in rows}
    return PartyOrders(by_vendor, names)
