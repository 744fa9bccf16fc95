"""`kakosheet sync` end to end: real workbooks, a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select, text

from kakosheet.app.history import case_history
from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, open_store, sync_source
from kakosheet.config import Config, load_config
from kakosheet.errors import SourceChangedError, StoreError
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.tables import build_metadata
from tests.helpers import qc_row

NOW = dt.datetime(2026, 6, 30, 9, 0)
FIELDS = {
    "Original Order ID": "original_order_id",
    "Date Identified": "date_identified",
    "Date Logged": "date_logged",
    "Exception Type": "exception_type",
    "Description": "description",
    "Media Links": "media_links",
    "Responsible Party": "responsible_party",
    "Source Type": "source_type",
    "Replacement Cost": "replacement_cost",
    "Currency": "currency",
    "Status": "status",
    "Owner": "owner",
    "Disposition": "disposition",
    "Closure Date": "closure_date",
    "Case ID": "case_id",
}


def qc_case(**values: Any) -> dict[str, Any]:
    return {FIELDS[label]: value for label, value in qc_row(**values).items()}


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def fill(config: Config, rows: list[dict[str, Any]]) -> Path:
    path = config.root / "master.xlsx"
    fill_master_workbook(path, config.load_schemas(), {"qc": rows})
    return path


def sync(config: Config, store_url: str, **kwargs: Any) -> SyncResult:
    return sync_source(config, store_url=store_url, now=kwargs.pop("now", NOW), **kwargs)


def sheet(path: Path, tab: str = "QC Log") -> list[dict[str, Any]]:
    rows = list(load_workbook(path, data_only=True)[tab].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:] if any(v is not None for v in row)]


def rewrite(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit the sheet as a person would in Excel (openpyxl plays Excel here)."""
    workbook = load_workbook(path)
    edit(workbook["QC Log"])
    workbook.save(path)


def history_rows(store_url: str) -> int:
    with create_engine(store_url).connect() as connection:
        return int(connection.execute(text("select count(*) from case_history")).scalar_one())


def test_first_sync_gives_every_row_an_id_and_writes_it_back(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(), qc_case(Status="Bogus"), qc_case(Date_Identified=dt.datetime(2025, 12, 30))])
    result = sync(team, store_url)
    assert result.counts["qc"]["new"] == 3 and result.written
    rows = sheet(path)
    assert [r["Case ID"] for r in rows] == ["QC-2026-0001", "QC-2026-0002", "QC-2025-0001"]
    assert rows[1]["Issues"].startswith("Status: 'Bogus' is not in the list")
    assert rows[0]["Issues"] is None
    assert "Issues" in load_workbook(path).sheetnames


def test_a_second_sync_of_an_unchanged_sheet_changes_nothing(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(), qc_case(Owner="bob")])
    sync(team, store_url)
    before, versions = hashlib.sha256(path.read_bytes()).hexdigest(), history_rows(store_url)
    result = sync(team, store_url, now=NOW + dt.timedelta(days=1))  # another day: read and judged again
    assert result.unchanged_since is None
    assert result.counts["qc"] == {
        "new": 0,
        "restored": 0,
        "changed": 0,
        "returned": 0,
        "unchanged": 2,
        "gone": 0,
        "conflicts": 0,
    }
    assert not result.written and result.rows_stored == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert history_rows(store_url) == versions


def test_sorted_rows_keep_their_ids_and_a_change_is_a_new_version(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description=f"case {i}") for i in range(5)])
    sync(team, store_url)
    ids = {r["Description"]: r["Case ID"] for r in sheet(path)}

    def reverse_and_edit(ws) -> None:  # type: ignore[no-untyped-def]
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=6)]
        for offset, values in enumerate(reversed(rows)):
            for col, value in enumerate(values, start=1):
                ws.cell(row=2 + offset, column=col, value=value)
        ws.cell(row=2, column=16, value="Vendor Claim Submitted")  # Status of "case 4"
        ws.cell(row=2, column=10, value="Returned to Supplier")

    rewrite(path, reverse_and_edit)
    result = sync(team, store_url)
    assert result.counts["qc"]["changed"] == 1 and result.counts["qc"]["unchanged"] == 4
    assert {r["Description"]: r["Case ID"] for r in sheet(path)} == ids
    events = case_history(team, ids["case 4"], store_url=store_url).events
    assert [e.event for e in events] == ["created", "changed"]
    assert events[1].changes["status"] == ["Open", "Vendor Claim Submitted"]


