"""The store's tables, generated from the schemas: one per log, plus history, sequences and runs."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy import types as sqltypes
from sqlalchemy.types import TypeEngine

from kakosheet.core.case_ids import ID_MAX_LENGTH
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.store.minor import minor_column, money_fields

DIALECTS = ("sqlite", "postgresql")  # the databases a store can be (store/store.py)


class ExactDecimal(TypeDecorator[Decimal]):
    """Money and rates, exactly as typed: NUMERIC without a fixed scale on PostgreSQL (12.50
    stays 12.50), text on SQLite, whose NUMERIC would round through a float."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


# Staff text of any kind is unbounded TEXT: a value of the wrong length (a 300-character order
# number, a currency typed as a word) is kept as typed, never refused by the database.
COLUMN_TYPES: dict[str, Any] = {
    "id": lambda: Text(),
    "text": lambda: Text(),
    "code": lambda: Text(),
    "enum": lambda: Text(),
    "date": lambda: Date(),
    "datetime": lambda: DateTime(),
    "money": lambda: ExactDecimal(),
    "number": lambda: ExactDecimal(),
    "percent": lambda: ExactDecimal(),
    "integer": lambda: BigInteger(),
    "email": lambda: Text(),
    "urls": lambda: Text(),
    "currency": lambda: Text(),
    "country": lambda: Text(),
    "bool": lambda: Boolean(),
}


class Kind(Enum):
    """How a column's values are held, whatever the schema type's name: what a type change must convert."""

    TEXT = "text"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    BOOL = "bool"


KINDS: dict[str, Kind] = {
    "id": Kind.TEXT,
    "text": Kind.TEXT,
    "code": Kind.TEXT,
    "enum": Kind.TEXT,
    "email": Kind.TEXT,
    "urls": Kind.TEXT,
    "currency": Kind.TEXT,
    "country": Kind.TEXT,
    "date": Kind.DATE,
    "datetime": Kind.DATETIME,
    "money": Kind.DECIMAL,
    "number": Kind.DECIMAL,
    "percent": Kind.DECIMAL,
    "integer": Kind.INTEGER,
    "bool": Kind.BOOL,
}


def stored_kinds(reflected: TypeEngine[Any], dialect: str) -> frozenset[Kind]:
    """The kinds a column the database reports may hold. SQLite keeps money as VARCHAR(64) (an
    older store also had ID references so: converting them to TEXT once keeps their values)."""
    if isinstance(reflected, String):  # VARCHAR, TEXT, CHAR
        if dialect == "sqlite" and reflected.length == 64:
            return frozenset({Kind.DECIMAL})
        return frozenset({Kind.TEXT})
    if isinstance(reflected, Numeric) and not isinstance(reflected, sqltypes.Float):
        return frozenset({Kind.DECIMAL})
    if isinstance(reflected, sqltypes.Integer):
        return frozenset({Kind.INTEGER})
    if isinstance(reflected, sqltypes.DateTime):
        return frozenset({Kind.DATETIME})
    if isinstance(reflected, sqltypes.Date):
        return frozenset({Kind.DATE})
    if isinstance(reflected, sqltypes.Boolean):
        return frozenset({Kind.BOOL})
    return frozenset()


def case_table_name(log: str) -> str:
    return f"case_{log}"


def stored_fields(schema: LogSchema) -> list[str]:
    """The schema fields a case table keeps: everything but the ID and kakosheet's Issues note."""
    id_field = schema.id.field if schema.id else None
    return [c.field for c in schema.columns if c.field not in (id_field, "issues")]


def case_fields(table: Table) -> list[str]:
    """The schema fields of a case table, in its column order: neither the ID nor kakosheet's own columns."""
    return [c.name for c in table.columns if c.name != "case_id" and not c.name.startswith("_")]


