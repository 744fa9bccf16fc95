"""Staff change the Google Sheet at the very moment kakosheet writes into it: a column inserted or
deleted, a row deleted above identical rows, kakosheet's Issues tab protected. No value a person
typed is blanked or overwritten, no ID already in the sheet is cleared, and what kakosheet could
not do is said in the sync's output. All through gspread over HTTP to the local Sheets API server."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from kakosheet.app.sync import sync_source
from kakosheet.config import Config
from kakosheet.core.grid import column_letters
from tests.gsheet.sheets import GoogleSheet
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet
from tests.sheets_api import Request, SheetsApiServer

NOW = dt.datetime(2026, 6, 30, 9, 0)
VALUES_WRITE = "values:batchUpdate"
COLUMN = {label: index for index, label in enumerate(QC_LABELS)}


def at_the_write(api: SheetsApiServer, change: Any) -> None:
    """Run change() once, right before kakosheet's first values write reaches the sheet."""

    def hook(request: Request) -> None:
        if request.method == "POST" and request.path.endswith(VALUES_WRITE):
            api.before(None)
            change()

    api.before(hook)


def by_label(sheet: GoogleSheet, tab: str = "QC Log") -> list[dict[str, Any]]:
    rows = sheet.values(tab)
    header = [str(v) if v is not None else "" for v in rows[0]]
    return [{label: row[i] for i, label in enumerate(header) if label} for row in rows[1:]]


def stored(team: Config) -> dict[str, dict[str, Any]]:
    with create_engine(f"sqlite:///{team.root / 'kakosheet.db'}").connect() as connection:
        rows = connection.execute(text("select case_id, description, logged_by, exception_type from case_qc")).all()
    return {case_id: {"description": d, "logged_by": who, "exception_type": kind} for case_id, d, who, kind in rows}


def writes(api: SheetsApiServer) -> list[Request]:
    return [r for r in api.requests if r.method == "POST" and r.path.endswith(VALUES_WRITE)]


# --------------------------------------------------------------------------- columns that move


def test_a_column_inserted_as_kakosheet_writes_keeps_every_staff_value(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The notes were aimed at Issues; a column inserted at D makes that cell Logged By. The
    repair puts back each person's name (it never blanks it) and the notes wait for the next sync."""
    rows = [qc_row(Description=f"case {i}", Logged_By=f"person {i}", Status="Bogus" if i % 2 else "Open")
            for i in range(4)]  # fmt: skip
    google_sheet.create({"QC Log": qc_tab(rows)})
    at_the_write(api, lambda: google_sheet.book.insert_columns("QC Log", before_column=COLUMN["Date Logged"]))

    first = sync_source(team, google_sheet.spec, now=NOW)

    after = by_label(google_sheet)
    assert [row["Logged By"] for row in after] == [f"person {i}" for i in range(4)]
    assert [row["Description"] for row in after] == [f"case {i}" for i in range(4)]
    assert all(row.get("Issues") is None for row in after)  # the notes wait for the next sync
    # The IDs (left of the new column) landed in their rows; those rows are stored at the next sync.
    assert [row["Case ID"] for row in after] == [f"QC-2026-000{i}" for i in range(1, 5)]
    assert first.rows_left == 2 and len(stored(team)) == 2

    second = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))
    after = by_label(google_sheet)
    assert second.rows_left == 0 and not second.write_warnings
    assert [row["Logged By"] for row in after] == [f"person {i}" for i in range(4)]
    assert [bool(row.get("Issues")) for row in after] == [False, True, False, True]
    assert sorted(stored(team)) == [f"QC-2026-000{i}" for i in range(1, 5)]
    assert {case["logged_by"] for case in stored(team).values()} == {f"person {i}" for i in range(4)}


