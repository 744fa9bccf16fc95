"""The journal of a SQLite store: a file a command makes is written through a rollback journal
(each page written once) until the command closes it, and is WAL from then on, as every later
command opens it: readers beside a writer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kakosheet.app.configured import open_store
from kakosheet.config import load_config
from tests.helpers import qc_row, qc_tab, run_kakosheet, write_workbook


def journal_mode(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        connection.close()


def team_folder(tmp_path: Path) -> Path:
    assert run_kakosheet("init", "team", "--logs", "qc", cwd=tmp_path).returncode == 0
    team = tmp_path / "team"
    write_workbook(team / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Original_Order_ID="0005678")])})
    return team


def test_a_store_made_by_a_command_is_written_without_wal_and_left_in_wal(tmp_path: Path) -> None:
    config = load_config(team_folder(tmp_path) / "kakosheet.toml")
    database = config.root / "kakosheet.db"
    store = open_store(config, config.load_schemas())
    store.prepare()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    store.close()
    assert journal_mode(database) == "wal"
    assert sorted(path.name for path in config.root.iterdir() if path.name.startswith("kakosheet.db")) == [
        "kakosheet.db"
    ]

    again = open_store(config, config.load_schemas())  # the file is there: WAL from the first connection
    with again.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    again.close()


def test_a_first_sync_leaves_its_store_in_wal_with_nothing_beside_it(tmp_path: Path) -> None:
    team = team_folder(tmp_path)
    synced = run_kakosheet("sync", cwd=team)
    assert synced.returncode == 0, synced.stderr
    assert journal_mode(team / "kakosheet.db") == "wal"
    assert not [path.name for path in team.iterdir() if path.name.startswith("kakosheet.db-")]
    history = run_kakosheet("history", "QC-2026-0001", cwd=team)
    assert history.returncode == 0, history.stderr
    assert "created" in history.stdout
