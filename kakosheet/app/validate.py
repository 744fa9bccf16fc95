"""`kakosheet validate`: read a source and report every issue, changing nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kakosheet.app.configured import open_configured_source, open_store
from kakosheet.app.find_tabs import find_tabs
from kakosheet.app.progress import SILENT, Progress
from kakosheet.core.cells import CellContext
from kakosheet.core.issues import Report
from kakosheet.core.plural import counted
from kakosheet.errors import KakosheetError

if TYPE_CHECKING:
    from kakosheet.app.read import ReadResult
    from kakosheet.config import Config
    from kakosheet.core.schema import SchemaSet
    from kakosheet.core.validate import KnownIds
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store

_SQLITE_FILE = "sqlite:///"


def validate_source(
    config: Config, source: str | None = None, *, today: dt.date | None = None, progress: Progress = SILENT
) -> Report:
    """Every issue of every configured log and reference tab in the source."""
    schemas = config.load_schemas()
    opened = open_configured_source(config, source)
    opened.read_ahead(find_tabs(opened, schemas, config.logs, config.archives, by_header=False).sheets)
    store = _store_of(config, schemas)  # opened while the tabs are read
    try:
        known = _stored_ids(store, opened) if store is not None else None
        _, report = read_and_validate(config, schemas, opened, today=today, progress=progress, known_ids=known)
    finally:
        if store is not None:
            store.close()  # its connections closed: SQLite's log checkpointed and removed, nothing left
    return report


def known_ids_of(store: Store, source: str) -> KnownIds:
    """Which IDs the store holds for a source (asked only of IDs that do not fit the ID format)."""
    return lambda log, ids: store.known_ids(log, source, ids)


def _store_of(config: Config, schemas: SchemaSet) -> Store | None:
    """The team's store, to judge IDs as a sync does; None without one (validate checks a sheet on
    its own too, and never creates a store)."""
    if _no_store_file(config):
        return None
    try:
        return open_store(config, schemas, create=False)
    except KakosheetError:
        return None


def _stored_ids(store: Store, opened: Source) -> KnownIds | None:
    """The store's IDs of this source; None before the first sync."""
    try:
        if not store.has_tables():
            return None
        key = opened.identity or store.source_at(opened.location) or opened.location
    except KakosheetError:
        return None
    return known_ids_of(store, key)


def _no_store_file(config: Config) -> bool:
    """Whether the store is a plain SQLite file that is not there: nothing to ask, and validate of a
    sheet on its own does not load the database layer (SQLAlchemy: 0.15 s of a 0.7 s read)."""
    url = config.store or f"{_SQLITE_FILE}kakosheet.db"
    database = url.removeprefix(_SQLITE_FILE)
    if database == url or not database or database == ":memory:" or any(c in database for c in "?%#"):
        return False  # any other URL, or one SQLAlchemy would read differently: open it and see
    path = Path(database)
    return not (path if path.is_absolute() else config.root / path).exists()


def read_and_validate(
    config: Config,
    schemas: SchemaSet,
    opened: Source,
    *,
    today: dt.date | None = None,
    progress: Progress = SILENT,
    known_ids: KnownIds | None = None,
) -> tuple[ReadResult, Report]:
    """Read the logs and reference tabs of a source and check them all (``known_ids``: the IDs
    the store holds for it, which are its cases' own whatever the ID format says now)."""
    # What types and checks cells (pandas, numpy) loads here, while the source reads its tabs ahead.
    from kakosheet.app.read import read_source
    from kakosheet.core.references import ReferenceIndex
    from kakosheet.core.validate import validate_table

    today = today or config.today()
    ctx = CellContext(
        date_order=config.date_order,
        date1904=opened.date1904,
        today=today,
        timezone=ZoneInfo(config.timezone),
        number_symbols=opened.number_symbols,
    )
    progress.stage(f"reading {opened.name}")
    read = read_source(opened, schemas, config.logs, ctx, config.archives)
    progress.stage(f"validating {counted(sum(len(t) for t in read.all_tables()), 'row')}")
    report = Report()
    report.extend(read.issues)
    references = ReferenceIndex({name: t for name, t in read.tables.items() if t.schema.kind == "reference"})
    for name, table in read.tables.items():
        report.extend(validate_table(table, today=today, references=references, known_ids=known_ids))
        report.rows_read[name] = len(table)
        report.sheets_read[name] = table.sheet
    for name, tables in read.archives.items():
        for table in tables:
            report.extend(validate_table(table, today=today, references=references, known_ids=known_ids))
            report.rows_read[f"{name}@{table.sheet}"] = len(table)
            report.sheets_read[f"{name}@{table.sheet}"] = table.sheet
    return read, report
