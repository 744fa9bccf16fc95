"""kakosheet's own tabs in a Google Sheet (sources/gsheet_owned.py): typed cells, links, formats, widths, a
filter and native charts in fixed slots, written through gspread over HTTP to the local Sheets API server and
read back from it. A re-run replaces the tab and each chart in its slot; the team's own tabs are never touched."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kakosheet.app.sync import sync_source
from kakosheet.config import Config
from kakosheet.core.issues_tab import ISSUES_HEADER, ISSUES_MARK
from kakosheet.core.owned_tab import CellLink as Link
from kakosheet.core.owned_tab import Chart, ChartKind, Filter, OwnedTab, Series, Span, TabCell
from kakosheet.core.writeback import WriteBack
from kakosheet.reports.render_sheet import render_sheet
from kakosheet.sources.base import WriteResult
from kakosheet.sources.gsheet import GoogleSheetSource
from kakosheet.sources.gsheet_owned import chart_id
from kakosheet.sources.gsheet_spec import GoogleAccess
from tests.gsheet.sheets import GoogleSheet, SheetUnderTest
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet
from tests.reports.test_render import built
from tests.sheets_api import SheetsApiServer

NOW = dt.datetime(2026, 11, 23, 8, 0)
TITLE, MARK = "Report 2026-W47", "kakosheet: the after-sales report of 2026-W47"
HEADER_ROW = 3  # the mark, the week, then the table's header
HEADER = ("Reason", "Cases", "Refunded", "Share", "First seen", "Last update", "Case", "Note")
WIDTHS = (18, 8, 14, 8, 12, 17, 14, 30)
MONEY, SHARE = '#,##0.00 "EUR"', "0.0%"
INJECTION = '=HYPERLINK("https://phish.example/login","Open the case")'
SERIAL_EPOCH = dt.date(1899, 12, 30)


def report(reasons: list[tuple[str, int, Decimal]], *, slots: tuple[str, ...] = ("reasons", "trend")) -> OwnedTab:
    """A report tab: every kind of cell, a filter, frozen rows and up to two charts of its table."""
    total = sum(count for _, count, _ in reasons) or 1
    rows: list[tuple[TabCell | None, ...]] = [
        (TabCell(MARK),),
        (TabCell("Week", bold=True), TabCell("2026-W47")),
        tuple(TabCell(name, bold=True) for name in HEADER),
    ]
    for index, (reason, count, refunded) in enumerate(reasons):
        rows.append(
            (
                TabCell(reason),
                TabCell(count),
                TabCell(refunded, number_format=MONEY),
                TabCell(count / total, number_format=SHARE),
                TabCell(dt.date(2026, 11, 16) + dt.timedelta(days=index)),
                TabCell(dt.datetime(2026, 11, 20, 14, 30) + dt.timedelta(hours=index)),
                TabCell(f"QC-2026-{index + 1:04d}", link=Link("QC Log", f"B{index + 2}")),
                TabCell(INJECTION) if index == 0 else None,
            )
        )
    last = len(rows)
    charts = {
        "reasons": Chart(
            slot="reasons",
            kind=ChartKind.BAR,
            title="Cases by reason",
            categories=Span(0, HEADER_ROW + 1, last),
            series=(Series("Cases", Span(1, HEADER_ROW + 1, last)),),
            anchor_row=2,
            anchor_column=9,
        ),
        "trend": Chart(
            slot="trend",
            kind=ChartKind.LINE,
            title="Cases and refunds",
            categories=Span(0, HEADER_ROW + 1, last),
            series=(Series("Cases", Span(1, HEADER_ROW + 1, last)), Series("Refunded", Span(2, HEADER_ROW + 1, last))),
            anchor_row=20,
            anchor_column=9,
        ),
    }
    return OwnedTab(
        title=TITLE,
        mark=MARK,
        rows=tuple(rows),
        widths=WIDTHS,
        frozen_rows=HEADER_ROW,
        filter=Filter(HEADER_ROW, last, 0, len(HEADER) - 1),
        charts=tuple(charts[slot] for slot in slots),
    )


WEEK = [("Scratched", 5, Decimal("120.50")), ("Dented", 3, Decimal("80.00")), ("Missing part", 2, Decimal("0"))]


def source(sheet: GoogleSheet) -> GoogleSheetSource:
    """The sheet as a command opens it (the environment names the server and the key)."""
    return GoogleSheetSource(sheet.spec, GoogleAccess.resolve(None, None))


def write(sheet: GoogleSheet, *tabs: OwnedTab, opened: GoogleSheetSource | None = None) -> WriteResult:
    return (opened or source(sheet)).write_back(WriteBack(tabs=list(tabs)))


def batch_updates(api: SheetsApiServer, sheet: GoogleSheet) -> list[list[dict[str, Any]]]:
    path = f"{sheet.book.key}:batchUpdate"
    return [r.body["requests"] for r in api.requests if r.method == "POST" and r.path.endswith(path)]


def kinds(requests: list[list[dict[str, Any]]]) -> Counter[str]:
    return Counter(kind for batch in requests for request in batch for kind in request)


def with_log(sheet: GoogleSheet, **tabs: list[list[Any]]) -> None:
    sheet.create({"QC Log": qc_tab([qc_row(Description=f"case {i}") for i in range(4)]), **tabs})


def serial(day: dt.date | dt.datetime) -> float:
    if isinstance(day, dt.datetime):
        return (day - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    return (day - SERIAL_EPOCH).days


def grid(sheet_id: int, column: int, first: int, last: int) -> dict[str, int]:
    """A GridRange of one column, 1-based rows first..last, as kakosheet sends it."""
    return {"sheetId": sheet_id, "startRowIndex": first - 1, "endRowIndex": last,
            "startColumnIndex": column, "endColumnIndex": column + 1}  # fmt: skip


def test_a_report_tab_reads_back_with_every_kind_of_cell_and_its_charts(
    google_sheet: GoogleSheet, api: SheetsApiServer
) -> None:
    """Written into a sheet that was opened but not read: one batchUpdate, the cells typed, the one formula
    a link, the charts over the table's own ranges."""
    with_log(google_sheet)
    api.reset_requests()
    result = write(google_sheet, report(WEEK))
    assert result.written and not result.warnings
    book = google_sheet.book
    assert book.tabs() == ["QC Log", TITLE]
    (sent,) = batch_updates(api, google_sheet)
    assert kinds([sent])["addChart"] == 2 and next(iter(sent[0])) == "addSheet"

    values = book.values(TITLE)
    assert values[0][0] == MARK and values[1][:2] == ["Week", "2026-W47"] and tuple(values[2]) == HEADER
    first = values[HEADER_ROW]
    assert first[:4] == ["Scratched", 5, 120.5, 0.5]
    assert first[4] == serial(dt.date(2026, 11, 16)) and first[5] == pytest.approx(
        serial(dt.datetime(2026, 11, 20, 14, 30))
    )
    assert first[7] == INJECTION and book.formula(TITLE, "H4") is None  # text that looks like a formula stays text
    qc_log = book.sheet_id("QC Log")
    assert book.formula(TITLE, "G4") == f'=HYPERLINK("#gid={qc_log}&range=B2","QC-2026-0001")'
    assert book.formula(TITLE, "G6") == f'=HYPERLINK("#gid={qc_log}&range=B4","QC-2026-0003")'
    assert book.format(TITLE, "A3") == {"textFormat": {"bold": True}}
    assert book.format(TITLE, "C4") == {"numberFormat": {"type": "NUMBER", "pattern": MONEY}}
    assert book.format(TITLE, "D4") == {"numberFormat": {"type": "PERCENT", "pattern": SHARE}}
    assert book.format(TITLE, "E4") == {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
    assert book.format(TITLE, "F4") == {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}}
    assert book.column_pixels(TITLE, len(WIDTHS)) == [width * 7 for width in WIDTHS]

    meta = book.sheet(TITLE)
    report_id = meta["properties"]["sheetId"]
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == HEADER_ROW
    assert meta["basicFilter"]["range"] == grid(report_id, 0, HEADER_ROW, 6) | {"endColumnIndex": len(HEADER)}
    charts = {chart["chartId"]: chart for chart in book.charts(TITLE)}
    assert set(charts) == {chart_id(report_id, "reasons"), chart_id(report_id, "trend")}
    reasons, trend = charts[chart_id(report_id, "reasons")], charts[chart_id(report_id, "trend")]
    basic = reasons["spec"]["basicChart"]
    assert reasons["spec"]["title"] == "Cases by reason" and basic["chartType"] == "BAR"
    assert basic["headerCount"] == 1  # the series' names are the header cells above their values
    assert basic["domains"][0]["domain"]["sourceRange"]["sources"] == [grid(report_id, 0, HEADER_ROW, 6)]
    assert [s["series"]["sourceRange"]["sources"] for s in basic["series"]] == [[grid(report_id, 1, HEADER_ROW, 6)]]
    assert reasons["position"]["overlayPosition"]["anchorCell"] == {
        "sheetId": report_id,
        "rowIndex": 1,
        "columnIndex": 9,
    }
    lines = trend["spec"]["basicChart"]
    assert lines["chartType"] == "LINE" and lines["legendPosition"] == "BOTTOM_LEGEND"
    sources = [s["series"]["sourceRange"]["sources"] for s in lines["series"]]
    assert sources == [[grid(report_id, 1, HEADER_ROW, 6)], [grid(report_id, 2, HEADER_ROW, 6)]]

    api.reset_requests()
    again = write(google_sheet, report(WEEK))  # read back as written: nothing to send
    assert not again.written and batch_updates(api, google_sheet) == []


