"""kakosheet's own tabs drawn into a team's workbook as parts: typed cells and native charts, every
other part byte for byte, replaced in place on a re-run, no orphan part, no dangling relationship."""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.chart.chartspace import ChartSpace
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from kakosheet.core.issues import Issue
from kakosheet.core.issues_tab import ISSUES_MARK, ISSUES_TAB, issues_tab
from kakosheet.core.owned_tab import (
    CellLink,
    Chart,
    ChartKind,
    Filter,
    OwnedTab,
    Series,
    Span,
    TabCell,
)
from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.errors import SourceChangedError
from kakosheet.sources.xlsx import XlsxSource
from tests.helpers import CORPUS, PROJECT, make_macro_enabled, write_workbook
from tests.sources.test_libreoffice import as_csv_tabs, convert
from tests.sources.test_write_safety import limit_file_size
from tests.sources.test_writeback import parts, rich_workbook

TITLE = "Report 2026-W47"
MARK = "kakosheet: weekly report 2026-W47"
FORMULA_TEXT = '=HYPERLINK("http://example.com","click")'
REASONS = [  # reason, cases, cost, first seen
    ("Damaged", 12, Decimal("1234.50"), dt.date(2026, 11, 16)),
    ("Missing", 7, Decimal("99.99"), dt.date(2026, 11, 17)),
    (FORMULA_TEXT, 3, Decimal("0.10"), dt.date(2026, 11, 18)),
    ("Wrong item", 1, Decimal("5"), dt.date(2026, 11, 19)),
]
FIRST, LAST = 4, 7  # the sheet rows of the reasons
# Where a workbook's own parts may change when a tab is added: its list of tabs, styles, content types.
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
MAY_CHANGE = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}


def chart(slot: str, kind: ChartKind, title: str, values: int, *, row: int = 2) -> Chart:
    return Chart(
        slot=slot,
        kind=kind,
        title=title,
        categories=Span(0, FIRST, LAST),
        series=(Series("Cases" if values == 1 else "Cost", Span(values, FIRST, LAST)),),
        anchor_row=row,
        anchor_column=6,
        width_columns=7,
        height_rows=14,
    )


REASONS_CHART = chart("reasons", ChartKind.BAR, "Cases by reason", 1)
COST_CHART = Chart(
    slot="cost",
    kind=ChartKind.LINE,
    title="Cost and cases by day",
    categories=Span(3, FIRST, LAST),  # dates: a number reference with their format
    series=(Series("Cost", Span(2, FIRST, LAST)), Series("Cases", Span(1, FIRST, LAST))),
    anchor_row=18,
    anchor_column=6,
)


def report(charts: tuple[Chart, ...] = (REASONS_CHART, COST_CHART), *, cases: int = 12) -> OwnedTab:
    """A report tab with every kind of cell: text, a text that looks like a formula, int, Decimal
    money, float percent, date, date-time, blank, bold, a link into the team's tab."""
    header = tuple(TabCell(label, bold=True) for label in ("Reason", "Cases", "Cost", "First seen", "Case"))
    rows: list[tuple[TabCell | None, ...]] = [(TabCell(MARK),), (TabCell("Week 47 of 2026", bold=True),), header]
    for k, (reason, count, cost, first) in enumerate(REASONS):
        rows.append(
            (
                TabCell(reason),
                TabCell(cases if k == 0 else count),
                TabCell(cost, number_format='#,##0.00 "EUR"'),
                TabCell(first),
                TabCell(f"QC-2026-000{k + 1}", link=CellLink("QC Log", f"A{k + 2}")),
            )
        )
    rows.append((TabCell("Share closed"), TabCell(0.125, number_format="0.0%"), None, None))
    rows.append((TabCell("Generated"), None, None, TabCell(dt.datetime(2026, 11, 23, 7, 30))))
    return OwnedTab(
        title=TITLE,
        mark=MARK,
        rows=tuple(rows),
        widths=(24, 8, 14, 16, 16),
        frozen_rows=3,
        filter=Filter(3, LAST, 0, 4),
        charts=charts,
    )


def plain_workbook(path: Path) -> Path:
    return write_workbook(
        path, {"QC Log": [["Case ID", "Status"], *[[f"QC-2026-000{k}", "Open"] for k in range(1, 5)]]}
    )