def test_a_column_deleted_as_kakosheet_writes_keeps_the_column_that_slid_in(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The team's own column B goes while kakosheet fills Date Logged: the fill lands on Exception
    Type, which gets its value back; Date Logged is filled at the next sync."""
    labels = [QC_LABELS[0], "Team Notes", *QC_LABELS[1:]]
    rows = qc_tab([qc_row(Description=f"case {i}", Date_Logged=None, Team_Notes="x") for i in range(3)], labels)
    google_sheet.create({"QC Log": rows})
    at_the_write(api, lambda: google_sheet.book.delete_columns("QC Log", first_column=1))

    first = sync_source(team, google_sheet.spec, now=NOW)

    after = by_label(google_sheet)
    assert [row["Exception Type"] for row in after] == ["Damaged"] * 3
    assert [row["Date Logged"] for row in after] == [None] * 3
    assert first.rows_left == 3 and stored(team) == {}

    sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))
    after = by_label(google_sheet)
    assert [row["Exception Type"] for row in after] == ["Damaged"] * 3
    assert all(isinstance(row["Date Logged"], float) for row in after)
    assert {case["exception_type"] for case in stored(team).values()} == {"Damaged"} and len(stored(team)) == 3


def test_a_cell_whose_former_value_cannot_be_known_is_left_and_named(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """A column pasted in (with a header and values) as kakosheet writes: what kakosheet's note
    overwrote there cannot be known, so nothing is blanked and the sync names the cell."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="good"), qc_row(Description="bad", Status="Bogus")])})
    issues = COLUMN["Issues"]
    letter = column_letters(issues)

    def paste_a_column() -> None:
        google_sheet.book.insert_columns("QC Log", before_column=issues)
        google_sheet.book.set_values("QC Log", f"{letter}1", [["Pasted"], ["p1"], ["p2"]])

    at_the_write(api, paste_a_column)
    result = run_kakosheet("sync", google_sheet.spec, cwd=team.root)

    assert result.returncode == 0, result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("Warning:")]
    assert "'QC Log'" in warning and f"{letter}3" in warning and "cannot be told" in warning
    after = by_label(google_sheet)
    assert after[0]["Pasted"] == "p1" and after[0]["Issues"] is None
    assert after[1]["Pasted"].startswith("Status:")  # kakosheet's note, left where it landed (and named)
    assert "1 new row(s) moved or changed" in result.stdout


# --------------------------------------------------------------------------- rows that cannot be told apart


def test_a_row_deleted_above_identical_rows_never_clears_an_id(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """Row 3 is a copy of QC-2026-0002's row (row 4) without its ID: once rows move nothing tells
    the two apart, so it is not written blindly. Row 2 is deleted as kakosheet writes: the ID that
    would have gone to row 3 would land on QC-2026-0002's cell. Every ID stays."""
    twin = qc_row(Description="twin")
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="first"), twin])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    book.insert_rows("QC Log", before_row=3)
    book.set_values("QC Log", "A3", [qc_tab([twin])[1]])  # the copy, above the original
    book.set_values("QC Log", "A5", [qc_tab([qc_row(Description="last")])[1]])
    at_the_write(api, lambda: book.delete_rows("QC Log", first_row=2))

    second = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))

    after = by_label(google_sheet)
    assert [(row["Description"], row["Case ID"]) for row in after] == [
        ("twin", None),
        ("twin", "QC-2026-0002"),
        ("last", None),
    ]
    assert second.rows_left == 2  # the copy (identical) and "last" (its row moved up)
    assert any("row 3 is identical to row 4" in w for w in second.write_warnings), second.write_warnings
    assert {case["description"] for case in stored(team).values()} == {"first", "twin"}

    third = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=2))
    after = by_label(google_sheet)
    # Numbers reserved for rows left behind stay unused: the copy took 3 and 5, "last" 4, then 6.
    assert [row["Case ID"] for row in after] == [None, "QC-2026-0002", "QC-2026-0006"]
    assert third.counts["qc"]["gone"] == 1 and third.rows_left == 1  # "first" was deleted; the copy waits
    assert sorted(stored(team)) == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0006"]


