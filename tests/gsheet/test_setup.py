"""`kakosheet gsheet setup` against the local Sheets API server, through the real CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from kakosheet.config import default_schema_dir, load_config
from kakosheet.core.grid import column_index, column_letters
from kakosheet.core.schema import LogSchema
from tests.sheets_api import Book, SheetsApiServer

EMAIL = "setup@after-sales.iam.gserviceaccount.com"
LOG_TABS = ["QC Log", "Vendors", "Products", "Orders", "Known Defects"]


@pytest.fixture(scope="module")
def server() -> Iterator[SheetsApiServer]:
    with SheetsApiServer() as api:
        yield api


@pytest.fixture
def api(server: SheetsApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetsApiServer]:
    """The server with the CLI pointed at it, signed in as the service account; no fault left over."""
    credentials = server.service_account_file(tmp_path, email=EMAIL)
    monkeypatch.setenv("KAKOSHEET_SHEETS_API_URL", server.url)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    monkeypatch.setenv("KAKOSHEET_SHEETS_RETRY_SECONDS", "0.01")
    server.reset_requests()
    yield server
    server.clear_faults()
    server.reset_requests()


@pytest.fixture
def qc_team(tmp_path: Path) -> Callable[[Book], None]:
    """A team keeping a QC log, whose kakosheet.toml names the given sheet as its source."""

    def configure(book: Book) -> None:
        (tmp_path / "kakosheet.toml").write_text(
            f'source = "gsheet:{book.key}"\nlogs = ["qc"]\nschemas = "{default_schema_dir().as_posix()}"\n',
            encoding="utf-8",
        )

    return configure


@pytest.fixture
def qc_schema(tmp_path: Path) -> LogSchema:
    return load_config(None, cwd=tmp_path).load_schemas()["qc"]


def batch_updates(api: SheetsApiServer) -> list[Any]:
    return [r for r in api.requests if r.method == "POST" and r.path.endswith(":batchUpdate")]


def snapshot(book: Book) -> dict[str, Any]:
    """Everything setup may touch: each tab's metadata, values, and the first rows' cell extras."""
    state: dict[str, Any] = {}
    for tab in book.tabs():
        extras = [
            (
                book.note(tab, f"{letter}{row}"),
                book.validation(tab, f"{letter}{row}"),
                book.format(tab, f"{letter}{row}"),
            )
            for row in (1, 2, 3, 500)
            for letter in "ABCDEFGHIJKLMNOPQRSTUV"
        ]
        state[tab] = (book.sheet(tab), book.values(tab), extras)
    return state


def output(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes else "")


def test_a_blank_spreadsheet_becomes_the_master_workbook(api, cli, qc_team, qc_schema) -> None:
    book = api.create_spreadsheet(title="After-sales", share_with=[EMAIL])
    qc_team(book)

    result = cli("gsheet", "setup")

    assert result.exit_code == 0, output(result)
    assert "added tabs QC Log, Vendors, Products, Orders, Known Defects, Lists (hidden)" in result.output
    assert book.tabs() == ["Sheet1", *LOG_TABS, "Lists"]
    assert book.sheet("Lists")["properties"].get("hidden") is True
    assert book.values("QC Log")[0] == [column.label for column in qc_schema.columns]
    assert book.values("Lists")[0][-2:] == ["currency", "country"]
    letter = {column.field: column_letters(i) for i, column in enumerate(qc_schema.columns)}
    assert "Written by kakosheet" in book.note("QC Log", "A1")
    assert book.note("QC Log", f"{letter['exception_type']}1").startswith("What kind of failure")
    for row in (2, 900):  # the whole column, not only the first row
        dropdown = book.validation("QC Log", f"{letter['exception_type']}{row}")
        assert dropdown["condition"]["type"] == "ONE_OF_RANGE" and dropdown["strict"] is True
        assert dropdown["condition"]["values"][0]["userEnteredValue"].startswith("='Lists'!$")
        assert book.format("QC Log", f"A{row}")["numberFormat"]["type"] == "TEXT"
    assert book.validation("QC Log", f"{letter['currency']}2")["strict"] is False
    assert book.validation("QC Log", f"{letter['date_identified']}2")["condition"]["type"] == "DATE_IS_VALID"
    assert book.format("QC Log", f"{letter['original_order_id']}2")["numberFormat"]["type"] == "TEXT"
    assert book.format("QC Log", f"{letter['closure_date']}2")["numberFormat"] == {
        "type": "DATE",
        "pattern": "yyyy-mm-dd",
    }
    qc = book.sheet("QC Log")
    assert qc["properties"]["gridProperties"]["frozenRowCount"] == 1
    protected = qc["protectedRanges"]
    assert sorted(p["range"]["startColumnIndex"] for p in protected) == [
        qc_schema.fields.index("case_id"),
        qc_schema.fields.index("issues"),
    ]
    assert all(p["warningOnly"] and p["description"].startswith("kakosheet:") for p in protected)
    rules = qc["conditionalFormats"]
    assert len(rules) == len(qc_schema.mandatory)
    formula = rules[0]["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
    assert formula == f"=AND(COUNTA($A2:${letter['issues']}2)>0,ISBLANK({letter[qc_schema.mandatory[0].field]}2))"


def test_a_second_run_sends_no_batch_update_and_changes_nothing(api, cli, qc_team) -> None:
    book = api.create_spreadsheet(title="After-sales", share_with=[EMAIL])
    qc_team(book)
    assert cli("gsheet", "setup").exit_code == 0
    before = snapshot(book)
    api.reset_requests()

    result = cli("gsheet", "setup", f"gsheet:{book.key}")

    assert result.exit_code == 0, output(result)
    assert "already set up; nothing changed" in result.output
    assert batch_updates(api) == []
    assert snapshot(book) == before


@pytest.mark.parametrize("applied", [True, False], ids=["applied-then-500", "500-not-applied"])
def test_a_500_answer_converges_without_duplicates(api, cli, qc_team, qc_schema, applied: bool) -> None:
    book = api.create_spreadsheet(title="After-sales", share_with=[EMAIL])
    qc_team(book)
    api.fail(method="POST", path_contains=":batchUpdate", status=500, times=1, apply_first=applied)

    result = cli("gsheet", "setup")

    assert result.exit_code == 0, output(result)
    assert len(batch_updates(api)) == (1 if applied else 2)  # re-sent only when the sheet still lacks it
    assert book.tabs() == ["Sheet1", *LOG_TABS, "Lists"]
    qc = book.sheet("QC Log")
    assert len(qc["protectedRanges"]) == 2
    assert len(qc["conditionalFormats"]) == len(qc_schema.mandatory)
    api.reset_requests()
    assert "nothing changed" in cli("gsheet", "setup").output
    assert batch_updates(api) == []


def test_an_existing_tab_keeps_every_staff_cell_and_gets_the_missing_columns_on_the_right(
    api, cli, qc_team, qc_schema
) -> None:
    staff = [
        ["QC failures 2026 (team A)"],
        ["Original Order ID", "My notes", "exception type", "Description"],
        ["007", "call back Friday", "Damaged", "Box crushed"],
        ["0012345", None, "Defective", "=not a formula"],
    ]
    book = api.create_spreadsheet(title="After-sales", tabs={"QC Log": staff}, share_with=[EMAIL])
    book.set_note("QC Log", "B2", "our own column")
    book.set_note("QC Log", "D2", "what the customer said, word for word")  # on one of kakosheet's columns
    qc_team(book)

    result = cli("gsheet", "setup")

    assert result.exit_code == 0, output(result)
    values = book.values("QC Log")
    assert [row[:4] for row in values] == [(row + [None] * 4)[:4] for row in staff]
    assert all(cell is None for row in (values[0], values[2], values[3]) for cell in row[4:])
    missing = [
        c.label for c in qc_schema.columns if c.field not in ("original_order_id", "exception_type", "description")
    ]
    assert values[1][4:] == missing
    assert f"added to QC Log: {', '.join(missing)}" in result.output
    assert book.note("QC Log", "B2") == "our own column"
    assert book.note("QC Log", "D2") == "what the customer said, word for word"  # the team's note stays
    assert book.note("QC Log", "C2").endswith("(kakosheet)")  # kakosheet's own goes where there was none
    assert book.validation("QC Log", "C3")["condition"]["type"] == "ONE_OF_RANGE"
    assert book.format("QC Log", "A3")["numberFormat"]["type"] == "TEXT"  # the order number stays text
    qc = book.sheet("QC Log")
    assert qc["properties"]["gridProperties"]["frozenRowCount"] == 2
    case_id = 4 + missing.index("Case ID")
    protected = {p["range"]["startColumnIndex"]: p for p in qc["protectedRanges"]}
    assert protected[case_id]["range"]["startRowIndex"] == 1
    last = column_letters(3 + len(missing))
    formulas = [rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for rule in qc["conditionalFormats"]]
    assert f"=AND(COUNTA($A3:${last}3)>0,ISBLANK(A3))" in formulas
    api.reset_requests()
    assert "nothing changed" in cli("gsheet", "setup").output
    assert batch_updates(api) == []


def test_duplicated_or_stale_protections_and_rules_of_kakosheet_are_cleaned_up(api, cli, qc_team) -> None:
    book = api.create_spreadsheet(title="After-sales", share_with=[EMAIL])
    qc_team(book)
    assert cli("gsheet", "setup").exit_code == 0
    qc = book.sheet("QC Log")
    sheet_id = book.sheet_id("QC Log")
    mine = qc["protectedRanges"][0]
    staff_rule = {
        "ranges": [{"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": 5, "endColumnIndex": 6}],
        "booleanRule": {"condition": {"type": "NOT_BLANK"}, "format": {"backgroundColor": {"green": 1}}},
    }
    book.batch_update(
        [
            {"addProtectedRange": {"protectedRange": {k: v for k, v in mine.items() if k != "protectedRangeId"}}},
            {"addProtectedRange": {"protectedRange": {"range": {"sheetId": sheet_id}, "description": "staff lock"}}},
            {"addConditionalFormatRule": {"rule": qc["conditionalFormats"][0], "index": 0}},
            {"addConditionalFormatRule": {"rule": staff_rule, "index": 0}},
        ]
    )

    result = cli("gsheet", "setup")

    assert result.exit_code == 0, output(result)
    after = book.sheet("QC Log")
    assert sorted(p["description"] for p in after["protectedRanges"]) == sorted(
        [*(p["description"] for p in qc["protectedRanges"]), "staff lock"]
    )
    assert len(after["conditionalFormats"]) == len(qc["conditionalFormats"]) + 1
    kept = after["conditionalFormats"][0]["booleanRule"]  # Google also echoes the colour as a style
    assert kept["condition"] == staff_rule["booleanRule"]["condition"]
    assert kept["format"]["backgroundColor"] == staff_rule["booleanRule"]["format"]["backgroundColor"]


def test_a_lists_tab_of_the_team_is_not_overwritten(api, cli, qc_team) -> None:
    book = api.create_spreadsheet(title="After-sales", tabs={"Lists": [["Suppliers"], ["Acme"]]}, share_with=[EMAIL])
    qc_team(book)
    api.reset_requests()

    result = cli("gsheet", "setup")

    assert result.exit_code == 3
    assert "'Lists' is not kakosheet's" in output(result)
    assert batch_updates(api) == []
    assert book.values("Lists") == [["Suppliers"], ["Acme"]]


def test_a_list_gone_from_the_schemas_leaves_kakosheets_lists_tab_its_own(api, cli, tmp_path: Path) -> None:
    """A dropdown column removed from qc.yaml left its list's name on the Lists tab: setup then took
    the tab for the team's own and refused it (exit 3), so no later reason reached the sheet. The
    list keeps its column: the removed column's cells (the team's now) keep a dropdown of their own
    values, and every other dropdown still reads its own list, not the one that took the column."""
    book = api.create_spreadsheet(title="After-sales", share_with=[EMAIL])
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for schema in default_schema_dir().glob("*.yaml"):
        (schemas / schema.name).write_bytes(schema.read_bytes())
    (tmp_path / "kakosheet.toml").write_text(f'source = "gsheet:{book.key}"\nlogs = ["qc"]\n', encoding="utf-8")
    assert cli("setup").exit_code == 0
    qc = schemas / "qc.yaml"
    text = qc.read_text()
    start = text.index("  - field: source_type\n")
    text = text[:start] + text[text.index("  - field: ", start + 1) :]
    qc.write_text(text.replace("Packaging Damage]", "Packaging Damage, Counterfeit]", 1))

    result = cli("setup")

    assert result.exit_code == 0, output(result)
    header = book.values("Lists")[0]
    reasons = [row[header.index("qc.exception_type")] for row in book.values("Lists")[1:]]
    assert "Counterfeit" in reasons
    assert _dropdown_values(book, "Source Type") == ["Supplier", "Warehouse Station", "Inspector", "Logistics"]
    assert _dropdown_values(book, "Status")[:2] == ["Open", "Reshipment Created"]
    assert _dropdown_values(book, "Exception Type")[-1] == "Counterfeit"
    assert "already set up; nothing changed" in cli("setup").output


def _dropdown_values(book: Book, label: str) -> list[str]:
    """The values of the Lists range the dropdown of a QC Log column reads, in its first data row."""
    column = book.values("QC Log")[0].index(label)
    rule = book.validation("QC Log", f"{column_letters(column)}2")
    assert rule is not None, f"no dropdown on {label}"
    formula = rule["condition"]["values"][0]["userEnteredValue"]
    start, end = formula.split("!")[1].replace("$", "").split(":")
    letters = start.rstrip("0123456789")
    at = column_index(letters)
    rows = book.values("Lists")[int(start[len(letters) :]) - 1 : int(end[len(letters) :])]
    return [row[at] if at < len(row) else "" for row in rows]


def test_a_sheet_not_shared_with_the_service_account_exits_3_naming_the_address(api, cli, qc_team) -> None:
    book = api.create_spreadsheet(title="After-sales", share_with=["ana@team.example"])
    qc_team(book)

    result = cli("gsheet", "setup")

    assert result.exit_code == 3
    assert EMAIL in output(result) and "Traceback" not in output(result)
    assert batch_updates(api) == []


def test_setup_needs_a_google_sheet(api, cli) -> None:
    result = cli("gsheet", "setup", "master.xlsx")

    assert result.exit_code == 2
    assert "needs a Google Sheet" in output(result)


def test_help_shows_an_example(cli) -> None:
    result = cli("gsheet", "setup", "--help")

    assert result.exit_code == 0
    assert "kakosheet gsheet setup gsheet:1AbC" in result.output
