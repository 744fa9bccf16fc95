"""The team's master open in a real LibreOffice while a manager writes a report into it or runs
setup: nothing is written, the message names who has it open and says to run that command again
(not sync), and once it is closed the same command does its job. And a master LibreOffice saved
keeps kakosheet's header notes kakosheet's, though LibreOffice drops their author."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openpyxl import load_workbook

from kakosheet.app.setup import init_team
from kakosheet.config import load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.helpers import run_kakosheet
from tests.reports.store import qc
from tests.sources.test_libreoffice import convert, soffice


def synced_team(folder: Path) -> Path:
    init_team(folder, logs=("qc",), timezone="Asia/Tokyo")
    config = load_config(folder / "kakosheet.toml")
    cases = [qc(f"O{i}", dt.datetime(2026, 11, 2 + i, 9), "Damaged", "Acme", "Supplier") for i in range(3)]
    fill_master_workbook(folder / "master.xlsx", config.load_schemas(), {"qc": cases})
    done = run_kakosheet("sync", "--as-of", "2026-11-20T10:00", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "master.xlsx"


@contextmanager
def open_in_libreoffice(workbook: Path, scratch: Path) -> Iterator[Path]:
    """The workbook open for editing in LibreOffice (headless, its own profile) until the block ends;
    yields the lock file LibreOffice keeps beside it."""
    lock = workbook.with_name(f".~lock.{workbook.name}#")
    office = subprocess.Popen(
        [soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{scratch / 'profile'}", str(workbook)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not lock.exists():
            assert office.poll() is None and time.monotonic() < deadline, "LibreOffice did not open the workbook"
            time.sleep(0.2)
        yield lock
    finally:
        os.killpg(office.pid, signal.SIGKILL)
        office.wait(timeout=30)
        lock.unlink(missing_ok=True)  # what Calc removes when it closes the workbook


def test_a_report_tab_or_setup_into_a_workbook_open_in_libreoffice_waits_for_it(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    workbook = synced_team(folder)
    before = workbook.read_bytes()
    with open_in_libreoffice(workbook, tmp_path) as lock:
        # LibreOffice's lock: the name in its options (blank in a new profile), the system user, the host, ...
        name, user, host = lock.read_text(encoding="utf-8").split(",")[:3]
        assert (name, user) == ("", pwd.getpwuid(os.getuid()).pw_name) and host
        refused = run_kakosheet("report", "weekly", "--period", "2026-W45", "--format", "sheet", cwd=folder)
        assert refused.returncode == 4, refused.stderr
        assert f"open in LibreOffice by {user} on {host}" in refused.stderr
        assert "run the command again" in refused.stderr and "run sync again" not in refused.stderr
        schema = folder / "schemas" / "qc.yaml"
        schema.write_text(schema.read_text().replace("Packaging Damage]", "Packaging Damage, Counterfeit]"))
        refused = run_kakosheet("setup", cwd=folder)
        assert refused.returncode == 4 and "run sync again" not in refused.stderr, refused.stderr
        assert workbook.read_bytes() == before

    done = run_kakosheet("report", "weekly", "--period", "2026-W45", "--format", "sheet", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "Report 2026-W45" in load_workbook(workbook).sheetnames
    done = run_kakosheet("setup", cwd=folder)
    assert done.returncode == 0, done.stderr


def test_setup_of_a_master_libreoffice_saved_knows_its_own_header_notes(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    workbook = synced_team(folder)
    saved = convert(workbook, "xlsx", tmp_path / "scratch") / workbook.name  # LibreOffice writes every note anew
    workbook.write_bytes(saved.read_bytes())
    done = run_kakosheet("setup", cwd=folder)
    assert done.returncode == 0, done.stderr
    # The notes still say what kakosheet says of each column: they are its own, not the team's.
    assert "your note" not in done.stdout, done.stdout
    again = run_kakosheet("setup", cwd=folder)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stdout
