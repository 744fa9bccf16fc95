"""`kakosheet report weekly|monthly`: one period's report from the store, in the format asked."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from kakosheet.config import CONFIG_NAME, Config
from kakosheet.errors import ConfigError, UsageError
from kakosheet.reports.build import ReportRequest, build_report
from kakosheet.reports.logs import LogFacts, log_facts
from kakosheet.reports.model import Report
from kakosheet.reports.money import Rates, parse_rates
from kakosheet.reports.periods import PeriodKind, last_complete, parse_period
from kakosheet.reports.publication import Recorded, compare, figures
from kakosheet.reports.render import render
from kakosheet.store.orders import party_orders
from kakosheet.store.publications import changed_since, last_publication, record_publication
from kakosheet.store.reads import Reads
from kakosheet.store.store import Store, resolve_url

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
    rendered: str | bytes
    published: bool


def run_report(
    config: Config, options: ReportOptions, output_format: str, *, out: Path | None = None, publish: bool = False
) -> ReportRun:
    """Build the report, say what changed since it was published, render it, write it, and record
    its figures when it is published (written as xlsx or html, or --publish)."""
    store, report = _built(config, options)
    try:
        return _published(store, report, output_format, out=out, publish=publish)
    finally:
        store.engine.dispose()  # a scheduled job runs reports for ever: no pool left behind


def _published(store: Store, report: Report, output_format: str, *, out: Path | None, publish: bool) -> ReportRun:
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
    rendered = render(report, output_format)
    if out is not None:
        try:
            if isinstance(rendered, bytes):
                out.write_bytes(rendered)
            else:
                out.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out: cannot write {out} ({exc.strerror})") from exc
    publishing = publish or (out is not None and output_format in PUBLISHED_FORMATS)
    if publishing:
        recorded = {k: {"value": v.value, "case_ids": list(v.case_ids)} for k, v in now_figures.items()}
        record_publication(
            store, kind=report.kind, period=report.period, scope=scope, output_format=output_format, figures=recorded
        )
    return ReportRun(report, rendered, publishing)


def _scope(report: Report) -> str:
    return f"logs={','.join(report.logs)};source={report.source or '*'}"


def make_report(config: Config, options: ReportOptions) -> Report:
    """Build the report of one period (the last complete one in the team's timezone by default)."""
    store, report = _built(config, options)
    store.engine.dispose()
    return report


def _built(config: Config, options: ReportOptions) -> tuple[Store, Report]:
    """The store (its engine still open) and the report built from it."""
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
        return store, _build(config, options, store, facts)
    except BaseException:
        store.engine.dispose()
        raise


def _build(config: Config, options: ReportOptions, store: Store, facts: tuple[LogFacts, ...]) -> Report:
    if not store.exists or not store.has_tables():  # and a report creates no store
        raise UsageError(f"the store {store.display_url} holds no cases yet; run `kakosheet sync` first")
    store.prepare()  # an older store gets what reports read (amounts in minor units)
    zone = ZoneInfo(config.timezone)
    today = (options.now.astimezone(zone) if options.now else dt.datetime.now(zone)).date()
    period = parse_period(options.kind, options.period) if options.period else last_complete(options.kind, today)
    source = _source_key(config, store, options.source) if options.source else None
    rates = load_rates(options.rates, config.base_currency) if options.rates else Rates(config.base_currency)
    request = ReportRequest(
        period=period,
        logs=facts,
        rates=rates,
        timezone=config.timezone,
        source=source,
        orders=party_orders(store, period.start, period.end),  # by Vendor ID, or by name via the Vendors tab
        rates_given=options.rates is not None,
    )
    return build_report(Reads(store), request)


def load_rates(path: Path, base: str) -> Rates:
    """A rate table CSV with the columns currency, rate, valid_from."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"currency", "rate"} - {(name or "").strip().lower() for name in reader.fieldnames or []}
            if missing:
                raise UsageError(
                    f"{path.name}: needs the columns currency, rate, valid_from (missing: {', '.join(sorted(missing))})"
                )
            rows = [
                (number, {(k or "").strip().lower(): (v or "") for k, v in row.items()})
                for number, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise UsageError(f"--rates: cannot read {path.name} ({exc.strerror})") from exc
    return parse_rates(base, rows, where=path.name)


def _source_key(config: Config, store: Store, source: str) -> str:
    """The identity the store files a source's cases under (what sync records): the one the
    workbook carries, else the one last seen where it is, else its location."""
    from kakosheet.app.validate import open_configured_source  # reads the source's identity: only when asked

    opened = open_configured_source(config, source)
    return opened.identity or store.source_at(opened.location) or opened.location
