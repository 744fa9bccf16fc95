"""The canonical store: SQLAlchemy Core over SQLite (default) or PostgreSQL, one code path.

It keeps the current version of every case, an append-only history of every version, the
ID sequences and a log of sync runs. Nothing here knows about sheets.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, literal, null, select, update
from sqlalchemy import case as case_when
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    PendingRollbackError,
    SQLAlchemyError,
)

from kakosheet.core.case_ids import IdProblem
from kakosheet.core.derived import derived_fields
from kakosheet.core.schema import SchemaSet
from kakosheet.errors import KakosheetError, SourceBusyError, StoreError, UsageError
from kakosheet.store.bulk import driver_rows
from kakosheet.store.migrate import migrate
from kakosheet.store.minor import fill_minor_units
from kakosheet.store.orders import reference_tables
from kakosheet.store.tables import build_metadata, case_fields, case_table_name

if TYPE_CHECKING:  # the planner's model pulls in pandas: a report, which never plans, does without it
    from kakosheet.core.plan import StoredCases, StoredState

CHUNK = 5000
PREPARE_LOCK = 0x6B616B6F  # advisory lock key held while tables are created or altered
SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # another connection holds the file, or a table of it
SQLITE_FULL = 13  # "database or disk is full": the disk (or a quota, a file size limit) has no room
SQLITE_IOERR = 10  # "disk I/O error": how SQLite tells most writes refused past a file size limit (EFBIG)


@dataclass(frozen=True)
class HistoryEvent:
    log: str
    case_id: str
    version: int
    run_id: int
    source: str
    recorded_at: dt.datetime
    event: str
    changes: dict[str, list[Any]]


def safe_url(url: str) -> str:
    """The URL as messages may show it: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid store URL>"