def test_a_copied_row_is_flagged_never_merged(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(), qc_case(Description="other")])
    sync(team, store_url)

    def copy_first_row_below(ws) -> None:  # type: ignore[no-untyped-def]
        for col in range(1, 22):
            ws.cell(row=4, column=col, value=ws.cell(row=2, column=col).value)
        ws.cell(row=4, column=6, value="copied and edited")

    rewrite(path, copy_first_row_below)
    result = sync(team, store_url)
    assert result.counts["qc"]["conflicts"] == 1 and result.counts["qc"]["unchanged"] == 2
    rows = sheet(path)
    assert rows[0]["Case ID"] == rows[2]["Case ID"] == "QC-2026-0001"
    assert rows[2]["Issues"].startswith("Case ID: QC-2026-0001 is also on row 2")
    assert rows[0]["Issues"] is None


def test_a_deleted_row_stays_in_the_store_and_comes_back(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description="keep"), qc_case(Description="delete me")])
    sync(team, store_url)
    rewrite(path, lambda ws: ws.delete_rows(3))
    gone = sync(team, store_url)
    assert gone.plans["qc"].gone == ["QC-2026-0002"]
    history = case_history(team, "QC-2026-0002", store_url=store_url)
    assert [e.event for e in history.events] == ["created", "missing"]
    assert history.current["description"] == "delete me"
    rewrite(path, lambda ws: ws.append(["QC-2026-0002", *[c.value for c in ws[2]][1:5], "delete me"]))
    back = sync(team, store_url)
    assert back.counts["qc"]["returned"] == 1


def test_a_row_whose_id_was_cleared_gets_it_back(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description="a"), qc_case(Description="b")])
    sync(team, store_url)
    rewrite(path, lambda ws: setattr(ws.cell(row=3, column=1), "value", None))
    result = sync(team, store_url)
    assert result.counts["qc"]["restored"] == 1 and result.counts["qc"]["new"] == 0
    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0001", "QC-2026-0002"]


def test_ids_in_the_sheet_are_adopted_and_the_sequence_continues(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-0041"), qc_case(), qc_case(Case_ID="QC-26-7")])
    result = sync(team, store_url)
    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0041", "QC-2026-0042", "QC-26-7"]
    assert result.counts["qc"]["conflicts"] == 1
    assert sheet(path)[2]["Issues"].startswith("Case ID: 'QC-26-7' is not an ID kakosheet issued")


def test_incomplete_rows_are_stored_with_their_issues_and_text_that_did_not_fit(team: Config, store_url: str) -> None:
    fill(team, [qc_case(Replacement_Cost="$12.50", Responsible_Party=None)])
    sync(team, store_url)
    store = open_store(team, team.load_schemas(), store_url)
    _, row = store.case("QC-2026-0001")  # type: ignore[misc]
    assert row["_incomplete"] is True
    assert row["replacement_cost"] is None and row["_raw"] == {"replacement_cost": "$12.50"}
    assert any(note.startswith("Responsible Party:") for note in row["_issues"])


def test_money_is_stored_exactly(team: Config, store_url: str) -> None:
    fill(team, [qc_case(Replacement_Cost=19.99), qc_case(Replacement_Cost="1234567890.15")])
    sync(team, store_url)
    table = open_store(team, team.load_schemas(), store_url).table("qc")
    with create_engine(store_url).connect() as connection:
        costs = [row[0] for row in connection.execute(select(table.c.replacement_cost).order_by(table.c.case_id))]
    assert [Decimal(str(c)) for c in costs] == [Decimal("19.99"), Decimal("1234567890.15")]
    assert all(str(c) in ("19.99", "1234567890.15") for c in costs)  # not 19.989999999999998


def test_blank_date_logged_is_filled_with_the_sync_time(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Date_Logged=None)])
    sync(team, store_url)
    assert sheet(path)[0]["Date Logged"] == NOW
    assert sync(team, store_url, now=NOW + dt.timedelta(days=1)).counts["qc"]["unchanged"] == 1


