"""A SQLite store is made with a rollback journal by the command that makes it (its first sync
writes each page once) and runs in WAL from the next command on, for readers beside a sync."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kakosheet.app.history import case_history
from kakosheet.app.setup import init_team
from kakosheet.config import load_config
from tests.app.test_sync import fill, qc_case, sync


def journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as connection:  # asking changes nothing: the mode is the file's
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def test_the_command_that_makes_a_store_writes_it_with_a_journal_and_the_next_one_turns_it_to_wal(
    tmp_path: Path,
) -> None:
    init_team(tmp_path / "team", logs=("qc",))
    team = load_config(tmp_path / "team" / "kakosheet.toml")
    fill(team, [qc_case(), qc_case(Description="other")])
    store = tmp_path / "team" / "store.db"
    url = f"sqlite:///{store}"

    first = sync(team, url)

    assert first.counts["qc"]["new"] == 2
    assert journal_mode(store) == "delete"
    assert sorted(p.name for p in store.parent.glob("store.db*")) == ["store.db"]  # no journal left
    assert [e.event for e in case_history(team, "QC-2026-0002", store_url=url).events] == ["created"]
    assert journal_mode(store) == "wal"  # the history command opened it: WAL from now on
    again = sync(team, url)
    assert again.unchanged_since == first.run_id and journal_mode(store) == "wal"
