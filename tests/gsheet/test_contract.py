"""One contract, two sources: what validate and sync do to an .xlsx file they do to a Google Sheet.

Every test here runs twice (``any_sheet``), so the adapters cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import create_engine, text

from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config
from tests.gsheet.sheets import SheetUnderTest
from tests.helpers import QC_LABELS, qc_row, qc_tab

NOW = dt.datetime(2026, 6, 30, 9, 0)
ID, ISSUES, DESCRIPTION = QC_LABELS.index("Case ID"), QC_LABELS.index("Issues"), QC_LABELS.index("Description")


def sync(team: Config, sheet: SheetUnderTest, **kwargs: Any) -> SyncResult:
    return sync_source(team, sheet.spec, now=kwargs.pop("now", NOW), **kwargs)


def column(sheet: SheetUnderTest, index: int, tab: str = "QC Log") -> list[Any]:
    rows = sheet.values(tab)[1:]
    return [row[index] if index < len(row) else None for row in rows]


def store_count(team: Config, query: str) -> int:
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        return int(connection.execute(text(query)).scalar_one())


def test_validate_reports_the_same_issues(any_sheet: SheetUnderTest, team: Config) -> None:
    any_sheet.create(
        {
            "QC Log": qc_tab(
                [
                    qc_row(),
                    qc_row(Status="Bogus"),
                    qc_row(Original_Order_ID=None),
                    qc_row(Date_Identified="2026-03-01", Replacement_Cost="12.5"),
                    qc_row(Currency="usd ", Owner="not an email"),
                ]
            )
        }
    )
    report = validate_source(team, any_sheet.spec, today=NOW.date())
    found = sorted((i.row, i.column, i.code) for i in report.issues)
    assert found == [
        (3, "Status", "not-in-list"),
        (4, "Original Order ID", "required"),
        (6, "Owner", "not-an-email"),
    ]


def test_sync_writes_ids_and_notes_and_a_second_sync_writes_nothing(any_sheet: SheetUnderTest, team: Config) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(), qc_row(Status="Bogus"), qc_row(Description="third")])})
    first = sync(team, any_sheet)
    assert first.written and first.counts["qc"]["new"] == 3
    assert column(any_sheet, ID) == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    notes = column(any_sheet, ISSUES)
    assert notes[0] is None and notes[2] is None
    assert notes[1].startswith("Status: 'Bogus' is not in the list")
    issues_tab = any_sheet.values("Issues")
    assert issues_tab[0][0] == "kakosheet: every open issue of the last sync"
    assert [row[1:3] for row in issues_tab[2:]] == [[3, "Status"]]

    second = sync(team, any_sheet, now=NOW + dt.timedelta(hours=1))
    assert not second.written and second.rows_stored == 0
    assert second.counts["qc"]["unchanged"] == 3
    assert store_count(team, "select count(*) from case_history") == 3


def test_a_fixed_row_loses_its_note_and_keeps_its_id(any_sheet: SheetUnderTest, team: Config) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(), qc_row(Status="Bogus")])})
    sync(team, any_sheet)
    any_sheet.set_values("QC Log", "P3", [["Open"]])
    result = sync(team, any_sheet)
    assert result.counts["qc"]["changed"] == 1
    assert column(any_sheet, ID) == ["QC-2026-0001", "QC-2026-0002"]
    assert column(any_sheet, ISSUES) == [None, None]


def test_reordered_rows_keep_their_ids_and_a_deleted_row_stays_in_the_store(
    any_sheet: SheetUnderTest, team: Config
) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(4)])})
    sync(team, any_sheet)
    rows = any_sheet.values("QC Log")
    ids = {row[DESCRIPTION]: row[ID] for row in rows[1:]}
    reordered = [rows[4], rows[2], rows[1]]  # "case 3", "case 1", "case 0"; "case 2" deleted
    any_sheet.set_values("QC Log", "A2", [*reordered, [None] * len(QC_LABELS)])
    result = sync(team, any_sheet)
    assert result.plans["qc"].gone == [ids["case 2"]]
    now = any_sheet.values("QC Log")[1:]
    assert {row[DESCRIPTION]: row[ID] for row in now if row[DESCRIPTION]} == {
        k: v for k, v in ids.items() if k != "case 2"
    }
    assert store_count(team, "select count(*) from case_qc") == 4


def test_text_stays_text(any_sheet: SheetUnderTest, team: Config) -> None:
    """An order number "007" keeps its zeros, and a value starting with "=" is never evaluated
    when it is written back (in the Issues tab's Value column)."""
    any_sheet.create({"QC Log": qc_tab([qc_row(Original_Order_ID="007", Status="=1+1")])})
    sync(team, any_sheet)
    issues_tab = any_sheet.values("Issues")
    assert issues_tab[2][7] == "=1+1"
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        assert connection.execute(text("select original_order_id from case_qc")).scalar_one() == "007"


def test_a_blank_date_logged_is_filled_once(any_sheet: SheetUnderTest, team: Config) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(Date_Logged=None)])})
    sync(team, any_sheet)
    logged = column(any_sheet, QC_LABELS.index("Date Logged"))
    assert logged == [round((NOW - dt.datetime(1899, 12, 30)).total_seconds() / 86400, 6)]
    again = sync(team, any_sheet, now=NOW + dt.timedelta(hours=2))
    assert not again.written and again.counts["qc"]["unchanged"] == 1


def test_a_tab_of_the_team_called_issues_is_left_alone(any_sheet: SheetUnderTest, team: Config) -> None:
    any_sheet.create({"QC Log": qc_tab([qc_row(Status="Bogus")]), "Issues": [["Our own list"], ["keep me"]]})
    sync(team, any_sheet)
    assert any_sheet.values("Issues") == [["Our own list"], ["keep me"]]
    ours = any_sheet.values("kakosheet Issues")
    assert ours[0][0] == "kakosheet: every open issue of the last sync" and ours[2][2] == "Status"
    assert not sync(team, any_sheet, now=NOW + dt.timedelta(days=1)).written