def test_identical_new_rows_still_get_their_ids(google_sheet: GoogleSheet, team: Config) -> None:
    """Two new rows alike in every cell held the same before the write: either may get either ID."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="same"), qc_row(Description="same")])})
    result = sync_source(team, google_sheet.spec, now=NOW)
    assert result.rows_left == 0 and not result.write_warnings
    assert [row["Case ID"] for row in by_label(google_sheet)] == ["QC-2026-0001", "QC-2026-0002"]


# --------------------------------------------------------------------------- a refused formats request


def test_a_protected_issues_tab_is_named_and_the_cases_are_stored(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The team protects kakosheet's Issues tab (only its owner may edit): the sync stores its cases,
    says the tab was not updated and why, and does not send what the protection would refuse."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus")])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    protection = {"range": {"sheetId": book.sheet_id("Issues")}, "description": "managers only",
                  "editors": {"users": ["owner@after-sales.example"]}}  # fmt: skip
    book.batch_update([{"addProtectedRange": {"protectedRange": protection}}])
    book.set_values("QC Log", "A3", [qc_tab([qc_row(Description="two", Currency="usd!")])[1]])
    api.reset_requests()

    second = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))

    assert sorted(case["description"] for case in stored(team).values()) == ["one", "two"]
    assert by_label(google_sheet)[1]["Case ID"] == "QC-2026-0002"
    (warning,) = second.write_warnings
    assert "'Issues' tab" in warning and "protected (managers only)" in warning
    formats = [r for r in api.requests if r.path.endswith(f"{book.key}:batchUpdate")]
    sent = Counter(kind for r in formats for request in r.body["requests"] for kind in request)
    assert "updateCells" not in sent


def test_a_protected_case_id_column_leaves_the_new_rows_waiting_and_stores_the_others(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The team protects the Case ID column (only its owner may edit) after a first sync: Google
    would refuse the whole values write, so the sync does not send the protected cells; it stores
    the cases the sheet already shows (a change, a note), names the column and rows, and gives the
    new row its ID once the protection lets kakosheet in."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one")])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    protection = {"range": {"sheetId": book.sheet_id("QC Log"), "startColumnIndex": 0, "endColumnIndex": 1},
                  "description": "IDs: Ana only", "editors": {"users": ["owner@after-sales.example"]}}  # fmt: skip
    (added,) = book.batch_update([{"addProtectedRange": {"protectedRange": protection}}])
    book.set_values("QC Log", f"{column_letters(COLUMN['Description'])}2", [["one, edited"]])
    book.set_values("QC Log", f"{column_letters(COLUMN['Status'])}2", [["Bogus"]])
    book.set_values("QC Log", "A3", [qc_tab([qc_row(Description="two")])[1]])

    result = run_kakosheet("sync", google_sheet.spec, cwd=team.root)

    assert result.returncode == 0, result.stderr
    warning = next(line for line in result.stdout.splitlines() if "column Case ID" in line)
    assert "'QC Log', column Case ID, row(s) 3" in warning and "protected (IDs: Ana only)" in warning
    rows = by_label(google_sheet)
    assert rows[0]["Case ID"] == "QC-2026-0001" and "Status" in rows[0]["Issues"]  # the note is written
    assert rows[1]["Case ID"] is None
    assert stored(team) == {
        "QC-2026-0001": {"description": "one, edited", "logged_by": None, "exception_type": "Damaged"}
    }

    protection_id = added["addProtectedRange"]["protectedRange"]["protectedRangeId"]
    book.batch_update([{"deleteProtectedRange": {"protectedRangeId": protection_id}}])
    again = run_kakosheet("sync", google_sheet.spec, cwd=team.root)
    assert again.returncode == 0 and "column Case ID" not in again.stdout, again.stdout + again.stderr
    assert by_label(google_sheet)[1]["Case ID"] == "QC-2026-0003"  # 0002 was reserved while it waited: a gap
    assert {case["description"] for case in stored(team).values()} == {"one, edited", "two"}


def test_a_403_on_the_formats_request_alone_is_a_warning_with_googles_reason(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus"), qc_row(Description="two")])})
    api.fail(method="POST", path_contains=f"{google_sheet.book.key}:batchUpdate", status=403, times=100)

    result = run_kakosheet("sync", google_sheet.spec, cwd=team.root)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("Warning:")]
    assert any("'Issues' tab" in w and "The caller does not have permission" in w for w in warnings), warnings
    assert any("highlight rule" in w for w in warnings)
    assert "not shared" not in result.stdout + result.stderr and "share it as Editor" not in result.stdout
    assert sorted(stored(team)) == ["QC-2026-0001", "QC-2026-0002"]
    again = run_kakosheet("sync", google_sheet.spec, cwd=team.root)
    assert again.returncode == 0 and sorted(stored(team)) == ["QC-2026-0001", "QC-2026-0002"]


# --------------------------------------------------------------------------- the sheet or sign-in failing mid-sync


def test_the_issues_tab_deleted_during_a_sync_is_written_again(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """The plan named the Issues tab by its id; it is gone when the formats request arrives. The
    request is planned again from the sheet as it is: the tab is made anew, no warning."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus")])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    book.set_values("QC Log", "A3", [qc_tab([qc_row(Description="two", Currency="usd!")])[1]])
    at_the_write(api, lambda: book.batch_update([{"deleteSheet": {"sheetId": book.sheet_id("Issues")}}]))

    second = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))

    assert not second.write_warnings and second.rows_left == 0
    assert book.tabs() == ["QC Log", "Issues"]
    assert {"Currency", "Status"} <= {row[2] for row in google_sheet.values("Issues")[2:]}
    assert len(stored(team)) == 2


