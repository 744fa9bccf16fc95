"""The commands. Each one parses its options, calls one use case and renders the result.

Use cases are imported inside the commands: `validate` then never pays for openpyxl.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from kakosheet.cli import AS_OF, config_from, log_names, main
from kakosheet.cli.progress import progress_on
from kakosheet.cli.render import render_json, render_text, summary
from kakosheet.config import Config
from kakosheet.errors import UsageError

EXIT_ISSUES = 1


def configured(ctx: click.Context, source: str | None, command: str) -> Config:
    """The team's config, once it is clear there is a source to work on: the hint names this command."""
    config = config_from(ctx)
    if not source and not config.source:
        raise UsageError(
            f"no source given: pass a workbook (kakosheet {command} master.xlsx) or a Google Sheet "
            "(gsheet:KEY), or set `source` in kakosheet.toml (run it in the team's folder, or pass --config)"
        )
    return config


def _format_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text for people; json prints one document on stdout (messages go to stderr).",
    )(func)


@main.command()
@click.argument("source", required=False)
@_format_option
@click.pass_context
def validate(ctx: click.Context, source: str | None, output_format: str) -> None:
    """Check every row of the workbook and list every issue; changes nothing.

    SOURCE is an .xlsx/.xlsm workbook or a Google Sheet (gsheet:KEY or the sheet's URL);
    without it, `source` from kakosheet.toml. Exits 1 when any error is found (warnings
    alone exit 0).

    \b
    Examples:
      kakosheet validate master.xlsx
      kakosheet validate gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg
      kakosheet validate --format json > issues.json
    """
    from kakosheet.app.validate import validate_source

    config = configured(ctx, source, "validate")
    with progress_on(sys.stderr) as progress:
        report = validate_source(config, source, progress=progress)
    if output_format == "json":
        render_json(report, sys.stdout)
    else:
        render_text(report, sys.stdout)
    click.echo(summary(report), err=True)
    if not report.valid:
        ctx.exit(EXIT_ISSUES)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--logs", help='Comma-separated logs the team keeps (default: "qc,refunds,returns,after_sales").')
@click.option("--timezone", default="UTC", show_default=True, help="Time zone for dates such as today.")
@click.option(
    "--date-order", type=click.Choice(["DMY", "MDY", ""]), default="", help="How to read text dates like 03/04/2026."
)
@click.option("--force", is_flag=True, help="Overwrite an existing kakosheet.toml and master workbook.")
def init(directory: Path, logs: str | None, timezone: str, date_order: str, force: bool) -> None:
    """Set up a team folder: kakosheet.toml, its own copy of the schemas, a master workbook.

    \b
    Example:
      kakosheet init after-sales --logs qc,refunds --timezone Asia/Shanghai
    """
    from kakosheet.app import setup as setup_app

    chosen = log_names(logs)
    result = setup_app.init_team(directory, logs=chosen, timezone=timezone, date_order=date_order, force=force)
    click.echo(f"Wrote {result.config} and the team's schemas in {result.schemas}/.", err=True)
    click.echo(f"Master workbook: {result.workbook} (share it, or open it in Excel).", err=True)
    click.echo("Next: add cases, then `kakosheet validate`.", err=True)


@main.command()
@click.argument("source", required=False)
@click.pass_context
def setup(ctx: click.Context, source: str | None) -> None:
    """Bring the team's live master up to its schemas; safe to run again.

    After a reason, a column or a rule was added to schemas/*.yaml: the hidden Lists tab's
    values, the dropdowns and date and number checks, header notes and colours, missing
    columns (added at the right), the highlight rules. Only kakosheet's own parts are added
    or corrected: no staff cell is cleared or moved, your own validations, rules and notes
    stay. A second run changes nothing (the file is not written).

    SOURCE is a workbook or a Google Sheet, as for `validate`; without it, `source` from
    kakosheet.toml. `kakosheet gsheet setup` is its alias for a Google Sheet.

    \b
    Examples:
      kakosheet setup
      kakosheet setup master.xlsx
      kakosheet setup gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg
    """
    from kakosheet.app.upgrade import upgrade_source

    result = upgrade_source(configured(ctx, source, "setup"), source)
    click.echo(result.describe())


@main.group()
def template() -> None:
    """The master workbook template generated from the schemas."""