def test_dry_run_changes_nothing(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case()])
    before = path.read_bytes()
    result = sync(team, store_url, dry_run=True)
    assert result.counts["qc"]["new"] == 1 and result.run_id is None
    assert path.read_bytes() == before
    assert not open_store(team, team.load_schemas(), store_url).has_tables()


def test_a_workbook_open_in_excel_is_not_written_and_the_next_sync_finishes(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case()])
    lock = path.with_name("~$" + path.name)
    lock.write_text("ana")
    before = path.read_bytes()
    with pytest.raises(SourceChangedError, match="open in Excel"):
        sync(team, store_url)
    assert path.read_bytes() == before
    lock.unlink()
    result = sync(team, store_url)
    assert [r["Case ID"] for r in sheet(path)] == ["QC-2026-0002"]  # number 1 was reserved: a gap, no reuse
    assert result.counts["qc"]["new"] == 1


def test_the_store_adds_a_column_a_schema_gained(team: Config, store_url: str) -> None:
    fill(team, [qc_case()])
    sync(team, store_url)
    schema = team.schemas_dir / "qc.yaml"
    schema.write_text(
        schema.read_text().replace(
            "  - field: logged_by\n", "  - field: batch\n    label: Batch\n    type: code\n  - field: logged_by\n"
        )
    )
    sync(team, store_url)
    with create_engine(store_url).connect() as connection:
        assert connection.execute(text("select count(batch) from case_qc")).scalar_one() == 0


def test_a_password_in_the_store_url_never_shows(team: Config) -> None:
    fill(team, [qc_case()])
    with pytest.raises(StoreError) as raised:
        sync(team, "postgresql+psycopg://ana:s3cret-pw@127.0.0.1:1/aftersales")
    assert "s3cret-pw" not in str(raised.value) and "***" in str(raised.value)


def test_the_rest_of_the_workbook_is_left_byte_for_byte(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(), qc_case(Status="Bogus")])
    with zipfile.ZipFile(path) as archive:
        before = {name: archive.read(name) for name in archive.namelist()}
    sync(team, store_url)
    with zipfile.ZipFile(path) as archive:
        after = {name: archive.read(name) for name in archive.namelist()}
    allowed = {
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "_rels/.rels",  # the first sync gives the workbook its identity (a custom document property)
    }
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed <= allowed
    assert "xl/worksheets/sheet1.xml" in changed
    sheets_before = [n for n in before if n.startswith("xl/worksheets/sheet")]
    added = {f"xl/worksheets/sheet{len(sheets_before) + 1}.xml", "docProps/custom.xml"}
    assert set(after) - set(before) == added


def test_a_closed_case_reopened_without_a_reason_is_flagged_not_stored(team: Config, store_url: str) -> None:
    closed = {"Status": "Closed", "Disposition": "Discarded", "Closure_Date": dt.date(2026, 3, 5)}
    path = fill(team, [qc_case(**closed)])
    sync(team, store_url)

    def reopen(ws) -> None:  # type: ignore[no-untyped-def]
        ws.cell(row=2, column=16, value="Open")
        ws.cell(row=2, column=10).value = None
        ws.cell(row=2, column=19).value = None

    rewrite(path, reopen)
    held = sync(team, store_url)
    assert held.counts["qc"]["conflicts"] == 1 and held.counts["qc"]["changed"] == 0
    assert sheet(path)[0]["Issues"].startswith("Status: a Closed case was reopened; give the reason in Reopen Reason")
    assert [e.event for e in case_history(team, "QC-2026-0001", store_url=store_url).events] == ["created"]
    rewrite(path, lambda ws: ws.cell(row=2, column=20, value="Customer found a second defect"))
    stored = sync(team, store_url)
    assert stored.counts["qc"]["changed"] == 1
    assert sheet(path)[0]["Issues"] is None
    changes = case_history(team, "QC-2026-0001", store_url=store_url).events[-1].changes
    assert changes["status"] == ["Closed", "Open"]


