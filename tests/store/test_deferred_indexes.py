"""A sync inserting many rows into a table holding few builds the table's indexes after the rows
(store/deferred_indexes.py), on SQLite only: the store's schema ends exactly as a small sync leaves
it, a rolled-back sync leaves the indexes and no rows, a table already holding as many rows keeps
its indexes, and PostgreSQL (whose DROP INDEX blocks readers) never drops one."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.errors import SourceChangedError
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.deferred_indexes import FLOOR
from tests.helpers import qc_row
from tests.postgres import create_database

NOW = dt.datetime(2026, 6, 30, 9, 0)
BIG = FLOOR + 2000
LABELS = {"Case ID": "case_id"}  # qc_row's labels -> the schema's fields, as fill_master_workbook takes them


def qc_case(n: int) -> dict[str, Any]:
    row = qc_row(Description=f"Carton {n} crushed.")
    return {LABELS.get(label, label.lower().replace(" ", "_")): value for label, value in row.items()}


def master_workbook(folder: Path, numbers: range) -> Path:
    init_team(folder / "team", logs=("qc",))
    config = load_config(folder / "team" / "kakosheet.toml")
    path = folder / "team" / "master.xlsx"
    fill_master_workbook(path, config.load_schemas(), {"qc": [qc_case(n) for n in numbers]})
    return path


@pytest.fixture(scope="module")
def big_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master workbook of more rows than the floor, none with an ID yet (made once: it takes a while)."""
    return master_workbook(tmp_path_factory.mktemp("big"), range(BIG))


@pytest.fixture(scope="module")
def other_big_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As many other rows (other cases, not those of ``big_workbook`` without their IDs)."""
    return master_workbook(tmp_path_factory.mktemp("other"), range(BIG, 2 * BIG))


def team(folder: Path, workbook: Path | None = None, rows: int = 3) -> Config:
    init_team(folder, logs=("qc",))
    config = load_config(folder / "kakosheet.toml")
    if workbook is not None:
        shutil.copyfile(workbook, folder / "master.xlsx")
    else:
        fill_master_workbook(folder / "master.xlsx", config.load_schemas(), {"qc": [qc_case(n) for n in range(rows)]})
    return config


@pytest.fixture
def other_url(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second, empty store of the same kind."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'other.db'}"
    return create_database(request.getfixturevalue("postgres_server"))


class Statements:
    """The SQL every engine sends while it is open."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.sent.append(statement)

    def drops(self) -> list[str]:
        """The indexes dropped, by name."""
        return sorted(s.split()[-1].strip('"') for s in self.sent if s.lstrip().upper().startswith("DROP INDEX"))


@pytest.fixture
def statements() -> Iterator[Statements]:
    seen = Statements()
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


def schema_of(url: str) -> list[tuple[Any, ...]]:
    """The store's tables and indexes as the database keeps their definitions."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"  # indexes hold every row
                query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            else:
                query = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            return sorted(tuple(row) for row in connection.execute(text(query)))
    finally:
        engine.dispose()


def count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


DEFERRED = [
    "ix_case_history_case",
    "ix_case_qc_closure_date",
    "ix_case_qc_date",
    "ix_case_qc_missing",
    "ix_case_qc_source",
    "ix_case_qc_status",
]


def test_a_big_first_sync_leaves_the_schema_a_small_one_does(
    tmp_path: Path, big_workbook: Path, store_url: str, other_url: str, statements: Statements
) -> None:
    sync_source(team(tmp_path / "small"), store_url=other_url, now=NOW)
    assert statements.drops() == []  # a small sync does no DDL
    result = sync_source(team(tmp_path / "big", big_workbook), store_url=store_url, now=NOW)
    assert result.counts["qc"]["new"] == BIG
    assert statements.drops() == (DEFERRED if store_url.startswith("sqlite") else [])  # PostgreSQL never drops
    assert schema_of(store_url) == schema_of(other_url)
    assert count(store_url, "case_qc") == count(store_url, "case_history") == BIG


def test_an_abandoned_big_sync_leaves_the_indexes_and_no_rows(
    tmp_path: Path, big_workbook: Path, store_url: str, other_url: str, statements: Statements
) -> None:
    sync_source(team(tmp_path / "small"), store_url=other_url, now=NOW)
    config = team(tmp_path / "big", big_workbook)
    lock = config.root / "~$master.xlsx"  # Excel has it open: the write-back refuses, the inserts are rolled back
    lock.write_text("ana")
    with pytest.raises(SourceChangedError):
        sync_source(config, store_url=store_url, now=NOW)
    assert statements.drops() == (DEFERRED if store_url.startswith("sqlite") else [])  # they were dropped, then
    assert count(store_url, "case_qc") == count(store_url, "case_history") == 0
    small = schema_of(other_url)
    assert schema_of(store_url) == small
    lock.unlink()
    assert sync_source(config, store_url=store_url, now=NOW).counts["qc"]["new"] == BIG
    assert schema_of(store_url) == small


def test_a_table_holding_as_many_rows_as_it_gets_keeps_its_indexes(
    tmp_path: Path,
    big_workbook: Path,
    other_big_workbook: Path,
    store_url: str,
    other_url: str,
    statements: Statements,
) -> None:
    sync_source(team(tmp_path / "small"), store_url=other_url, now=NOW)
    config = team(tmp_path / "big", big_workbook)
    sync_source(config, store_url=store_url, now=NOW)
    shutil.copyfile(other_big_workbook, config.root / "master.xlsx")  # as many new cases; the first ones gone
    statements.sent.clear()
    result = sync_source(config, store_url=store_url, now=NOW + dt.timedelta(days=1))
    assert result.counts["qc"]["new"] == BIG
    # BIG new cases into a table of BIG: not worth a rebuild; their events and the gone ones' (2 BIG) into a
    # history of BIG: rebuilt.
    assert statements.drops() == (["ix_case_history_case"] if store_url.startswith("sqlite") else [])
    assert schema_of(store_url) == schema_of(other_url)
    assert count(store_url, "case_qc") == 2 * BIG and count(store_url, "case_history") == 3 * BIG