@template.command("build")
@click.option(
    "--schemas",
    "schemas_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Schemas folder (default: the team's, from kakosheet.toml, else the built-in ones).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: templates/master.xlsx beside the schemas).",
)
@click.pass_context
def template_build(ctx: click.Context, schemas_dir: Path | None, out: Path | None) -> None:
    """Regenerate the master workbook from the schemas.

    It writes an empty workbook, so it never replaces one that holds cases or reference rows
    (exit 2): a team's live master.xlsx keeps its cases, vendors and orders.

    \b
    Example:
      kakosheet template build --out templates/master.xlsx
    """
    from kakosheet.app import setup as setup_app

    written = setup_app.build_template(config_from(ctx), schemas_dir=schemas_dir, out=out)
    click.echo(f"Wrote {written}.", err=True)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--cases", default=400, show_default=True, help="How many sample cases to write across the four logs.")
@click.option("--seed", default=7, show_default=True, help="Random seed, for the same sample every time.")
def demo(directory: Path | None, cases: int, seed: int) -> None:
    """Build a sample team folder with realistic cases (some deliberately wrong), validate and sync it.

    DIRECTORY defaults to kakosheet-demo in the system's temporary folder, so the demo
    never lands inside a project (or a team's folder) by accident.

    \b
    Example:
      kakosheet demo            writes kakosheet-demo in the temporary folder and shows what it found
      kakosheet demo ~/try-kakosheet --cases 2000
    """
    from kakosheet.app import demo as demo_app

    if cases < 20:
        raise UsageError("--cases should be at least 20, so every log gets a few")
    from kakosheet.cli.render import render_sync

    folder = directory or demo_app.default_folder()
    with progress_on(sys.stderr) as progress:
        result = demo_app.run_demo(folder, cases=cases, seed=seed, progress=progress)
    render_text(result.report, sys.stdout)
    click.echo(f"\nValidated: {summary(result.report)}", err=True)
    click.echo("\nSynced (every case stored, IDs and notes written back):", err=True)
    render_sync(result.sync, sys.stderr, as_json=False)
    first = next(iter(result.sync.new_ids.get("qc", {})), None)
    click.echo(f"\nLook at: {result.workbook}: the Case ID and Issues columns (the cells a note names are", err=True)
    click.echo("         highlighted) and the Issues tab, which links to every cell with an issue.", err=True)
    click.echo(f"Report:  {result.weekly}: last week's manager report (open it in a browser);", err=True)
    if result.weekly_tab:
        where = f"the tab {result.weekly_tab!r} of {result.workbook.name}"
        click.echo(f"         the same as {where}, with charts;", err=True)
    click.echo(f"         cd {folder} && kakosheet report weekly --format xlsx --out weekly.xlsx", err=True)
    click.echo(f"Try:     cd {folder} && kakosheet validate --format json", err=True)
    if first:
        click.echo(f"         cd {folder} && kakosheet history {first}", err=True)


def _store_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--store",
        "store_url",
        metavar="URL",
        help="The store: any SQLAlchemy URL (default: `store` in kakosheet.toml, else kakosheet.db beside it).",
    )(func)


@main.command()
@click.argument("source", required=False)
@click.option("--dry-run", is_flag=True, help="Print what the sync would do; change nothing.")
@click.option("--strict", is_flag=True, help="Exit 1 when any error remains (everything is stored all the same).")
@click.option(
    "--moved-from",
    metavar="PATH",
    help="Where the workbook was before it moved, when sync cannot tell by itself (it says so).",
)
@click.option(
    "--as-of",
    type=AS_OF,
    help="The time to sync as, in the team's timezone (default: now).",
)
@_store_option
@_format_option
@click.pass_context
def sync(
    ctx: click.Context,
    source: str | None,
    dry_run: bool,
    strict: bool,
    moved_from: str | None,
    as_of: dt.datetime | None,
    store_url: str | None,
    output_format: str,
) -> None:
    """Store every case, give new rows their permanent IDs, and write the issues back.

    New rows get IDs (QC-2026-0001...), every change becomes a version in the store's
    history, rows gone from the sheet are kept and reported, and the Issues column, the
    highlights and the Issues tab show what is still wrong. Only kakosheet's cells are
    written; the rest of the workbook is left exactly as it is. SOURCE is a workbook or a
    Google Sheet, as for `validate`.

    \b
    Examples:
      kakosheet sync
      kakosheet sync master.xlsx --dry-run
      kakosheet sync gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg
      kakosheet sync --store postgresql://kakosheet@db.internal/aftersales --strict
      kakosheet sync new-folder/master.xlsx --moved-from old-folder/master.xlsx
    """
    from kakosheet.app.sync import sync_source
    from kakosheet.cli.render import render_sync

    config = configured(ctx, source, "sync")
    with progress_on(sys.stderr) as progress:
        result = sync_source(
            config,
            source,
            store_url=store_url,
            dry_run=dry_run,
            now=as_of,
            moved_from=moved_from,
            progress=progress,
        )
    render_sync(result, sys.stdout, as_json=output_format == "json")
    if strict and result.open_errors:
        ctx.exit(EXIT_ISSUES)


