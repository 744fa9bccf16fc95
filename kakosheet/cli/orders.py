"""`kakosheet import orders FILE`: order reference data into the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kakosheet.cli import AS_OF, config_from, main

if TYPE_CHECKING:
    from kakosheet.core.issues import Issue

EXIT_ISSUES = 1


@main.group("import")
def import_group() -> None:
    """Load reference data from a file into the store."""


@import_group.command("orders")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="The store: any SQLAlchemy URL (default: `store` in kakosheet.toml, else kakosheet.db beside it).",
)
@click.option(
    "--as-of",
    type=AS_OF,
    help="The time to import as, in the team's timezone (default: now); an Order Date after it is an error.",
)
@click.pass_context
def import_orders(ctx: click.Context, file: Path, store_url: str | None, as_of: dt.datetime | None) -> None:
    """Import orders (Order ID, Vendor ID, Order Date, ...) from a CSV or .xlsx file.

    The orders are what after-sales rates are computed on: a report then judges each party
    by cases / orders in the period, not by its case count. FILE is a .csv (UTF-8, with `;`
    or `,` between values) or an .xlsx workbook (its Orders tab, or its only tab), with the
    Orders tab's column names in its header row. Rows are checked as the Orders tab is; a row
    with an error is not imported (exit 1), the others are. Importing again updates the
    orders that changed and leaves the others as they are.

    \b
    Examples:
      kakosheet import orders orders-2026-11.csv
      kakosheet import orders shop-export.xlsx --store postgresql://kakosheet@db.internal/aftersales
    """
    from kakosheet.app.import_orders import import_orders as run_import
    from kakosheet.app.import_orders import refusal_issues

    result = run_import(config_from(ctx), file, store_url=store_url, now=as_of)
    for issue in sorted([*result.report.issues, *refusal_issues(result)], key=_in_file_order):
        click.echo(_line(issue), err=True)
    upserted = result.stored.upserted
    click.echo(
        f"{result.file}: {result.report.rows_read.get('orders', 0)} row(s) read; orders imported "
        f"{upserted.imported}, updated {upserted.updated}, unchanged {upserted.unchanged}, "
        f"refused {result.refused} (into {result.store}).",
        err=True,
    )
    if result.refused:
        click.echo("Fix the rows named above and import the file again: the others are already stored.", err=True)
    if result.has_errors:
        ctx.exit(EXIT_ISSUES)


def _in_file_order(issue: Issue) -> tuple[int, str]:
    return (issue.row if issue.row is not None else 0, issue.column or "")


def _line(issue: Issue) -> str:
    """One issue on one line: file, row, column, value, what is wrong and how to fix it."""
    value = f" (value {issue.value!r})" if issue.value else ""
    refused = "; the row is not imported" if issue.severity == "error" and issue.row is not None else ""
    return f"{issue.where}: {issue.severity} {issue.code}: {issue.message}{value}{refused}"
