"""`kakosheet gsheet ...`: commands for a Google Sheet as the master workbook."""

from __future__ import annotations

import click

from kakosheet.cli import config_from, main


@main.group()
def gsheet() -> None:
    """A Google Sheet as the team's master workbook."""


@gsheet.command("setup")
@click.argument("source", required=False)
@click.pass_context
def gsheet_setup(ctx: click.Context, source: str | None) -> None:
    """Make a Google Sheet into the master workbook; safe to run again.

    Adds the missing tabs and columns (staff cells are never cleared or moved), a note on
    every header, dropdowns, date and number checks, a frozen header, text format for IDs
    and order numbers, orange for blank mandatory cells, and a warning on kakosheet's own
    columns. A second run changes nothing.

    SOURCE is gsheet:KEY or the sheet's URL; without it, `source` from kakosheet.toml.
    Share the sheet with the service account's address as Editor first.

    \b
    Example:
      kakosheet gsheet setup gsheet:1AbC...
    """
    from kakosheet.app.gsheet_setup import setup_google_sheet

    result = setup_google_sheet(config_from(ctx), source)
    click.echo(result.describe())
