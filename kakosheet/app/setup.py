"""`kakosheet init` and `kakosheet template build`: a team's folder and its master workbook."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kakosheet.config import (
    CONFIG_NAME,
    DATE_ORDERS,
    DEFAULT_LOGS,
    Config,
    default_schema_dir,
    load_config,
    write_config,
)
from kakosheet.core.cells import CellContext
from kakosheet.core.schema import SchemaSet
from kakosheet.errors import NoRoomError, SourceError, UsageError, no_room
from kakosheet.schema_files import load_schemas
from kakosheet.sources.xlsx_template import build_master_workbook

MASTER_NAME = "master.xlsx"


@dataclass(frozen=True)
class InitResult:
    config: Path
    schemas: Path
    workbook: Path


def init_team(
    folder: Path,
    *,
    logs: tuple[str, ...] | None = None,
    timezone: str = "UTC",
    date_order: str = "",
    force: bool = False,
) -> InitResult:
    """Write kakosheet.toml, copy the default schemas, and build the master workbook.

    The options are checked before anything is written, and a failure part-way takes back
    what this run wrote, so running it again (corrected) just works.
    """
    logs = logs or DEFAULT_LOGS
    _check_init_options(logs, timezone, date_order)
    config_path = folder / CONFIG_NAME
    workbook = folder / MASTER_NAME
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file; name a folder for the team (it is created if missing)")
    if not force:
        for existing in (config_path, workbook):
            if existing.exists():
                raise UsageError(f"{existing} already exists; pass --force to overwrite it")
    undo = _Undo(folder)
    try:
        write_config(folder, source=MASTER_NAME, logs=logs, timezone=timezone, date_order=date_order)
        config = load_config(config_path)
        schemas = config.load_schemas()
        staged = folder / f".{MASTER_NAME}.init-{os.getpid()}"
        undo.created.append(staged)
        build_master_workbook(schemas, config.logs, staged)
        os.replace(staged, workbook)  # an existing workbook is replaced only by a finished one
    except OSError as exc:  # a read-only share, a file where a folder should be, a full disk
        undo.run()
        if no_room(exc):
            raise NoRoomError(
                f"{folder}: cannot write the team's files there ({exc.strerror or exc}); nothing was left behind. "
                "Free some space on the disk (or raise the quota or file size limit), then run the command again"
            ) from exc
        raise UsageError(
            f"{folder}: cannot write the team's files there ({exc.strerror or exc}); nothing was left behind. "
            "Name a folder kakosheet may write in"
        ) from exc
    except BaseException:
        undo.run()
        raise
    return InitResult(config=config_path, schemas=config.schemas_dir, workbook=workbook)


class _Undo:
    """What a failed init takes back: the files and folders it created, the config it replaced."""

    def __init__(self, folder: Path) -> None:
        self.folder_existed = folder.exists()
        self.folder = folder
        self.schemas = folder / "schemas"
        self.schemas_existed = self.schemas.exists()
        self.schema_files = {p.name for p in self.schemas.glob("*.yaml")} if self.schemas_existed else set()
        config = folder / CONFIG_NAME
        self.config_before = config.read_bytes() if config.is_file() else None
        self.created: list[Path] = []

    def run(self) -> None:
        for path in self.created:
            _remove(path)
        config = self.folder / CONFIG_NAME
        if self.config_before is not None:
            config.write_bytes(self.config_before)
        else:
            _remove(config)
        if not self.schemas_existed:
            shutil.rmtree(self.schemas, ignore_errors=True)
        else:
            for copied in self.schemas.glob("*.yaml"):
                if copied.name not in self.schema_files:
                    _remove(copied)
        if not self.folder_existed:
            shutil.rmtree(self.folder, ignore_errors=True)


def _remove(path: Path) -> None:
    """A file this run may have written, gone; one under a file (``notes.txt/team``) never was."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        path.unlink()


def _check_init_options(logs: tuple[str, ...], timezone: str, date_order: str) -> None:
    """Each bad option named as the option the user typed, before anything is written."""
    known = [s.name for s in load_schemas(default_schema_dir()).case_logs]
    for name in logs:
        if name not in known:
            raise UsageError(f"--logs: {name!r} is not a log (the logs are: {', '.join(known)})")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--timezone: {timezone!r} is not a time zone (e.g. Europe/Berlin, Asia/Shanghai)") from exc
    if date_order and date_order.upper() not in DATE_ORDERS:
        raise UsageError(f'--date-order: should be "DMY", "MDY" or "", found {date_order!r}')


def build_template(config: Config, *, schemas_dir: Path | None = None, out: Path | None = None) -> Path:
    """Regenerate the master workbook from the schemas: every log, then the reference tabs.

    Without options: the team's schemas when there is a kakosheet.toml, else ./schemas,
    written to ./templates/master.xlsx. A workbook that holds cases or reference rows is never replaced.
    """
    if schemas_dir is None:
        local = Path.cwd() / "schemas"
        schemas_dir = config.schemas_dir if config.path or not local.is_dir() else local
    schemas = load_schemas(schemas_dir)
    names = [s.name for s in schemas.case_logs]
    logs = tuple(sorted(names, key=lambda n: (DEFAULT_LOGS.index(n) if n in DEFAULT_LOGS else len(DEFAULT_LOGS), n)))
    target = out or Path.cwd() / "templates" / MASTER_NAME
    if target.exists():
        _refuse_a_workbook_with_cases(schemas, logs, target)
    try:
        return build_master_workbook(schemas, logs, target)
    except OSError as exc:  # a read-only folder, a file where a folder should be, a full disk
        if no_room(exc):
            raise NoRoomError(
                f"{target}: cannot write the template there ({exc.strerror or exc}); it was left as it was. "
                "Free some space on the disk (or raise the quota or file size limit), then run the command again"
            ) from exc
        raise UsageError(
            f"{target}: cannot write the template there ({exc.strerror or exc}); "
            "give --out a place kakosheet may write in"
        ) from exc


def _refuse_a_workbook_with_cases(schemas: SchemaSet, logs: tuple[str, ...], target: Path) -> None:
    """`template build` writes an empty workbook: it replaces only a workbook whose tabs hold no case
    and no reference row (an earlier template), never a team's filled one (its Vendors or Orders
    alone are the team's work too), nor a file it cannot read as a log."""
    from kakosheet.app.read import read_source
    from kakosheet.sources import open_source

    how = f"write the template elsewhere (--out templates/{MASTER_NAME}), or move {target.name} away first"
    try:
        opened = open_source(str(target))
        read = read_source(opened, schemas, logs, CellContext(date_order=None, date1904=opened.date1904))
    except SourceError as exc:
        raise UsageError(f"{target}: exists and is not a kakosheet workbook ({exc}); it was left alone. {how}") from exc
    cases = sum(len(table) for table in read.all_tables() if table.schema.kind == "log")
    references = {table.sheet: len(table) for table in read.all_tables() if table.schema.kind != "log" and len(table)}
    if cases or references:
        held = [f"{cases} case(s)"] if cases else []
        held += [f"{rows} row(s) in {sheet!r}" for sheet, rows in references.items()]
        raise UsageError(
            f"{target}: holds {', '.join(held)}, and `template build` would replace it with an empty workbook; "
            f"it was left alone. {how}"
        )
