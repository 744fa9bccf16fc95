"""A case's first version is told from its present (store/first_version.py): whatever happened to
the case since, `history` shows the values it was created with, as the copy a created event once
stored showed them. Real workbooks edited as a person would, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kakosheet.app.history import case_history
from kakosheet.app.setup import init_team
from kakosheet.config import Config, load_config
from tests.app.test_sync import NOW, fill, qc_case, rewrite, sync


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def first_version(team: Config, store_url: str, case_id: str) -> dict[str, list[object]]:
    created, *_ = case_history(team, case_id, store_url=store_url).events
    assert (created.event, created.version) == ("created", 1)
    return created.changes


def test_the_first_version_outlives_every_change_since(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Replacement_Cost="$12.50"), qc_case(Description="second")])
    sync(team, store_url)
    created = first_version(team, store_url, "QC-2026-0001")  # nothing since: the present is the first version
    assert created["replacement_cost (as typed)"] == [None, "$12.50"] and created["status"] == [None, "Open"]
    assert "replacement_cost" not in created and "closure_date" not in created

    def edit(ws, column: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        ws.cell(2, column["Replacement Cost"], 30)  # the text that did not fit becomes a number
        ws.cell(2, column["Status"], "Closed")
        ws.cell(2, column["Closure Date"], dt.datetime(2026, 6, 1))
        ws.cell(2, column["Description"], "reworded")

    def edit_again(ws, column: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        ws.cell(2, column["Replacement Cost"], "about 40")  # and text again
        ws.cell(2, column["Status"], "Open")
        ws.cell(2, column["Reopen Reason"], "the customer wrote again")
        ws.cell(2, column["Closure Date"]).value = None
        ws.delete_rows(3)  # the second case goes missing

    for day, change in enumerate((edit, edit_again), start=1):
        rewrite(path, lambda ws, change=change: change(ws, {c.value: c.column for c in ws[1]}))
        sync(team, store_url, now=NOW + dt.timedelta(days=day))

    events = case_history(team, "QC-2026-0001", store_url=store_url).events
    assert [(e.event, e.version) for e in events] == [("created", 1), ("changed", 2), ("changed", 3)]
    assert first_version(team, store_url, "QC-2026-0001") == created
    assert [e.event for e in case_history(team, "QC-2026-0002", store_url=store_url).events] == ["created", "missing"]
    assert first_version(team, store_url, "QC-2026-0002")["description"] == [None, "second"]


def test_a_created_event_that_kept_a_copy_of_the_case_is_shown_as_stored(team: Config, store_url: str) -> None:
    fill(team, [qc_case()])
    sync(team, store_url)
    copy = '{"description": [null, "as a store made before kept it"], "status": [null, "Open"]}'
    with create_engine(store_url).begin() as connection:  # what stores made before this one hold
        connection.execute(text("UPDATE case_history SET changes = :copy WHERE event = 'created'"), {"copy": copy})
    assert first_version(team, store_url, "QC-2026-0001") == {
        "description": [None, "as a store made before kept it"],
        "status": [None, "Open"],
    }
