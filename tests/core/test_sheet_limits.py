"""What kakosheet writes stays a sheet a spreadsheet opens: rows and cells within their limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import python_calamine
from click.testing import Result

from kakosheet.core.issues import Issue
from kakosheet.core.issues_tab import ISSUES_HEADER, SHEET_ROWS, issue_lines
from kakosheet.core.owned_tab import CELL_CHARS, excel_length, fit_text
from kakosheet.core.writeback import NOTE_LIMIT, WriteBack, note_text
from tests.helpers import qc_row, qc_tab, write_workbook

Cli = Callable[..., Result]
MESSAGE = ISSUES_HEADER.index("Message")
TOP_ROWS = 2  # the mark and the header


def _issue(row: int, *, message: str = "Status: 'Shipped' is not in the list", value: str | None = "Shipped") -> Issue:
    return Issue("qc", "QC Log", row, "Status", "not-in-list", "error", message, value)


def test_an_issues_tab_past_a_worksheets_rows_is_capped_with_a_closing_line() -> None:
    # 200k rows with six issues each: more than a worksheet's 1,048,576 rows.
    issues = [_issue(2)] * 1_199_999 + [_issue(3)]
    lines = issue_lines(WriteBack(issues=issues))
    assert len(lines) + TOP_ROWS == SHEET_ROWS
    closing = lines[-1]
    assert closing.target is None and closing.values[1] is None
    more = len(issues) - (len(lines) - 1)
    assert more == 1_200_000 - (SHEET_ROWS - TOP_ROWS - 1)
    assert f"… and {more:,} more issues" in str(closing.values[MESSAGE])
    assert lines[-2].values[MESSAGE] == issues[0].message


def test_an_issues_tab_that_fits_has_every_issue_and_no_closing_line() -> None:
    issues = [_issue(2)] * (SHEET_ROWS - TOP_ROWS - 1) + [_issue(3)]
    lines = issue_lines(WriteBack(issues=issues))
    assert len(lines) + TOP_ROWS == SHEET_ROWS
    assert [line.values[1] for line in lines[-2:]] == [2, 3]


def test_a_value_past_a_cells_characters_is_cut_visibly() -> None:
    issue = Issue("qc", "QC Log", 2, "Case ID", "malformed-id", "error", "m" * 40_000, "v" * 40_000, "Q" * 40_000)
    [line] = issue_lines(WriteBack(issues=[issue]))
    for text in (line.values[3], line.values[MESSAGE], line.values[-1]):
        assert isinstance(text, str) and len(text) == CELL_CHARS and text.endswith("…")


def test_a_value_is_measured_as_excel_counts_it() -> None:
    """Excel counts a cell's characters in UTF-16 units: an emoji (or a rare CJK character) is two, so
    20,000 of them are 40,000 and do not fit, though Python counts 20,000."""
    issue = Issue("qc", "QC Log", 2, "Description", "too-long", "error", "m", "📦" * 20_000, "QC-2026-0001")
    [line] = issue_lines(WriteBack(issues=[issue]))
    value = line.values[-1]
    assert isinstance(value, str) and value.endswith("…")
    assert CELL_CHARS - 2 <= excel_length(value) <= CELL_CHARS
    assert fit_text("📦" * 16_383) == "📦" * 16_383  # 32,766 units: it fits whole
    assert fit_text("a" * 10 + "📦", 11) == "a" * 10 + "…"  # the cut never leaves half of a character


def test_an_issues_note_keeps_whole_notes_and_says_how_many_more() -> None:
    notes = [f"Owner: 'bob{i}' is not an email address (e.g. ana@example.com)" for i in range(40)]
    text = note_text(notes)
    assert text is not None and len(text) <= NOTE_LIMIT
    kept, more = text.rsplit("; ", 1)
    assert kept.split("; ") == notes[: len(kept.split("; "))]
    assert more == f"… and {len(notes) - len(kept.split('; '))} more (see the Issues tab)"


def test_an_issues_note_longer_than_its_cell_is_cut_visibly() -> None:
    text = note_text(["Description: " + "x" * 5_000, "Owner: 'bob' is not an email address"])
    assert text is not None and len(text) == NOTE_LIMIT
    assert text.endswith("…; … and 1 more (see the Issues tab)")
    assert note_text(["a", "b"]) == "a; b" and note_text([]) is None


def test_a_long_value_is_quoted_short_and_the_issues_tab_cells_fit(cli: Cli, tmp_path: Path) -> None:
    cli("init", "team", "--logs", "qc")
    config = str(tmp_path / "team" / "kakosheet.toml")
    long_status = "x" * 32_700  # a cell's worth: quoted whole, the message would not fit a cell
    workbook = write_workbook(
        tmp_path / "team" / "master.xlsx",
        {"QC Log": qc_tab([qc_row(Status=long_status), qc_row(Case_ID="QC-" + "9" * 32_000)])},
    )
    result = cli("--config", config, "sync", "--format", "json")
    assert result.exit_code == 0, result.output
    book = python_calamine.CalamineWorkbook.from_path(str(workbook))
    rows = book.get_sheet_by_name("Issues").to_python()
    assert max(len(str(cell)) for row in rows for cell in row) <= CELL_CHARS
    [status] = [row for row in rows if row[2] == "Status"]
    assert len(status[MESSAGE]) < 500 and "x…'" in status[MESSAGE]
    checked = cli("--config", config, "validate", "--format", "json")
    [issue] = [i for i in json.loads(checked.stdout)["issues"] if i["column"] == "Status"]
    assert issue["value"] == long_status  # JSON keeps the whole value
