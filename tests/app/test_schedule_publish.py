"""The scheduled job publishes by itself: with `publish = ["weekly"]`, the first run after a week
completes writes that week's report tab into the workbook, once; later runs leave it alone."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.schedule import RunSettings, run_once
from kakosheet.config import load_config
from tests.app.test_sync import qc_case
from tests.app.test_sync_safety import make_team


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _publications(store_url: str) -> list[tuple[str, str, str]]:
    with create_engine(store_url).connect() as connection:
        rows = connection.execute(text("select kind, period, format from report_publications order by id"))
        return [tuple(row) for row in rows]


def test_each_completed_week_is_published_once_into_the_workbook(tmp_path: Path, store_url: str) -> None:
    cases = [
        qc_case(Date_Identified=dt.datetime(2026, 11, 17, 9, 0), Date_Logged=dt.datetime(2026, 11, 17, 9, 30)),
        qc_case(
            Date_Identified=dt.datetime(2026, 11, 25, 9, 0),
            Date_Logged=dt.datetime(2026, 11, 25, 9, 30),
            Original_Order_ID="0009999",
        ),
    ]
    config = make_team(tmp_path / "team", cases)
    assert config.path is not None
    # At the top: a key after the [archives] table would belong to it.
    config.path.write_text('publish = ["weekly"]\n' + config.path.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_config(config.path).publish == ("weekly",)
    workbook = config.root / "master.xlsx"
    path = config.path
    clock = {"now": dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)}  # Tuesday of 2026-W48: W47 is complete

    def settings() -> RunSettings:
        return RunSettings(load_config=lambda: load_config(path), store_url=store_url, now=lambda: clock["now"])

    first = run_once(settings()).to_json()
    assert first["exit_code"] == 0, first
    assert [s["step"] for s in first["steps"]] == ["sync", "publish"]
    assert first["steps"][1]["published"] == [
        {"report": "weekly", "period": "2026-W47", "tab": "Report 2026-W47", "warnings": []}
    ]
    book = load_workbook(workbook)
    assert "Report 2026-W47" in book.sheetnames
    assert book["Report 2026-W47"]["A1"].value == "kakosheet: weekly report 2026-W47"
    assert _publications(store_url) == [("weekly", "2026-W47", "sheet")]

    before = _members(workbook)
    again = run_once(settings()).to_json()
    assert again["exit_code"] == 0 and again["steps"][1]["published"] == []
    assert _members(workbook) == before, "a published week is not written again"
    assert len(_publications(store_url)) == 1

    clock["now"] = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 2026-W49: W48 completed
    later = run_once(settings()).to_json()
    assert later["steps"][1]["published"] == [
        {"report": "weekly", "period": "2026-W48", "tab": "Report 2026-W48", "warnings": []}
    ]
    book = load_workbook(workbook)
    assert {"Report 2026-W47", "Report 2026-W48", "QC Log"} <= set(book.sheetnames)
    cases_column = [row[1] for row in book["Report 2026-W48"].iter_rows(values_only=True)]
    assert any(isinstance(value, str) and value.startswith("QC-2026-") for value in cases_column)
    assert _publications(store_url)[-1] == ("weekly", "2026-W48", "sheet")


def test_a_team_that_publishes_nothing_runs_no_publish_step(tmp_path: Path, store_url: str) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    path = config.path
    assert path is not None
    line = run_once(RunSettings(load_config=lambda: load_config(path), store_url=store_url)).to_json()
    assert [s["step"] for s in line["steps"]] == ["sync"]
