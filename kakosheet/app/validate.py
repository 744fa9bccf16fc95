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
from kakosheet.core.validate import validate_table
from kakosheet.errors import UsageError
from kakosheet.sources import open_source
from kakosheet.sources.base import Source
from kakosheet.sources.gsheet_spec import GoogleAccess


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
    _, report = read_and_validate(config, schemas, opened, today=today, progress=progress)
    return report


def read_and_validate(
    config: Config, schemas: SchemaSet, opened: Source, *, today: dt.date | None = None, progress: Progress = SILENT
) -> tuple[ReadResult, Report]:
    """Read the logs and reference tabs of a source and check them all."""
    today = today or config.today()
    ctx = CellContext(
        date_order=config.date_order, date1904=opened.date1904, today=today, timezone=ZoneInfo(config.timezone)
    )
    progress.stage(f"reading {opened.name}")
    read = read_source(opened, schemas, config.logs, ctx, config.archives)
    progress.stage(f"validating {sum(len(t) for t in read.all_tables()):,} rows")
    report = Report()
    report.extend(read.issues)
    references = ReferenceIndex({name: t for name, t in read.tables.items() if t.schema.kind == "reference"})
    for name, table in read.tables.items():
        report.extend(validate_table(table, today=today, references=references))
        report.rows_read[name] = len(table)
        report.sheets_read[name] = table.sheet
    for name, tables in read.archives.items():
        for table in tables:
            report.extend(validate_table(table, today=today, references=references))
            report.rows_read[f"{name}@{table.sheet}"] = len(table)
            report.sheets_read[f"{name}@{table.sheet}"] = table.sheet
    return read, report