def case_table(metadata: MetaData, schema: LogSchema, dialects: tuple[str, ...] = DIALECTS) -> Table:
    """The current version of every case of one log."""
    columns: list[Column[Any]] = [Column("case_id", String(ID_MAX_LENGTH), primary_key=True)]
    for field in stored_fields(schema):
        columns.append(Column(field, COLUMN_TYPES[schema.column(field).type](), nullable=True))
    columns += [
        Column("_source", String(512), nullable=False),
        Column("_version", Integer(), nullable=False),
        Column("_fingerprint", String(40), nullable=False),
        Column("_match", String(16), nullable=True),  # the match print (core/plan.py); None in older stores
        Column("_incomplete", Boolean(), nullable=False),
        Column("_issues", JSON, nullable=True),  # short notes of what is wrong
        Column("_notes_digest", String(16), nullable=False, server_default=""),  # to tell if the notes changed
        Column("_raw", JSON, nullable=True),  # cells whose text did not fit the column's type
        Column("_missing_since", Integer(), nullable=True),  # the sync run that no longer found the row
        Column("_updated_run", Integer(), nullable=False),
    ]
    # Each amount in integer minor units of the row's currency, for exact sums (store/minor.py).
    columns += [Column(minor_column(f), BigInteger, nullable=True) for f in money_fields(schema)]
    name = case_table_name(schema.name)
    indexes = [Index(f"ix_{name}_source", "_source")]
    if schema.id and schema.id.year_from:  # the case's own date: reports read one period at a time
        indexes.append(Index(f"ix_{name}_date", schema.id.year_from))
    fields = set(stored_fields(schema))
    state, closed_on = REPORT_INDEXED.get(schema.name, (None, None))
    missing = text("_missing_since IS NOT NULL")
    if state in fields:
        # A report's open cases of all time: ranges of this index. One holding the date and ID too
        # would spare reading their rows (0.1 s of a 1M-case report) but cost a first sync of 100k
        # cases about 0.25 s more: the sync runs far more often.
        indexes.append(Index(f"ix_{name}_{state}", state))
    if closed_on in fields:
        indexes.append(Index(f"ix_{name}_{closed_on}", closed_on))
    # Only the cases missing from the sheet (a few): an index of every case's _missing_since, nearly
    # all NULL, would be picked by SQLite over the date's for the present cases of a period.
    # (Each dialect named here is imported to check its options: PostgreSQL's is 0.05 s of a SQLite sync.)
    where: dict[str, Any] = {f"{dialect}_where": missing for dialect in dialects}
    indexes.append(Index(f"ix_{name}_missing", "_missing_since", **where))
    return Table(name, metadata, *columns, *indexes)


# The fields reports select by besides the case's date, per log (reports/logs.py names them): the
# state a case is in, and the date it closed (None: the log keeps none).
REPORT_INDEXED: dict[str, tuple[str, str | None]] = {
    "qc": ("status", "closure_date"),
    "refunds": ("status", "completed_at"),
    "returns": ("status", None),
    "after_sales": ("stage", None),
}


def build_metadata(schemas: SchemaSet, dialects: tuple[str, ...] = DIALECTS) -> MetaData:
    """Every table of a store; ``dialects``: the databases its dialect-specific options are given for."""
    metadata = MetaData()
    for schema in schemas.case_logs:
        case_table(metadata, schema, dialects)
    Table(
        "case_history",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("log", String(64), nullable=False),
        Column("case_id", String(ID_MAX_LENGTH), nullable=False),
        Column("version", Integer, nullable=False),
        Column("run_id", Integer, nullable=False),
        Column("source", String(512), nullable=False),
        Column("recorded_at", DateTime, nullable=False),
        Column("event", String(16), nullable=False),  # created, changed, missing, returned
        Column("changes", JSON, nullable=False),  # field -> [before, after]
        Index("ix_case_history_case", "log", "case_id"),
    )
    Table(
        "id_sequences",
        metadata,
        Column("log", String(64), primary_key=True),
        Column("year", Integer, primary_key=True),
        Column("next_number", BigInteger, nullable=False),
    )
    Table(
        "sync_runs",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("source", String(512), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("finished_at", DateTime, nullable=True),
        Column("status", String(16), nullable=False),  # running, done, source-changed, write-failed
        Column("counts", JSON, nullable=True),
    )
    Table(
        "sources",  # every workbook or Google Sheet synced into the store: its identity, where it was last
        metadata,
        Column("source", String(512), primary_key=True),  # the identity its cases are filed under
        Column("location", Text, nullable=False),  # where it was last seen (a path, a sheet)
        Column("seen_at", DateTime, nullable=False),
    )
    Table(
        "report_publications",  # the figures of each report written, to tell what changed since
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(16), nullable=False),
        Column("period", String(16), nullable=False),
        Column("scope", String(1024), nullable=False),
        Column("published_at", DateTime, nullable=False),
        Column("format", String(16), nullable=False),
        Column("figures", JSON, nullable=False),
        Index("ix_report_publications_period", "kind", "period"),
    )
    Table(
        "source_states",  # each source as its last completed sync left it
        metadata,
        Column("source", String(512), primary_key=True),
        Column("digest", String(64), nullable=False),  # of the content and everything that judged it
        Column("run_id", Integer, nullable=False),
        Column("outcome", JSON, nullable=False),  # the counts and the open issues it ended with
    )
    Table(
        "row_memos",  # each source's log tabs, row by row, as its last completed sync left them (app/sync_memo.py)
        metadata,
        Column("source", String(512), primary_key=True),
        Column("run_id", Integer, nullable=False),
        Column("context", String(64), nullable=False),  # of what judged the rows beyond their cells
        Column("tabs", JSON, nullable=False),  # per tab: its header row, its rows and the ID each shows
        Column("digests", LargeBinary, nullable=False),  # each row's digest, in the order of "tabs"
    )
    return metadata
