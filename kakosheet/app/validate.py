"""`kakosheet validate`: read a source and report every issue, changing nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kakosheet.app.progress import SILENT, Progress
from kakosheet.app.read import ReadResult, read_source
from kakosheet.config import Config
from kakosheet.core.cells import CellContext
from kakosheet.core.issues import Report
from kakosheet.core.references import ReferenceIndex
from kakosheet.core.schema import SchemaSet
from kakosheet.core.validate import KnownIds, validate_table
from kakosheet.errors import KakosheetError, UsageError
from kakosheet.sources import open_source
from kakosheet.sources.base import Source
from kakosheet.sources.gsheet_spec import GoogleAccess
from kakosheet.store.store import Store, resolve_url


def resolve_source(config: Config, source: str | None) -> str:
    spec = source or config.source
    if not spec:
        raise UsageError(
            "no source given: pass a workbook (kakosheet validate master.xlsx) or set `source` in kakosheet.toml"
        )
    return spec


def open_configured_source(config: Config, source: str | None) -> Source:
    """The SOURCE argument, or the config's `source` (relative to the team folder)."""
    return open_source(
        resolve_source(config, source),
        base=config.root if source is None else None,
        google=google_access(config),
    )


def google_access(config: Config) -> GoogleAccess:
    """The Google credentials and API root: kakosheet.toml's, else the environment's."""
    return GoogleAccess.resolve(config.credentials, config.sheets_api_url)


def validate_source(
    config: Config, source: str | None = None, *, today: dt.date | None = None, progress: Progress = SILENT
) -> Report:
    """Every issue of every configured log and reference tab in the source."""
    schemas = config.load_schemas()
    opened = open_configured_source(config, source)
    known = _stored_ids(config, schemas, opened)
    _, report = read_and_validate(config, schemas, opened, today=today, progress=progress, known_ids=known)
    return report


def open_store(config: Config, schemas: SchemaSet, store_url: str | None = None, *, create: bool = True) -> Store:
    """The store named by --store, else by kakosheet.toml, else kakosheet.db beside the config."""
    return Store(resolve_url(store_url or config.store, config.root), schemas, create=create)


def known_ids_of(store: Store, source: str) -> KnownIds:
    """Which IDs the store holds for a source (asked only of IDs that do not fit the ID format)."""
    return lambda log, ids: store.known_ids(log, source, ids)


def _stored_ids(config: Config, schemas: SchemaSet, opened: Source) -> KnownIds | None:
    """The store's IDs of this source, so validate judges IDs as a sync does; None without a store
    (validate checks a sheet on its own too, and never creates a store)."""
    try:
        store = open_store(config, schemas, create=False)
        if not store.has_tables():
            return None
        key = opened.identity or store.source_at(opened.location) or opened.location
    except KakosheetError:
        return None
    return known_ids_of(store, key)


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
    progress.stage(f"validating {sum(len(t) for t in read.all_tables()):,} rows")
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
