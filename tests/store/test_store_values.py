"""No staff value makes the store refuse a sync, on SQLite and on PostgreSQL: long and odd
text, NUL, huge numbers, a column whose schema type changed, an old store with bounded
columns; ID numbers reserved atomically under concurrent syncs; an unreachable store."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.config import Config, load_config
from kakosheet.errors import StoreError
from kakosheet.store.store import Store
from tests.helpers import qc_row, write_workbook
from tests.postgres import create_database

NOW = dt.datetime(2026, 6, 30, 9, 0)
EXTRA = """  - field: units
    label: Units
    type: integer
    description: How many units failed.
"""


@pytest.fixture
def team(tmp_path: Path) -> Config:
    """A QC team whose schema has an integer column too (the default QC log has none)."""
    init_team(tmp_path / "team", logs=("qc",))
    schema = tmp_path / "team" / "schemas" / "qc.yaml"
    schema.write_text(schema.read_text().replace("  - field: issues\n", EXTRA + "  - field: issues\n"))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def workbook(config: Config, rows: list[dict[str, Any]]) -> Path:
    """A QC Log as staff keep it: every label of the schema as header, these rows below."""
    labels = [c.label for c in config.load_schemas()["qc"].columns]
    path = config.root / "cases.xlsx"
    write_workbook(path, {"QC Log": [labels, *[[row.get(label) for label in labels] for row in rows]]})
    return path


def sync(config: Config, path: Path, store_url: str) -> SyncResult:
    return sync_source(config, str(path), store_url=store_url, now=NOW)


def sheet_ids(path: Path) -> list[str]:
    rows = list(load_workbook(path, data_only=True)["QC Log"].iter_rows(values_only=True))
    column = rows[0].index("Case ID")
    return [row[column] for row in rows[1:] if row[column]]


def stored(store_url: str, query: str) -> list[Any]:
    with create_engine(store_url).connect() as connection:
        return list(connection.execute(text(query)).all())


def raws(store_url: str) -> list[dict[str, str] | None]:
    """The cells kept as typed, per case in ID order (psycopg parses JSON, sqlite3 does not)."""
    rows = stored(store_url, "select _raw from case_qc order by case_id")
    return [json.loads(r._raw) if isinstance(r._raw, str) else r._raw for r in rows]


def set_type(config: Config, field: str, before: str, after: str) -> None:
    """Edit the team's QC schema as a person would: one column's type changed."""
    path = config.root / "schemas" / "qc.yaml"
    yaml = path.read_text()
    start = yaml.index(f"  - field: {field}\n")
    block_end = yaml.index("  - field:", start + 1)
    block = yaml[start:block_end].replace(f"type: {before}\n", f"type: {after}\n").replace("    min: 0\n", "")
    path.write_text(yaml[:start] + block + yaml[block_end:])


# ---------------------------------------------------------------------- item 1: values the store took badly

LONG_ORDER = "ORD-" + "7" * 296
LONG_EMAIL = "a" * 300 + "@" + "b" * 23 + ".com"  # 328 characters


def test_long_odd_and_nul_cells_are_stored_and_flagged(team: Config, store_url: str) -> None:
    path = workbook(
        team,
        [
            qc_row(Original_Order_ID=LONG_ORDER, Owner=LONG_EMAIL),
            qc_row(Description="crushed_x0000_ carton", Currency="US Dollars"),
            qc_row(Units="123456789012345678901234567890"),
            qc_row(Units=1e30, Replacement_Cost="0." + "1" * 20000),
            qc_row(Units=7),
        ],
    )
    result = sync(team, path, store_url)
    ids = sheet_ids(path)
    assert len(ids) == 5
    rows = stored(store_url, "select case_id, original_order_id, owner, description, currency, units from case_qc")
    assert sorted(r.case_id for r in rows) == sorted(ids)  # the sheet shows only IDs the store kept
    by_order = {r.original_order_id: r for r in rows}
    assert by_order[LONG_ORDER].owner == LONG_EMAIL
    values = {r.description: r for r in rows}
    assert values["crushed carton"].currency is None  # not a currency: kept as typed, flagged
    assert sorted(r.units for r in rows if r.units is not None) == [7]
    typed = [t for t in raws(store_url) if t]
    assert {"currency": "US Dollars"} in typed
    assert {"units": "123456789012345678901234567890"} in typed
    assert any(t.get("units") == "1e+30" and len(t["replacement_cost"]) == 20002 for t in typed)
    issues = {(i.row, i.column, i.code, i.severity) for i in result.report.issues}
    assert (3, "Description", "character-removed", "warning") in issues
    assert (4, "Units", "too-large", "error") in issues  # beyond BIGINT, and Excel's 15 digits
    assert (5, "Units", "too-large", "error") in issues
    assert (5, "Replacement Cost", "too-many-digits", "error") in issues
    removed = next(i for i in result.report.issues if i.code == "character-removed")
    assert "removed" in removed.message and "_x0000_" in removed.message and removed.value == "crushed carton"
    again = sync(team, path, store_url)  # and the next sync has nothing new to say
    assert again.counts["qc"]["new"] == 0


def test_a_store_of_bounded_text_columns_is_widened_on_the_next_sync(team: Config, postgres_server: str) -> None:
    """Stores made before text was unbounded have VARCHAR(n) columns: the next sync widens them."""
    store_url = create_database(postgres_server)
    path = workbook(team, [qc_row()])
    sync(team, path, store_url)
    with create_engine(store_url).begin() as connection:
        for column, length in (("original_order_id", 255), ("owner", 320), ("currency", 3)):
            connection.execute(text(f"alter table case_qc alter column {column} type varchar({length})"))
    path = workbook(team, [qc_row(), qc_row(Original_Order_ID=LONG_ORDER, Owner=LONG_EMAIL, Currency="US Dollars")])
    sync(team, path, store_url)
    assert len(stored(store_url, "select case_id from case_qc")) == 2
    kinds = dict(
        stored(
            store_url,
            "select column_name, data_type from information_schema.columns where table_name = 'case_qc'",
        )
    )
    assert {kinds[c] for c in ("original_order_id", "owner", "currency")} == {"text"}


def test_a_value_the_store_still_refuses_names_its_row_and_column(team: Config, store_url: str) -> None:
    """A rule of the database kakosheet does not know (a DBA's CHECK, a trigger) refuses one cell."""
    path = workbook(team, [qc_row()])
    sync(team, path, store_url)
    with create_engine(store_url).begin() as connection:
        if store_url.startswith("sqlite"):
            connection.execute(
                text(
                    "create trigger refuse before insert on case_qc when new.description = 'refuse me' "
                    "begin select raise(abort, 'refused by a rule of this database'); end"
                )
            )
        else:
            connection.execute(
                text("alter table case_qc add constraint refuse check (description is distinct from 'refuse me')")
            )
    path = workbook(team, [qc_row(), qc_row(Description="fine"), qc_row(Description="refuse me"), qc_row()])
    with pytest.raises(StoreError) as refused:
        sync(team, path, store_url)
    ids = sheet_ids(path)
    assert f"the store refused the Description of row 4 on QC Log ({ids[2]})" in str(refused.value)
    assert refused.value.exit_code == 3
    assert len(stored(store_url, "select case_id from case_qc")) == 1  # nothing of that sync
    with create_engine(store_url).begin() as connection:
        drop = "drop trigger refuse" if store_url.startswith("sqlite") else "alter table case_qc drop constraint refuse"
        connection.execute(text(drop))
    sync(team, path, store_url)  # the next sync adopts the IDs the refused one gave the sheet
    kept = {r.case_id for r in stored(store_url, "select case_id from case_qc where _missing_since is null")}
    assert kept == set(sheet_ids(path)) and len(kept) == 4


# ---------------------------------------------------------------------- item 2: a column's type changed


def test_a_column_whose_type_changed_is_converted_keeping_what_does_not_fit(team: Config, store_url: str) -> None:
    path = workbook(
        team,
        [
            qc_row(Replacement_Cost=12.5, Logged_By="2026-03-05"),
            qc_row(Replacement_Cost="12 EUR", Logged_By="Ana"),
            qc_row(Replacement_Cost=None, Logged_By=None),
        ],
    )
    sync(team, path, store_url)
    set_type(team, "replacement_cost", "money", "text")
    set_type(team, "logged_by", "text", "date")
    result = sync(team, path, store_url)
    assert result.counts["qc"]["new"] == 0
    rows = stored(store_url, "select replacement_cost, logged_by, _raw from case_qc order by case_id")
    assert [(r.replacement_cost, str(r.logged_by) if r.logged_by else None) for r in rows] == [
        ("12.5", "2026-03-05"),
        ("12 EUR", None),  # as text it fits now: out of the as-typed cells
        (None, None),
    ]
    assert raws(store_url) == [None, {"logged_by": "Ana"}, None]
    history = stored(store_url, "select count(*) from case_history")[0][0]
    assert history == 3, stored(store_url, "select case_id, event, changes from case_history")
    assert not Store(store_url, team.load_schemas()).prepare()  # converted once, for good

    set_type(team, "replacement_cost", "text", "money")  # and back: "12 EUR" is kept as typed again
    sync(team, path, store_url)
    rows = stored(store_url, "select replacement_cost from case_qc order by case_id")
    assert [Decimal(r[0]) if r[0] is not None else None for r in rows] == [Decimal("12.5"), None, None]


def test_a_money_column_that_was_text_for_a_while_gets_the_minor_units_of_its_amounts_again(
    team: Config, store_url: str
) -> None:
    """Money, then text (an amount typed in words stored as it is), then money again: the minor units
    reports sum are those of what the column now holds, not of the amount it held before."""
    path = workbook(team, [qc_row(Replacement_Cost=12.5), qc_row(Replacement_Cost=7)])
    sync(team, path, store_url)
    set_type(team, "replacement_cost", "money", "text")
    sync(team, path, store_url)
    book = load_workbook(path)
    labels = [cell.value for cell in book["QC Log"][1]]
    book["QC Log"].cell(2, labels.index("Replacement Cost") + 1, "about twelve dollars")
    book.save(path)
    sync(team, path, store_url)
    set_type(team, "replacement_cost", "text", "money")
    sync(team, path, store_url)
    rows = stored(store_url, "select replacement_cost, _minor_replacement_cost from case_qc order by case_id")
    assert [(r[0] if r[0] is None else Decimal(r[0]), r[1]) for r in rows] == [(None, None), (Decimal(7), 700)]
    assert raws(store_url)[0] == {"replacement_cost": "about twelve dollars"}


# ---------------------------------------------------------------------- item 3: numbers reserved atomically


def test_numbers_reserved_at_once_are_all_distinct(team: Config, store_url: str) -> None:
    store = Store(store_url, team.load_schemas())
    store.prepare()
    threads, rounds, count = 12, 5, 3
    start = threading.Barrier(threads)
    firsts: list[int] = []
    failures: list[BaseException] = []

    def reserve() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                firsts.append(store.reserve_numbers("qc", 2026, count))
        except BaseException as exc:  # noqa: BLE001 -- reported below, in the test's thread
            failures.append(exc)

    workers = [threading.Thread(target=reserve) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    numbers = [first + k for first in firsts for k in range(count)]
    assert len(numbers) == len(set(numbers)) == threads * rounds * count
    assert store.reserve_numbers("qc", 2026, 1) == max(numbers) + 1


# ---------------------------------------------------------------------- item 4: the store unreachable


def _unreachable(postgres_server: str, tmp_path: Path) -> dict[str, str]:
    missing_database = postgres_server.rsplit("/", 1)[0] + "/no_such_database"
    return {
        "PostgreSQL down": "postgresql+psycopg://kakosheet:pw@127.0.0.1:1/aftersales",
        "bad host": "postgresql+psycopg://kakosheet:pw@no-such-host.invalid/aftersales",
        "wrong database": missing_database,
        "missing folder": f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'store.db'}",
        "read-only folder": f"sqlite:///{tmp_path / 'read-only' / 'store.db'}",
    }


@pytest.fixture
def read_only(tmp_path: Path) -> Any:
    """A folder nobody may write in, root included (chattr +i; chmod does not stop root)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if sys.platform != "linux":
        pytest.skip("chattr is Linux's")
    import os

    lock = ["chattr", "+i", str(folder)] if os.geteuid() == 0 else ["chmod", "555", str(folder)]
    subprocess.run(lock, check=True)
    yield folder
    subprocess.run(["chattr", "-i", str(folder)] if os.geteuid() == 0 else ["chmod", "755", str(folder)], check=True)


@pytest.mark.parametrize(
    "case", ["PostgreSQL down", "bad host", "wrong database", "missing folder", "read-only folder"]
)
@pytest.mark.parametrize("command", ["sync", "sync --dry-run", "history QC-2026-0001"])
def test_an_unreachable_store_is_exit_3_and_one_sentence(
    cli: Callable[..., Result], postgres_server: str, tmp_path: Path, read_only: Path, case: str, command: str
) -> None:
    assert cli("init", "team", "--logs", "qc").exit_code == 0
    url = _unreachable(postgres_server, tmp_path)[case]
    result = cli("--config", "team/kakosheet.toml", *command.split(), "--store", url)
    message = result.stderr if hasattr(result, "stderr") else result.output
    assert "Traceback" not in result.output and "pw" not in message.replace("pw@", "***@")
    if command == "sync --dry-run" and url.startswith("sqlite"):
        assert result.exit_code == 0, message  # a SQLite file not there yet holds nothing: the dry run needs none
        return
    lines = [line for line in message.splitlines() if line.startswith("kakosheet:")]
    assert len(lines) == 1, message
    if command != "sync" and url.startswith("sqlite"):
        # Only sync creates a SQLite store: a command that reads one it cannot find says so (exit 2).
        assert result.exit_code == 2 and "holds no cases yet; run `kakosheet sync` first" in lines[0]
        return
    assert result.exit_code == 3, result.output
    assert "cannot reach the store" in lines[0] and "check that" in lines[0], message