def team_workbook(tmp_path: Path) -> Path:
    """A workbook Excel made with pivot tables and custom XML, given a tab with a chart and a picture
    and a tab with comments, and macros (.xlsm)."""
    rich = rich_workbook(tmp_path / "rich.xlsx", tmp_path)
    grafted = graft(CORPUS / "hostile-xlsx" / "calamine__pivots.xlsx", rich, tmp_path / "grafted.xlsx")
    return make_macro_enabled(grafted, tmp_path / "team.xlsm", b"\xd0\xcf\x11\xe0 pretend VBA project " * 50)


def write(path: Path, *tabs: OwnedTab) -> bool:
    return XlsxSource(path).write_back(WriteBack(tabs=list(tabs))).written


# --------------------------------------------------------------------------- 1. every cell kind, two charts


@pytest.mark.parametrize("kind", ["plain", "team"])
def test_a_report_tab_with_every_cell_kind_and_two_charts_leaves_every_other_part_as_it_was(
    tmp_path: Path, kind: str
) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx") if kind == "plain" else team_workbook(tmp_path)
    before = parts(workbook)
    assert write(workbook, report())
    after = parts(workbook)
    changed = {name for name, data in before.items() if after.get(name) != data}
    assert changed <= MAY_CHANGE, changed - MAY_CHANGE
    assert set(before) <= set(after)
    added = set(after) - set(before)
    assert len([name for name in added if name.startswith("xl/charts/chart")]) == 2, added
    assert len([name for name in added if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)]) == 1, added
    check_package(workbook, before=before)
    if kind == "team":
        assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
        assert any("pivotTable" in name for name in after) and any(name.startswith("xl/comments") for name in after)
        assert b"macroEnabled" in after["[Content_Types].xml"]
    for name in (n for n in added if n.startswith("xl/charts/chart")):
        assert schema_order_problems(after[name]) == [], name
    if kind == "plain":
        check_with_openpyxl(workbook)
    check_with_libreoffice(workbook, tmp_path)


def check_with_openpyxl(workbook: Path) -> None:
    """openpyxl reads the tab: typed values, formats, bold, frozen rows, filter, links, both charts."""
    book = load_workbook(workbook)
    tab = book[TITLE]
    assert tab["A1"].value == MARK
    assert tab["A6"].value == FORMULA_TEXT and tab["A6"].data_type == "s"  # text, not a formula
    assert tab["B4"].value == 12 and tab["C4"].value == 1234.5 and tab["C4"].number_format == '#,##0.00 "EUR"'
    assert tab["D4"].value == dt.datetime(2026, 11, 16) and tab["D4"].number_format == "yyyy-mm-dd"
    assert tab["D9"].value == dt.datetime(2026, 11, 23, 7, 30) and tab["D9"].number_format == "yyyy-mm-dd hh:mm"
    assert tab["B8"].value == 0.125 and tab["B8"].number_format == "0.0%"
    assert tab["A3"].font.b and not tab["A4"].font.b
    assert tab.freeze_panes == "A4" and tab.auto_filter.ref == "A3:E7"
    assert tab["E5"].hyperlink.location == "'QC Log'!A3"
    assert tab.column_dimensions["A"].width == 24
    bar, line = tab._charts
    assert (bar.tagname, bar.type) == ("barChart", "bar") and line.tagname == "lineChart"
    assert bar.series[0].val.numRef.f == f"'{TITLE}'!$B$4:$B$7"
    assert bar.series[0].cat.strRef.f == f"'{TITLE}'!$A$4:$A$7"
    assert [p.v for p in bar.series[0].cat.strRef.strCache.pt] == [reason for reason, *_ in REASONS]
    assert [float(p.v) for p in bar.series[0].val.numRef.numCache.pt] == [12, 7, 3, 1]
    assert [s.val.numRef.f for s in line.series] == [f"'{TITLE}'!$C$4:$C$7", f"'{TITLE}'!$B$4:$B$7"]
    assert line.series[0].cat.numRef.f == f"'{TITLE}'!$D$4:$D$7"
    assert line.series[0].cat.numRef.numCache.formatCode == "yyyy-mm-dd"
    assert (bar.anchor._from.row, bar.anchor._from.col, bar.anchor.to.row, bar.anchor.to.col) == (1, 6, 15, 13)


