"""The command line: parse options, call one use case, render. Errors become exit codes here."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from kakosheet import __version__
from kakosheet.config import Config, load_config
from kakosheet.errors import KakosheetError

EXIT_INTERNAL = 70


class _Group(click.Group):
    """Turns every KakosheetError into its message and exit code, in one place."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KakosheetError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(f"kakosheet: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise  # click ends quietly when the reader of our output went away (`| head`)
        except Exception as exc:  # a bug: say so in one line, trace only on request
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(
                f"kakosheet: unexpected error ({type(exc).__name__}: {exc}); run again with --debug and report it",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="kakosheet.toml to use (default: found in this folder or above).",
)
@click.option("--debug", is_flag=True, help="Show the traceback when something fails.")
@click.version_option(__version__, prog_name="kakosheet")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, debug: bool) -> None:
    """Keep after-sales exception logs trustworthy in the spreadsheet your team already uses.

    \b
    Start here:
      kakosheet demo            a sample workbook with realistic cases, validated
      kakosheet init            kakosheet.toml + schemas + master workbook for your team
      kakosheet validate        list every issue in the workbook

    Exit codes: 0 done, 1 validation errors, 2 usage or config error,
    3 source unreadable or no log tabs, 4 source changed during a sync.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def config_from(ctx: click.Context) -> Config:
    return load_config(ctx.find_root().obj.get("config_path"))


# Commands register themselves on `main`.
from kakosheet.cli import commands as _commands  # noqa: E402,F401
from kakosheet.cli import gsheet as _gsheet  # noqa: E402,F401
from kakosheet.cli import report as _report  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main())
