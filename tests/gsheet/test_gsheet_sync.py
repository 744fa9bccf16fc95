"""What only a shared Google Sheet does: staff editing during a sync, quotas, failures, formulas,
locales, credentials — all through gspread over HTTP to the local Sheets API server."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from kakosheet.app.sync import sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config
from kakosheet.errors import SourceError
from kakosheet.store.tables import build_metadata
from tests.gsheet.sheets import EMAIL, GoogleSheet
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet
from tests.sheets_api import Formula, SheetsApiServer

NOW = dt.datetime(2026, 6, 30, 9, 0)
ID, ISSUES, DESCRIPTION = QC_LABELS.index("Case ID"), QC_LABELS.index("Issues"), QC_LABELS.index("Description")
VALUES_WRITE = "values:batchUpdate"


def ids_by_description(sheet: GoogleSheet) -> dict[str, Any]:
    rows = sheet.values("QC Log")[1:]
    return {row[DESCRIPTION]: (row[ID] if len(row) > ID else None) for row in rows if len(row) > DESCRIPTION}


def stored(team: Config) -> dict[str, str]:
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        return dict(connection.execute(text("select case_id, description from case_qc")).all())


def five_cases(sheet: GoogleSheet) -> None:
    sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(5)])})


def test_a_row_inserted_above_before_the_write_is_left_for_the_next_sync(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """Between the read and the write-back a person inserts a row above the data: every row
    below moved, so nothing is written into them; the next sync gives each its ID."""
    five_cases(google_sheet)
    reads = Counter[str]()

    def insert_after_the_read(request: Any) -> None:
        if request.method == "GET" and request.path.endswith("values:batchGet"):
            reads["batchGet"] += 1
            if reads["batchGet"] == 2:  # the re-read right before writing
                api.before(None)
                google_sheet.book.insert_rows("QC Log", before_row=2)
                google_sheet.book.set_values("QC Log", "B2", [["0009999"]])

    api.before(insert_after_the_read)
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert result.rows_left == 5 and not any(ids_by_description(google_sheet).values())
    assert stored(team) == {}
    second = sync_source(team, google_sheet.spec, now=NOW)
    assert second.rows_left == 0
    ids = ids_by_description(google_sheet)
    # Numbers 1-5 were reserved by the first sync and stay unused; the inserted row is a case too.
    assert sorted(v for k, v in ids.items() if k) == [f"QC-2026-{i:04d}" for i in range(7, 12)]
    assert set(stored(team).values()) == {f"case {i}" for i in range(5)} | {None}  # None: the inserted row


def test_a_row_inserted_above_during_the_write_is_repaired_in_the_same_sync(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The row slides in after the check and before the write: the IDs land one row too high,
    in the wrong cases. The re-read after writing finds them and puts back what was there."""
    five_cases(google_sheet)

    def insert_before_the_write(request: Any) -> None:
        if request.method == "POST" and request.path.endswith(VALUES_WRITE):
            api.before(None)
            google_sheet.book.insert_rows("QC Log", before_row=4)
            google_sheet.book.set_values("QC Log", "F4", [["typed meanwhile"]])

    api.before(insert_before_the_write)
    result = sync_source(team, google_sheet.spec, now=NOW)
    writes = [r for r in api.requests if r.path.endswith(VALUES_WRITE)]
    assert len(writes) == 2  # the IDs, then the repair
    ids = ids_by_description(google_sheet)
    # Rows above the insertion got their IDs; the rest moved down and were left (and repaired).
    assert ids["case 0"] == "QC-2026-0001" and ids["case 1"] == "QC-2026-0002"
    assert ids["typed meanwhile"] is None
    assert result.rows_left == 3
    assert {k for k, v in ids.items() if v} == {"case 0", "case 1"}  # no ID left in a wrong row
    assert set(stored(team).values()) == {"case 0", "case 1"}
    sync_source(team, google_sheet.spec, now=NOW)
    ids = ids_by_description(google_sheet)
    assert all(ids.values()) and len(set(ids.values())) == 6
    assert len(stored(team)) == 6


def test_a_429_storm_is_ridden_out(google_sheet: GoogleSheet, team: Config, api: SheetsApiServer) -> None:
    five_cases(google_sheet)
    api.fail(method=None, path_contains="/v4/", status=429, times=4)
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert result.counts["qc"]["new"] == 5 and all(ids_by_description(google_sheet).values())


