"""`validate_source` on real .xlsx files: every rule of LOGS.md, and how issues are reported."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from kakosheet.app.validate import validate_source
from kakosheet.config import Config
from kakosheet.core.issues import Report
from kakosheet.errors import SourceError
from tests.helpers import QC_LABELS, TODAY, qc_row, qc_tab, write_workbook


def validate(config: Config, path: Path) -> Report:
    return validate_source(config, str(path), today=TODAY)


def codes_at(report: Report, row: int) -> Counter[tuple[str, str | None]]:
    return Counter((i.code, i.column) for i in report.issues if i.row == row)


def test_a_clean_log_has_no_issues(config: Config, tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "qc.xlsx",
        {
            "QC Log": qc_tab(
                [qc_row(), qc_row(Status="Closed", Disposition="Discarded", Closure_Date=dt.date(2026, 3, 5))]
            )
        },
    )
    report = validate(config, path)
    assert [i for i in report.issues if i.log == "qc"] == []
    assert report.rows_read == {"qc": 2}


def test_every_issue_names_sheet_row_column_value_and_how_to_fix(config: Config, tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Exception_Type="Damagd")])})
    [issue] = [i for i in validate(config, path).issues if i.log == "qc"]
    assert (issue.sheet, issue.row, issue.column, issue.value, issue.code, issue.severity) == (
        "QC Log",
        3,
        "Exception Type",
        "Damagd",
        "not-in-list",
        "error",
    )
    assert "choose one of: Damaged, Incorrect Item" in issue.message


def test_one_row_with_many_problems_reports_each(config: Config, tmp_path: Path) -> None:
    bad = qc_row(Date_Identified="31/02/2026", Replacement_Cost=-3, Exception_Type="??", Owner="nobody", Currency="XYZ")
    path = write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab([bad])})
    assert set(codes_at(validate(config, path), 2)) == {
        ("not-a-date", "Date Identified"),
        ("out-of-range", "Replacement Cost"),
        ("not-in-list", "Exception Type"),
        ("not-an-email", "Owner"),
        ("not-a-currency", "Currency"),
    }


def test_a_type_failure_never_hides_a_range_failure_in_the_same_column(config: Config, tmp_path: Path) -> None:
    # pandera's lazy mode with coerce=True can report only the coercion failure; here both show.
    rows = [qc_row(Shipping_Cost="abc"), qc_row(Shipping_Cost=-5), qc_row(Shipping_Cost=7)]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    found = {(i.row, i.code) for i in report.issues if i.column == "Shipping Cost"}
    assert found == {(2, "not-an-amount"), (3, "out-of-range")}


def test_required_and_conditional_rules(config: Config, tmp_path: Path) -> None:
    rows = [
        qc_row(Responsible_Party=None),  # 2: mandatory blank
        qc_row(Status="Closed", Disposition="Repaired"),  # 3: closed without closure date
        qc_row(Closure_Date=dt.date(2026, 3, 4)),  # 4: closure date on an open case
        qc_row(Status="Reshipment Created"),  # 5: needs disposition and reshipment order
        qc_row(Currency=None),  # 6: amount without currency
        qc_row(Exception_Type="Defective", Media_Links=None),  # 7: warning only
        qc_row(Status="Done", Closure_Date=dt.date(2026, 3, 4)),  # 8: one issue, on Status only
    ]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    assert codes_at(report, 2) == Counter({("required", "Responsible Party"): 1})
    assert codes_at(report, 3) == Counter({("required-when", "Closure Date"): 1})
    assert codes_at(report, 4) == Counter({("only-when", "Closure Date"): 1})
    assert codes_at(report, 5) == Counter(
        {("required-when", "Disposition"): 1, ("required-when", "Reshipment Order ID"): 1}
    )
    assert codes_at(report, 6) == Counter({("required-when", "Currency"): 1})
    [warning] = [i for i in report.issues if i.row == 7]
    assert (warning.code, warning.severity) == ("recommended", "warning")
    assert codes_at(report, 8) == Counter({("not-in-list", "Status"): 1})
    assert report.errors == 7


def test_dates_future_order_and_text_forms(config: Config, tmp_path: Path) -> None:
    rows = [
        qc_row(Date_Identified=dt.datetime(2026, 8, 1), Date_Logged=None),  # 2: future (today is 2026-06-30)
        qc_row(Date_Logged=dt.datetime(2026, 3, 1)),  # 3: logged before identified
        qc_row(Date_Identified="2026-03-02", Date_Logged="2026-03-02T12:00"),  # 4: ISO text is read
        qc_row(Date_Identified="03/04/2026", Date_Logged=None),  # 5: ambiguous without date_order
        qc_row(Date_Identified="15/03/2026", Date_Logged=None),  # 6: unambiguous day first
        qc_row(Date_Identified="2026-02-30"),  # 7: no such day
        qc_row(Status="Closed", Disposition="Discarded", Closure_Date=dt.date(2026, 3, 1)),  # 8: closed before found
    ]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    assert set(codes_at(report, 2)) == {("future-date", "Date Identified")}
    assert set(codes_at(report, 3)) == {("date-order", "Date Logged")}
    assert codes_at(report, 4) == Counter()
    assert set(codes_at(report, 5)) == {("ambiguous-date", "Date Identified")}
    assert codes_at(report, 6) == Counter()
    assert set(codes_at(report, 7)) == {("not-a-date", "Date Identified")}
    assert set(codes_at(report, 8)) == {("date-order", "Closure Date")}


def test_date_order_setting_reads_ambiguous_text_dates(config: Config, tmp_path: Path) -> None:
    from dataclasses import replace

    rows = [qc_row(Date_Identified="03/04/2026", Date_Logged="04/04/2026")]
    path = write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)})
    assert [i for i in validate(replace(config, date_order="DMY"), path).issues if i.log == "qc"] == []
    mdy = validate(replace(config, date_order="MDY"), path)
    assert {i.code for i in mdy.issues if i.log == "qc"} == set()  # March 4 / April 4: both fine, in order


def test_order_numbers_stay_text_and_long_numbers_are_flagged(config: Config, tmp_path: Path) -> None:
    rows = [qc_row(Original_Order_ID="007"), qc_row(Original_Order_ID=123456789012345678)]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    assert codes_at(report, 2) == Counter()
    [issue] = [i for i in report.issues if i.row == 3]
    assert issue.code == "digits-lost"


def test_header_below_title_rows_with_reordered_and_extra_columns(config: Config, tmp_path: Path) -> None:
    labels = ["  status ", "CASE id", "My notes", *[label for label in QC_LABELS if label not in ("Status", "Case ID")]]
    rows = [["QC failures 2026", None], [], *qc_tab([qc_row(), qc_row(Status="Bogus")], labels)]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"qc log": rows}))
    assert report.rows_read["qc"] == 2
    [issue] = [i for i in report.issues if i.log == "qc"]
    assert (issue.row, issue.column, issue.code) == (5, "status", "not-in-list")


def test_a_missing_mandatory_column_is_one_issue(config: Config, tmp_path: Path) -> None:
    labels = [label for label in QC_LABELS if label != "Description"]
    rows = [qc_row() for _ in range(50)]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows, labels)}))
    qc_issues = [i for i in report.issues if i.log == "qc"]
    assert [(i.code, i.column, i.row) for i in qc_issues] == [("missing-column", "Description", None)]


def test_missing_log_tabs_warn_and_no_log_tab_at_all_is_exit_3(config: Config, tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab([qc_row()])})
    missing = [i for i in validate(config, path).issues if i.code == "missing-tab"]
    assert sorted(i.log for i in missing) == ["after_sales", "refunds", "returns"]
    assert all(i.severity == "warning" for i in missing)
    other = write_workbook(tmp_path / "other.xlsx", {"Budget": [["Month", "Spend"], ["Jan", 3]]})
    with pytest.raises(SourceError, match="none of the log tabs"):
        validate(config, other)


def test_a_tab_with_a_log_header_is_recognised_under_another_name(config: Config, tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "qc.xlsx", {"Sheet1": qc_tab([qc_row(Status="Nope")])})
    report = validate(config, path)
    assert {(i.code, i.sheet) for i in report.issues if i.log == "qc"} == {
        ("tab-name", "Sheet1"),
        ("not-in-list", "Sheet1"),
    }


def test_duplicate_and_malformed_case_ids(config: Config, tmp_path: Path) -> None:
    rows = [
        qc_row(Case_ID="QC-2026-0001"),
        qc_row(Case_ID="QC-2026-0001"),
        qc_row(Case_ID="QC-26-1"),
        qc_row(Case_ID="QC-2026-10000"),
    ]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    assert {(i.row, i.code) for i in report.issues if i.log == "qc"} == {
        (3, "duplicate-id"),  # the copy; the top-most row keeps the ID, as a sync decides
        (4, "malformed-id"),
    }
    assert all(i.case_id == "QC-2026-0001" for i in report.issues if i.code == "duplicate-id")


def test_references_are_checked_only_when_the_reference_tab_holds_data(config: Config, tmp_path: Path) -> None:
    vendors = [["Vendor ID", "Name", "Type", "Commission Rate"], ["ACME", "Acme Trading", "Vendor", "12%"]]
    refund_header = [
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
        "Issues",
    ]
    refund = [None, dt.datetime(2026, 3, 1), "A-1", "C1", "acme", "SKU-1 x 2", 10, "EUR", "Damaged", "Initiated", None]
    unknown = [None, dt.datetime(2026, 3, 1), "A-2", "C1", "NOPE", "SKU-1 x 1", 10, "EUR", "Damaged", "Initiated", None]
    path = write_workbook(
        tmp_path / "r.xlsx", {"Refunds": [refund_header, refund, unknown], "Vendors": vendors, "Orders": [["Order ID"]]}
    )
    report = validate(config, path)
    assert {(i.row, i.code, i.column) for i in report.issues if i.log == "refunds" and i.row is not None} == {
        (3, "unknown-reference", "Vendor ID")
    }
    no_vendors = write_workbook(
        tmp_path / "r2.xlsx", {"Refunds": [refund_header, refund, unknown], "Vendors": vendors[:1]}
    )
    assert [i for i in validate(config, no_vendors).issues if i.log == "refunds" and i.row is not None] == []


def test_refund_id_must_end_with_the_rows_vendor(config: Config, tmp_path: Path) -> None:
    header = [
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
        "Issues",
    ]
    row = [
        "PRF-2026-001-ACME",
        dt.datetime(2026, 3, 1),
        "A-1",
        "C1",
        "BETA",
        "SKU-1 x 2",
        10,
        "EUR",
        "Damaged",
        "Initiated",
        None,
    ]
    report = validate(config, write_workbook(tmp_path / "r.xlsx", {"Refunds": [header, row]}))
    assert [i.code for i in report.issues if i.log == "refunds" and i.code != "missing-column"] == ["id-mismatch"]


def test_formula_errors_are_reported_as_what_they_are(config: Config, tmp_path: Path) -> None:
    rows = qc_tab([qc_row(Responsible_Party="#N/A"), qc_row(Original_Order_ID="#REF!")])
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": rows}))
    found = {(i.row, i.column, i.code, i.value) for i in report.issues if i.log == "qc"}
    assert found == {
        (2, "Responsible Party", "formula-error", "#N/A"),
        (3, "Original Order ID", "formula-error", "#REF!"),
    }


def test_total_rows_formula_rows_and_blank_rows_are_not_cases(config: Config, tmp_path: Path) -> None:
    rows = qc_tab([qc_row(), qc_row()])
    rows.append([])
    total = [None] * len(QC_LABELS)
    total[QC_LABELS.index("Original Order ID")] = "Total"
    total[QC_LABELS.index("Replacement Cost")] = "=SUM(L2:L3)"
    rows.append(total)
    formula_only = [None] * len(QC_LABELS)
    formula_only[QC_LABELS.index("Description")] = '=IF(B7="","",B7)'
    rows.append(formula_only)
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": rows}))
    assert report.rows_read["qc"] == 2
    assert [i for i in report.issues if i.log == "qc"] == []


def test_a_row_with_values_but_no_mandatory_field_is_reported_not_dropped(config: Config, tmp_path: Path) -> None:
    stray = {"Owner": "ana@example.com", "Penalty": 4}
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab([qc_row(), stray])}))
    [issue] = [i for i in report.issues if i.log == "qc"]
    assert (issue.row, issue.code, issue.severity) == (3, "not-a-case", "warning")


@pytest.mark.parametrize("date1904", [False, True])
def test_date_cells_and_bare_serial_numbers_in_both_date_systems(
    config: Config, tmp_path: Path, date1904: bool
) -> None:
    from kakosheet.app.read import read_source
    from kakosheet.core.cells import CellContext
    from kakosheet.sources import open_source

    serial = 46083  # 2026-03-02 in the 1900 system; 1462 days later in the 1904 one
    rows = qc_tab([qc_row(), qc_row(Date_Identified=serial - (1462 if date1904 else 0), Date_Logged=None)])
    source = open_source(str(write_workbook(tmp_path / "qc.xlsx", {"QC Log": rows}, date1904=date1904)))
    assert source.date1904 is date1904
    ctx = CellContext(date1904=source.date1904, today=TODAY)
    table = read_source(source, config.load_schemas(), ("qc",), ctx).tables["qc"]
    assert list(table.columns["date_identified"].row_values()) == [
        dt.datetime(2026, 3, 2, 10, 30),
        dt.datetime(2026, 3, 2),
    ]


REFUND_HEADER = [
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
VENDORS = [["Vendor ID", "Name", "Commission Rate"], ["ACME", "Acme Trading", "12%"]]
ORDERS = [
    ["Order ID", "SKU", "Amount", "Currency"],
    ["A-1", "SKU-1", 60, "EUR"],
    ["A-1", "SKU-2", 40, "EUR"],
    ["A-2", "SKU-1", 50, "EUR"],
]


def _refund(order: str, amount: float, fee: float | None = None) -> list[object]:
    return [
        None,
        dt.datetime(2026, 3, 1),
        order,
        "C1",
        "ACME",
        "SKU-1 x 1",
        amount,
        "EUR",
        "Damaged",
        "Initiated",
        fee,
        None,
    ]


def test_refunds_of_an_order_never_exceed_what_was_paid(config: Config, tmp_path: Path) -> None:
    refunds = [REFUND_HEADER, _refund("A-1", 70), _refund("A-1", 30), _refund("A-2", 30), _refund("a-2", 25)]
    path = write_workbook(tmp_path / "r.xlsx", {"Refunds": refunds, "Vendors": VENDORS, "Orders": ORDERS})
    report = validate(config, path)
    assert {(i.row, i.code) for i in report.issues if i.log == "refunds" and i.code != "missing-column"} == {
        (4, "over-limit"),
        (5, "over-limit"),
    }


def test_a_typed_platform_fee_that_disagrees_with_the_commission_is_a_warning(config: Config, tmp_path: Path) -> None:
    refunds = [REFUND_HEADER, _refund("A-1", 30, 3.6), _refund("A-1", 30, 3), _refund("A-1", 30)]
    path = write_workbook(tmp_path / "r.xlsx", {"Refunds": refunds, "Vendors": VENDORS, "Orders": ORDERS})
    [issue] = [i for i in validate(config, path).issues if i.log == "refunds" and i.code != "missing-column"]
    assert (issue.row, issue.code, issue.severity) == (3, "disagrees", "warning")
    assert "= 3.60" in issue.message


def test_serial_number_is_required_for_serialized_products(config: Config, tmp_path: Path) -> None:
    header = [
        "RMA Number",
        "Customer ID",
        "Original Order ID",
        "SKU",
        "Serial Number",
        "Purchase Date",
        "Reported Date",
        "Defect Type",
        "Status",
        "Issues",
    ]
    row = ["C1", "A-1", "SKU-1", None, dt.date(2026, 1, 5), dt.date(2026, 2, 1), "Dead on Arrival", "Requested", None]
    products = [["SKU", "Serialized"], ["SKU-1", True], ["SKU-2", "no"]]
    returns = [header, [None, *row], [None, *row[:2], "SKU-2", *row[3:]], [None, *row[:3], "1234-0001", *row[4:]]]
    path = write_workbook(tmp_path / "rma.xlsx", {"Returns": returns, "Products": products})
    report = validate(config, path)
    assert {(i.row, i.code, i.column) for i in report.issues if i.log == "returns" and i.code != "missing-column"} == {
        (2, "required-when", "Serial Number")
    }


def test_an_amount_typed_as_text_that_reads_two_ways_is_flagged(config: Config, tmp_path: Path) -> None:
    """A workbook file says no locale: 1,500 as text could be 1500 or 1.5, so it is asked about."""
    rows = [qc_row(Replacement_Cost="1,500"), qc_row(Replacement_Cost="2.500"), qc_row(Replacement_Cost="1,500.25")]
    report = validate(config, write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)}))
    found = [(i.row, i.code) for i in report.issues if i.column == "Replacement Cost"]
    assert found == [(2, "ambiguous-number"), (3, "ambiguous-number")]


def test_an_amount_finer_than_its_currency_counts_is_a_warning_naming_what_sums_count(
    config: Config, tmp_path: Path
) -> None:
    rows = [
        qc_row(Replacement_Cost=12.5, Currency="JPY"),  # row 2: yen have no decimals
        qc_row(Replacement_Cost=12.345, Currency="USD"),  # row 3
        qc_row(Replacement_Cost=1500.0, Currency="JPY"),  # row 4: a whole amount, as Excel stores it
        qc_row(Replacement_Cost=12.5, Currency="USD"),  # row 5
        qc_row(Replacement_Cost=1.234, Currency="KWD"),  # row 6: dinars have three
        qc_row(Replacement_Cost="12.345", Currency="XYZ"),  # row 7: no currency to count in
        qc_row(Replacement_Cost=7.25, Currency="jpy"),  # row 8: the code as typed, read as JPY
    ]
    path = write_workbook(tmp_path / "qc.xlsx", {"QC Log": qc_tab(rows)})
    finer = [i for i in validate(config, path).issues if i.code == "finer-than-currency"]
    assert [(i.row, i.column, i.severity) for i in finer] == [
        (2, "Replacement Cost", "warning"),
        (3, "Replacement Cost", "warning"),
        (8, "Replacement Cost", "warning"),
    ]
    assert "12.5 has more decimals than JPY counts (no decimals); sums count it as 13" in finer[0].message
    assert "USD counts (2 decimals); sums count it as 12.35" in finer[1].message
