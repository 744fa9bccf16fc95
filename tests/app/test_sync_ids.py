"""Sync and case IDs: kakosheet never rejects its own IDs and never adopts look-alikes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.history import case_history
from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.app.test_sync import qc_case

NOW = dt.datetime(2026, 6, 30, 9, 0)


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc", "refunds"))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def fill(config: Config, qc: list[dict[str, Any]], refunds: list[dict[str, Any]] | None = None) -> Path:
    path = config.root / "master.xlsx"
    fill_master_workbook(path, config.load_schemas(), {"qc": qc, "refunds": refunds or []})
    return path


def sync(config: Config, store_url: str) -> SyncResult:
    return sync_source(config, store_url=store_url, now=NOW)


def column(path: Path, label: str, tab: str = "QC Log") -> list[Any]:
    rows = list(load_workbook(path, data_only=True)[tab].iter_rows(values_only=True))
    at = rows[0].index(label)
    return [row[at] for row in rows[1:] if any(v is not None for v in row)]


def set_cell(path: Path, cell: str, value: Any, tab: str = "QC Log") -> None:
    workbook = load_workbook(path)
    workbook[tab][cell] = value
    workbook.save(path)


def stored_ids(store_url: str, log: str = "qc") -> list[str]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(text(f"select case_id from case_{log}")).scalars())
    finally:
        engine.dispose()  # a pool per call would keep its connection open for the rest of the run


def refund(vendor: str, order: str) -> dict[str, Any]:
    return {
        "initiated_at": dt.datetime(2026, 3, 1),
        "original_order_id": order,
        "customer_id": "C1",
        "vendor_id": vendor,
        "refunded_items": "SKU-1 x 2",
        "refund_amount": 10,
        "currency": "EUR",
        "reason_code": "Damaged",
        "status": "Initiated",
    }


def test_refunds_of_non_ascii_vendors_keep_their_ids(team: Config, store_url: str) -> None:
    path = fill(team, [], [refund("Müller GmbH", "A-1"), refund("华为", "A-2"), refund("中兴", "A-3")])
    first = sync(team, store_url)
    ids = column(path, "Case ID", "Refunds")
    assert ids[0] == "PRF-2026-001-MULLERGMBH" and all(i.isascii() for i in ids) and len(set(ids)) == 3
    assert ids[1].split("-")[-1] != ids[2].split("-")[-1]  # two vendors without Latin letters differ
    again = sync(team, store_url)
    assert first.counts["refunds"]["new"] == 3
    assert again.counts["refunds"]["conflicts"] == 0 and again.counts["refunds"]["unchanged"] == 3
    assert column(path, "Case ID", "Refunds") == ids
    assert column(path, "Issues", "Refunds") == [None, None, None]
    assert len(stored_ids(store_url, "refunds")) == 3


def test_look_alike_digits_are_flagged_not_adopted(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-２０２６-０００１"), qc_case(Case_ID="QC-٢٠٢٦-٠٠٠٢"), qc_case()])
    result = sync(team, store_url)
    assert result.counts["qc"]["conflicts"] == 2
    assert stored_ids(store_url) == ["QC-2026-0001"]  # the third row's new ID
    notes = column(path, "Issues")
    assert "look-alike characters" in notes[0] and "look-alike characters" in notes[1]
    assert column(path, "Case ID")[:2] == ["QC-２０２６-０００１", "QC-٢٠٢٦-٠٠٠٢"]  # a person's value is kept


def test_another_padding_of_a_stored_id_is_that_case(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description="a"), qc_case(Description="b")])
    sync(team, store_url)
    set_cell(path, "A2", "QC-2026-00001")
    result = sync(team, store_url)
    assert result.counts["qc"]["new"] == 0 and result.counts["qc"]["unchanged"] == 2
    assert result.counts["qc"]["gone"] == 0
    assert stored_ids(store_url) == ["QC-2026-0001", "QC-2026-0002"]
    assert case_history(team, "QC-2026-00001", store_url=store_url).case_id == "QC-2026-0001"


def test_two_paddings_of_one_number_in_the_sheet_are_a_duplicate(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-0007"), qc_case(Case_ID="QC-2026-00007", Description="copy")])
    result = sync(team, store_url)
    assert result.counts["qc"]["conflicts"] == 1
    assert stored_ids(store_url) == ["QC-2026-0007"]
    assert column(path, "Issues")[1].startswith("Case ID: QC-2026-00007 is the same ID as QC-2026-0007")


def test_an_older_sheets_narrower_id_is_adopted_and_numbering_continues(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-041"), qc_case()])
    result = sync(team, store_url)
    assert result.counts["qc"]["conflicts"] == 0
    assert column(path, "Case ID") == ["QC-2026-041", "QC-2026-0042"]
    assert stored_ids(store_url) == ["QC-2026-0042", "QC-2026-041"]


def test_an_ids_year_comes_from_a_valid_date_only(team: Config, store_url: str) -> None:
    path = fill(
        team,
        [
            qc_case(Date_Identified=dt.datetime(2027, 1, 5), Date_Logged=dt.datetime(2026, 3, 2)),  # future
            qc_case(Date_Identified=dt.datetime(1900, 1, 1)),
            qc_case(Date_Identified=dt.datetime(9999, 1, 1)),
            qc_case(Date_Identified=dt.datetime(2025, 11, 3)),
        ],
    )
    sync(team, store_url)
    assert column(path, "Case ID") == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003", "QC-2025-0001"]


def test_an_id_computed_by_a_formula_is_flagged_never_adopted_nor_overwritten(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Description="typed"), qc_case(Description="formula")])
    sync(team, store_url)
    workbook = load_workbook(path)
    workbook["QC Log"]["A3"] = '="QC-2026-"&TEXT(ROW()-1,"0000")'
    workbook.save(path)
    result = sync(team, store_url)
    assert result.counts["qc"]["new"] == 0 and result.counts["qc"]["conflicts"] == 1
    assert stored_ids(store_url) == ["QC-2026-0001", "QC-2026-0002"]
    assert load_workbook(path)["QC Log"]["A3"].value == '="QC-2026-"&TEXT(ROW()-1,"0000")'
    assert "holds a formula" in column(path, "Issues")[1]


def test_an_id_with_a_huge_number_is_an_issue_on_its_cell(team: Config, store_url: str) -> None:
    path = fill(team, [qc_case(Case_ID="QC-2026-99999999999999999999"), qc_case(Description="other")])
    result = sync(team, store_url)
    assert result.counts["qc"]["conflicts"] == 1 and result.counts["qc"]["new"] == 1
    assert stored_ids(store_url) == ["QC-2026-0001"]
    assert "more than kakosheet's numbering holds" in column(path, "Issues")[0]


def test_validate_names_look_alikes_huge_numbers_and_formulas(team: Config) -> None:
    huge = "QC-2026-99999999999999999999"
    path = fill(team, [qc_case(Case_ID="QC-２０２６-０００１"), qc_case(Case_ID=huge), qc_case()])
    set_cell(path, "A4", '="QC-2026-"&TEXT(ROW()-1,"0000")')
    issues = [i for i in validate_source(team, str(path), today=NOW.date()).issues if i.column == "Case ID"]
    assert [(i.row, i.code) for i in issues] == [(2, "malformed-id"), (3, "malformed-id"), (4, "formula-id")]
    assert "look-alike characters" in issues[0].message
    assert "more than kakosheet's numbering holds" in issues[1].message
    assert "holds a formula" in issues[2].message


def test_validate_names_two_paddings_of_one_number_a_duplicate(team: Config) -> None:
    path = fill(team, [qc_case(Case_ID=case_id) for case_id in ("QC-2026-0007", "QC-2026-007", "QC-2026-0008")])
    issues = [i for i in validate_source(team, str(path), today=NOW.date()).issues if i.code == "duplicate-id"]
    assert [(i.row, i.value) for i in issues] == [(3, "QC-2026-007")]
    assert "the same ID as QC-2026-0007, written another way, on row 2" in issues[0].message


@pytest.mark.parametrize(
    ("case_ids", "copies"),
    [
        (["QC-2026-0007", "QC-2026-007"], 1),  # another padding of one number
        (["QC-2026-0007", "QC-2026-0007 ", " QC-2026-0007"], 2),  # one ID, spaces aside
        (["QC-2026-0007", "QC-2026-007", "QC-2026-007"], 2),  # both wordings in one group
        (["QC-2026-XYZ", "QC-2026-XYZ"], 0),  # a malformed ID is malformed, on each row, not a copy
    ],
)
def test_validate_and_sync_name_copied_ids_alike(
    team: Config, store_url: str, case_ids: list[str], copies: int
) -> None:
    path = fill(team, [qc_case(Case_ID=case_id, Description=f"row {k}") for k, case_id in enumerate(case_ids)])
    report = validate_source(team, str(path), today=NOW.date())
    validated = [(i.row, i.code, i.message) for i in report.issues if i.column == "Case ID"]
    synced = sync_source(team, str(path), store_url=store_url, now=NOW).report.issues
    assert sorted(validated) == sorted((i.row, i.code, i.message) for i in synced if i.column == "Case ID")
    assert len([v for v in validated if v[1] == "duplicate-id"]) == copies


def test_another_padding_of_another_sources_id_is_foreign(team: Config, store_url: str) -> None:
    other = Path(shutil.copy(team.root / "master.xlsx", team.root / "other.xlsx"))  # a second master, before any sync
    fill(team, [qc_case(Description="first")])
    sync(team, store_url)
    fill_master_workbook(other, team.load_schemas(), {"qc": [qc_case(Case_ID="QC-2026-00001")]})
    result = sync_source(team, str(other), store_url=store_url, now=NOW)
    assert [code for _, code, _ in result.plans["qc"].conflicts] == ["foreign-id"]
    assert stored_ids(store_url) == ["QC-2026-0001"]


def test_ids_issued_before_the_id_format_changed_stay_their_cases_own(team: Config) -> None:
    """IDs are permanent: after the schema's prefix changes, the cases keep theirs, validate and
    sync say the same (nothing wrong), and only new rows get the new prefix."""
    path = fill(team, [qc_case(Original_Order_ID=f"ORD-{i}") for i in range(2)])
    now = dt.datetime(2026, 6, 30, 9)
    sync_source(team, now=now)  # into the team's own store, which validate reads too
    qc = team.root / "schemas" / "qc.yaml"
    qc.write_text(qc.read_text().replace("QC-{year}", "QA-{year}"))
    team = load_config(team.path)
    book = load_workbook(path)
    tab = book["QC Log"]
    header = [cell.value for cell in tab[1]]
    tab.append([qc_case(Original_Order_ID="ORD-new").get(_field(label)) for label in header])
    book.save(path)

    validated = validate_source(team, today=now.date())
    synced = sync_source(team, now=now + dt.timedelta(days=1))

    assert [i for i in validated.issues if i.code == "malformed-id"] == []
    assert synced.open_errors == 0 and synced.counts["qc"]["gone"] == 0
    assert synced.counts["qc"]["unchanged"] == 2 and synced.counts["qc"]["new"] == 1
    # Numbers run per log and year whatever the prefix: one case per (log, year, number).
    assert column(path, "Case ID") == ["QC-2026-0001", "QC-2026-0002", "QA-2026-0003"]


def _field(label: str) -> str:
    return {"Case ID": "case_id"}.get(label) or label.lower().replace(" ", "_")