def test_cases_moved_to_an_archive_tab_keep_their_ids_and_are_not_missing(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description="active"), qc_case(Description="old and closed")])
    sync(team, store_url)
    config_file = team.path
    assert config_file is not None
    config_file.write_text(config_file.read_text().replace('# qc = ["QC Archive"]', 'qc = ["QC Archive"]'))
    archived = load_config(config_file)

    def move_row_to_archive(workbook_path: Path) -> None:
        workbook = load_workbook(workbook_path)
        log = workbook["QC Log"]
        archive = workbook.create_sheet("QC Archive")
        archive.append([c.value for c in log[1]])
        archive.append([c.value for c in log[3]])
        log.delete_rows(3)
        workbook.save(workbook_path)

    move_row_to_archive(path)
    result = sync(archived, store_url)
    assert result.plans["qc"].gone == []
    assert result.counts["qc"]["unchanged"] == 2
    assert [r["Case ID"] for r in sheet(path, "QC Archive")] == ["QC-2026-0002"]


def test_a_renamed_id_header_stores_no_case_twice(team: Config, store_url: str) -> None:
    """Staff rename 'Case ID' (and another header), close a case, rename them back: without the
    column no row could keep its ID, so each edited row became a new case and its own went missing."""
    path = fill(team, [qc_case(Original_Order_ID=f"ORD-{i}", Description=f"case {i}") for i in range(3)])
    sync(team, store_url)
    labels = [c.value for c in load_workbook(path)["QC Log"][1]]
    column = {label: labels.index(label) + 1 for label in ("Case ID", "Description", "Status", "Closure Date")}

    def rename_and_close(ws) -> None:  # type: ignore[no-untyped-def]
        ws.cell(1, column["Case ID"], "Case No.")
        ws.cell(1, column["Description"], "What happened")
        ws.cell(3, column["Status"], "Closed")
        ws.cell(3, column["Closure Date"], dt.date(2026, 6, 29))
        ws.cell(3, labels.index("Disposition") + 1, "Discarded")

    rewrite(path, rename_and_close)
    held = sync(team, store_url, now=NOW + dt.timedelta(days=1))
    assert held.plans["qc"].counts == dict.fromkeys(held.plans["qc"].counts, 0)
    [missing] = [i for i in held.report.issues if i.code == "missing-column" and i.column == "Case ID"]
    assert missing.severity == "error" and "'Case No.'" in missing.message
    assert "none of this tab's rows" in missing.message

    def rename_back(ws) -> None:  # type: ignore[no-untyped-def]
        ws.cell(1, column["Case ID"], "Case ID")
        ws.cell(1, column["Description"], "Description")

    rewrite(path, rename_back)
    back = sync(team, store_url, now=NOW + dt.timedelta(days=2))
    assert back.counts["qc"]["changed"] == 1 and back.plans["qc"].gone == []
    table = build_metadata(team.load_schemas()).tables["case_qc"]
    with create_engine(store_url).connect() as connection:
        stored = connection.execute(
            select(table.c.case_id, table.c.description, table.c.status, table.c._missing_since)
        ).all()
    assert sorted(stored) == [
        ("QC-2026-0001", "case 0", "Open", None),
        ("QC-2026-0002", "case 1", "Closed", None),
        ("QC-2026-0003", "case 2", "Open", None),
    ]
