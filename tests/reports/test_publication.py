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


def test_a_new_spelling_of_a_party_changes_its_figure_and_does_not_remove_its_cases(
    tmp_path: Path, store_url: str
) -> None:
    """Published with "Acme" and "V01"; then a case spells them "ACME " and "v01": the party's row
    is now "ACME / Acme", the same party, so its figure went up by that case and none was removed."""
    config = build_team(tmp_path / "team", store_url)
    o = ids_by_order(store_url)
    options = ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=store_url)
    run_report(config, options, "html", out=tmp_path / "week.html")

    path = config.root / "master.xlsx"
    workbook = load_workbook(path)
    new_rows = {
        "QC Log": {"Original Order ID": "Q7", "Date Identified": dt.datetime(2026, 12, 29, 9),
                   "Exception Type": "Damaged", "Description": "Dented.", "Media Links": "https://media.example.com/7.jpg",
                   "Responsible Party": "ACME ", "Source Type": "Supplier", "Status": "Open"},
        "Refunds": {"Initiated At": dt.datetime(2026, 12, 29, 9), "Original Order ID": "R3", "Customer ID": "C1",
                    "Vendor ID": "v01", "Refunded Items": "SKU-1 x 1", "Refund Amount": 5, "Currency": "USD",
                    "Platform Fee Adjustment": 0, "Reason Code": "Damaged", "Status": "Initiated",
                    "Settlement Note": "Deducted."},
    }  # fmt: skip
    for title, values in new_rows.items():
        sheet = workbook[title]
        header = [c.value for c in sheet[1]]
        sheet.append([values.get(label) for label in header])
    workbook.save(path)
    sync_source(config, store_url=store_url, now=SYNCED + dt.timedelta(days=1))
    q7, r3 = (ids_by_order(store_url)[order] for order in ("Q7", "R3"))

    check = run_report(config, options, "json").report.since_publication
    assert check is not None
    changes = {c.figure: c for c in check.changes}
    party = changes["parties/Supplier/ACME / Acme/cases"]
    assert (party.published, party.now, party.added, party.removed) == ("2", "3", (q7,), ())
    gross = changes["refunds/V01 / v01/USD/gross"]
    assert (gross.published, gross.now, gross.added, gross.removed) == ("50.00", "55.00", (r3,), ())
    assert not [c.figure for c in check.changes if c.now is None], "no figure of the party is gone"
    assert o["Q2"] not in {i for c in check.changes for i in c.removed}
