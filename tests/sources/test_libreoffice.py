"""A synced workbook opens in LibreOffice, which reads it independently of kakosheet and openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kakosheet.app.sync import sync_source
from tests.helpers import PROJECT
from tests.sources.test_writeback import rich_workbook, team_for


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = "LibreOffice (soffice) is not installed; .ci/run installs libreoffice-calc-nogui"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_a_synced_workbook_opens_in_libreoffice_with_its_ids(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=dt.datetime(2026, 6, 30, 9))
    out = tmp_path / "out"
    result = subprocess.run(
        [
            soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=PROJECT,
    )
    assert result.returncode == 0, result.stderr
    sheets = {path.stem: list(csv.reader(path.open(encoding="utf-8"))) for path in out.glob("*.csv")}
    qc = next(rows for name, rows in sheets.items() if name.endswith("QC Log"))
    assert [row[0] for row in qc[1:4]] == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    issues = next(rows for name, rows in sheets.items() if name.endswith("Issues"))
    assert issues[0][0] == "kakosheet: every open issue of the last sync"
