"""A disk that fills up under `kakosheet demo`, a sync or a report: exit 3 with a sentence saying to
free some space, no file left half-written, and the same command run again just works.

The disk is made full for the command alone with a file size limit (RLIMIT_FSIZE): past it every
write fails with EFBIG, as on a full disk with ENOSPC (Python ignores the signal that comes with
it). It needs no mount and no tool, and holds for root too."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import qc_row, qc_tab, run_kakosheet, write_workbook

ROOM = "Free some space on the disk (or raise the quota or file size limit)"


def run_with_room(*args: str, cwd: Path, room: int, tmp: Path) -> subprocess.CompletedProcess[str]:
    """kakosheet as a process that may write files of at most ``room`` bytes (its temporary files too)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TMPDIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-m", "kakosheet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=limit,
    )


def said_no_room(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 3, done.stderr
    assert ROOM in done.stderr
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr and "Exception" not in done.stderr


def nothing_half_written(folder: Path) -> None:
    """Every workbook left opens whole, and no staged new version is left beside it."""
    for workbook in folder.rglob("*.xlsx"):
        with zipfile.ZipFile(workbook) as package:
            assert package.testzip() is None, workbook
    assert not [path.name for path in folder.rglob(".*") if path.is_file()]


@pytest.mark.parametrize(
    "room",
    [1024, 20_000, 150_000],
    ids=["init's own files", "the master in the temporary folder", "the sample cases"],
)
def test_the_demo_onto_a_full_disk_says_so_and_runs_again(tmp_path: Path, room: int) -> None:
    """It once ended with exit 70 (lxml's SerialisationError IO_EFBIG from openpyxl's temporary files),
    or with exit 2 "name a folder kakosheet may write in", as if the folder were wrong."""
    folder = tmp_path / "demo"
    full = run_with_room("demo", str(folder), cwd=tmp_path, room=room, tmp=tmp_path / "tmp")
    said_no_room(full)
    if folder.exists():
        nothing_half_written(folder)
    again = run_kakosheet("demo", str(folder), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    history = run_kakosheet("history", "QC-2026-0001", cwd=folder)
    assert history.returncode == 0 and "v1 created" in history.stdout, history.stderr


def test_a_sync_whose_store_runs_out_of_room_says_so_and_the_next_one_finishes(tmp_path: Path) -> None:
    """SQLite tells a write past the limit as "disk I/O error" (SQLITE_IOERR), a full disk as
    "database or disk is full": both once came out as "the store ... failed: ..." and nothing to do."""
    assert run_kakosheet("init", "team", "--logs", "qc", cwd=tmp_path).returncode == 0
    team = tmp_path / "team"
    write_workbook(team / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Original_Order_ID="0005678")])})
    full = run_with_room("sync", cwd=team, room=64_000, tmp=tmp_path / "tmp")
    said_no_room(full)
    assert "the store sqlite:///" in full.stderr and "cannot be written: the disk that holds it" in full.stderr
    assert "nothing half-done was kept in it" in full.stderr
    nothing_half_written(team)
    again = run_kakosheet("sync", cwd=team)
    assert again.returncode == 0, again.stderr
    assert "QC Log: 2 new" in again.stderr + again.stdout


def test_a_report_onto_a_full_disk_leaves_the_earlier_report_as_it_was(tmp_path: Path) -> None:
    """`--out` was written in place: a full disk left half a report (and said exit 2, "fix the command")."""
    folder = tmp_path / "demo"
    assert run_kakosheet("demo", str(folder), cwd=tmp_path).returncode == 0
    earlier = folder / "week.html"
    earlier.write_text("<!DOCTYPE html><p>last week's report</p>")
    full = run_with_room(
        "report", "weekly", "--format", "html", "--out", "week.html", cwd=folder, room=64_000, tmp=tmp_path / "tmp"
    )
    said_no_room(full)
    assert "--out: cannot write week.html" in full.stderr and "nothing was written" in full.stderr
    assert earlier.read_text() == "<!DOCTYPE html><p>last week's report</p>"
    nothing_half_written(folder)
    again = run_kakosheet("report", "weekly", "--format", "html", "--out", "week.html", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert len(earlier.read_bytes()) > 64_000