def check_with_libreoffice(workbook: Path, scratch: Path) -> None:
    """LibreOffice opens the workbook without a word, shows the tab's values as formatted, and
    understands both charts (it writes them again when it saves the workbook)."""
    tabs = as_csv_tabs(workbook, scratch / "csv")
    rows = next(rows for name, rows in tabs.items() if name.endswith(TITLE))
    assert rows[0][0] == MARK and rows[2][:5] == ["Reason", "Cases", "Cost", "First seen", "Case"]
    assert rows[3][:5] == ["Damaged", "12", "1234.5", "2026-11-16", "QC-2026-0001"]
    assert rows[5][:3] == [FORMULA_TEXT, "3", "0.1"]  # the text as typed, not evaluated
    assert rows[7][:2] == ["Share closed", "12.5%"] and rows[8][3].startswith("2026-11-23 07:30")
    saved = convert(workbook, "xlsx:Calc MS Excel 2007 XML", scratch / "saved")
    with zipfile.ZipFile(next(saved.glob("*.xlsx"))) as package:
        charts = [package.read(n) for n in package.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    formulas = {f.text for xml in charts for f in ElementTree.fromstring(xml).iter(f"{{{CHART}}}f")}
    assert {f"'{TITLE}'!$B$4:$B$7", f"'{TITLE}'!$C$4:$C$7"} <= formulas, formulas


def test_the_weekly_report_tab_as_laid_out_is_drawn_twice_after_a_sync_with_one_chart_per_slot(
    tmp_path: Path,
) -> None:
    """The report tab reports/render_sheet.py lays out, written into the team's workbook after a sync
    wrote its Issues tab, then again: one tab, one chart part per slot, charts over the right cells."""
    from kakosheet.reports.render_sheet import render_sheet
    from tests.reports.test_render import built

    report, _ = built(tmp_path)
    tab = render_sheet(report)
    workbook = rich_workbook(tmp_path / "log.xlsx", tmp_path)
    source = XlsxSource(workbook)
    issue = Issue("qc", "QC Log", 3, "Status", code="not-in-list", severity="error", message="not in the list")
    sync = WriteBack(issues=[issue])
    sync.tabs.append(issues_tab(sync))
    assert source.write_back(sync).written
    before = parts(workbook)
    first = source.write_back(WriteBack(tabs=[tab]))
    assert first.written and first.tab_titles == {tab.mark: tab.title}
    again = source.write_back(WriteBack(tabs=[render_sheet(report)]))
    assert not again.written and again.tab_titles == {tab.mark: tab.title}
    after = parts(workbook)
    assert {name for name, data in before.items() if after.get(name) != data} <= MAY_CHANGE
    check_package(workbook, before=before)
    sheet, _, charts = tab_parts(after, tab.title)
    assert len(charts) == len(tab.charts) == 3 and all(schema_order_problems(after[name]) == [] for name in charts)
    drawn = {c.anchor._from.row: c for c in load_workbook(workbook)[tab.title]._charts}
    for wanted in tab.charts:
        chart = drawn[wanted.anchor_row - 1]
        quoted = "'" + tab.title.replace("'", "''") + "'!"
        assert [s.val.numRef.f for s in chart.series] == [quoted + s.values.a1(absolute=True) for s in wanted.series]
    rows = next(rows for name, rows in as_csv_tabs(workbook, tmp_path / "csv").items() if name.endswith(tab.title))
    assert rows[0][0] == tab.mark


# --------------------------------------------------------------------------- 2. re-runs


def test_a_rerun_with_other_charts_keeps_the_parts_in_place_and_leaves_no_orphan(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    write(workbook, report())
    first = parts(workbook)
    sheet_part, drawing, charts = tab_parts(first)
    assert len(charts) == 2
    trend = chart("trend", ChartKind.COLUMN, "Cost by reason", 2, row=34)
    assert write(workbook, report((REASONS_CHART, trend), cases=13))
    second = parts(workbook)
    assert tab_parts(second)[:2] == (sheet_part, drawing)  # the same part names
    assert tab_parts(second)[2][0] == charts[0]  # the reasons chart kept its part
    assert (
        b"$C$4:$C$7" in second[tab_parts(second)[2][1]] and b'<c:barDir val="col"/>' in second[tab_parts(second)[2][1]]
    )
    check_package(workbook, before=first)
    assert sheet_id(second, TITLE) == sheet_id(first, TITLE)

    assert write(workbook, report(()))  # no charts at all: the drawing and the charts go
    third = parts(workbook)
    assert tab_parts(third) == (sheet_part, None, [])
    assert not any(n.startswith(("xl/charts/", "xl/drawings/")) for n in third)
    assert "xl/worksheets/_rels/" + posixpath.basename(sheet_part) + ".rels" not in third
    check_package(workbook, before=first)


def test_a_rerun_after_libreoffice_saved_the_workbook_replaces_its_charts_and_leaves_no_orphan(
    tmp_path: Path,
) -> None:
    """LibreOffice saves the tab's text as shared strings and names and numbers the chart parts its
    own way; the re-run still finds the tab, replaces it where it is and leaves none of its parts behind."""
    workbook = rich_workbook(tmp_path / "log.xlsx", tmp_path)  # a team chart on another tab
    write(workbook, report())
    resave(workbook, tmp_path)
    before = parts(workbook)
    assert MARK.encode() not in b"".join(data for name, data in before.items() if name.startswith("xl/worksheets/"))
    assert write(workbook, report((chart("trend", ChartKind.COLUMN, "Cost", 2),), cases=20))
    after = parts(workbook)
    book = load_workbook(workbook)
    assert [name for name in book.sheetnames if "Report" in name] == [TITLE]
    assert len(book[TITLE]._charts) == 1 and len(book["Figures"]._charts) == 1
    assert book[TITLE]["B4"].value == 20
    check_package(workbook, before=before)
    figures = tab_parts(before, "Figures")
    assert all(after[name] == before[name] for name in (figures[0], *figures[2]))  # the team's chart as it was


def test_an_unchanged_tab_is_not_written_even_after_libreoffice_saved_it(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    assert write(workbook, report())
    assert not write(workbook, report())  # the same values: nothing written, no backup taken again
    resave(workbook, tmp_path)  # its text now shared strings, its styles and charts written LibreOffice's way
    saved = workbook.read_bytes()
    assert not write(workbook, report())
    assert workbook.read_bytes() == saved
    # Written with an ID for the log tab, the unchanged tab adds no format to the styles either.
    ids = SheetWrite("QC Log", header_row=1, first_column=0, last_column=1, issues_column=None, id_column=0)
    ids.cells.append(CellUpdate(5, 0, "QC-2026-0009", "QC-2026-0004"))
    assert XlsxSource(workbook).write_back(WriteBack(sheets=[ids], tabs=[report()])).written
    after, before = parts(workbook), parts_of(saved)
    assert after["xl/styles.xml"] == before["xl/styles.xml"]
    assert {name for name in before if after.get(name) != before[name]} == {part_of(before, "QC Log")}
    assert write(workbook, report(cases=13))  # a value changed: written


def test_a_team_tab_with_the_title_keeps_it_and_ours_takes_the_fallback(tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "log.xlsx", {"QC Log": [["Case ID"]], TITLE: [["the team's own notes"]]})
    written = XlsxSource(workbook).write_back(WriteBack(tabs=[report()]))
    assert written.written and written.tab_titles == {MARK: f"kakosheet {TITLE}"}
    book = load_workbook(workbook)
    assert book[TITLE]["A1"].value == "the team's own notes"
    ours = book[f"kakosheet {TITLE}"]
    assert ours["A1"].value == MARK
    assert ours._charts[0].series[0].val.numRef.f == f"'kakosheet {TITLE}'!$B$4:$B$7"  # charts read our tab
    again = XlsxSource(workbook).write_back(WriteBack(tabs=[report()]))  # unchanged: not written, still there
    assert not again.written and again.tab_titles == {MARK: f"kakosheet {TITLE}"}
    assert write(workbook, report(cases=14))
    assert load_workbook(workbook).sheetnames == ["QC Log", TITLE, f"kakosheet {TITLE}"]


def test_a_tab_not_to_create_is_not_added(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    before = workbook.read_bytes()
    empty = issues_tab(WriteBack())
    outcome = XlsxSource(workbook).write_back(WriteBack(tabs=[empty]))
    assert not empty.create and not outcome.written and outcome.tab_titles == {}
    assert workbook.read_bytes() == before


def test_the_issues_tab_after_a_libreoffice_save_is_found_by_its_mark_and_rewritten_in_place(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    issue = Issue(
        "qc", "QC Log", 3, "Status", code="not-in-list", severity="error", message="not in the list", value="x"
    )
    issue_tab = issues_tab(WriteBack(issues=[issue]))
    assert write(workbook, issue_tab)
    resave(workbook, tmp_path)
    assert not write(workbook, issue_tab)  # found by its mark, a shared string now, and unchanged
    fixed = issues_tab(WriteBack(issues=[]))
    assert write(workbook, fixed)
    book = load_workbook(workbook)
    assert [name for name in book.sheetnames if ISSUES_TAB in name] == [ISSUES_TAB]
    assert book[ISSUES_TAB]["A1"].value == ISSUES_MARK and book[ISSUES_TAB].max_row == 2
    check_package(workbook)


def test_an_issues_tab_the_team_renamed_keeps_its_title_and_a_new_tab_of_theirs_is_left_alone(
    tmp_path: Path,
) -> None:
    """Found by its mark under the team's title, rewritten there: no second Issues tab, not renamed back;
    a tab the team then makes under kakosheet's title is theirs (its A1 is not the mark)."""
    workbook = plain_workbook(tmp_path / "log.xlsx")
    issue = Issue("qc", "QC Log", 3, "Status", code="not-in-list", severity="error", message="not in the list")
    assert write(workbook, issues_tab(WriteBack(issues=[issue])))
    book = load_workbook(workbook)
    book[ISSUES_TAB].title = "Open issues"  # as a person renames it in Excel
    book.save(workbook)

    two = [issue, replace(issue, row=4)]
    outcome = XlsxSource(workbook).write_back(WriteBack(tabs=[issues_tab(WriteBack(issues=two))]))
    assert outcome.written and outcome.tab_titles == {ISSUES_MARK: "Open issues"}
    book = load_workbook(workbook)
    assert book.sheetnames == ["QC Log", "Open issues"]
    assert book["Open issues"]["A1"].value == ISSUES_MARK and book["Open issues"].max_row == 4

    book.create_sheet(ISSUES_TAB)["A1"] = "our own list"
    book.save(workbook)
    outcome = XlsxSource(workbook).write_back(WriteBack(tabs=[issues_tab(WriteBack(issues=[issue]))]))
    assert outcome.written and outcome.tab_titles == {ISSUES_MARK: "Open issues"}
    book = load_workbook(workbook)
    assert book.sheetnames == ["QC Log", "Open issues", ISSUES_TAB]
    assert book[ISSUES_TAB]["A1"].value == "our own list" and book[ISSUES_TAB].max_row == 1
    assert book["Open issues"]["A1"].value == ISSUES_MARK and book["Open issues"].max_row == 3
    check_package(workbook)


def test_dates_in_a_1904_workbook_read_back_as_the_same_dates(tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "log.xlsx", {"QC Log": [["Case ID"]]}, date1904=True)
    write(workbook, report())
    tab = load_workbook(workbook)[TITLE]
    assert tab["D4"].value == dt.datetime(2026, 11, 16) and tab["D9"].value == dt.datetime(2026, 11, 23, 7, 30)
    with zipfile.ZipFile(workbook) as package:
        chart_xml = package.read(tab_parts(parts(workbook))[2][1])
    assert b'<c:date1904 val="1"/>' in chart_xml


def test_money_is_written_exactly_as_its_decimal(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    write(workbook, report())
    sheet = parts(workbook)[tab_parts(parts(workbook))[0]]
    assert b'<c r="C4" s="' in sheet and b"><v>1234.50</v>" in sheet and b"><v>0.10</v>" in sheet
    assert b"<f>" not in sheet and b"<f " not in sheet


# --------------------------------------------------------------------------- 3. one source, two writes, safety


def test_a_report_after_a_sync_write_on_the_same_source_keeps_both(tmp_path: Path) -> None:
    """A sync writes IDs and its Issues tab, then the report is written through the same source, opened
    once and never read: the second write checks the file against what the first one wrote."""
    workbook = plain_workbook(tmp_path / "log.xlsx")
    source = XlsxSource(workbook)
    ids = SheetWrite("QC Log", header_row=1, first_column=0, last_column=1, issues_column=None, id_column=0)
    ids.cells.append(CellUpdate(5, 0, "QC-2026-0005", "QC-2026-0004"))
    issue = Issue("qc", "QC Log", 5, "Status", code="not-in-list", severity="error", message="not in the list")
    sync = WriteBack(sheets=[ids], issues=[issue])
    sync.tabs.append(issues_tab(sync))
    assert source.write_back(sync).written
    assert source.write_back(WriteBack(tabs=[report()])).written
    book = load_workbook(workbook)
    assert book.sheetnames == ["QC Log", ISSUES_TAB, TITLE] and book["QC Log"]["A5"].value == "QC-2026-0005"
    assert not source.write_back(WriteBack(tabs=[report()])).written
    os.utime(workbook, ns=(1, 1))  # someone saved it meanwhile
    with pytest.raises(SourceChangedError):
        source.write_back(WriteBack(tabs=[report(cases=99)]))


def test_a_report_is_not_written_into_a_workbook_open_in_libreoffice(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    source = XlsxSource(workbook)
    (tmp_path / ".~lock.log.xlsx#").write_text("Ana,ana,laptop,01.12.2026 09:40,file:///x;")
    before = workbook.read_bytes()
    with pytest.raises(SourceChangedError, match="open in LibreOffice by Ana"):
        source.write_back(WriteBack(tabs=[report()]))
    assert workbook.read_bytes() == before


def test_a_report_is_written_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    real = plain_workbook(tmp_path / "shared" / "log.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    assert write(link, report())
    assert link.is_symlink() and TITLE in load_workbook(real).sheetnames


def test_a_full_disk_while_writing_a_report_leaves_the_workbook_as_it_was(tmp_path: Path) -> None:
    workbook = plain_workbook(tmp_path / "log.xlsx")
    book = load_workbook(workbook)
    photo = tmp_path / "photo.png"
    PILImage.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(photo)  # ~1.5 MB, incompressible
    book["QC Log"].add_image(Image(str(photo)), "X2")
    book.save(workbook)
    before = workbook.read_bytes()
    script = (
        "import sys; from pathlib import Path; from kakosheet.errors import KakosheetError\n"
        "from kakosheet.core.writeback import WriteBack; from kakosheet.sources.xlsx import XlsxSource\n"
        "from tests.sources.test_owned_tabs import report\n"
        "try:\n    XlsxSource(Path(sys.argv[1])).write_back(WriteBack(tabs=[report()]))\n"
        "except KakosheetError as exc:\n    print(exc, file=sys.stderr); sys.exit(exc.exit_code)\n"
    )
    full = subprocess.run(
        [sys.executable, "-c", script, str(workbook)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size(1 << 20),
    )
    assert full.returncode == 3, full.stderr
    assert "Free some space" in full.stderr and "nothing was written to it" in full.stderr
    assert workbook.read_bytes() == before and not list(tmp_path.glob(".~kakosheet-*"))


# --------------------------------------------------------------------------- helpers


def parts_of(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def resave(workbook: Path, scratch: Path) -> None:
    """Open and save the workbook as LibreOffice Calc does (text as shared strings, its own part names)."""
    out = convert(workbook, "xlsx:Calc MS Excel 2007 XML", scratch / "resaved")
    shutil.copyfile(out / workbook.name, workbook)


def tab_parts(package: dict[str, bytes], title: str = TITLE) -> tuple[str, str | None, list[str]]:
    """The tab's sheet part, its drawing part and its chart parts (in the drawing's order)."""
    sheet = part_of(package, title)
    drawing = next((t for t in targets(package, sheet) if "/drawings/" in t), None)
    charts = targets(package, drawing) if drawing else []
    return sheet, drawing, charts


def part_of(package: dict[str, bytes], title: str) -> str:
    rels = relationships(package, "xl/workbook.xml")
    for match in re.finditer(rb"<sheet\b[^>]*>", package["xl/workbook.xml"]):
        if f'name="{title}"'.encode() in match.group(0):
            rel_id = re.search(rb'\w+:id="([^"]+)"', match.group(0))
            assert rel_id is not None
            return rels[rel_id.group(1).decode()]
    raise AssertionError(f"no tab {title!r}")


def sheet_id(package: dict[str, bytes], title: str) -> str:
    element = next(
        m.group(0) for m in re.finditer(rb"<sheet\b[^>]*>", package["xl/workbook.xml"]) if title.encode() in m.group(0)
    )
    found = re.search(rb'sheetId="(\d+)"', element)
    assert found is not None
    return found.group(1).decode()


def targets(package: dict[str, bytes], part: str) -> list[str]:
    return list(relationships(package, part).values())


def relationships(package: dict[str, bytes], part: str) -> dict[str, str]:
    """A part's internal relationships: Id -> the part it leads to."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in package:
        return {}
    found = {}
    for element in ElementTree.fromstring(package[rels]):
        if element.get("TargetMode") == "External":
            continue
        target = unquote(element.get("Target", ""))
        found[element.get("Id", "")] = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        )
    return found


def check_package(workbook: Path, *, before: dict[str, bytes] | None = None) -> None:
    """Every relationship leads to a part, every part has its content type, no content type names a
    missing part, and no part is left that nothing leads to (beyond those the workbook came with)."""
    package = parts(workbook)
    types = ElementTree.fromstring(package["[Content_Types].xml"])
    overrides = {e.get("PartName", "").lstrip("/") for e in types if e.tag.endswith("Override")}
    defaults = {e.get("Extension", "").lower() for e in types if e.tag.endswith("Default")}
    assert overrides <= set(package), overrides - set(package)
    untyped = {n for n in package if n not in overrides and n.rsplit(".", 1)[-1].lower() not in defaults}
    assert untyped <= {"[Content_Types].xml"}, untyped
    assert all(
        ("/" + n) in {"/" + o for o in overrides}
        for n in package
        if n.startswith(("xl/charts/chart", "xl/drawings/drawing")) and n.endswith(".xml")
    ), "a chart or drawing without its content type"
    led_to = set()
    for name in package:
        source = name_source(name)
        if source is None:
            continue
        assert source == "" or source in package, f"{name} belongs to a part that is gone"
        for target in relationships(package, source).values():
            assert target in package, f"{source} leads to {target}, which is not in the package"
            led_to.add(target)
    orphans = {n for n in package if n not in led_to and name_source(n) is None and n != "[Content_Types].xml"}
    known = orphans_of(before) if before is not None else set()
    assert orphans <= known, orphans - known


def name_source(name: str) -> str | None:
    folder, base = posixpath.split(name)
    if posixpath.basename(folder) != "_rels" or not base.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])


def orphans_of(package: dict[str, bytes]) -> set[str]:
    led_to = {t for n in package if (s := name_source(n)) is not None for t in relationships(package, s).values()}
    return {n for n in package if n not in led_to and name_source(n) is None and n != "[Content_Types].xml"}


def schema_order_problems(xml: bytes) -> list[str]:
    """Elements of a chart part out of the schema's order: openpyxl writes a chart's elements in the
    order of CT_ChartSpace and its children, so each element's children must come in the order
    openpyxl writes them again (and none may be unknown to it)."""
    mine = ElementTree.fromstring(xml)
    return _order_problems(mine, ChartSpace.from_tree(mine).to_tree(), "")


def _order_problems(mine: ElementTree.Element, theirs: ElementTree.Element, path: str) -> list[str]:
    problems: list[str] = []
    kids, position = list(theirs), 0
    for child in mine:
        tag = child.tag.rsplit("}", 1)[-1]
        k = position
        while k < len(kids) and kids[k].tag.rsplit("}", 1)[-1] != tag:
            k += 1
        if k == len(kids):
            problems.append(f"{path}/{tag}")
            continue
        problems += _order_problems(child, kids[k], f"{path}/{tag}")
        position = k + 1
    return problems


def test_the_schema_order_check_finds_an_element_out_of_order() -> None:
    """The check above can fail: a chart whose title comes after its plot area is refused."""
    good = (
        '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart>'
        '<c:autoTitleDeleted val="1"/><c:plotArea><c:layout/></c:plotArea><c:plotVisOnly val="1"/></c:chart>'
        "</c:chartSpace>"
    )
    assert schema_order_problems(good.encode()) == []
    bad = good.replace('<c:autoTitleDeleted val="1"/>', "").replace(
        "</c:plotArea>", '</c:plotArea><c:autoTitleDeleted val="1"/>'
    )
    bad = bad.replace('<c:plotVisOnly val="1"/>', "").replace("<c:chart>", '<c:chart><c:plotVisOnly val="1"/>')
    assert schema_order_problems(bad.encode()) != []


ElementTree.register_namespace("", "http://schemas.openxmlformats.org/package/2006/relationships")


def graft(target: Path, donor: Path, out: Path) -> Path:
    """A copy of ``target`` given every tab of ``donor`` with all the parts each leads to (charts,
    pictures, comments), renamed so none clashes, as if a person had moved the tabs over in Excel."""
    with zipfile.ZipFile(target) as archive:
        package = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(donor) as archive:
        given = {name: archive.read(name) for name in archive.namelist()}
    donor_types = ElementTree.fromstring(given["[Content_Types].xml"])
    overrides = {
        e.get("PartName", "").lstrip("/"): e.get("ContentType", "") for e in donor_types if e.tag.endswith("Override")
    }
    defaults = {e.get("Extension", ""): e.get("ContentType", "") for e in donor_types if e.tag.endswith("Default")}
    book_rels = relationships(given, "xl/workbook.xml")
    renamed: dict[str, str] = {}
    sheets = []
    for match in re.finditer(rb'<sheet\b[^>]*name="([^"]+)"[^>]*\br:id="([^"]+)"', given["xl/workbook.xml"]):
        sheets.append((match.group(1).decode(), book_rels[match.group(2).decode()]))
        stack = [sheets[-1][1]]
        while stack:
            part = stack.pop()
            if part in renamed:
                continue
            folder, base = posixpath.split(part)
            renamed[part] = posixpath.join(folder, "graft" + base)
            stack += targets(given, part)
    types = b""
    for old, new in renamed.items():
        data = given[old]
        if old.startswith("xl/worksheets/"):
            data = re.sub(rb'\ss="\d+"', b"", data)  # the donor's styles are not the target's
        package[new] = data
        rels = relationships(given, old)
        if rels:
            folder = posixpath.dirname(old)
            entries = ElementTree.fromstring(given[posixpath.join(folder, "_rels", posixpath.basename(old) + ".rels")])
            for entry in entries:
                if entry.get("TargetMode") != "External":
                    entry.set("Target", posixpath.relpath(renamed[rels[entry.get("Id", "")]], posixpath.dirname(new)))
            package[posixpath.join(posixpath.dirname(new), "_rels", posixpath.basename(new) + ".rels")] = (
                ElementTree.tostring(entries)
            )
        if old in overrides:
            types += f'<Override PartName="/{new}" ContentType="{overrides[old]}"/>'.encode()
        extension = old.rsplit(".", 1)[-1]
        if extension in defaults and f'Extension="{extension}"'.encode() not in package["[Content_Types].xml"] + types:
            types += f'<Default Extension="{extension}" ContentType="{defaults[extension]}"/>'.encode()
    package["[Content_Types].xml"] = package["[Content_Types].xml"].replace(b"</Types>", types + b"</Types>")
    sheet_ids = [int(i) for i in re.findall(rb'sheetId="(\d+)"', package["xl/workbook.xml"])]
    new_sheets, new_rels = b"", b""
    for k, (name, part) in enumerate(sheets, start=1):
        new_sheets += (
            f'<sheet name="{name}" sheetId="{max(sheet_ids) + k}" r:id="rIdGraft{k}" '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
        ).encode()
        new_rels += (
            f'<Relationship Id="rIdGraft{k}" Target="{posixpath.relpath(renamed[part], "xl")}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        ).encode()
    package["xl/workbook.xml"] = package["xl/workbook.xml"].replace(b"</sheets>", new_sheets + b"</sheets>")
    package["xl/_rels/workbook.xml.rels"] = package["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", new_rels + b"</Relationships>"
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in package.items():
            archive.writestr(name, data)
    return out
