"""A re-sync of a workbook unchanged since its last sync reads nothing and reports the same;
anything that could change the outcome makes it run in full."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.app.test_sync import qc_case

NOW = dt.datetime(2026, 6, 30, 9, 0)


def team_with(tmp_path: Path, rows: list[dict[str, Any]]) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    fill_master_workbook(config.root / "master.xlsx", config.load_schemas(), {"qc": rows})
    return config


def sync(config: Config, now: dt.datetime = NOW) -> SyncResult:
    return sync_source(config, now=now)


def runs(config: Config) -> list[str]:
    with create_engine(f"sqlite:///{config.root / 'kakosheet.db'}").connect() as connection:
        return [row[0] for row in connection.execute(text("select status from sync_runs order by id"))]


def edit(config: Config, cell: str, value: Any) -> None:
    workbook = load_workbook(config.root / "master.xlsx")
    workbook["QC Log"][cell] = value
    workbook.save(config.root / "master.xlsx")


def test_an_unchanged_workbook_is_not_read_and_reports_the_same(tmp_path: Path) -> None:
    config = team_with(tmp_path, [qc_case(), qc_case(Status="Bogus")])
    first = sync(config)
    again = sync(config, NOW + dt.timedelta(hours=3))
    assert again.unchanged_since == first.run_id and not again.written and again.rows_stored == 0
    assert again.counts["qc"]["unchanged"] == 2 and again.counts["qc"]["new"] == 0
    assert [(i.row, i.code, i.case_id) for i in again.report.issues] == [(3, "not-in-list", "QC-2026-0002")]
    assert runs(config) == ["done", "unchanged"]


def test_it_reports_what_reading_the_workbook_again_reports(tmp_path: Path) -> None:
    """The outcome recorded by a sync that wrote IDs and notes equals what a full read of the
    workbook as written gives (here: a store that knows nothing reads it again)."""
    config = team_with(tmp_path, [qc_case(), qc_case(Status="Bogus"), qc_case(Owner="not an email")])
    sync(config)
    recorded = sync(config, NOW + dt.timedelta(hours=1))
    assert recorded.unchanged_since is not None
    (config.root / "kakosheet.db").unlink()
    reread = sync(config, NOW + dt.timedelta(hours=1))
    assert reread.unchanged_since is None and not reread.written

    def issues(result: SyncResult) -> list[tuple[Any, ...]]:
        return sorted((i.row, i.column, i.code, i.severity, i.case_id, i.message) for i in result.report.issues)

    assert issues(recorded) == issues(reread) and len(issues(reread)) == 2
    assert recorded.counts["qc"]["unchanged"] == reread.counts["qc"]["new"] == 3


def test_a_changed_cell_then_changed_back_is_stored_both_times(tmp_path: Path) -> None:
    config = team_with(tmp_path, [qc_case(Description="first")])
    sync(config)
    sync(config)
    edit(config, "F2", "second")
    changed = sync(config)
    assert changed.unchanged_since is None and changed.counts["qc"]["changed"] == 1
    edit(config, "F2", "first")  # the workbook is as it was when an outcome was first recorded
    back = sync(config)
    assert back.unchanged_since is None and back.counts["qc"]["changed"] == 1


def test_a_schema_change_or_another_day_reads_the_workbook_again(tmp_path: Path) -> None:
    config = team_with(tmp_path, [qc_case()])
    sync(config)
    assert sync(config).unchanged_since is not None
    assert sync(config, NOW + dt.timedelta(days=1)).unchanged_since is None
    schema = config.schemas_dir / "qc.yaml"
    schema.write_text(schema.read_text() + "\n# a comment is a change too\n")
    assert sync(config, NOW + dt.timedelta(days=1)).unchanged_since is None


def test_a_filled_blank_is_judged_again_before_an_outcome_is_recorded(tmp_path: Path) -> None:
    """Filling Date Logged changes what the date rules see: the next sync reads the workbook."""
    config = team_with(tmp_path, [qc_case(Date_Logged=None)])
    first = sync(config)
    assert first.written
    second = sync(config)
    assert second.unchanged_since is None and not second.written
    assert sync(config).unchanged_since == second.run_id


def test_a_dry_run_never_uses_nor_records_an_outcome(tmp_path: Path) -> None:
    config = team_with(tmp_path, [qc_case()])
    sync(config)
    dry = sync_source(config, dry_run=True, now=NOW)
    assert dry.unchanged_since is None and dry.plans["qc"].counts["unchanged"] == 1