def test_five_runs_leave_one_chart_per_slot_under_stable_ids(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    """Each run's data differs (the table grows and shrinks): the tab is rewritten whole, what a longer run
    left below is cleared, and each slot keeps exactly one chart, updated in place. The last two runs write
    through one source, as a sync followed by a report in one process does."""
    with_log(google_sheet)
    weeks = [WEEK[:1], WEEK, WEEK[:2], [(r, n + 4, m) for r, n, m in WEEK], WEEK[:2]]
    sent: list[Counter[str]] = []
    for run, week in enumerate(weeks):
        if run == 3:
            shared = source(google_sheet)
        api.reset_requests()
        result = write(google_sheet, report(week), opened=shared if run >= 3 else None)
        assert result.written and not result.warnings
        sent.append(kinds(batch_updates(api, google_sheet)))
        report_id = google_sheet.book.sheet_id(TITLE)
        charts = google_sheet.book.charts(TITLE)
        assert sorted(c["chartId"] for c in charts) == sorted(
            [chart_id(report_id, "reasons"), chart_id(report_id, "trend")]
        )
        last = HEADER_ROW + len(week)
        for chart in charts:
            domain = chart["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"]
            assert domain == [grid(report_id, 0, HEADER_ROW, last)]
        values = google_sheet.book.values(TITLE)
        assert len(values) == last and [row[1] for row in values[HEADER_ROW:]] == [n for _, n, _ in week]
    assert google_sheet.book.tabs() == ["QC Log", TITLE]
    assert sent[0]["addChart"] == 2 and sent[0]["addSheet"] == 1
    for later in sent[1:]:
        assert later["addChart"] == 0 and later["addSheet"] == 0 and later["updateChartSpec"] == 2, later


def test_a_slot_dropped_or_a_chart_added_by_hand_is_deleted(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    with_log(google_sheet)
    write(google_sheet, report(WEEK))
    book = google_sheet.book
    report_id = book.sheet_id(TITLE)
    write(google_sheet, report(WEEK, slots=("reasons",)))
    assert [c["chartId"] for c in book.charts(TITLE)] == [chart_id(report_id, "reasons")]
    by_hand = {"spec": {"title": "mine", "basicChart": {"chartType": "COLUMN", "series": [
        {"series": {"sourceRange": {"sources": [grid(report_id, 1, 4, 6)]}}}]}},
        "position": {"overlayPosition": {"anchorCell": {"sheetId": report_id, "rowIndex": 30}}}}  # fmt: skip
    book.batch_update([{"addChart": {"chart": dict(by_hand, chartId=99)}}])
    api.reset_requests()
    write(google_sheet, report(WEEK, slots=("reasons",)))  # the cells did not change; the tab's charts did
    assert kinds(batch_updates(api, google_sheet))["deleteEmbeddedObject"] == 1
    assert [c["chartId"] for c in book.charts(TITLE)] == [chart_id(report_id, "reasons")]


def test_the_teams_own_tab_with_our_title_is_left_as_it_is(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    with_log(google_sheet, **{TITLE: [["Our notes for the week"], ["Call Acme about the dents"], ["Dented", 3]]})
    book = google_sheet.book
    theirs = book.sheet_id(TITLE)
    their_chart = {"chartId": 5, "spec": {"title": "ours", "basicChart": {"chartType": "COLUMN", "series": [
        {"series": {"sourceRange": {"sources": [grid(theirs, 1, 3, 3)]}}}]}},
        "position": {"overlayPosition": {"anchorCell": {"sheetId": theirs, "rowIndex": 4}}}}  # fmt: skip
    book.batch_update([{"addChart": {"chart": their_chart}}])
    before = book.values(TITLE), book.charts(TITLE)

    result = write(google_sheet, report(WEEK))
    assert not result.warnings
    ours = f"kakosheet {TITLE}"
    assert book.tabs() == ["QC Log", TITLE, ours]
    assert (book.values(TITLE), book.charts(TITLE)) == before
    assert book.values(ours)[0][0] == MARK and len(book.charts(ours)) == 2
    write(google_sheet, report(WEEK[:1]))  # found again by its mark, beside the team's tab
    assert book.tabs() == ["QC Log", TITLE, ours] and len(book.values(ours)) == HEADER_ROW + 1

    book.batch_update([{"deleteSheet": {"sheetId": book.sheet_id(ours)}}])
    book.batch_update([{"addSheet": {"properties": {"title": ours}}}])
    book.set_values(ours, "A1", [["the team's, too"]])
    api.reset_requests()
    refused = write(google_sheet, report(WEEK))
    (warning,) = refused.warnings
    assert f"did not write its {TITLE!r} tab" in warning and "rename one of them" in warning
    assert batch_updates(api, google_sheet) == [] and book.values(ours) == [["the team's, too"]]


def test_a_tab_that_waits_for_something_to_say_is_not_added(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    with_log(google_sheet)
    mark = "kakosheet: cases held back"
    quiet = OwnedTab(title="Quarantine", mark=mark, rows=((TabCell(mark),),), create=False)
    api.reset_requests()
    assert not write(google_sheet, quiet).written
    assert google_sheet.book.tabs() == ["QC Log"] and batch_updates(api, google_sheet) == []


def test_a_lost_answer_to_the_write_adds_no_second_tab_or_chart(
    google_sheet: GoogleSheet, api: SheetsApiServer
) -> None:
    """The batchUpdate is applied but its answer is a 500: the sheet is looked at again, the tab is found by
    its mark, and neither the tab nor a chart is added twice (a second addChart would be refused)."""
    with_log(google_sheet)
    api.fail(method="POST", path_contains=f"{google_sheet.book.key}:batchUpdate", status=500, apply_first=True)
    result = write(google_sheet, report(WEEK))
    assert result.written and not result.warnings
    assert google_sheet.book.tabs() == ["QC Log", TITLE] and len(google_sheet.book.charts(TITLE)) == 2


def test_a_report_after_the_syncs_write_back_in_one_process(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    """One source: its logs read, the Issues tab written, then the report twice. The tabs the first write
    added are known to the later ones (the second report updates its charts rather than adding them)."""
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus")])})
    opened = source(google_sheet)
    opened.read_grids(["QC Log"])
    issue = OwnedTab(title="Issues", mark=ISSUES_MARK, rows=((TabCell(ISSUES_MARK),), (TabCell("Sheet", bold=True),)))
    assert opened.write_back(WriteBack(tabs=[issue])).written
    assert write(google_sheet, report(WEEK), opened=opened).written
    api.reset_requests()
    second = write(google_sheet, report(WEEK[:2]), opened=opened)
    assert second.written and not second.warnings
    (sent,) = batch_updates(api, google_sheet)  # planned from the sheet as the first report left it: not refused
    assert kinds([sent])["updateChartSpec"] == 2 and not kinds([sent])["addSheet"]
    assert google_sheet.book.tabs() == ["QC Log", "Issues", TITLE] and len(google_sheet.book.charts(TITLE)) == 2
    assert TITLE in opened.sheet_names()


def test_the_issues_tab_is_written_with_links_and_emptied_when_the_issues_are_fixed(
    google_sheet: GoogleSheet, team: Config, api: SheetsApiServer
) -> None:
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus"), qc_row(Description="two")])})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    values = book.values("Issues")
    assert values[0][0] == ISSUES_MARK and tuple(values[1]) == ISSUES_HEADER
    (issue,) = values[2:]
    assert issue[2] == "Status" and issue[5] == "not-in-list"
    status = f"{chr(ord('A') + QC_LABELS.index('Status'))}2"
    assert book.formula("Issues", "A3") == f'=HYPERLINK("#gid={book.sheet_id("QC Log")}&range={status}","QC Log")'
    meta = book.sheet("Issues")
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == 2 and "basicFilter" in meta
    assert book.format("Issues", "A2") == {"textFormat": {"bold": True}}

    book.set_values("QC Log", status, [["Open"]])
    sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))
    assert book.values("Issues") == [[ISSUES_MARK] + [None] * 7, list(ISSUES_HEADER)]
    assert "basicFilter" not in book.sheet("Issues")
    api.reset_requests()
    sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=2))
    assert batch_updates(api, google_sheet) == []  # nothing changed: nothing sent


def test_an_issues_tab_the_team_renamed_is_rewritten_under_their_title_in_either_kind_of_sheet(
    any_sheet: SheetUnderTest, team: Config
) -> None:
    """Found by its mark, not its title: no second Issues tab, and the team's title stays; a tab the team
    then makes under kakosheet's title is theirs and is left as it is."""
    any_sheet.create({"QC Log": qc_tab([qc_row(Description="one", Status="Bogus"), qc_row(Description="two")])})
    sync_source(team, any_sheet.spec, now=NOW)
    any_sheet.rename_tab("Issues", "Open issues")
    status = chr(ord("A") + QC_LABELS.index("Status"))
    any_sheet.set_values("QC Log", f"{status}3", [["Bogus too"]])
    sync_source(team, any_sheet.spec, now=NOW + dt.timedelta(hours=1))
    assert any_sheet.tabs() == ["QC Log", "Open issues"]
    values = any_sheet.values("Open issues")
    assert values[0][0] == ISSUES_MARK and [row[1] for row in values[2:]] == [2, 3]

    any_sheet.add_tab("Issues", [["our own list"], ["call the vendor"]])
    any_sheet.set_values("QC Log", f"{status}2", [["Open"]])
    sync_source(team, any_sheet.spec, now=NOW + dt.timedelta(hours=2))
    assert any_sheet.tabs() == ["QC Log", "Open issues", "Issues"]
    assert any_sheet.values("Issues") == [["our own list"], ["call the vendor"]]
    values = any_sheet.values("Open issues")
    assert values[0][0] == ISSUES_MARK and [row[1] for row in values[2:]] == [3]


def test_a_report_tab_the_team_renamed_is_found_by_its_mark(google_sheet: GoogleSheet, api: SheetsApiServer) -> None:
    """A report written by a command that read no tab: the first cells of the tabs are looked at in the same
    request as the tabs it may be under."""
    with_log(google_sheet)
    write(google_sheet, report(WEEK))
    book = google_sheet.book
    properties = {"sheetId": book.sheet_id(TITLE), "title": "Week 47"}
    book.batch_update([{"updateSheetProperties": {"properties": properties, "fields": "title"}}])
    api.reset_requests()
    again = write(google_sheet, report(WEEK[:1]))
    assert again.written and again.tab_titles == {MARK: "Week 47"}
    assert book.tabs() == ["QC Log", "Week 47"] and len(book.values("Week 47")) == HEADER_ROW + 1
    assert len(book.charts("Week 47")) == 2
    assert not kinds(batch_updates(api, google_sheet))["addSheet"]
    api.reset_requests()
    assert not write(google_sheet, report(WEEK[:1])).written  # as it was written: nothing sent
    assert batch_updates(api, google_sheet) == []


def test_the_weekly_report_tab_written_twice_keeps_one_chart_per_slot(
    google_sheet: GoogleSheet, api: SheetsApiServer, tmp_path: Path
) -> None:
    """The report as `report --format sheet` lays it out (reports/render_sheet.py): the server checks every
    chart's ranges against the grid; a second run of the same report sends nothing, a changed one updates
    each chart in its slot."""
    report, _ = built(tmp_path)
    tab = render_sheet(report)
    with_log(google_sheet)
    first = write(google_sheet, tab)
    assert first.written and not first.warnings and first.tab_titles == {tab.mark: tab.title}
    book = google_sheet.book
    report_id = book.sheet_id(tab.title)
    slots = {chart_id(report_id, chart.slot) for chart in tab.charts}
    assert {c["chartId"] for c in book.charts(tab.title)} == slots and len(slots) == 3
    values = book.values(tab.title)
    assert values[0][0] == tab.mark and len(values) == len(tab.rows)
    api.reset_requests()
    assert not write(google_sheet, tab).written and batch_updates(api, google_sheet) == []

    fewer = replace(tab, rows=tab.rows[:-1], filter=replace(tab.filter, last_row=len(tab.rows) - 1))
    moved = replace(fewer, charts=tuple(replace(c, anchor_row=c.anchor_row + 1) for c in tab.charts))
    assert write(google_sheet, moved).written
    assert {c["chartId"] for c in book.charts(tab.title)} == slots and book.tabs() == ["QC Log", tab.title]
    assert len(book.values(tab.title)) == len(tab.rows) - 1
    anchors = {c["position"]["overlayPosition"]["anchorCell"]["rowIndex"] for c in book.charts(tab.title)}
    assert anchors == {c.anchor_row for c in tab.charts}  # 1-based before, so one lower now


def test_report_format_sheet_into_a_google_sheet_twice(google_sheet: GoogleSheet, team: Config) -> None:
    """`kakosheet report weekly --format sheet` after a sync, run twice as separate processes: the same tab,
    its charts each in its slot under the same IDs, the Issues tab beside it as the sync left it."""
    cases = [qc_row(Description=f"case {i}", Exception_Type=("Damaged", "Missing")[i % 2]) for i in range(5)]
    google_sheet.create({"QC Log": qc_tab(cases)})
    sync_source(team, google_sheet.spec, now=NOW)
    book = google_sheet.book
    issues = book.values("Issues")
    charts: list[list[int]] = []
    for _ in range(2):
        args = ("report", "weekly", "--period", "2026-W10", "--format", "sheet", "--source", google_sheet.spec)
        run = run_kakosheet(*args, cwd=team.root)
        assert run.returncode == 0, run.stderr
        assert "tab 'Report 2026-W10'" in run.stderr
        charts.append(sorted(c["chartId"] for c in book.charts("Report 2026-W10")))
    assert book.tabs() == ["QC Log", "Issues", "Report 2026-W10"] and book.values("Issues") == issues
    report_id = book.sheet_id("Report 2026-W10")
    assert charts[0] == charts[1] and len(charts[0]) == 3, charts
    assert set(charts[0]) <= {chart_id(report_id, slot) for slot in ("reasons", "parties", "trend")}