@main.command()
@click.argument("case_id")
@_store_option
@_format_option
@click.pass_context
def history(ctx: click.Context, case_id: str, store_url: str | None, output_format: str) -> None:
    """Every version of a case: what changed, from what to what, when, and from which sync.

    \b
    Example:
      kakosheet history QC-2026-0042
    """
    from kakosheet.app.history import case_history
    from kakosheet.cli.render import render_history

    render_history(
        case_history(config_from(ctx), case_id, store_url=store_url), sys.stdout, as_json=output_format == "json"
    )


class Duration(click.ParamType):
    """30s, 15m, 1h, 1.5h: a wait in seconds."""

    name = "DURATION"
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    longest = 366 * 86400  # an endless wait (1e400s) cannot be waited for: the job would end in an error

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip().lower()
        try:
            seconds = float(text[:-1]) * self.units[text[-1:]]
        except (KeyError, ValueError):
            self.fail(f"{value!r} is not a duration; write it as 30s, 15m, 1h or 1.5h", param, ctx)
        if not seconds > 0:  # also NaN, which would make every wait zero
            self.fail(f"{value!r} should be longer than zero", param, ctx)
        if seconds > self.longest:
            self.fail(f"{value!r} is longer than a year; write it as 30s, 15m, 1h or 1.5h", param, ctx)
        return seconds


@main.command()
@click.argument("source", required=False)
@click.option("--every", type=Duration(), help="How often to run: 30s, 15m, 1h (needed unless --once).")
@click.option("--once", is_flag=True, help="One run, ending with its exit code: for cron, a systemd timer or CI.")
@click.option("--strict", is_flag=True, help="A run with errors still open exits 1, as `sync --strict`.")
@click.option(
    "--max-backoff",
    type=Duration(),
    default="1h",
    show_default=True,
    help="The longest wait while the source or store is unreachable (the wait doubles until then).",
)
@_store_option
@click.pass_context
def schedule(
    ctx: click.Context,
    source: str | None,
    every: float | None,
    once: bool,
    strict: bool,
    max_backoff: float,
    store_url: str | None,
) -> None:
    """The scheduled job: a sync in a loop, one run at a time per source, one JSON line per run.

    Each run syncs SOURCE as `kakosheet sync` does (more steps join it: reminders, the
    period's report) and prints one JSON line on stdout: its counts, how long each step
    took, the error if any, and the exit code the run would have had alone. A failed run
    does not end the job; while the source or the store is unreachable the wait doubles,
    up to --max-backoff. A second job on the same source skips its run (exit code 4 in the
    line). SIGTERM or Ctrl-C stops it after the step under way, exit 0. With --once it runs
    once and exits with that run's code (0, 1 with --strict, 2, 3 or 4: README "Exit codes").

    \b
    Examples:
      kakosheet schedule --every 15m
      kakosheet schedule --every 1h gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg
      kakosheet schedule --once --strict         # from cron, a systemd timer or CI
    """
    import json

    from kakosheet.app.schedule import RunSettings, run_schedule
    from kakosheet.config import load_config

    if every is None and not once:
        raise UsageError("say how often: kakosheet schedule --every 15m (or --once for one run)")
    configured(ctx, source, "schedule")  # a job with nothing to sync stops now, not at every run
    config_path = ctx.find_root().obj.get("config_path")
    settings = RunSettings(
        load_config=lambda: load_config(config_path), source=source, store_url=store_url, strict=strict
    )

    def emit(line: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(line, default=str, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    ctx.exit(run_schedule(settings, every=every or 0.0, once=once, max_backoff=max_backoff, emit=emit))
