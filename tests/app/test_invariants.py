"""The invariants a sync keeps (ARCHITECTURE.md): each test here is one way of breaking them that
the rest of the suite let through (tools/mutation.py plants each one and checks it is caught).

Real workbooks edited with openpyxl as a person would, a real SQLite store (PostgreSQL for
concurrent reservations), the real CLI for exit codes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from kakosheet.app.history import case_history
from kakosheet.app.setup import init_team
from kakosheet.cli import main as cli_main
from kakosheet.config import Config, load_config
from kakosheet.core.writeback import WriteBack
from kakosheet.errors import SourceChangedError
from kakosheet.sources.xlsx import XlsxSource
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.store import Store
from kakosheet.store.tables import build_metadata
from tests.app.test_sync import NOW, fill, qc_case, rewrite, sheet, sync
from tests.helpers import qc_row

LATER = NOW + dt.timedelta(hours=2)


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def cases(n: int, **values: Any) -> list[dict[str, Any]]:
    return [qc_case(Original_Order_ID=f"ORD-{i:04d}", Description=f"case {i}", **values) for i in range(n)]


def stored(team: Config, store_url: str) -> dict[str, dict[str, Any]]:
    """case ID -> its stored row (values and kakosheet's own columns)."""
    table = build_metadata(team.load_schemas()).tables["case_qc"]
    with create_engine(store_url).connect() as connection:
        return {row.case_id: dict(row._mapping) for row in connection.execute(select(table))}


def events(team: Config, store_url: str, case_id: str) -> list[tuple[str, int]]:
    return [(e.event, e.version) for e in case_history(team, case_id, store_url=store_url).events]


def labels(path: Path) -> list[str]:
    return [c.value for c in load_workbook(path)["QC Log"][1]]


def column(path: Path, label: str) -> int:
    return labels(path).index(label) + 1


def row_values(path: Path, row: int) -> list[Any]:
    return [c.value for c in load_workbook(path)["QC Log"][row]]


def put_row(path: Path, at: int, values: list[Any], *, insert: bool = True) -> None:
    """Insert (or overwrite) a row of values, number formats kept as Excel keeps them on a paste."""

    def paste(ws) -> None:  # type: ignore[no-untyped-def]
        if insert:
            ws.insert_rows(at)
        for number, value in enumerate(values, start=1):
            ws.cell(at, number).value = value

    rewrite(path, paste)


# ---------------------------------------------------------------------- copies and matching


def test_a_copy_pasted_above_its_original_and_edited_is_the_one_flagged(team: Config, store: str) -> None:
    path = fill(team, cases(2))
    sync(team, store)
    original = row_values(path, 2)
    copy = list(original)
    copy[column(path, "Original Order ID") - 1] = "ORD-9999"  # a new case started from a copy
    put_row(path, 2, copy)

    result = sync(team, store, now=LATER)

    rows = sheet(path)
    assert [r["Case ID"] for r in rows] == ["QC-2026-0001", "QC-2026-0001", "QC-2026-0002"]
    assert rows[0]["Issues"].startswith("Case ID: QC-2026-0001 is also on row 3")
    assert rows[1]["Issues"] is None  # the row holding the stored case keeps the ID
    assert stored(team, store)["QC-2026-0001"]["original_order_id"] == "ORD-0000"
    assert result.counts["qc"]["changed"] == 0 and result.counts["qc"]["conflicts"] == 1


def test_an_exact_copy_of_a_row_is_flagged_not_merged(team: Config, store: str) -> None:
    path = fill(team, cases(2))
    sync(team, store)
    put_row(path, 4, row_values(path, 2))  # the same row, ID and all, pasted below

    result = sync(team, store, now=LATER)

    assert result.counts["qc"]["conflicts"] == 1
    rows = sheet(path)
    assert rows[2]["Case ID"] == "QC-2026-0001" and rows[2]["Issues"].startswith("Case ID: QC-2026-0001 is also")
    assert rows[0]["Issues"] is None


def test_two_pasted_rows_without_an_id_matching_one_missing_case_both_get_new_ids(team: Config, store: str) -> None:
    path = fill(team, cases(2))
    sync(team, store)
    values = row_values(path, 3)
    values[0] = None  # pasted twice, without the ID
    rewrite(path, lambda ws: ws.delete_rows(3))
    put_row(path, 3, values)
    put_row(path, 4, values)

    result = sync(team, store, now=LATER)

    ids = [r["Case ID"] for r in sheet(path)]
    assert None not in ids and len(set(ids)) == 3  # rows that cannot be told apart: neither is the old case
    assert result.counts["qc"]["new"] == 2 and result.counts["qc"]["restored"] == 0
    assert stored(team, store)["QC-2026-0002"]["_missing_since"] is not None


def test_a_row_without_an_id_matching_two_missing_cases_is_a_new_case(team: Config, store: str) -> None:
    path = fill(team, [qc_case(Description="twin") for _ in range(2)])  # two cases, the same content
    sync(team, store)
    rewrite(path, lambda ws: ws.delete_rows(3))
    rewrite(path, lambda ws: setattr(ws.cell(2, 1), "value", None))

    result = sync(team, store, now=LATER)

    assert result.counts["qc"]["restored"] == 0 and result.counts["qc"]["new"] == 1
    assert sheet(path)[0]["Case ID"] == "QC-2026-0003"
    rows = stored(team, store)
    assert rows["QC-2026-0001"]["_missing_since"] is not None and rows["QC-2026-0002"]["_missing_since"] is not None


# ---------------------------------------------------------------------- missing and returned


def test_a_deleted_row_put_back_as_it_was_is_its_case_present_again(team: Config, store: str) -> None:
    path = fill(team, cases(2))
    sync(team, store)
    deleted = row_values(path, 3)
    rewrite(path, lambda ws: ws.delete_rows(3))

    gone = sync(team, store, now=LATER)
    again = sync(team, store, now=LATER + dt.timedelta(days=1))  # still gone: not marked missing twice

    assert gone.plans["qc"].gone == ["QC-2026-0002"] and again.plans["qc"].gone == []
    assert stored(team, store)["QC-2026-0002"]["_missing_since"] == gone.run_id
    assert events(team, store, "QC-2026-0002") == [("created", 1), ("missing", 1)]

    put_row(path, 3, deleted)  # undo in Excel: the very row is back
    back = sync(team, store, now=LATER + dt.timedelta(days=2))

    assert back.counts["qc"]["returned"] == 1 and back.counts["qc"]["new"] == 0
    assert stored(team, store)["QC-2026-0002"]["_missing_since"] is None
    assert events(team, store, "QC-2026-0002") == [("created", 1), ("missing", 1), ("returned", 1)]


def test_a_returned_case_that_changed_is_present_with_a_new_version(team: Config, store: str) -> None:
    path = fill(team, cases(2))
    sync(team, store)
    deleted = row_values(path, 3)
    rewrite(path, lambda ws: ws.delete_rows(3))
    sync(team, store, now=LATER)
    deleted[column(path, "Description") - 1] = "back, and edited"
    put_row(path, 3, deleted)

    sync(team, store, now=LATER + dt.timedelta(days=1))

    case = stored(team, store)["QC-2026-0002"]
    assert case["_missing_since"] is None and case["description"] == "back, and edited"
    assert case["_version"] == 2
    assert events(team, store, "QC-2026-0002") == [("created", 1), ("missing", 1), ("returned", 2)]


def test_each_change_is_a_new_version_and_text_that_did_not_fit_is_history_too(team: Config, store: str) -> None:
    path = fill(team, [qc_case(Replacement_Cost="$12.50")])
    sync(team, store)
    cost = column(path, "Replacement Cost")
    rewrite(path, lambda ws: setattr(ws.cell(2, cost), "value", "$13.00"))  # still not a number

    sync(team, store, now=LATER)

    history = case_history(team, "QC-2026-0001", store_url=store).events
    assert [(e.event, e.version) for e in history] == [("created", 1), ("changed", 2)]
    assert history[1].changes == {"replacement_cost (as typed)": ["$12.50", "$13.00"]}
    assert stored(team, store)["QC-2026-0001"]["_raw"] == {"replacement_cost": "$13.00"}


# ---------------------------------------------------------------------- numbering


def test_a_typed_id_equal_to_the_next_number_is_never_issued_again(team: Config, store: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-0001", Description="typed"), qc_case(Description="new")])
    sync(team, store)
    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0001", "QC-2026-0002"]
    assert set(stored(team, store)) == {"QC-2026-0001", "QC-2026-0002"}


def test_an_adopted_id_alone_moves_its_years_sequence_on(team: Config, store: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-0001", Description="typed")])  # no new row this sync
    sync(team, store)
    put_row(path, 3, [None, *row_values(path, 2)[1:]])
    rewrite(path, lambda ws: setattr(ws.cell(3, column(path, "Description")), "value", "new"))

    sync(team, store, now=LATER)

    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0001", "QC-2026-0002"]
    assert {case_id: row["description"] for case_id, row in stored(team, store).items()} == {
        "QC-2026-0001": "typed",
        "QC-2026-0002": "new",
    }


def test_the_sequence_continues_past_the_highest_adopted_id(team: Config, store: str) -> None:
    rows = [qc_case(Case_ID="QC-2026-0041"), qc_case(Case_ID="QC-2026-0007"), qc_case()]
    path = fill(team, rows)
    sync(team, store)
    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0041", "QC-2026-0007", "QC-2026-0042"]


def test_concurrent_reservations_never_hand_out_a_number_twice(team: Config, store_url: str) -> None:
    """Twelve syncs reserving at once (threads, one store): every number once."""
    store = Store(store_url, team.load_schemas())
    store.prepare()
    numbers: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def reserve() -> None:
        mine = Store(store_url, team.load_schemas())
        try:
            start.wait()
            for _ in range(15):
                first = mine.reserve_numbers("qc", 2026, 5)
                numbers.extend(range(first, first + 5))
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            mine.engine.dispose()

    threads = [threading.Thread(target=reserve) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.engine.dispose()
    assert not errors, errors
    assert len(numbers) == 12 * 15 * 5
    assert len(set(numbers)) == len(numbers)


# ---------------------------------------------------------------------- another workbook's cases


def test_a_case_of_another_workbook_is_flagged_and_stays_that_workbooks(team: Config, store: str) -> None:
    path = fill(team, cases(1))
    sync(team, store)
    # Another workbook of its own (a new one, no identity yet), a row typed with the first one's ID.
    other = team.root / "other team.xlsx"
    init_team(team.root.parent / "blank", logs=("qc",))
    shutil.copy(team.root.parent / "blank" / "master.xlsx", other)
    fill_master_workbook(
        other, team.load_schemas(), {"qc": [qc_case(Case_ID="QC-2026-0001", Description="someone else's")]}
    )

    result = sync(team, store, source=str(other), now=LATER)

    foreign = [issue for issue in result.report.issues if issue.code == "foreign-id"]
    assert len(foreign) == 1 and str(path.resolve()) in foreign[0].message
    assert result.open_errors >= 1
    case = stored(team, store)["QC-2026-0001"]
    assert case["description"] == "case 0" and case["_missing_since"] is None
    assert len(stored(team, store)) == 1  # the other workbook's row is not stored under that ID
    assert sync(team, store, now=LATER + dt.timedelta(hours=1)).counts["qc"]["gone"] == 0


# ---------------------------------------------------------------------- the unchanged-workbook shortcut


def test_a_changed_date_order_judges_the_workbook_again(team: Config) -> None:
    fill(team, [qc_case(Date_Identified="03/04/2026", Date_Logged="04/04/2026")])
    first = sync(team, f"sqlite:///{team.root / 'kakosheet.db'}")
    assert {i.code for i in first.report.issues if i.log == "qc"} >= {"ambiguous-date"}
    toml = team.root / "kakosheet.toml"
    toml.write_text(toml.read_text().replace('date_order = ""', 'date_order = "DMY"'))

    again = sync(load_config(toml), f"sqlite:///{team.root / 'kakosheet.db'}", now=NOW + dt.timedelta(minutes=5))

    assert again.unchanged_since is None
    assert [i for i in again.report.issues if i.log == "qc" and i.severity == "error"] == []


# ---------------------------------------------------------------------- write-back safety


def test_a_staff_save_after_the_read_is_never_overwritten(team: Config) -> None:
    path = fill(team, cases(1))
    source = XlsxSource(path)  # read, as a sync reads it
    rewrite(path, lambda ws: setattr(ws.cell(2, column(path, "Owner")), "value", "saved meanwhile"))
    saved = path.read_bytes()

    with pytest.raises(SourceChangedError):
        source.write_back(WriteBack(identity="f" * 32))

    assert path.read_bytes() == saved


def test_a_typed_value_shown_on_the_issues_tab_stays_text(team: Config, store: str) -> None:
    path = fill(team, [qc_case(Status="=1+2")])  # typed as text: not a formula in the sheet
    sync(team, store)
    tab = load_workbook(path)["Issues"]
    cells = [c for row in tab.iter_rows() for c in row if isinstance(c.value, str) and "1+2" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_workbook_in_the_1904_date_system_reads_its_dates(team: Config, store: str, tmp_path: Path) -> None:
    from tests.helpers import qc_tab, write_workbook

    path = write_workbook(
        tmp_path / "mac.xlsx",
        {"QC Log": qc_tab([qc_row(Date_Identified=dt.datetime(2026, 3, 2, 10, 30))])},
        date1904=True,
    )
    sync(team, store, source=str(path))
    assert stored(team, store)["QC-2026-0001"]["date_identified"] == dt.datetime(2026, 3, 2, 10, 30)


# ---------------------------------------------------------------------- the command line


def test_an_unexpected_error_exits_70_in_one_line() -> None:
    @cli_main.command("explode-for-test", hidden=True)
    def explode() -> None:
        raise RuntimeError("boom")

    try:
        result = CliRunner().invoke(cli_main, ["explode-for-test"])
    finally:
        cli_main.commands.pop("explode-for-test")
    assert result.exit_code == 70
    assert "unexpected error (RuntimeError: boom)" in result.output and "Traceback" not in result.output
    assert isinstance(cli_main, click.Group)
