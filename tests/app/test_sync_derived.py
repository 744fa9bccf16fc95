"""Values kakosheet derives (core/derived.py) never make a case look new, changed or erased.

Real workbooks, a real store (SQLite and PostgreSQL): a stale copy saved over the synced
workbook, a log without a Date Logged column, a formula where kakosheet would fill, a team
timezone other than the server's, a column renamed by staff.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config, load_config
from kakosheet.core.issues import Issue
from kakosheet.store.tables import build_metadata
from tests.app.test_sync import NOW, fill, history_rows, qc_case, rewrite, sheet, sync


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def column(path: Path, label: str) -> int:
    """The column number of a header label in the QC Log tab."""
    return [c.value for c in load_workbook(path)["QC Log"][1]].index(label) + 1


def stored(team: Config, store_url: str, column: str = "date_logged") -> dict[str, Any]:
    """case ID -> the typed value the store holds for a field of the QC log."""
    table = build_metadata(team.load_schemas()).tables["case_qc"]
    with create_engine(store_url).connect() as connection:
        rows = connection.execute(select(table.c.case_id, table.c[column]).order_by(table.c.case_id)).all()
    return {row[0]: row[1] for row in rows}


def cases(n: int, **values: Any) -> list[dict[str, Any]]:
    return [qc_case(Original_Order_ID=f"ORD-{i:04d}", **values) for i in range(n)]


def test_a_stale_copy_saved_over_the_synced_workbook_gets_its_ids_and_dates_back(team: Config, store_url: str) -> None:
    path = fill(team, cases(4, Date_Logged=None))
    stale = shutil.copy(path, path.with_name("stale.xlsx"))  # opened before the sync, saved after it
    sync(team, store_url)
    first = {row["Case ID"]: row["Date Logged"] for row in sheet(path)}
    assert set(first) == {"QC-2026-0001", "QC-2026-0002", "QC-2026-0003", "QC-2026-0004"}
    versions = history_rows(store_url)

    shutil.copy(stale, path)
    result = sync(team, store_url, now=NOW + dt.timedelta(hours=3))

    assert result.counts["qc"]["new"] == 0 and result.counts["qc"]["restored"] == 4
    assert result.counts["qc"]["gone"] == 0
    assert {row["Case ID"]: row["Date Logged"] for row in sheet(path)} == first  # the dates kakosheet wrote
    assert stored(team, store_url) == {case_id: NOW for case_id in first}
    assert history_rows(store_url) == versions  # nothing changed: no version, no case missing


def test_a_stale_copy_that_kept_its_ids_but_not_the_filled_dates_is_unchanged(team: Config, store_url: str) -> None:
    path = fill(team, cases(2, Date_Logged=None))
    sync(team, store_url)
    ids = [row["Case ID"] for row in sheet(path)]
    logged = column(path, "Date Logged")
    rewrite(path, lambda ws: [setattr(ws.cell(row, logged), "value", None) for row in (2, 3)])  # cleared

    result = sync(team, store_url, now=NOW + dt.timedelta(days=2))

    assert result.counts["qc"]["unchanged"] == 2 and result.counts["qc"]["changed"] == 0
    assert [(row["Case ID"], row["Date Logged"]) for row in sheet(path)] == [(case_id, NOW) for case_id in ids]


def test_a_log_without_a_date_logged_column_is_unchanged_on_a_second_sync(tmp_path: Path, store_url: str) -> None:
    init_team(tmp_path / "team", logs=("qc",))
    team = load_config(tmp_path / "team" / "kakosheet.toml")
    path = fill(team, cases(3))
    logged = column(path, "Date Logged")
    rewrite(path, lambda ws: ws.delete_cols(logged))  # the team dropped Date Logged
    sync(team, store_url)
    second = sync(team, store_url, now=NOW + dt.timedelta(days=1))
    assert second.counts["qc"]["unchanged"] == 3 and second.counts["qc"]["changed"] == 0

    id_column = column(path, "Case ID")
    rewrite(path, lambda ws: setattr(ws.cell(3, id_column), "value", None))  # an ID cleared by hand
    third = sync(team, store_url, now=NOW + dt.timedelta(days=2))
    assert third.counts["qc"]["restored"] == 1 and third.counts["qc"]["new"] == 0
    assert [row["Case ID"] for row in sheet(path)] == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]


def test_a_formula_in_date_logged_is_never_replaced(team: Config, store_url: str) -> None:
    path = fill(team, cases(2, Date_Logged=None))
    formulas = {2: '=IF(B2="","",NOW())', 3: '=IF(B3="x",NOW(),"")'}  # the second shows nothing
    logged = column(path, "Date Logged")
    rewrite(path, lambda ws: [setattr(ws.cell(row, logged), "value", formula) for row, formula in formulas.items()])

    sync(team, store_url)
    sync(team, store_url, now=NOW + dt.timedelta(days=1))

    tab = load_workbook(path)["QC Log"]
    assert {row: tab.cell(row, logged).value for row in formulas} == formulas
    assert [row["Case ID"] for row in sheet(path)] == ["QC-2026-0001", "QC-2026-0002"]


def test_date_logged_is_the_teams_local_time_not_the_servers(tmp_path: Path, store_url: str) -> None:
    init_team(tmp_path / "team", logs=("qc",))
    toml = tmp_path / "team" / "kakosheet.toml"
    toml.write_text(toml.read_text().replace('timezone = "UTC"', 'timezone = "Asia/Shanghai"'))
    team = load_config(toml)
    assert team.timezone == "Asia/Shanghai"
    # Identified ten minutes ago in Shanghai (00:10 on 1 July), logged now: 16:30 UTC on 30 June.
    path = fill(team, [qc_case(Date_Identified=dt.datetime(2026, 7, 1, 0, 10), Date_Logged=None)])
    instant = dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC)

    result = sync_source(team, store_url=store_url, now=instant)

    assert sheet(path)[0]["Date Logged"] == dt.datetime(2026, 7, 1, 0, 30)
    assert stored(team, store_url) == {"QC-2026-0001": dt.datetime(2026, 7, 1, 0, 30)}
    assert not [issue for issue in result.report.issues if issue.severity == "error"], result.report.issues
    history = build_metadata(team.load_schemas()).tables["case_history"]
    with create_engine(store_url).connect() as connection:
        recorded = connection.execute(select(history.c.recorded_at)).scalar_one()
    assert recorded == dt.datetime(2026, 6, 30, 16, 30)  # the history's time: the same instant, in UTC


def test_a_column_renamed_by_staff_erases_nothing(team: Config, store_url: str) -> None:
    path = fill(team, cases(3, Owner="ana@example.com"))
    sync(team, store_url)
    versions = history_rows(store_url)
    owner = column(path, "Owner")
    rewrite(path, lambda ws: setattr(ws.cell(1, owner), "value", "Owner e-mail"))

    result = sync(team, store_url, now=NOW + dt.timedelta(days=1))

    assert stored(team, store_url, "owner") == dict.fromkeys(
        ("QC-2026-0001", "QC-2026-0002", "QC-2026-0003"), "ana@example.com"
    )
    assert history_rows(store_url) == versions
    missing = [issue for issue in result.report.issues if issue.code == "missing-column"]
    assert len(missing) == 1 and missing[0].column == "Owner"
    assert "'Owner e-mail'" in missing[0].message

    rewrite(path, lambda ws: setattr(ws.cell(1, owner), "value", "Owner"))  # put back: still nothing changed
    back = sync(team, store_url, now=NOW + dt.timedelta(days=2))
    assert back.counts["qc"]["changed"] == 0 and history_rows(store_url) == versions


def test_validate_and_sync_tell_a_copied_row_the_same_story(team: Config, store_url: str) -> None:
    path = fill(team, cases(2))
    sync(team, store_url)
    rewrite(path, lambda ws: ws.append([cell.value for cell in ws[2]]))  # a row copied with its ID

    validated = validate_source(team, str(path), today=NOW.date())
    synced = sync(team, store_url, now=NOW + dt.timedelta(days=1))

    def story(issues: list[Issue]) -> list[tuple[int | None, str | None, str, str]]:
        return sorted((i.row, i.column, i.code, i.message) for i in issues if i.code == "duplicate-id")

    assert story(validated.issues) == story(synced.report.issues)
    assert [row for row, *_ in story(synced.report.issues)] == [4]
    assert synced.open_errors == synced.report.errors == 1
