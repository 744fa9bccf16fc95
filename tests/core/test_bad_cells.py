"""Every bad cell becomes an issue on its cell; no value of any kind stops validate or sync.

The cases the issue tracker found go through the command line on real workbooks; the
property feeds values of every kind into every column of every default schema, through
the core pipeline (grid -> table -> validation -> plan -> write-back) for most examples
and through a real workbook and `kakosheet sync` for a few.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from kakosheet.cli import main
from kakosheet.config import default_schema_dir
from kakosheet.core.cells import CellContext, FormulaError
from kakosheet.core.clock import Clock
from kakosheet.core.grid import Grid
from kakosheet.core.header import locate_header
from kakosheet.core.issues import Issue
from kakosheet.core.issues_tab import issue_lines
from kakosheet.core.plan import StoredCases, format_new_ids, plan_log, row_cases, years_needed
from kakosheet.core.references import ReferenceIndex
from kakosheet.core.schema import LogSchema
from kakosheet.core.table import Table, build_table
from kakosheet.core.validate import validate_table
from kakosheet.core.writeback import WriteBack, sheet_write
from kakosheet.schema_files import load_schemas
from kakosheet.store.tables import stored_fields
from tests.helpers import TODAY, qc_row, qc_tab, run_kakosheet, write_workbook

Cli = Callable[..., Result]

REFUND_LABELS = [
    "Case ID",
    "Initiated At",
    "Original Order ID",
    "Customer ID",
    "Vendor ID",
    "Refunded Items",
    "Refund Amount",
    "Currency",
    "Reason Code",
    "Status",
    "Platform Fee Adjustment",
    "Issues",
]


def refund_row(amount: Any, fee: Any = "5.00", vendor: str = "ACME") -> list[Any]:
    return [
        None,
        dt.datetime(2026, 3, 1, 9, 0),
        "O-1",
        "C-1",
        vendor,
        "SKU-1 x 1",
        amount,
        "USD",
        "Damaged",
        "Initiated",
        fee,
        None,
    ]


def _team(cli: Cli, tmp_path: Path, *, logs: str = "qc", timezone: str = "UTC") -> str:
    result = cli("init", "team", "--logs", logs, "--timezone", timezone)
    assert result.exit_code == 0, result.output
    return str(tmp_path / "team" / "kakosheet.toml")


def _issues(result: Result) -> list[dict[str, Any]]:
    return json.loads(result.stdout)["issues"]


def _on(issues: list[dict[str, Any]], row: int, column: str) -> list[dict[str, Any]]:
    return [i for i in issues if i["row"] == row and i["column"] == column]


# --------------------------------------------------------------------------- the tracked cases


def test_an_iso_date_with_an_offset_past_the_calendars_end_is_an_issue_on_its_cell(cli: Cli, tmp_path: Path) -> None:
    config = _team(cli, tmp_path, timezone="Asia/Shanghai")
    rows = [qc_row(Date_Identified="9999-12-31T23:59-05:00"), qc_row(Original_Order_ID="0001235")]
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab(rows)})
    result = cli("--config", config, "validate", "--format", "json")
    assert result.exit_code == 1, result.output
    [issue] = _on(_issues(result), 2, "Date Identified")
    assert issue["code"] == "not-a-date" and "9999-12-31T23:59-05:00" in issue["message"]
    assert not [i for i in _issues(result) if i["row"] == 3 and i["severity"] == "error"]
    synced = cli("--config", config, "sync", "--format", "json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["new_ids"]["qc"] == ["QC-2026-0001", "QC-2026-0002"]


def test_an_iso_date_with_an_offset_is_read_in_the_teams_time_zone(cli: Cli, tmp_path: Path) -> None:
    config = _team(cli, tmp_path, timezone="America/New_York")
    write_workbook(
        tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row(Date_Identified="2026-03-01T23:30-05:00")])}
    )
    assert cli("--config", config, "sync").exit_code == 0
    shown = cli("--config", config, "history", "QC-2026-0001")
    # In UTC it would be 2026-03-02 04:30: the next day, as no one in New York saw it.
    assert "Date Identified: 2026-03-01 23:30" in shown.stdout, shown.stdout


def test_a_30_digit_refund_next_to_a_commission_rate_is_an_issue_on_its_cell(cli: Cli, tmp_path: Path) -> None:
    config = _team(cli, tmp_path, logs="refunds")
    tabs = {
        "Refunds": [REFUND_LABELS, refund_row("1" * 30), refund_row(10)],
        "Vendors": [["Vendor ID", "Name", "Commission Rate"], ["ACME", "Acme", "12%"]],
    }
    write_workbook(tmp_path / "team" / "master.xlsx", tabs)
    result = run_kakosheet("--config", config, "validate", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    issues = json.loads(result.stdout)["issues"]
    [issue] = _on(issues, 2, "Refund Amount")
    assert issue["code"] == "too-large" and issue["value"] == "1" * 30
    # The other row is still checked against the rate: 12% x 10 is 1.20, not 5.00.
    assert [i["code"] for i in _on(issues, 3, "Platform Fee Adjustment")] == ["disagrees"]
    synced = run_kakosheet("--config", config, "sync", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    assert "Refunds: 2 new" in synced.stdout


def test_the_rate_check_rounds_a_large_amount_times_a_large_rate(cli: Cli, tmp_path: Path) -> None:
    config = _team(cli, tmp_path, logs="refunds")
    amount = 999_999_999_999_999  # 15 digits: the most a cell keeps
    tabs = {
        "Refunds": [REFUND_LABELS, refund_row(amount), refund_row(10, vendor="BIG")],
        "Vendors": [
            ["Vendor ID", "Name", "Commission Rate"],
            ["ACME", "Acme", "9" * 14],  # out of range, and reported so; the rate check still runs
            ["BIG", "Big", "12%"],
        ],
    }
    write_workbook(tmp_path / "team" / "master.xlsx", tabs)
    result = cli("--config", config, "validate", "--format", "json")
    assert result.exit_code == 1, result.output
    issues = _issues(result)
    assert [i["code"] for i in _on(issues, 2, "Platform Fee Adjustment")] == ["disagrees"]
    assert [i["code"] for i in _on(issues, 3, "Platform Fee Adjustment")] == ["disagrees"]
    assert [i["code"] for i in issues if i["sheet"] == "Vendors" and i["severity"] == "error"] == ["out-of-range"]


def test_a_huge_value_is_shortened_in_its_message_but_kept_whole_in_json(cli: Cli, tmp_path: Path) -> None:
    config = _team(cli, tmp_path)
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row(Status="x" * 32_000)])})
    result = cli("--config", config, "validate", "--format", "json")
    [issue] = _on(_issues(result), 2, "Status")
    assert issue["code"] == "not-in-list" and issue["value"] == "x" * 32_000
    assert len(issue["message"]) < 400 and "x…'" in issue["message"]


# --------------------------------------------------------------------------- any value, any column

FORMULA_ERRORS = ("#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!")
EDGE_DATETIMES = (
    dt.datetime.min,
    dt.datetime.max,
    dt.datetime(1899, 12, 30),
    dt.datetime(1900, 2, 28, 23, 59, 59),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    dt.date.min,
    dt.date.max,
)
TRICKY_TEXTS = (
    "9999-12-31T23:59-05:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999-12:00",
    "2026-02-30",
    "31/12/9999 23:59",
    "1" * 30,
    "-" + "9" * 40,
    "1,000,000,000,000,000.5",
    "12%",
    "1" * 30 + "%",
    "%",
    "NaN",
    "inf",
    "-0",
    "1e400",
    "TRUE",
    "x",
    "ACME",
    "acme",
    "O-1",
    "USD",
    "Open",
    "Closed",
    "Completed",
    "Damaged",
    "Approved",
    "SKU-1 x 1",
    "ana@example.com",
    "https://example.com/a.jpg https://example.com/b.jpg",
    "QC-2026-0001",
    "PRF-2026-001-ACME",
    "２０２６-03-01",
    "٢٠٢٦-٠٣-٠١",
    "İstanbul",
    "straße",
    "\u202eevil",
    "\u00a0",
    '=HYPERLINK("x")',
    "line one\nline two",
    "x" * 33_000,
)


def _offset_text(moment: dt.datetime, offset: str) -> str:
    return moment.isoformat(timespec="minutes") + offset


cell_values = st.one_of(
    st.none(),
    st.sampled_from(TRICKY_TEXTS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.builds(_offset_text, st.datetimes(), st.sampled_from(["Z", "+00:00", "-05:00", "+14:00", "-12:00", "+0530"])),
    st.floats(),
    st.floats(min_value=-1e17, max_value=1e17),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.integers(min_value=-100_000, max_value=200_000),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(EDGE_DATETIMES),
    st.times(),
    st.timedeltas(),
    st.sampled_from([FormulaError(code) for code in FORMULA_ERRORS]),
)
TIMEZONES = ("UTC", "Asia/Shanghai", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York")


def _grid(schema: LogSchema, rows: list[dict[str, Any]]) -> Grid:
    return Grid(
        schema.tab, [[c.label for c in schema.columns]] + [[row[c.field] for c in schema.columns] for row in rows]
    )


def _table(schema: LogSchema, rows: list[dict[str, Any]], ctx: CellContext) -> Table:
    grid = _grid(schema, rows)
    header = locate_header(grid, schema)
    assert header is not None
    return build_table(grid, header, schema, ctx)


DEFAULT_SCHEMAS = load_schemas(default_schema_dir())
_ROW_OF = {
    name: st.fixed_dictionaries({c.field: cell_values for c in schema.columns})
    for name, schema in DEFAULT_SCHEMAS.logs.items()
}


@st.composite
def workbooks(draw: st.DrawFn) -> tuple[LogSchema, dict[str, list[dict[str, Any]]], str]:
    """One log of the default schemas with a few rows of anything, its reference tabs, a time zone."""
    schemas = DEFAULT_SCHEMAS
    log = draw(st.sampled_from(sorted(schemas.logs)))
    tabs = {log: draw(st.lists(_ROW_OF[log], min_size=1, max_size=4))}
    for reference in schemas.references:
        if reference.name != log:
            tabs[reference.name] = draw(st.lists(_ROW_OF[reference.name], max_size=2))
    return schemas[log], tabs, draw(st.sampled_from(TIMEZONES))


def _check_issues(issues: list[Issue], table: Table) -> None:
    rows = {int(row) for row in table.rows} | set(table.stray_rows)
    for issue in issues:
        assert issue.message and issue.code, issue
        assert issue.row in rows, issue
        assert issue.column is not None or issue.code == "not-a-case", issue


def _synced_in_core(table: Table, issues: list[Issue]) -> WriteBack:
    """What a first sync plans and writes back for a table, without a store."""
    schema = table.schema
    clock = Clock.at(dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC), "Asia/Shanghai")
    fields = stored_fields(schema)
    cases = row_cases(table, issues, fields=fields, clock=clock)
    plan = plan_log(schema, table.sheet, cases, StoredCases.of({}), fields=fields)
    new_ids = format_new_ids(schema, plan.new, dict.fromkeys(years_needed(plan.new), 1))
    return WriteBack(sheets=[sheet_write(table, plan, new_ids)], issues=issues)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_in_any_column_validates_and_plans_cleanly(data: st.DataObject) -> None:
    schemas = DEFAULT_SCHEMAS
    schema, tabs, timezone = data.draw(workbooks())
    ctx = CellContext(date_order=None, today=TODAY, timezone=ZoneInfo(timezone))
    tables = {name: _table(schemas[name], rows, ctx) for name, rows in tabs.items()}
    references = ReferenceIndex({name: t for name, t in tables.items() if t.schema.kind == "reference"})
    table = tables[schema.name]
    issues = validate_table(table, today=TODAY, references=references)
    _check_issues(issues, table)
    if schema.kind == "log":
        for line in issue_lines(_synced_in_core(table, issues)):
            assert all(len(v) <= 32_767 for v in line.values if isinstance(v, str))


def _xlsx_value(value: Any) -> Any:
    """A value as a real cell can hold it: the same cell types, within what a cell holds."""
    if isinstance(value, FormulaError):
        return None  # written as a formula that returns an error
    if isinstance(value, str):
        # A workbook cannot hold control characters or lone surrogates (NUL is another test's).
        kept = (ch for ch in value if (ch >= " " or ch in "\t\n") and not 0xD800 <= ord(ch) <= 0xDFFF)
        return "".join(kept)[:32_000]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        day = value.date() if isinstance(value, dt.datetime) else value
        if not dt.date(1900, 3, 1) <= day <= dt.date(9999, 12, 30):
            return value.isoformat()  # no date serial for it; the text goes in instead
    if isinstance(value, dt.timedelta) and not dt.timedelta(0) <= value < dt.timedelta(days=1000):
        return str(value)
    return value


def _write_qc(path: Path, schema: LogSchema, rows: list[dict[str, Any]]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = schema.tab
    sheet.append([c.label for c in schema.columns])
    for r, row in enumerate(rows, start=2):
        for c, column in enumerate(schema.columns, start=1):
            value = row[column.field]
            cell = sheet.cell(row=r, column=c, value="=1/0" if isinstance(value, FormulaError) else _xlsx_value(value))
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed text, not a formula
    book.save(path)


@pytest.fixture(scope="module")
def qc_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    team = tmp_path_factory.mktemp("any-value") / "team"
    result = CliRunner().invoke(main, ["init", str(team), "--logs", "qc", "--timezone", "Pacific/Kiritimati"])
    assert result.exit_code == 0, result.output
    return team


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(_ROW_OF["qc"], min_size=6, max_size=8))
def test_any_value_through_a_real_workbook_syncs_cleanly(qc_team: Path, rows: list[dict[str, Any]]) -> None:
    """A few examples end to end: a real .xlsx, the real CLI, a real SQLite store each."""
    qc = DEFAULT_SCHEMAS["qc"]
    folder = Path(tempfile.mkdtemp(dir=qc_team))
    workbook = folder / "master.xlsx"
    _write_qc(workbook, qc, rows)
    config = ["--config", str(qc_team / "kakosheet.toml")]
    store = ["--store", f"sqlite:///{folder / 'store.db'}"]
    for command in (
        ["validate", str(workbook), "--format", "json"],
        ["sync", str(workbook), *store, "--format", "json"],
        ["sync", str(workbook), *store],
    ):
        result = CliRunner().invoke(main, [*config, *command])
        assert result.exit_code in (0, 1), result.output
        assert "unexpected error" not in result.output
    checked = CliRunner().invoke(main, [*config, "validate", str(workbook), "--format", "json"])
    issues = json.loads(checked.stdout)["issues"]
    assert all(i["row"] is not None for i in issues if i["sheet"] == qc.tab and i["code"] != "missing-column"), issues
