"""A team folder a manager may only read: the commands that read the store work, the ones that
write it say so (exit 3) before they start, and nothing is left beside the store."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import qc_row, qc_tab, run_kakosheet, write_workbook


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Files and folders this user may not write, as on a share mounted read-only. Root ignores
    the mode bits, so as root (CI) they are made immutable instead (chattr +i stops root too)."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in paths}
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True)
        if os.environ.get("CI"):
            pytest.fail(f"chattr +i failed here ({done.stderr.strip()}); these tests need it under CI")
        pytest.skip("the file system here cannot make a file immutable")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def synced_team(tmp_path: Path) -> Path:
    """A team folder with a QC Log of two cases, synced once."""
    team = tmp_path / "team"
    assert run_kakosheet("init", "team", "--logs", "qc", cwd=tmp_path).returncode == 0
    write_workbook(team / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Original_Order_ID="0005678")])})
    synced = run_kakosheet("sync", cwd=team)
    assert synced.returncode == 0, synced.stderr
    return team


def beside_store(team: Path) -> set[str]:
    return {path.name for path in team.iterdir() if path.name.startswith("kakosheet.db")}


READS = [
    ("history", "QC-2026-0001"),
    ("report", "weekly", "--period", "2026-W10", "--format", "md"),
    ("sync", "--dry-run"),
]


@pytest.mark.parametrize("locked", ["folder and store", "store only"])
def test_commands_that_read_the_store_work_where_it_may_only_be_read(tmp_path: Path, locked: str) -> None:
    """They once all ended with "cannot reach the store (unable to open database file)", exit 3."""
    team = synced_team(tmp_path)
    workbook = (team / "master.xlsx").read_bytes()
    store = team / "kakosheet.db"
    with read_only(*((team, store) if locked == "folder and store" else (store,))):
        history = run_kakosheet(*READS[0], cwd=team)
        assert history.returncode == 0, history.stderr
        assert "QC-2026-0001 (QC Log)" in history.stdout and "v1 created" in history.stdout
        report = run_kakosheet(*READS[1], cwd=team)
        assert report.returncode == 0, report.stderr
        assert "# Weekly report 2026-W10" in report.stdout and "QC-2026-0002" in report.stdout
        dry = run_kakosheet(*READS[2], cwd=team)
        assert dry.returncode == 0, dry.stderr
        assert "QC Log: 0 new, 2 unchanged" in dry.stdout
        # A read opened with SQLite's immutable mode makes no -wal or -shm: none is left owned by this
        # user that the sync's own user could not write.
        assert beside_store(team) == {"kakosheet.db"}
    assert (team / "master.xlsx").read_bytes() == workbook


def test_a_report_written_from_a_store_that_may_only_be_read_warns_that_its_figures_were_not_recorded(
    tmp_path: Path,
) -> None:
    team = synced_team(tmp_path)
    out = tmp_path / "week.html"
    with read_only(team, team / "kakosheet.db"):
        args = ("report", "weekly", "--period", "2026-W10", "--format", "html", "--out", str(out))
        report = run_kakosheet(*args, cwd=team)
    assert report.returncode == 0, report.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert "figures were not recorded as published" in report.stderr
    assert "cannot be written: it is read-only for this user" in report.stderr


@pytest.mark.parametrize(
    "command", [("sync",), ("import", "orders", "orders.csv"), ("schedule", "--once")], ids=lambda c: c[0]
)
def test_a_command_that_writes_the_store_says_it_cannot_be_written_before_it_starts(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    team = synced_team(tmp_path)
    (team / "orders.csv").write_text("Order ID,Quantity\n0009999,1\n")
    workbook = (team / "master.xlsx").read_bytes()
    with read_only(team, team / "kakosheet.db"):
        refused = run_kakosheet(*command, cwd=team)
    message = refused.stderr + refused.stdout  # schedule tells its run's error in its JSON line
    assert refused.returncode == 3, message
    assert "cannot be written: kakosheet.db or its folder is read-only for this user" in message
    assert "Run it as the user the store belongs to, or let this user write to kakosheet.db" in message
    assert "Traceback" not in message and "unexpected" not in message
    assert (team / "master.xlsx").read_bytes() == workbook  # refused before the workbook was written
    assert beside_store(team) == {"kakosheet.db"}


def test_a_read_only_read_sees_what_the_stores_log_holds_while_a_sync_has_it_open(tmp_path: Path) -> None:
    """While a connection is open, a sync's last changes may sit only in kakosheet.db-wal: a read
    of the file alone (immutable) would not see them. With a -shm there, the read goes through it."""
    team = synced_team(tmp_path)
    write_workbook(
        team / "master.xlsx",
        {"QC Log": qc_tab([qc_row(Case_ID="QC-2026-0001", Status="Closed", Closure_Date="2026-03-05")])},
    )
    holder = sqlite3.connect(team / "kakosheet.db")  # another user's open connection: nothing is checkpointed
    try:
        holder.execute("SELECT count(*) FROM sync_runs").fetchone()
        resynced = run_kakosheet("sync", cwd=team)
        assert resynced.returncode == 0, resynced.stderr
        assert (team / "kakosheet.db-wal").stat().st_size > 0
        with read_only(team, team / "kakosheet.db"):
            history = run_kakosheet("history", "QC-2026-0001", cwd=team)
    finally:
        holder.close()
    assert history.returncode == 0, history.stderr
    assert "v2 changed" in history.stdout and "Status: Open -> Closed" in history.stdout
