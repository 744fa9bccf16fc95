"""`kakosheet init` and `kakosheet template build`: a team's folder and its master workbook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kakosheet.config import CONFIG_NAME, DEFAULT_LOGS, Config, load_config, write_config
from kakosheet.errors import UsageError
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
    """Write kakosheet.toml, copy the default schemas, and build the master workbook."""
    config_path = folder / CONFIG_NAME
    workbook = folder / MASTER_NAME
    if not force:
        for existing in (config_path, workbook):
            if existing.exists():
                raise UsageError(f"{existing} already exists; pass --force to overwrite it")
    write_config(folder, source=MASTER_NAME, logs=logs or DEFAULT_LOGS, timezone=timezone, date_order=date_order)
    config = load_config(config_path)
    schemas = config.load_schemas()
    build_master_workbook(schemas, config.logs, workbook)
    return InitResult(config=config_path, schemas=config.schemas_dir, workbook=workbook)


def build_template(config: Config, *, schemas_dir: Path | None = None, out: Path | None = None) -> Path:
    """Regenerate the master workbook from the schemas: every log, then the reference tabs.

    Without options: the team's schemas when there is a kakosheet.toml, else ./schemas,
    written to ./templates/master.xlsx.
    """
    if schemas_dir is None:
        local = Path.cwd() / "schemas"
        schemas_dir = config.schemas_dir if config.path or not local.is_dir() else local
    schemas = load_schemas(schemas_dir)
    names = [s.name for s in schemas.case_logs]
    logs = tuple(sorted(names, key=lambda n: (DEFAULT_LOGS.index(n) if n in DEFAULT_LOGS else len(DEFAULT_LOGS), n)))
    target = out or Path.cwd() / "templates" / MASTER_NAME
    return build_master_workbook(schemas, logs, target)