@pytest.mark.parametrize(
    ("change", "when"),
    [("the Issues tab deleted", "read"), ("the log tab renamed", "read"), ("the log tab renamed", "write")],
)
def test_a_tab_deleted_or_renamed_while_the_sync_reads_or_writes_says_run_it_again(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer, change: str, when: str
) -> None:
    """The ranges were named from the tabs the sync saw first: Google answers 400 "Unable to parse
    range". Nobody must fix anything (not exit 3): exit 4, and the next sync finishes the job. (The
    Issues tab deleted at the write is written again: test_the_issues_tab_deleted_during_a_sync_...)"""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus")])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    book.set_values("QC Log", "A3", [qc_tab([qc_row(Description="two")])[1]])
    if change == "the Issues tab deleted":
        request: dict[str, Any] = {"deleteSheet": {"sheetId": book.sheet_id("Issues")}}
    else:
        properties = {"sheetId": book.sheet_id("QC Log"), "title": "QC"}
        request = {"updateSheetProperties": {"properties": properties, "fields": "title"}}

    def hook(sent: Request) -> None:
        if sent.path.endswith("values:batchGet" if when == "read" else VALUES_WRITE):
            api.before(None)
            book.batch_update([request])

    api.before(hook)
    result = run_kakosheet("sync", google_sheet.spec, cwd=team.root)

    assert result.returncode == 4, result.stderr
    assert "renamed or deleted" in result.stderr and "run the command again" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(stored(team)) == 1
    assert run_kakosheet("sync", google_sheet.spec, cwd=team.root).returncode == 0
    assert len(stored(team)) == 2


def test_a_token_endpoint_that_fails_once_is_retried(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    google_sheet.create({"QC Log": qc_tab([qc_row()])})
    api.fail(method="POST", path_contains="/token", status=503, times=1)
    assert sync_source(team, google_sheet.spec, now=NOW).counts["qc"]["new"] == 1


def test_a_token_endpoint_that_keeps_failing_says_run_it_again(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    """Not "Google refused the credentials": the key is fine, Google's sign-in service is not."""
    google_sheet.create({"QC Log": qc_tab([qc_row()])})
    api.fail(method="POST", path_contains="/token", status=503, times=100)
    result = run_kakosheet("sync", google_sheet.spec, cwd=team.root)
    assert result.returncode == 3 and "run the command again later" in result.stderr, result.stderr
    assert "refused the credentials" not in result.stderr and "Traceback" not in result.stderr
