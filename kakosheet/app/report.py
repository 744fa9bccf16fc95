"""`kakosheet report weekly|monthly`: one period's report from the store, in the format asked."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kakosheet.config import CONFIG_NAME, Config
from kakosheet.errors import ConfigError, NoRoomError, SourceError, StoreError, UsageError, no_room
from kakosheet.reports.build import ReportRequest, build_report
from kakosheet.reports.logs import LogFacts, log_facts
from kakosheet.reports.model import Report
from kakosheet.reports.money import Rates, parse_rates
from kakosheet.reports.periods import PeriodKind, last_complete, parse_period
from kakosheet.reports.publication import Recorded, compare, figures
from kakosheet.reports.render import render
from kakosheet.sources.xlsx_file import write_whole
from kakosheet.store.orders import party_orders
from kakosheet.store.publications import changed_since, last_publication, record_publication
from kakosheet.store.reads import Reads
from kakosheet.store.store import Store, resolve_url, sqlite_file

if TYPE_CHECKING:  # a report's reads need neither the sources nor pandas (which the write-back's model imports)
    from kakosheet.sources.base import Source

__all__ = ["PeriodKind", "ReportOptions", "ReportRun", "make_report", "run_report"]


@dataclass(frozen=True)
class ReportOptions:
    kind: PeriodKind
    period: str | None = None
    source: str | None = None
    logs: tuple[str, ...] | None = None
    rates: Path | None = None  # a CSV: currency, rate, valid_from
    store_url: str | None = None
    now: dt.datetime | None = None  # an aware time; the team's clock when None


PUBLISHED_FORMATS = frozenset({"xlsx", "html", "sheet"})  # written for people: their figures are recorded


@dataclass(frozen=True)
class ReportRun:
    report: Report
    rendered: str | bytes  # empty for a report tab, which goes into the source
    published: bool
    tab: str | None = None  # the report tab written (format sheet), as titled in the source
    source: str | None = None  # the source it was written into, as messages name it
    warnings: tuple[str, ...] = ()  # what the source could not write (a protected tab, no room)


def run_report(
    config: Config,
    options: ReportOptions,
    output_format: str,
    *,
    out: Path | None = None,
    publish: bool = False,
    into: Source | None = None,
) -> ReportRun:
    """Build the report, say what changed since it was published, render it, write it, and record
    its figures when it is published (written as xlsx, html or a report tab, or --publish).

    Format ``sheet`` writes a report tab into the source (``into``, e.g. the workbook a scheduled
    run just synced; else --source or kakosheet.toml's), reporting that source's cases."""
    if out is not None:
        _check_out(config, out, options)
    if output_format == "sheet" and into is None:
        into = _report_source(config, options.source)
    store, report = _built(config, options, into if output_format == "sheet" else None)
    try:
        run = _published(store, report, output_format, out=out, publish=publish, into=into)
    finally:
        store.close()  # a scheduled job runs reports for ever: no pool left behind
    return run


def _check_out(config: Config, out: Path, options: ReportOptions) -> None:
    """--out never replaces or adds to what the team's work lives in: a workbook of cases (the team's
    source or --source, its backup, or any workbook a sync gave an identity: a master, a copy),
    kakosheet.toml, a schema (every .yaml of the schemas folder is loaded as one), the rates table,
    or a SQLite store and the files SQLite keeps beside it (-wal, -shm, -journal: a report written
    there, even where none is yet, is read back as the store's log). A report written there would
    take the place of the team's cases or settings."""
    from kakosheet.sources.xlsx_identity import workbook_identity  # reads one small part of a workbook

    target = out.resolve()
    what = _owned_files(config, options).get(target)
    if what is None and target.parent == config.schemas_dir.resolve() and target.suffix.lower() == ".yaml":
        what = ("one of the team's schemas", False) if target.is_file() else None
        what = what or ("a .yaml file in the team's schemas folder, where each is read as a schema", False)
    workbook = target.suffix.lower() in (".xlsx", ".xlsm") and out.is_file()
    if what is None and workbook and workbook_identity(target) is not None:
        what = ("a workbook kakosheet syncs (it carries a kakosheet workbook identity)", True)
    if what is not None:
        described, workbook = what
        tab = ", or into the workbook as a tab with --format sheet" if workbook else ""
        raise UsageError(
            f"--out: {out} is {described}, and a report written there would take its place; nothing was written. "
            f"Write the report to a file of its own (--out week.xlsx){tab}"
        )


def _owned_files(config: Config, options: ReportOptions) -> dict[Path, tuple[str, bool]]:
    """The files kakosheet's own work lives in, as resolved paths (there or not yet): what each is,
    and whether it is a workbook."""
    from kakosheet.sources.gsheet_spec import is_google_sheet
    from kakosheet.sources.xlsx_file import backup_of

    owned: dict[Path, tuple[str, bool]] = {}
    if config.path is not None:
        owned[config.path.resolve()] = (f"the team's {CONFIG_NAME}", False)
    for rates in (options.rates, config.rates):
        if rates is not None:
            owned[rates.resolve()] = ("the rate table the report converts with", False)
    sources = [  # kakosheet.toml's source is the team folder's; --source, the command line's
        (config.source, config.root, "the team's workbook (its source)"),
        (options.source, Path.cwd(), "the workbook --source names"),
    ]
    for source, base, described in sources:
        if source and not is_google_sheet(source):
            master = base / Path(source).expanduser()
            owned[master.resolve()] = (described, True)
            owned[backup_of(master)] = ("the previous version of the team's workbook", True)
    database = sqlite_file(resolve_url(options.store_url or config.store, config.root))
    if database is not None:
        owned[database.resolve()] = ("the team's store", False)
        for suffix in ("-wal", "-shm", "-journal"):
            beside = database.with_name(database.name + suffix).resolve()
            owned[beside] = ("a file SQLite keeps beside the store", False)
    return owned


def _report_source(config: Config, source: str | None) -> Source:
    from kakosheet.app.configured import open_configured_source  # opens a workbook or a sheet: only for a report tab

    if source is None and config.source is None:
        raise UsageError(
            f"--format sheet writes a report tab into the team's workbook: name it with --source master.xlsx, "
            f"or set source in {CONFIG_NAME}"
        )
    return open_configured_source(config, source)


def _published(
    store: Store, report: Report, output_format: str, *, out: Path | None, publish: bool, into: Source | None
) -> ReportRun:
    scope = _scope(report)
    last = last_publication(store, kind=report.kind, period=report.period, scope=scope)
    now_figures = figures(report)
    if last is not None:
        published = {k: Recorded(v["value"], tuple(v["case_ids"])) for k, v in last.figures.items()}
        changed = changed_since(store, list(report.logs), last.published_at)
        check = compare(
            published, now_figures, changed, published_at=last.published_at, published_as=last.output_format
        )
        report = replace(report, since_publication=check)
    tab: str | None = None
    warnings: tuple[str, ...] = ()
    if output_format == "sheet":
        assert into is not None
        tab, warnings = _write_tab(into, report)
        if tab is None:  # nothing written, so nothing published
            raise SourceError(f"{into.name}: the report tab was not written: {'; '.join(warnings) or 'no room for it'}")
        rendered: str | bytes = ""
    else:
        rendered = render(report, output_format)
    if out is not None:
        _write_out(out, rendered)
    publishing = publish or output_format == "sheet" or (out is not None and output_format in PUBLISHED_FORMATS)
    if publishing:
        recorded = {k: {"value": v.value, "case_ids": list(v.case_ids)} for k, v in now_figures.items()}
        try:
            record_publication(
                store,
                kind=report.kind,
                period=report.period,
                scope=scope,
                output_format=output_format,
                figures=recorded,
            )
        except StoreError as exc:
            if publish:  # asked for: its failure is the command's
                raise
            # The report the manager asked for is written; only the record beside it could not be kept.
            publishing, warnings = False, (*warnings, str(exc))
    source = into.name if into is not None else None
    return ReportRun(report, rendered, publishing, tab=tab, source=source, warnings=warnings)


def _write_out(out: Path, rendered: str | bytes) -> None:
    """The report written whole or not at all: a disk that fills up leaves an earlier report of that
    name as it was, never half a file (exit 3, the disk's to fix); another failure is --out's (exit 2)."""
    content = rendered if isinstance(rendered, bytes) else rendered.encode("utf-8")
    try:
        if out.exists() and not out.is_file():  # a pipe or a device (--out /dev/stdout): written as it is
            out.write_bytes(content)
            return
        write_whole(out, content)
    except OSError as exc:
        if no_room(exc):
            raise NoRoomError(
                f"--out: cannot write {out} ({exc.strerror}); nothing was written. Free some space on the disk (or "
                "raise the quota or file size limit), then run the command again"
            ) from exc
        raise UsageError(f"--out: cannot write {out} ({exc.strerror})") from exc


def _write_tab(source: Source, report: Report) -> tuple[str | None, tuple[str, ...]]:
    """The report tab, written into the source (replacing the same period's): the title it got
    (None when it could not be written) and what the source could not do."""
    from kakosheet.reports.render_sheet import render_sheet

    tab = render_sheet(report)
    from kakosheet.core.writeback import WriteBack  # pulls in pandas: only for a report tab

    outcome = source.write_back(WriteBack(tabs=[tab]))
    return outcome.tab_titles.get(tab.mark), outcome.warnings


def _scope(report: Report) -> str:
    return scope_of(report.logs, report.source)


def scope_of(logs: tuple[str, ...], source: str | None) -> str:
    """What a publication covered: its logs and its source (every source: *)."""
    return f"logs={','.join(logs)};source={source or '*'}"


def publish_due(
    config: Config, kind: PeriodKind, *, now: dt.datetime, source: str | None = None, store_url: str | None = None
) -> ReportRun | None:
    """The scheduled job's report: the last complete period's report tab, written into the
    source the first time a run comes after the period completed, and never again (a manager
    re-runs `kakosheet report --format sheet` to refresh it). None when it is not due."""
    into = _report_source(config, source)
    store = Store(resolve_url(store_url or config.store, config.root), config.load_schemas(), create=False)
    try:
        if not store.exists or not store.has_tables():
            return None
        period = last_complete(kind, now.astimezone(ZoneInfo(config.timezone)).date())
        scope = scope_of(config.logs, _source_key(store, into))
        if last_publication(store, kind=kind, period=period.label, scope=scope, output_format="sheet") is not None:
            return None
    finally:
        store.close()
    options = ReportOptions(kind, period.label, source, None, None, store_url, now)
    return run_report(config, options, "sheet", into=into)


def make_report(config: Config, options: ReportOptions) -> Report:
    """Build the report of one period (the last complete one in the team's timezone by default)."""
    store, report = _built(config, options)
    store.close()
    return report


def _built(config: Config, options: ReportOptions, source: Source | None = None) -> tuple[Store, Report]:
    """The store (its engine still open) and the report built from it (of ``source``'s cases when given)."""
    if config.path is None and options.store_url is None:
        raise ConfigError(
            f"no {CONFIG_NAME} found in this folder or above; run `kakosheet report` in the team's folder, "
            "or pass --config kakosheet.toml (or --store URL)"
        )
    schemas = config.load_schemas()
    logs = options.logs or config.logs
    unknown = [name for name in logs if name not in config.logs]
    if unknown:
        raise UsageError(f"--logs: {unknown[0]!r} is not one of the team's logs ({', '.join(config.logs)})")
    facts = tuple(f for name in logs if (f := log_facts(schemas[name])) is not None)
    store = Store(resolve_url(options.store_url or config.store, config.root), schemas, create=False)
    try:
        return store, _build(config, options, store, facts, source)
    except BaseException:
        store.close()
        raise


def _build(
    config: Config, options: ReportOptions, store: Store, facts: tuple[LogFacts, ...], opened: Source | None
) -> Report:
    if not store.exists or not store.has_tables():  # and a report creates no store
        raise UsageError(f"the store {store.display_url} holds no cases yet; run `kakosheet sync` first")
    store.prepare()  # an older store gets what reports read (amounts in minor units)
    zone = ZoneInfo(config.timezone)
    today = (options.now.astimezone(zone) if options.now else dt.datetime.now(zone)).date()
    period = parse_period(options.kind, options.period) if options.period else last_complete(options.kind, today)
    if opened is None and options.source:
        opened = _open(config, options.source)
    source = _source_key(store, opened) if opened is not None else None
    rates_file = options.rates or config.rates  # --rates, else kakosheet.toml's
    rates = load_rates(rates_file, config.base_currency) if rates_file else Rates(config.base_currency)
    request = ReportRequest(
        period=period,
        logs=facts,
        rates=rates,
        timezone=config.timezone,
        source=source,
        orders=party_orders(store, period.start, period.end),  # by Vendor ID, or by name via the Vendors tab
        rates_given=rates_file is not None,
    )
    return build_report(Reads(store), request)


def load_rates(path: Path, base: str) -> Rates:
    """A rate table CSV with the columns currency, rate, valid_from."""
    from kakosheet.sources.csv_file import delimiter_of  # told as an orders file's: ; , or tab (Excel's own)

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            content = handle.read()
    except OSError as exc:
        raise UsageError(f"rates: cannot read {path.name} ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:  # a rate table saved as "CSV" in a legacy code page, or UTF-16
        raise UsageError(
            f'{path.name}: is not UTF-8 text (byte {exc.start + 1} is not); save it as "CSV UTF-8" and run again'
        ) from exc
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter_of(content))
        missing = {"currency", "rate"} - {(name or "").strip().lower() for name in reader.fieldnames or []}
        if missing:
            raise UsageError(
                f"{path.name}: needs the columns currency and rate, and valid_from if rates change "
                f"(missing: {', '.join(sorted(missing))})"
            )
        rows = [
            (number, {(k or "").strip().lower(): (v or "") for k, v in row.items()})
            for number, row in enumerate(reader, start=2)
        ]
    except csv.Error as exc:
        raise UsageError(f"{path.name}: is not well-formed CSV ({exc}); save it again as CSV UTF-8") from exc
    return parse_rates(base, rows, where=path.name)


def _open(config: Config, source: str) -> Source:
    from kakosheet.app.configured import open_configured_source  # reads the source's identity: only when asked

    return open_configured_source(config, source)


def _source_key(store: Store, opened: Source) -> str:
    """The identity the store files a source's cases under (what sync records): the one the
    workbook carries, else the one last seen where it is, else its location."""
    return opened.identity or store.source_at(opened.location) or opened.location