def test_an_endless_429_storm_ends_in_a_clear_error(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    five_cases(google_sheet)
    api.fail(method=None, path_contains="/v4/", status=429, times=100)
    with pytest.raises(SourceError, match="kept answering 429.*run the command again later"):
        sync_source(team, google_sheet.spec, now=NOW)


def test_a_500_mid_write_leaves_nothing_the_next_sync_cannot_finish(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The IDs reached the sheet but every answer was lost: the sync fails before storing; the
    next one adopts the IDs it finds, with no duplicate and no lost row."""
    five_cases(google_sheet)
    api.fail(method="POST", path_contains=VALUES_WRITE, status=500, times=100, apply_first=True)
    with pytest.raises(SourceError, match="500"):
        sync_source(team, google_sheet.spec, now=NOW)
    assert all(ids_by_description(google_sheet).values()) and stored(team) == {}
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        assert connection.execute(text("select status from sync_runs")).scalar_one() == "write-failed"
    api.clear_faults()
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert result.counts["qc"]["new"] == 5 and not result.new_ids["qc"]  # all five adopted
    assert sorted(stored(team)) == [f"QC-2026-000{i}" for i in range(1, 6)]


def test_a_500_on_the_formats_request_does_not_duplicate_rules_or_tabs(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    five_cases(google_sheet)
    google_sheet.book.set_values("QC Log", "P3", [["Bogus"]])
    formats = f"{google_sheet.book.key}:batchUpdate"
    api.fail(method="POST", path_contains=formats, status=500, times=1, apply_first=True)
    sync_source(team, google_sheet.spec, now=NOW)
    assert google_sheet.book.tabs().count("Issues") == 1
    rules = google_sheet.book.sheet("QC Log").get("conditionalFormats", [])
    assert len(rules) == 1
    first, *again = [r.body["requests"] for r in api.requests if r.path.endswith(formats)]
    assert {"addSheet", "addConditionalFormatRule"} <= {kind for request in first for kind in request}
    # The sheet is looked at again: what the lost answer applied is not sent again (here: nothing is left).
    assert len(again) <= 1
    assert not {"addSheet", "addConditionalFormatRule"} & {kind for sent in again for r in sent for kind in r}


def test_formulas_dragged_down_are_not_cases_and_errors_are_reported(google_sheet: GoogleSheet, team: Config) -> None:
    rows = qc_tab([qc_row(Description="one"), qc_row(Description="two")])
    rows[0].append("Days Open")
    rows[1].append(Formula("=TODAY()-C2", 120))
    rows[2].append(Formula("=TODAY()-C3", 119))
    rows[2][QC_LABELS.index("Replacement Cost")] = Formula("=1/0", "#DIV/0!")
    for row in range(4, 9):  # the formula dragged down over empty rows
        rows.append([None] * len(QC_LABELS) + [Formula(f"=TODAY()-C{row}", 46203)])
    google_sheet.create({"QC Log": rows})
    report = validate_source(team, google_sheet.spec, today=NOW.date())
    assert [(i.row, i.column, i.code) for i in report.issues] == [(3, "Replacement Cost", "formula-error")]
    assert report.rows_read["qc"] == 2


def test_dates_as_text_and_a_comma_decimal_locale(
    api: SheetsApiServer, tmp_path: Path, team: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = GoogleSheet(api, tmp_path, locale="de_DE")
    for name, value in sheet.environment().items():
        monkeypatch.setenv(name, value)
    sheet.create(
        {"QC Log": qc_tab([qc_row(Date_Identified="2026-03-01", Replacement_Cost=12.5, Description="text date")])}
    )
    result = sync_source(team, sheet.spec, now=NOW)
    assert result.report.errors == 0
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        cost, identified = connection.execute(text("select replacement_cost, date_identified from case_qc")).one()
    assert str(cost) in ("12.5", "12.50") and str(identified).startswith("2026-03-01")


@pytest.mark.parametrize(
    ("locale", "typed", "stored"),
    [
        ("de_DE", ["1,500", "1.500", "1.500,25"], ["1.5", "1500", "1500.25"]),
        ("en_US", ["1,500", "1.500", "1,500.25"], ["1500", "1.5", "1500.25"]),
        ("fr_FR", ["1\u202f500,5", "12,5", "3"], ["1500.5", "12.5", "3"]),
    ],
)
def test_amounts_typed_as_text_are_read_in_the_sheets_locale(
    api: SheetsApiServer,
    tmp_path: Path,
    team: Config,
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
    typed: list[str],
    stored: list[str],
) -> None:
    sheet = GoogleSheet(api, tmp_path, locale=locale)
    for name, value in sheet.environment().items():
        monkeypatch.setenv(name, value)
    sheet.create({"QC Log": qc_tab([qc_row(Replacement_Cost=t, Description=f"case {t}") for t in typed])})
    result = sync_source(team, sheet.spec, now=NOW)
    assert result.report.errors == 0, result.report.issues
    table = build_metadata(team.load_schemas()).tables["case_qc"]
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        costs = dict(connection.execute(select(table.c.description, table.c.replacement_cost)).all())
    assert [costs[f"case {t}"] for t in typed] == [Decimal(s) for s in stored]


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        ("de_DE", ["1,500.25", "1.50", "1.5000", "12.34.56"]),  # the other convention, or groups out of place
        ("en_US", ["1.500,25", "1,5", "1,50"]),
    ],
)
def test_amounts_the_sheets_locale_cannot_read_are_flagged_not_read_as_another_number(
    api: SheetsApiServer, tmp_path: Path, team: Config, monkeypatch: pytest.MonkeyPatch, locale: str, typed: list[str]
) -> None:
    sheet = GoogleSheet(api, tmp_path, locale=locale)
    for name, value in sheet.environment().items():
        monkeypatch.setenv(name, value)
    sheet.create({"QC Log": qc_tab([qc_row(Replacement_Cost=t, Description=f"case {t}") for t in typed])})
    report = validate_source(team, sheet.spec, today=NOW.date())
    flagged = [(i.column, i.code, i.value) for i in report.issues]
    assert flagged == [("Replacement Cost", "not-an-amount", t) for t in typed]


def test_the_number_of_requests_does_not_grow_with_the_rows(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer, tmp_path: Path
) -> None:
    def requests_for(rows: int) -> Counter[str]:
        google_sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(rows)])})
        api.reset_requests()
        sync_source(team, google_sheet.spec, now=NOW)
        return Counter(f"{r.method} {r.path.replace(google_sheet.book.key, '{id}')}" for r in api.requests)

    small, large = requests_for(10), requests_for(400)
    assert small == large
    assert sum(small.values()) <= 8


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        ("unshared", f"not shared with {EMAIL}"),
        ("revoked", "refused the credentials"),
        ("missing key", "no such spreadsheet"),
        ("no credentials", "no Google credentials"),
        ("no log tab", "none of the log tabs"),
    ],
)
def test_access_problems_are_one_clear_message_and_exit_3(
    google_sheet: GoogleSheet,
    team: Config,
    api: SheetsApiServer,
    arrange: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    google_sheet.create({"QC Log": qc_tab([qc_row()])} if arrange != "no log tab" else {"Notes": [["hello"]]})
    spec = google_sheet.spec
    if arrange == "unshared":
        google_sheet.book.unshare(EMAIL)
    elif arrange == "revoked":
        gone = "gone@after-sales.iam.gserviceaccount.com"
        (tmp_path / "gone").mkdir()
        monkeypatch.setenv(
            "GOOGLE_APPLICATION_CREDENTIALS", str(api.service_account_file(tmp_path / "gone", email=gone))
        )
        google_sheet.book.share(gone)
        api.revoke(gone)
    elif arrange == "missing key":
        spec = "gsheet:1NoSuchSheet0000000000000000000000000000000"
    elif arrange == "no credentials":
        monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    result = run_kakosheet("sync", spec, cwd=team.root)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    secret = google_sheet.credentials.read_text()
    private_key = secret.split('"private_key": "')[1][:200] if '"private_key": "' in secret else "\x00"
    assert private_key not in result.stderr + result.stdout


def test_an_unreachable_api_is_one_clear_message(
    google_sheet: GoogleSheet, team: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    google_sheet.create({"QC Log": qc_tab([qc_row()])})
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("KAKOSHEET_SHEETS_API_URL", f"http://127.0.0.1:{closed}")
    result = run_kakosheet("validate", google_sheet.spec, cwd=team.root)
    assert result.returncode == 3 and "cannot reach the Sheets API" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_person_signed_in_with_an_authorized_user_file_can_sync(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = "ana@after-sales.example"
    (tmp_path / "ana").mkdir()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(api.authorized_user_file(tmp_path / "ana", email=person)))
    five_cases(google_sheet)
    google_sheet.book.share(person)
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert result.counts["qc"]["new"] == 5
    assert {r.principal for r in api.requests if r.path.startswith("/v4/")} == {person}


def test_an_empty_tab_and_ragged_rows_are_read(google_sheet: GoogleSheet, team: Config) -> None:
    """The API leaves out an empty tab's values and each row's trailing blanks."""
    rows = qc_tab([qc_row(), qc_row(Description="short")])
    rows[2] = rows[2][: QC_LABELS.index("Owner") + 1]  # nothing after Owner: a shorter row
    google_sheet.create({"QC Log": rows, "Vendors": []})
    report = validate_source(team, google_sheet.spec, today=NOW.date())
    assert report.rows_read == {"qc": 2} and report.errors == 0
    assert [(i.sheet, i.code, i.severity) for i in report.issues] == [("Vendors", "no-header", "warning")]


def test_staff_formulas_in_date_logged_are_never_replaced(google_sheet: GoogleSheet, team: Config) -> None:
    """A formula is not a blank, also one that shows nothing: kakosheet fills neither."""
    logged = QC_LABELS.index("Date Logged")
    rows = qc_tab([qc_row(Description="shows a date"), qc_row(Description="shows nothing")])
    rows[1][logged] = Formula('=IF(C2="","",NOW())', 46203.5)
    rows[2][logged] = Formula('=IF(C3="x",NOW(),"")', "")
    google_sheet.create({"QC Log": rows})

    sync_source(team, google_sheet.spec, now=NOW)
    sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(days=1))

    assert google_sheet.book.formula("QC Log", "D2") == '=IF(C2="","",NOW())'
    assert google_sheet.book.formula("QC Log", "D3") == '=IF(C3="x",NOW(),"")'
    assert sorted(stored(team).values()) == ["shows a date", "shows nothing"]
