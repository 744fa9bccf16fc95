"""What a command imports, in a fresh process: only what it uses.

The scheduled job runs `kakosheet sync` every few minutes, and most of the time the workbook
is unchanged since the last sync (app/unchanged.py): its cells are not read, so nothing that
reads and types cells (pandas, numpy) may load. --help and --version load neither the schemas'
YAML, nor the store, nor a reader; the child that scans a workbook's XML loads no reader.
Structural checks on sys.modules, never timings.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kakosheet.app.sync import sync_source
from kakosheet.sources.xlsx_package import inspect_package
from tests.app.test_sync import qc_case
from tests.app.test_sync_unchanged import edit, team_with

PROJECT = Path(__file__).resolve().parent.parent
READERS = {"pandas", "numpy", "python_calamine", "openpyxl"}
NOW = dt.datetime(2026, 6, 30, 9, 0)

# The last line a probe prints: every module the fresh interpreter loaded.
_LOADED = "print(); print(json.dumps(sorted(sys.modules)))"
# Runs the CLI in this fresh interpreter, then says what it loaded.
_CLI = f"""\
import json, sys
from kakosheet.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
{_LOADED}
"""


def loaded_by(code: str, *args: str, cwd: Path = PROJECT) -> tuple[str, set[str]]:
    """What a fresh interpreter running ``code`` printed, and the modules it loaded (with their packages)."""
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    *printed, last = out.stdout.rstrip("\n").split("\n")
    modules = set(json.loads(last))
    return "\n".join(printed), modules | {name.split(".")[0] for name in modules}


def cli_loads(*args: str, cwd: Path = PROJECT) -> tuple[str, set[str]]:
    return loaded_by(_CLI, *args, cwd=cwd)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["sync", "--help"], ["validate", "--help"]])
def test_help_and_version_load_no_schemas_store_or_reader(args: list[str]) -> None:
    printed, loaded = cli_loads(*args)
    assert "kakosheet" in printed
    assert not loaded & (READERS | {"yaml", "sqlalchemy"}), sorted(loaded & (READERS | {"yaml", "sqlalchemy"}))


def test_importing_the_sync_loads_no_reader_and_no_store() -> None:
    _, loaded = loaded_by(f"import json, sys, kakosheet.app.sync, kakosheet.cli.commands\n{_LOADED}")
    assert not loaded & (READERS | {"sqlalchemy"}), sorted(loaded & (READERS | {"sqlalchemy"}))


def test_an_unchanged_resync_reads_nothing_and_loads_no_pandas(tmp_path: Path) -> None:
    config = team_with(tmp_path, [qc_case(), qc_case(Status="Bogus")])
    sync_source(config, now=NOW)
    sync = ["--config", str(config.path), "sync", "--as-of", "2026-06-30 12:00"]
    printed, loaded = cli_loads(*sync, cwd=tmp_path)
    assert "has not changed since sync run" in printed
    assert "sqlalchemy" in loaded  # the store was opened: that is where the outcome is recorded
    assert not loaded & {"pandas", "numpy"}, sorted(loaded & READERS)
    assert "sqlalchemy.dialects.postgresql" not in loaded  # a SQLite store needs no other database's dialect
    edit(config, "F2", "a description edited since")  # the same command, now with cells to read
    printed, loaded = cli_loads(*sync, cwd=tmp_path)
    assert "has not changed" not in printed and "1 changed" in printed
    assert {"pandas", "numpy"} <= loaded


def test_the_cell_scan_child_loads_no_reader_store_or_cli(tmp_path: Path) -> None:
    """The child process CellScan starts (`python -m kakosheet.sources.xlsx_package`) while the
    workbook is read: it imports the package reader and nothing of the rest."""
    config = team_with(tmp_path, [qc_case(Status="Bogus")])
    workbook = config.root / "master.xlsx"
    member = inspect_package(workbook).sheet_parts["QC Log"]
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kakosheet.sources.xlsx_package", str(workbook), member],
        cwd=PROJECT,
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in out.stderr.decode().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "kakosheet" in imported and out.stdout  # it ran, and answered
    assert not imported & (READERS | {"sqlalchemy", "yaml", "click"}), sorted(imported)
