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


# Every tab, as CSV (44: comma, 34: quotes, 76: UTF-8, -1: all sheets).
CSV_EVERY_TAB = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def convert(workbook: Path, to: str, scratch: Path) -> Path:
    """LibreOffice, as a real client, converts the workbook (headless, its own profile); the folder it wrote."""
    out = scratch / "out"
    result = subprocess.run(
        [
            soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{scratch / 'profile'}",
            "--convert-to",
            to,
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
    return out


def as_csv_tabs(workbook: Path, scratch: Path) -> dict[str, list[list[str]]]:
    """Every tab of the workbook as LibreOffice reads it: file stem -> rows."""
    out = convert(workbook, CSV_EVERY_TAB, scratch)
    return {path.stem: list(csv.reader(path.open(encoding="utf-8"))) for path in out.glob("*.csv")}


def test_a_synced_workbook_opens_in_libreoffice_with_its_ids(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=dt.datetime(2026, 6, 30, 9))
    sheets = as_csv_tabs(workbook, tmp_path)
    qc = next(rows for name, rows in sheets.items() if name.endswith("QC Log"))
    assert [row[0] for row in qc[1:4]] == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    issues = next(rows for name, rows in sheets.items() if name.endswith("Issues"))
    assert issues[0][0] == "kakosheet: every open issue of the last sync"


def _a_libreoffice_workbook(folder: Path, scratch: Path) -> Path:
    """A team's own workbook, last saved by LibreOffice: no conditional format, so no dxfs section in its styles."""
    from tests.helpers import qc_row, qc_tab, write_workbook

    plain = write_workbook(scratch / "log.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Owner="not an email")])})
    saved = convert(plain, "xlsx", scratch) / "log.xlsx"
    assert b"<dxfs" not in _styles(saved) and b"<tableStyles" not in _styles(saved)
    return Path(shutil.copy(saved, folder / "log.xlsx"))


def _styles(workbook: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(workbook) as archive:
        return archive.read("xl/styles.xml")


def test_a_workbook_saved_by_libreoffice_gets_its_highlights(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = _a_libreoffice_workbook(tmp_path / "team", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=dt.datetime(2026, 6, 30, 9))
    styles = _styles(workbook)
    assert b'<dxfs count="1"><dxf>' in styles
    assert styles.index(b"<dxfs") > styles.index(b"</cellStyles>")
    qc = next(rows for name, rows in as_csv_tabs(workbook, tmp_path / "again").items() if name.endswith("QC Log"))
    assert [row[0] for row in qc[1:3]] == ["QC-2026-0001", "QC-2026-0002"]


def test_a_workbook_saved_by_libreoffice_can_be_set_up(tmp_path: Path) -> None:
    from kakosheet.app.upgrade import upgrade_source

    (tmp_path / "team").mkdir()
    workbook = _a_libreoffice_workbook(tmp_path / "team", tmp_path)
    upgrade_source(team_for(tmp_path / "team", workbook))
    styles = _styles(workbook)
    assert b"<dxfs" in styles and styles.index(b"<dxfs") > styles.index(b"</cellStyles>")
    assert any(name.endswith("QC Log") for name in as_csv_tabs(workbook, tmp_path / "again"))