def resolve_url(url: str | None, root: Path) -> str:
    """The store URL, with a relative SQLite path taken relative to the team folder."""
    url = url or "sqlite:///kakosheet.db"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(f"store: {safe_url(url)!r} is not a database URL (e.g. sqlite:///kakosheet.db)") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise UsageError(
            "store: an SQLite database in memory (sqlite://) keeps nothing once the command ends; "
            "name a file (sqlite:///kakosheet.db) or a server (postgresql://...)"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        if not path.is_absolute():
            return parsed.set(database=str(root / path)).render_as_string(hide_password=False)
    return url


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite store URL; None for another database (or one in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class Store:
    """One store for a team's schemas."""

    def __init__(self, url: str, schemas: SchemaSet, *, create: bool = True) -> None:
        self.url = url
        self.schemas = schemas
        # Without `create`, a SQLite file that is not there yet is read as an empty store
        # (in memory) rather than made: a command that changes nothing creates nothing.
        self.exists = create or not _missing_sqlite_file(url)
        # A SQLite file this user may only read (a manager's view of the team folder): a command that
        # writes is refused before it starts; one that reads opens it read-only (read_only_url).
        database = sqlite_file(url) if self.exists and not _missing_sqlite_file(url) else None
        self.read_only = database is not None and not _writable(database)
        # A SQLite file this command makes is written through a rollback journal until it is closed:
        # its first sync then writes each page once, where WAL writes it to the log and then copies
        # it into the file (a seventh of a 100k-row first sync). Every later opening makes it WAL.
        self._journal = "DELETE" if create and _missing_sqlite_file(url) else "WAL"
        if self.read_only and create:
            assert database is not None
            raise StoreError(
                f"the store {safe_url(url)} cannot be written: {database.name} or its folder is read-only for this "
                f"user, and this command records in it. Run it as the user the store belongs to, or let this user "
                f"write to {database.name} and its folder (SQLite writes {database.name}-wal and -shm beside it); "
                "`kakosheet sync --dry-run`, `history` and `report` only read it"
            )
        self.engine = self._connect(url if self.exists else "sqlite://", read_only=database if self.read_only else None)
        self.dialect = self.engine.dialect.name
        self.metadata = build_metadata(schemas, (self.dialect,))
        reference_tables(self.metadata, schemas)  # orders and vendors, for after-sales rates (store/orders.py)

    @property
    def display_url(self) -> str:
        return safe_url(self.url)

    def close(self) -> None:
        """Close the store's connections (SQLite checkpoints its log into the file and removes it):
        a scheduled job opens a new one for each run. A SQLite file this command made is left in
        WAL, as every command that opens it later wants it (readers alongside a writer)."""
        if self._journal != "WAL":
            try:
                connection = self.engine.raw_connection()  # outside any transaction, where the mode can change
                try:
                    connection.cursor().execute("PRAGMA journal_mode=WAL")
                finally:
                    connection.close()
            except (SQLAlchemyError, sqlite3.Error):
                pass  # busy or gone: the next command's connection makes it WAL
        self.engine.dispose()

    def _connect(self, url: str, *, read_only: Path | None = None) -> Engine:
        try:
            backend = make_url(url).get_backend_name()
            if backend == "sqlite":
                opened = url if read_only is None else read_only_url(read_only)
                engine = create_engine(opened, connect_args={"timeout": 30}, json_serializer=to_json)
                _sqlite_pragmas(engine, read_only=read_only is not None, journal=self._journal)
            elif backend == "postgresql":
                engine = create_engine(url, pool_pre_ping=True, json_serializer=to_json)
            else:
                raise UsageError(f"store: {backend!r} databases are not supported; use sqlite:/// or postgresql://")
            with engine.connect():
                pass
            return engine
        except (NoSuchModuleError, ArgumentError) as exc:
            raise UsageError(f"store: cannot use {safe_url(url)} ({type(exc).__name__})") from exc
        except SQLAlchemyError as exc:
            raise StoreError(_unreachable(exc, url)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except (OperationalError, PendingRollbackError) as exc:
            if isinstance(exc, PendingRollbackError) and not connection_lost(exc):
                raise  # a transaction misused, not a store that went away: a bug to see
            raise self.failure(exc) from exc

    def failure(self, exc: Exception) -> StoreError:
        """The error for a store that failed under a command: its connection lost (the server went
        away mid-run: a statement that saw it fail leaves its transaction only to be rolled back),
        or the database's own reason."""
        lost = _lost(exc)
        if lost is not None:
            return StoreError(
                f"the store {self.display_url} went away while kakosheet used it ({_reason(lost, self.url)}); "
                "nothing half-done was kept in it. Check that the database server is running, then run the "
                "command again: the next run finishes the job"
            )
        code = _sqlite_code(exc)
        if code in (SQLITE_FULL, SQLITE_IOERR):
            disk = "is full" if code == SQLITE_FULL else "may be full (or failing)"
            return StoreError(
                f"the store {self.display_url} cannot be written: the disk that holds it {disk} "
                f"({_reason(exc, self.url)}); nothing half-done was kept in it. Free some space on the disk (or raise "
                "the quota or file size limit), then run the command again: the next run finishes the job"
            )
        if self.read_only:
            return StoreError(
                f"the store {self.display_url} cannot be written: it is read-only for this user "
                f"({_reason(exc, self.url)})"
            )
        return StoreError(f"the store {self.display_url} failed: {_reason(exc, self.url)}")

    # ------------------------------------------------------------------ schema

    def prepare(self) -> list[str]:
        """Create missing tables and bring existing ones up to the schemas (store/migrate.py):
        columns added, staff text widened, columns whose type changed converted.

        Returns what was done, per column. Existing data is never dropped.
        """
        try:
            return self._prepare()
        except StoreError as exc:
            if not self.read_only:
                raise
            raise StoreError(
                f"{exc}: it was made by an older kakosheet and needs bringing up to date, which takes writing. "
                "Run `kakosheet sync` once as the user the store belongs to, then run this again"
            ) from exc

    def _prepare(self) -> list[str]:
        with self._transaction() as connection:
            if self.dialect == "postgresql":
                # Syncs starting at once would race to create the same tables.
                connection.execute(select(func.pg_advisory_xact_lock(PREPARE_LOCK)))
            self.metadata.create_all(connection)
            done = migrate(connection, self.metadata, self.schemas)
            for schema in self.schemas.case_logs:  # an older store, or a type changed: its amounts in minor units
                table = self.table(schema.name)
                prefix = f"{table.name}."
                columns = [entry[len(prefix) :] for entry in done if entry.startswith(prefix)]
                new = {entry.removesuffix(" added") for entry in columns if entry.endswith(" added")}
                converted = {entry.split(" converted to ")[0] for entry in columns if " converted to " in entry}
                fill_minor_units(connection, table, schema, new, converted=converted)
        return done

    def has_tables(self) -> bool:
        """Whether a sync ever prepared this store (a dry run does not create tables)."""
        try:
            with self.engine.connect() as connection:
                return inspect(connection).has_table("sync_runs")
        except SQLAlchemyError as exc:
            raise StoreError(_unreachable(exc, self.url)) from exc

    def table(self, log: str):  # type: ignore[no-untyped-def]
        return self.metadata.tables[case_table_name(log)]

    # ------------------------------------------------------------------ reading

    def stored_cases(self, log: str, source: str) -> StoredCases:
        """The planner's view of a source's cases: each case's summary (``core.plan.case_summary``, put
        together by the database; None for a case missing from the sheet), and the state of some cases
        when the planner asks (``_stored_states``).

        A re-sync reads the summary of every case of a big log and the state of the few rows that
        changed: two values per case as the driver gives them, not a state built for each."""
        from kakosheet.core.plan import StoredCases

        table = self.table(log)
        text = table.c._fingerprint + ":" + func.coalesce(table.c._match, "") + ":" + table.c._notes_digest
        summary = case_when((table.c._missing_since.is_(None), text), else_=null())
        with self._transaction() as connection:
            rows = driver_rows(connection, select(table.c.case_id, summary).where(table.c._source == source))
        return StoredCases(
            dict(rows),
            functools.partial(self._stored_states, log, source),
            functools.partial(self._foreign_ids, log, source),
        )

    def _stored_states(self, log: str, source: str, case_ids: list[str]) -> dict[str, StoredState]:
        """The state of some of a source's cases: prints, notes, the status when the log has transition
        rules, and the values of its derived columns (converted by their column types when the planner
        reads one: a row whose derived cell is blank)."""
        from kakosheet.core.plan import StoredState

        table = self.table(log)
        schema = self.schemas[log]
        transitions = schema.transitions
        derived = sorted(derived_fields(schema))
        columns = [table.c.case_id, table.c._fingerprint, table.c._missing_since, table.c._notes_digest]
        columns += [table.c._match, table.c[transitions.field] if transitions else literal(None)]
        columns += [table.c[f] for f in derived]
        rows: list[tuple[Any, ...]] = []
        with self._transaction() as connection:
            # By the IDs alone (the primary key), the source checked here: with it in the query, SQLite
            # reads every case of the source by its index to find a few.
            for start in range(0, len(case_ids), CHUNK):
                query = select(*columns, table.c._source).where(table.c.case_id.in_(case_ids[start : start + CHUNK]))
                rows += [row[:-1] for row in driver_rows(connection, query) if row[-1] == source]
        status = transitions and self._result_processor(table.c[transitions.field])
        if status:
            rows = [(*r[:5], None if r[5] is None else status(r[5]), *r[6:]) for r in rows]
        if not derived:
            return {r[0]: StoredState(r[1], r[2] is not None, r[3], r[5], r[4]) for r in rows}
        convert = _Conversions(tuple(derived), tuple(self._result_processor(table.c[f]) for f in derived))
        return {
            r[0]: StoredState(r[1], r[2] is not None, r[3], r[5], r[4], _StoredValues(r[6:], convert)) for r in rows
        }

    def _foreign_ids(self, log: str, source: str, case_ids: list[str]) -> dict[str, str]:
        """Of some IDs, those that are cases of another source (under any form of the ID) -> where that
        source was last seen (an identity means nothing to a person)."""
        owners = self.owners(log, case_ids)
        foreign = {case_id: owner for case_id, owner in owners.items() if owner != source}
        if foreign:
            seen = self.locations(foreign.values())
            foreign = {case_id: seen.get(owner, owner) for case_id, owner in foreign.items()}
        return foreign

    def _result_processor(self, column: Any) -> Callable[[Any], Any] | None:
        """How the driver's value of a column becomes what SQLAlchemy would give (None: as it is)."""
        dialect = self.engine.dialect
        processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).result_processor(dialect, None)
        return processor

    def known_ids(self, log: str, source: str, case_ids: Iterable[str]) -> set[str]:
        """Of some IDs, those the store holds for a source's cases of a log."""
        table = self.table(log)
        ids = sorted(set(case_ids))
        found: set[str] = set()
        with self._transaction() as connection:
            for start in range(0, len(ids), CHUNK):
                query = select(table.c.case_id).where(
                    table.c._source == source, table.c.case_id.in_(ids[start : start + CHUNK])
                )
                found.update(connection.execute(query).scalars())
        return found

    def owners(self, log: str, case_ids: Iterable[str]) -> dict[str, str]:
        """case ID -> the source it belongs to, for the IDs that are in the store at all, also
        under another form of the same ID (``QC-2023-001`` stored, ``QC-2023-0001`` asked)."""
        table = self.table(log)
        forms = self._stored_forms(log, case_ids)
        ids = list(forms)
        found: dict[str, str] = {}
        with self._transaction() as connection:
            for start in range(0, len(ids), CHUNK):
                query = select(table.c.case_id, table.c._source).where(table.c.case_id.in_(ids[start : start + CHUNK]))
                for row in connection.execute(query):
                    for asked in forms[row.case_id]:
                        found.setdefault(asked, row._source)
        return found

    def _stored_forms(self, log: str, case_ids: Iterable[str]) -> dict[str, list[str]]:
        """Each form a case with one of these IDs may be stored under -> the IDs asked for."""
        id_format = self.schemas[log].id
        if id_format is None:
            return {case_id: [case_id] for case_id in case_ids}
        return id_format.lookup_forms(case_ids)

    def case_values(self, log: str, case_ids: Sequence[str], *, connection: Connection) -> dict[str, dict[str, Any]]:
        """The stored rows of some cases, read inside the caller's transaction."""
        table = self.table(log)
        values: dict[str, dict[str, Any]] = {}
        for start in range(0, len(case_ids), CHUNK):
            query = select(table).where(table.c.case_id.in_(case_ids[start : start + CHUNK]))
            for row in connection.execute(query):
                values[row.case_id] = dict(row._mapping)
        return values

    def case_versions(self, log: str, case_ids: Sequence[str], *, connection: Connection) -> dict[str, int]:
        table = self.table(log)
        versions: dict[str, int] = {}
        for start in range(0, len(case_ids), CHUNK):
            query = select(table.c.case_id, table.c._version).where(
                table.c.case_id.in_(case_ids[start : start + CHUNK])
            )
            versions.update({row.case_id: row._version for row in connection.execute(query)})
        return versions

    def case(self, case_id: str) -> tuple[str, dict[str, Any]] | None:
        """The log and current stored row of a case, looked up by its ID's format (in any padding:
        ``QC-2026-00001`` finds ``QC-2026-0001``; the form typed first when an older version stored two)."""
        for schema in self.schemas.case_logs:
            parsed = schema.id.parse(case_id) if schema.id else None
            if schema.id is None or parsed is None or isinstance(parsed, IdProblem):
                continue
            table = self.table(schema.name)
            forms = schema.id.stored_forms(parsed, case_id)
            with self._transaction() as connection:
                rows = {r.case_id: r for r in connection.execute(select(table).where(table.c.case_id.in_(forms)))}
            row = rows.get(case_id) or next((rows[form] for form in forms if form in rows), None)
            if row is not None:
                return schema.name, dict(row._mapping)
        return None

    def history(self, case_id: str) -> list[HistoryEvent]:
        """Every event of a case, oldest first, the created one with the values the case was created with."""
        from kakosheet.store.first_version import with_first_version  # it needs to_json, defined here

        history = self.metadata.tables["case_history"]
        query = select(history).where(history.c.case_id == case_id).order_by(history.c.version, history.c.id)
        with self._transaction() as connection:
            events = [
                HistoryEvent(r.log, r.case_id, r.version, r.run_id, r.source, r.recorded_at, r.event, r.changes)
                for r in connection.execute(query)
            ]
            table = self.metadata.tables.get(case_table_name(events[0].log)) if events else None
            if table is None:  # a log no schema has any more: its events as they were stored
                return events
            row = connection.execute(select(table).where(table.c.case_id == case_id)).mappings().first()
        return with_first_version(events, dict(row or {}), case_fields(table))

    # ------------------------------------------------------------------ sources

    def source_location(self, source: str) -> str | None:
        """Where a source was last seen, None when the store never saw it."""
        sources = self.metadata.tables["sources"]
        with self._transaction() as connection:
            return connection.execute(select(sources.c.location).where(sources.c.source == source)).scalar()

    def source_at(self, location: str) -> str | None:
        """The source last seen at a location (a workbook that lost its identity is still it)."""
        sources = self.metadata.tables["sources"]
        with self._transaction() as connection:
            query = select(sources.c.source).where(sources.c.location == location).order_by(sources.c.seen_at.desc())
            return connection.execute(query).scalar()

    def locations(self, sources: Iterable[str]) -> dict[str, str]:
        """source -> where it was last seen, for the sources the store knows by identity."""
        table = self.metadata.tables["sources"]
        wanted = sorted(set(sources))
        with self._transaction() as connection:
            rows = connection.execute(select(table.c.source, table.c.location).where(table.c.source.in_(wanted)))
            return {row.source: row.location for row in rows}

    def record_source(self, source: str, location: str, *, at: dt.datetime) -> None:
        """Remember where a source is seen now."""
        sources = self.metadata.tables["sources"]
        with self._transaction() as connection:
            connection.execute(sources.delete().where(sources.c.source == source))
            connection.execute(sources.insert().values(source=source, location=location, seen_at=at))

    def files_cases(self, source: str) -> bool:
        """Whether any case is filed under the source (a store older than identities files them by path)."""
        with self._transaction() as connection:
            for schema in self.schemas.case_logs:
                table = self.table(schema.name)
                if connection.execute(select(table.c.case_id).where(table.c._source == source).limit(1)).first():
                    return True
        return False

    def refile_source(self, old: str, new: str) -> None:
        """File every case of ``old`` under ``new`` (a workbook that now carries its identity), at once."""
        with self._transaction() as connection:
            for schema in self.schemas.case_logs:
                table = self.table(schema.name)
                connection.execute(update(table).where(table.c._source == old).values(_source=new))
            states = self.metadata.tables["source_states"]  # both judged without these cases: stale
            connection.execute(states.delete().where(states.c.source.in_([old, new])))
            sources = self.metadata.tables["sources"]
            connection.execute(sources.delete().where(sources.c.source == old))

    # ------------------------------------------------------------------ IDs

    def reserve_numbers(self, log: str, year: int, count: int, *, past: int = 0) -> int:
        """Reserve ``count`` consecutive numbers of a log's year; returns the first.

        Committed on its own, before the IDs are written anywhere: a crash afterwards
        leaves a gap in the numbering, never a number used twice. ``past`` makes the
        sequence continue after an adopted ID.
        """
        sequences = self.metadata.tables["id_sequences"]
        insert: Callable[..., Any] = sqlite.insert
        if self.dialect == "postgresql":  # loaded with its engine: a SQLite store never imports the dialect
            from sqlalchemy.dialects import postgresql

            insert = postgresql.insert
        with self._transaction() as connection:
            connection.execute(insert(sequences).values(log=log, year=year, next_number=1).on_conflict_do_nothing())
            connection.execute(
                update(sequences)
                .where(sequences.c.log == log, sequences.c.year == year, sequences.c.next_number <= past)
                .values(next_number=past + 1)
            )
            end = connection.execute(
                update(sequences)
                .where(sequences.c.log == log, sequences.c.year == year)
                .values(next_number=sequences.c.next_number + count)
                .returning(sequences.c.next_number)
            ).scalar_one()
        return int(end) - count

    # ------------------------------------------------------------------ runs and changes

    def start_run(self, source: str, *, at: dt.datetime | None = None) -> int:
        """A new sync run, started ``at`` (naive UTC: the command's clock) or now."""
        runs = self.metadata.tables["sync_runs"]
        with self._transaction() as connection:
            result = connection.execute(
                runs.insert().values(source=source, started_at=at or utc_now(), status="running")
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(
        self, run_id: int, status: str, counts: Mapping[str, Any], connection: Connection | None = None
    ) -> None:
        runs = self.metadata.tables["sync_runs"]
        statement = (
            update(runs).where(runs.c.id == run_id).values(finished_at=utc_now(), status=status, counts=dict(counts))
        )
        if connection is not None:
            connection.execute(statement)
            return
        with self._transaction() as own:
            own.execute(statement)

    def source_state(self, source: str) -> tuple[str, int, dict[str, Any]] | None:
        """The digest, sync run and outcome the source's last completed sync recorded."""
        states = self.metadata.tables["source_states"]
        with self._transaction() as connection:
            row = connection.execute(
                select(states.c.digest, states.c.run_id, states.c.outcome).where(states.c.source == source)
            ).first()
        return (row.digest, row.run_id, row.outcome) if row else None

    def save_source_state(
        self, source: str, digest: str | None, run_id: int | None, outcome: Mapping[str, Any]
    ) -> None:
        """Record how a completed sync left the source (nothing, when it has no digest)."""
        if digest is None or run_id is None:
            return
        states = self.metadata.tables["source_states"]
        with self._transaction() as connection:
            connection.execute(states.delete().where(states.c.source == source))
            connection.execute(
                states.insert().values(source=source, digest=digest, run_id=run_id, outcome=dict(outcome))
            )

    def row_memo(self, source: str) -> tuple[int, str, dict[str, Any], bytes] | None:
        """The source's row memo (app/sync_memo.py): its sync run, context, tabs and digests."""
        memos = self.metadata.tables["row_memos"]
        with self._transaction() as connection:
            row = connection.execute(
                select(memos.c.run_id, memos.c.context, memos.c.tabs, memos.c.digests).where(memos.c.source == source)
            ).first()
        return (row.run_id, row.context, row.tabs, bytes(row.digests)) if row else None

    def save_row_memo(self, source: str, run_id: int, context: str, tabs: Mapping[str, Any], digests: bytes) -> None:
        memos = self.metadata.tables["row_memos"]
        with self._transaction() as connection:
            connection.execute(memos.delete().where(memos.c.source == source))
            connection.execute(
                memos.insert().values(source=source, run_id=run_id, context=context, tabs=dict(tabs), digests=digests)
            )

    def forget_row_memo(self, source: str) -> None:
        memos = self.metadata.tables["row_memos"]
        with self._transaction() as connection:
            connection.execute(memos.delete().where(memos.c.source == source))

    def runs_since(self, run_id: int) -> list[tuple[str, str]]:
        """The sync runs of any source after the given one: (source, status) of each, in order."""
        runs = self.metadata.tables["sync_runs"]
        with self._transaction() as connection:
            found = connection.execute(
                select(runs.c.source, runs.c.status).where(runs.c.id > run_id).order_by(runs.c.id)
            ).all()
        return [(row.source, row.status) for row in found]

    def forget_source_state(self, source: str) -> None:
        states = self.metadata.tables["source_states"]
        with self._transaction() as connection:
            connection.execute(states.delete().where(states.c.source == source))

    @contextmanager
    def changes(self) -> Iterator[Connection]:
        """One transaction for all the changes of a sync."""
        with self._transaction() as connection:
            yield connection

    # ------------------------------------------------------------------ locking

    @contextmanager
    def source_lock(self, source: str, *, scope: str = "sync") -> Iterator[None]:
        """Only one sync (or scheduled run: ``scope``) of a source at a time; the second is told, not queued."""
        name = source if scope == "sync" else f"{scope}:{source}"  # a sync's key is the one it always had
        key = int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)
        busy = SourceBusyError(f"another {scope} of {source} is running; wait for it to finish and run it again")
        if self.dialect == "postgresql":
            with self.engine.connect() as connection:
                if not connection.execute(select(func.pg_try_advisory_lock(key))).scalar_one():
                    raise busy
                try:
                    yield
                finally:
                    _unlock(connection, key)
            return
        database = make_url(self.url).database
        folder = Path(database).parent if database and database != ":memory:" else _runtime_dir()
        with _file_lock(folder / f".kakosheet-{key & 0xFFFFFFFF:08x}.lock", busy):
            yield


class _Conversions:
    """The derived fields of a log and how each column's stored value becomes a Python value."""

    def __init__(self, fields: tuple[str, ...], processors: tuple[Callable[[Any], Any] | None, ...]) -> None:
        self.fields = fields
        self.index = {f: i for i, f in enumerate(fields)}
        self.processors = processors


class _StoredValues(Mapping[str, Any]):
    """One stored case's derived values, each converted when read."""

    __slots__ = ("_convert", "_raw")

    def __init__(self, raw: tuple[Any, ...], convert: _Conversions) -> None:
        self._raw = raw
        self._convert = convert

    def __getitem__(self, field_name: str) -> Any:
        index = self._convert.index[field_name]
        value, processor = self._raw[index], self._convert.processors[index]
        return value if value is None or processor is None else processor(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._convert.fields)

    def __len__(self) -> int:
        return len(self._convert.fields)


@contextmanager
def _file_lock(path: Path, busy: KakosheetError) -> Iterator[None]:
    """An exclusive lock on a file that is removed when released.

    The kernel drops the lock when its holder dies, so a file a killed run left behind is
    simply taken over. The file is removed while still locked; whoever opened it meanwhile
    finds, once it holds the lock, that the path no longer names its file, and starts over.
    """
    while True:
        handle = path.open("a")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise busy from exc
            try:
                current = path.stat()
            except FileNotFoundError:
                continue  # removed by the holder we waited for: lock a fresh file
            if current.st_ino != os.fstat(handle.fileno()).st_ino:
                continue
            try:
                yield
            finally:
                path.unlink(missing_ok=True)
            return
        finally:
            handle.close()  # closing releases the lock


def _runtime_dir() -> Path:
    """Where locks of a store without a folder (in memory) go: the user's runtime folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    return folder


def _missing_sqlite_file(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    database = parsed.database
    return (
        parsed.get_backend_name() == "sqlite"
        and bool(database)
        and database != ":memory:"
        and not Path(str(database)).exists()
    )


def to_json(value: Any) -> str:
    """JSON columns hold money and dates as text (12.50, 2026-03-02), never as floats."""
    return json.dumps(value, default=str, ensure_ascii=False)


def _writable(database: Path) -> bool:
    """Whether this user may write a SQLite file: the file itself, and beside it the -wal and -shm its
    WAL journal needs (made in its folder, unless they are there and writable). os.access, not the
    mode bits: it also answers for root, whom an immutable file (chattr +i) or a read-only mount stops."""
    if not os.access(database, os.W_OK):
        return False
    if os.access(database.parent, os.W_OK | os.X_OK):
        return True
    beside = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]
    return all(os.access(path, os.W_OK) for path in beside)


def read_only_url(database: Path) -> URL:
    """The URL that opens a SQLite file this user may not write, read-only (SQLite's own URI modes).

    A WAL database read with ``mode=ro`` needs its -shm (the index of the -wal) beside it, made
    by the reader if missing: the way to read while a sync writes, and to read what a -wal holds
    that is not yet in the file. When neither is there (no connection open, every change in the
    file: how a sync leaves the store), ``immutable=1`` reads the file alone and makes nothing:
    in a folder this user may not write, ``mode=ro`` could not open it at all, and elsewhere it
    would leave a -shm and -wal owned by this user that the sync's own user may not write.
    """
    shm, wal = (database.with_name(database.name + suffix) for suffix in ("-shm", "-wal"))
    journal = database.with_name(database.name + "-journal")  # a store's first sync, under way or cut short
    pending = shm.exists() or (wal.exists() and wal.stat().st_size > 0) or journal.exists()
    query = {"mode": "ro", "uri": "true"} if pending else {"mode": "ro", "immutable": "1", "uri": "true"}
    return URL.create("sqlite", database="file:" + quote(str(database)), query=query)


_AS_NULL = cast("Callable[[None], None]", {}.get)  # None for whatever it is given, in C (a lambda is a Python call)


def _sqlite_pragmas(engine: Engine, *, read_only: bool = False, journal: str = "WAL") -> None:
    """WAL (or ``journal``) and a busy timeout for concurrent readers; BEGIN IMMEDIATE so writers
    queue, not fail. A file opened read-only keeps the journal it has and takes no write lock."""
    # The driver binds a None through its adapters' protocol (two attribute lookups, four times a
    # text's cost), unless an adapter is registered for it: one that gives None back, in C. A first
    # sync binds half a million of them (the blank cells), a sixth of its inserts' time.
    sqlite3.register_adapter(type(None), _AS_NULL)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:
            try:
                cursor.execute(f"PRAGMA journal_mode={journal}")
            except sqlite3.OperationalError as exc:
                # Another process holds the file (first syncs of two workbooks into a new store): changing
                # the journal needs it alone. This connection works with the journal the file has; a later
                # one changes it.
                if getattr(exc, "sqlite_errorcode", None) not in (SQLITE_BUSY, SQLITE_LOCKED):
                    raise
        cursor.execute("PRAGMA busy_timeout=30000")
        if not read_only:
            # NORMAL keeps a WAL file whole through a power cut; under the rollback journal only FULL does.
            cursor.execute(f"PRAGMA synchronous={'NORMAL' if journal == 'WAL' else 'FULL'}")
            # The log is copied into the file (and synced to disk) when the store is closed, as at the
            # end of every command: not also after each commit past SQLite's default of 1,000 pages,
            # which a re-sync's few transactions pass twice over (each copy syncs the disk again).
            cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A report's reads (store/reads.py): one snapshot, no write lock.
        reads = read_only or connection.get_execution_options().get("kakosheet_read_only")
        connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


def _unlock(connection: Connection, key: int) -> None:
    """Release an advisory lock; a connection the server dropped holds none any more (the session's
    locks went with it), and the error that ended the run is the one to tell."""
    try:
        connection.execute(select(func.pg_advisory_unlock(key)))
        connection.commit()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` comes of the store's connection being lost (the server went away)."""
    return _lost(exc) is not None


def _lost(exc: BaseException) -> DBAPIError | None:
    """The driver's error of a lost connection behind ``exc`` (itself, or what it was raised from or
    during), if that is what it is."""
    seen: BaseException | None = exc
    looked: set[int] = set()
    while seen is not None and id(seen) not in looked:
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return seen
        looked.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def _unreachable(exc: SQLAlchemyError, url: str) -> str:
    """One sentence: which store, the driver's reason, and what to check."""
    if make_url(url).get_backend_name() == "sqlite":
        hint = "check that its folder exists and that you may write in it, or give another store with --store"
    else:
        hint = (
            "check that the database server is running and that the host, user, password and database "
            "in the store URL (--store or kakosheet.toml) are right"
        )
    return f"cannot reach the store {safe_url(url)} ({_reason(exc, url)}); {hint}"


def _sqlite_code(exc: Exception) -> int | None:
    """SQLite's primary result code behind a driver error (SQLITE_FULL...), if it is SQLite's."""
    code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _reason(exc: Exception, url: str) -> str:
    """The driver's own words, without the password even if the driver repeats it."""
    original = getattr(exc, "orig", None) or exc
    message = " ".join(str(original).split())[:300]
    password = make_url(url).password
    return message.replace(str(password), "***") if password else message


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
