"""`kakosheet report weekly|monthly`: manager reports from the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kakosheet.cli import config_from, log_names, main

FORMATS = ("json", "md", "html", "xlsx", "sheet")  # render.py draws the first four; sheet: a tab of the source


@main.command()
@click.argument("kind", type=click.Choice(["weekly", "monthly"]))
@click.option("--period", help="The week (2026-W47) or month (2026-11); default: the last complete one.")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="json", show_default=True, help="What to write."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@click.option(
    "--source",
    help="Only the cases of this source (default: every source in the store); "
    "with --format sheet, the workbook or Google Sheet the report tab goes into (default: kakosheet.toml's source).",
)
@click.option("--logs", help='Comma-separated logs to report on (default: the team\'s logs), e.g. "qc,refunds".')
@click.option(
    "--rates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A rate table CSV (currency, rate, valid_from) to total costs in the base currency.",
)
@click.option("--store", "store_url", help="Store URL (default: kakosheet.toml's, else kakosheet.db).")
@click.option("--publish", is_flag=True, help="Record the figures as published (xlsx, html and sheet always are).")
@click.pass_context
def report(
    ctx: click.Context,
    kind: str,
    period: str | None,
    output_format: str,
    out: Path | None,
    source: str | None,
    logs: str | None,
    rates: Path | None,
    store_url: str | None,
    publish: bool,
) -> None:
    """A manager report of one week or month, from the store (not the sheet).

    Every figure lists the case IDs behind it. Weeks are ISO weeks (2026-W53 holds
    2027-01-01), in the team's timezone. --format sheet writes a tab "Report 2026-W47"
    into the team's workbook or Google Sheet, with charts, replacing that period's tab.

    \b
    Examples:
      kakosheet report weekly
      kakosheet report weekly --format sheet
      kakosheet report monthly --period 2026-11 --format md --out november.md
      kakosheet report weekly --rates rates.csv --format html --out week.html
    """
    from kakosheet.app.report import PeriodKind, ReportOptions, run_report
    from kakosheet.errors import UsageError

    if output_format == "xlsx" and out is None:
        raise UsageError("--format xlsx writes a workbook: name it with --out report.xlsx")
    if output_format == "sheet" and out is not None:
        raise UsageError("--format sheet writes a tab into the source, not a file: name it with --source, not --out")
    chosen = log_names(logs)
    options = ReportOptions(PeriodKind(kind), period, source, chosen, rates, store_url)
    run = run_report(config_from(ctx), options, output_format, out=out, publish=publish)
    if run.report.since_publication is not None:
        click.echo(f"Since publication: {run.report.since_publication.note}.", err=True)
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)
    if run.tab is not None:
        click.echo(f"Wrote the {kind} report of {run.report.period} into {run.source}, tab {run.tab!r}.", err=True)
    elif out is None:
        sys.stdout.write(run.rendered if isinstance(run.rendered, str) else run.rendered.decode())
    else:
        click.echo(f"Wrote the {kind} report of {run.report.period} to {out}.", err=True)
    if run.published:
        click.echo(
            f"Recorded its figures as published; a later run for {run.report.period} says what changed.", err=True
        )
