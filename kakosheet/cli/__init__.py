"""The command line: parse options, call one use case, render. Errors become exit codes here."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kakosheet import __version__
from kakosheet.config import load_config
from kakosheet.errors import KakosheetError, UsageError, no_room

if TYPE_CHECKING:
    from kakosheet.config import Config

EXIT_INTERNAL = 70
EXIT_NO_ROOM = 3  # as a workbook that cannot be written for a full disk (README "Exit codes")


class _AsOf(click.DateTime):
    """--as-of: a time in the team's timezone, in years every timezone can hold (9999-12-31T23:59 in
    New York is past the last instant in UTC)."""

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        moment = super().convert(value, param, ctx)
        if not 1900 <= moment.year <= 9998:
            self.fail(f"{value!r} is outside the years kakosheet runs as (1900 to 9998)", param, ctx)
        return moment


AS_OF = _AsOf(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])


def log_names(value: str | None) -> tuple[str, ...] | None:
    """--logs qc,refunds as the logs it names, in order: spaces, a stray comma and a log named twice
    folded away (what was meant is plain); None when not given. One naming no log at all is refused
    (it would mean every log, the opposite of narrowing), as a name that is not a log is."""
    if value is None:
        return None
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    if not names:
        raise UsageError(f"--logs: {value!r} names no log; list one or more, comma-separated (e.g. --logs qc,refunds)")
    return names


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_root().ensure_object(dict)["config_path"] = value


def _remember_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().ensure_object(dict)["debug"] = True


def _config_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        is_eager=True,
        callback=_remember_config,
        help="kakosheet.toml to use (default: found in this folder or above).",
    )(func)


class _Command(click.Command):
    """A command that also takes --config and --debug after its name (`kakosheet sync --debug`, as the
    message of an unexpected error says to run it again)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _config_option(self)
        click.option(
            "--debug",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_remember_debug,
            help="Show the traceback when something fails.",
        )(self)


class _SubGroup(click.Group):
    command_class = _Command


_SubGroup.group_class = _SubGroup


class _Group(click.Group):
    """Turns every KakosheetError into its message and exit code, in one place."""

    command_class = _Command
    group_class = _SubGroup

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KakosheetError as exc:
            _traceback_on_request(ctx)
            click.echo(f"kakosheet: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise  # click ends quietly when the reader of our output went away (`| head`)
        except Exception as exc:  # a bug: say so in one line, trace only on request
            _traceback_on_request(ctx)
            if no_room(exc):
                # A full disk where the output goes (`schedule --once >> /var/log/kakosheet.jsonl`):
                # the environment's to fix, not a bug; stderr may sit on the same disk.
                with contextlib.suppress(OSError):
                    click.echo(
                        f"kakosheet: cannot write ({exc.strerror}); free some space on the disk (also where "
                        "the output goes) and run the command again",
                        err=True,
                    )
                ctx.exit(EXIT_NO_ROOM)
            click.echo(
                f"kakosheet: unexpected error ({type(exc).__name__}: {exc}); run again with --debug and report it",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)
        return None


def _traceback_on_request(ctx: click.Context) -> None:
    """The traceback of the error being handled, with --debug."""
    if ctx.params.get("debug") or (ctx.obj or {}).get("debug"):
        import traceback  # only when asked: --help and --version start without it

        traceback.print_exc()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@_config_option
@click.option("--debug", is_flag=True, help="Show the traceback when something fails.")
@click.version_option(__version__, prog_name="kakosheet")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Keep after-sales exception logs trustworthy in the spreadsheet your team already uses.

    \b
    Start here:
      kakosheet demo                  a sample team folder with realistic cases, synced
      kakosheet init                  kakosheet.toml + schemas + master workbook for your team
      kakosheet validate              list every issue in the workbook; changes nothing
      kakosheet sync                  store every case, give new rows IDs, write issues back
      kakosheet history QC-2026-0001  every version of a case

    \b
    Exit codes (the same for every command; README "Exit codes"):
      0 done     1 validation errors (validate, sync --strict)
      2 fix the command or kakosheet.toml (bad option, config, schema; a SOURCE
        that is a folder or not .xlsx/.xlsm)
      3 the source or store cannot be read or reached (missing, damaged, no log
        tabs, server down): fix it, or wait
      4 nothing wrong, another run got in the way (the source changed during the
        sync, or another sync of it is running): run it again
    """
    ctx.ensure_object(dict)


def run() -> None:
    """The console script (`kakosheet`, `python -m kakosheet`): the command, then the process
    ends once its output is out, without tearing the interpreter down.

    Freeing every module and cache of pandas, numpy and SQLAlchemy took a sixth of a second after
    each sync and changes nothing: the commands close what they opened (files, the store's
    connections, the child that scans a workbook), and the exit handlers still run here.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the reader went away (`| head`), or it is closed
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """The process's exit status for sys.exit's argument, as the interpreter makes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def config_from(ctx: click.Context) -> Config:
    return load_config(ctx.find_root().obj.get("config_path"))


# Commands register themselves on `main`.
from kakosheet.cli import commands as _commands  # noqa: E402,F401
from kakosheet.cli import gsheet as _gsheet  # noqa: E402,F401
from kakosheet.cli import orders as _orders  # noqa: E402,F401
from kakosheet.cli import report as _report  # noqa: E402,F401

if __name__ == "__main__":
    run()
