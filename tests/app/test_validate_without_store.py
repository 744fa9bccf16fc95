"""validate of a sheet with no store beside it does not load the database layer (a fresh process's start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import qc_row, qc_tab, write_workbook

_VALIDATE = """\
import sys
from kakosheet.app.validate import validate_source
from kakosheet.config import load_config
report = validate_source(load_config(None), sys.argv[1])
print(len(report.issues), "sqlalchemy" in sys.modules)
"""


def _validate_in_fresh_process(path: Path, cwd: Path) -> tuple[int, bool]:
    out = subprocess.run([sys.executable, "-c", _VALIDATE, str(path)], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    issues, loaded = out.stdout.split()
    return int(issues), loaded == "True"


def test_no_store_file_no_sqlalchemy(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab([qc_row(Status="Shipped")])})
    issues, loaded = _validate_in_fresh_process(path, tmp_path)
    assert issues >= 1 and not loaded
    assert not (tmp_path / "kakosheet.db").exists()  # and creates none


def test_a_store_file_there_is_opened(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab([qc_row(Status="Shipped")])})
    (tmp_path / "kakosheet.db").write_bytes(b"")  # an empty file is an empty SQLite database
    issues, loaded = _validate_in_fresh_process(path, tmp_path)
    assert issues >= 1 and loaded
