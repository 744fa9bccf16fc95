"""A published report's figures are recorded; a later run for the same period says which
figures changed since and which cases changed them (edited, back-dated, deleted)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from kakosheet.app.report import ReportOptions, run_report
from kakosheet.app.sync import sync_source
from kakosheet.reports.periods import PeriodKind
from tests.reports.store import SYNCED, build_team, ids_by_order


def test_what_changed_since_the_report_was_published(tmp_path: Path, store_url: str) -> None:
    config = build_team(tmp_path / "team", store_url)
    o = ids_by_order(store_url)
    options = ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=store_url)
    first = run_report(config, options, "xlsx", out=tmp_path / "week.xlsx")
    assert first.published and first.report.since_publication is None
    assert run_report(config, options, "json").report.since_publication.changes == ()  # type: ignore[union-attr]

    path = config.root / "master.xlsx"
    workbook = load_workbook(path)
    for title, edits in (
        ("QC Log", {"Q2": ("Replacement Cost", 12), "Q4": ("Date Identified", dt.datetime(2026, 12, 27, 9))}),
        ("Refunds", {}),
    ):
        sheet = workbook[title]
        header = [c.value for c in sheet[1]]
        orders = header.index("Original Order ID") + 1
        for row in range(sheet.max_row, 1, -1):
            order = sheet.cell(row, orders).value
            if order in edits:
                label, value = edits[order]
                sheet.cell(row, header.index(label) + 1).value = value
            if title == "Refunds" and order == "R1":
                sheet.delete_rows(row)
    workbook.save(path)
    sync_source(config, store_url=store_url, now=SYNCED + dt.timedelta(days=1))

    check = run_report(config, options, "json").report.since_publication
    assert check is not None and check.published_as == "xlsx"
    changes = {c.figure: c for c in check.changes}
    cost = changes["reasons/qc/Damaged/cost USD"]
    assert (cost.published, cost.now, cost.edited, cost.added, cost.removed) == ("35.50", "37.50", (o["Q2"],), (), ())
    defective = changes["reasons/qc/Defective/cases"]
    assert (defective.published, defective.now, defective.removed) == ("1", None, (o["Q4"],))  # back-dated to W52
    refunds = changes["reasons/refunds/Damaged/cases"]
    assert (refunds.published, refunds.now, refunds.removed) == ("1", None, (o["R1"],))  # deleted from the sheet
    assert "reasons/refunds/Late Delivery/cases" not in changes
    assert check.note == f"{len(changes)} figures changed since this report was published"
    md = run_report(config, options, "md").rendered
    assert "Changed since publication" in md and "reasons/qc/Damaged/cost USD | 35.50 | 37.50" in md
