"""Sources of failure with order data: a workbook synced (its Vendors tab too), orders imported from
a CSV file, and the report's after-sales rates, limits and flags checked against hand-worked numbers.

The week is 2026-W53 (Monday 2026-12-28 to Sunday 2027-01-03); the team is in Asia/Shanghai.

| party (as its cases name it)  | its orders: Vendor ID | orders in W53 | cases in W53 | rate   |
|-------------------------------|-----------------------|---------------|--------------|--------|
| "big parts ltd" (QC, by name) | BIG ("Big Parts Ltd") | 50            | 10           | 0.2000 |
| "MID" (After-Sales, by code)  | MID                   | 50            | 6            | 0.1200 |
| "tiny" (QC, code in lower case)| TINY                 | 1             | 1            | 1.0000 |
| "BASE" (After-Sales)          | BASE                  | 399           | 3            | 0.0075 |
| "WH-1" (QC, a station)        | none                  | -             | 2            | -      |

Overall rate: the cases of parties with orders over their orders, (10 + 6 + 1 + 3) / (50 + 50 + 1 + 399)
= 20 / 500 = 0.04. Not counted: BIG's 5 orders of W52 and 1 of 2027-01-04 (W01), and BASE's order
B0 has two lines (two SKUs) but is one order. Quantity (units) plays no part: BIG's orders are of 7 units.

The limits for 50 orders, X ~ Binomial(50, 0.04), P(X <= k) = sum C(50, i) 0.04^i 0.96^(50-i):
  k:          0       1       2       3       4       5       6       7
  P(X <= k):  0.1299  0.4005  0.6767  0.8608  0.9510  0.9855  0.9963  0.9992
- watch (95%, the upper 97.5% quantile): the first k with P >= 0.975 is 5 -> limit 5/50 = 0.1000;
- alarm (99.8%, the upper 99.9% quantile): the first k with P >= 0.999 is 7 -> limit 7/50 = 0.1400.
BIG's 10 cases are above 7: alarm. MID's 6 are above 5 but not above 7: watch.
For 1 order, X ~ Binomial(1, 0.04): P(X <= 0) = 0.96 < 0.975, so the watch limit is 1 case (1.0000):
TINY's one case of one order is within it (the highest raw rate, and not flagged).
BASE: 3 cases where 399 x 0.04 = 15.96 are expected: well within its limits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kakosheet.app.import_orders import import_orders
from kakosheet.app.report import PeriodKind, ReportOptions, make_report
from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.reports.parties import binomial_quantile
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.reports.store import SYNCED, TIMEZONE, qc

W53_DAY = dt.datetime(2026, 12, 30, 10, 0)

VENDORS = [
    {"vendor_id": "BIG", "name": "Big Parts Ltd", "type": "Supplier"},
    {"vendor_id": "MID", "name": "Middling Goods", "type": "Supplier"},
    {"vendor_id": "TINY", "name": "Tiny Workshop", "type": "Supplier"},
    {"vendor_id": "BASE", "name": "Base Supplies", "type": "Supplier"},
]


def after_sales(order: str, when: dt.datetime, supplier: str) -> dict[str, Any]:
    return {
        "reported_at": when,
        "order_number": order,
        "sku": "SKU-1",
        "supplier": supplier,
        "problem_type": "Quality Defect",
        "problem_description": "Arrived broken.",
        "stage": "Reported",
    }


def cases() -> dict[str, list[dict[str, Any]]]:
    qc_rows = [qc(f"QB{i}", W53_DAY, "Damaged", "big parts ltd", "Supplier") for i in range(10)]
    qc_rows += [qc("QT0", W53_DAY, "Damaged", "tiny", "Supplier")]
    qc_rows += [qc(f"QW{i}", W53_DAY, "Damaged", "WH-1", "Warehouse Station") for i in range(2)]
    as_rows = [after_sales(f"AM{i}", W53_DAY, "MID") for i in range(6)]
    as_rows += [after_sales(f"AB{i}", W53_DAY, "BASE") for i in range(3)]
    return {"qc": qc_rows, "after_sales": as_rows, "vendors": VENDORS}


def orders_csv(path: Path) -> Path:
    """The orders as a shop exports them: semicolons, a byte-order mark, ISO dates."""
    lines = ["Order ID;Customer ID;Vendor ID;SKU;Quantity;Amount;Currency;Order Date"]

    def add(order: str, vendor: str, day: dt.date, quantity: int = 1, sku: str = "SKU-1") -> None:
        lines.append(f"{order};C1;{vendor};{sku};{quantity};10.00;USD;{day.isoformat()}")

    for i in range(50):
        add(f"BIG-{i}", "BIG", dt.date(2026, 12, 28) + dt.timedelta(days=i % 7), quantity=7)
    for i in range(5):
        add(f"BIG-W52-{i}", "BIG", dt.date(2026, 12, 27))  # the Sunday before: W52
    add("BIG-W01", "BIG", dt.date(2027, 1, 4))  # the Monday after: W01
    for i in range(50):
        add(f"MID-{i}", "MID", dt.date(2027, 1, 3))  # the week's last day
    add("TINY-0", "TINY", dt.date(2026, 12, 31))
    add("B0", "BASE", dt.date(2026, 12, 29), sku="SKU-2")  # one order, two lines
    for i in range(399):
        add(f"B{i}", "BASE", dt.date(2026, 12, 29))
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def team(tmp_path: Path, store_url: str) -> Config:
    init_team(tmp_path / "team", logs=("qc", "after_sales"), timezone=TIMEZONE)
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    fill_master_workbook(tmp_path / "team" / "master.xlsx", config.load_schemas(), cases())
    sync_source(config, store_url=store_url, now=SYNCED)
    return config


def test_the_hand_worked_binomial_limits() -> None:
    assert binomial_quantile(50, 0.04, 0.975) == 5
    assert binomial_quantile(50, 0.04, 0.999) == 7
    assert binomial_quantile(1, 0.04, 0.975) == 1


def test_rates_limits_and_flags_with_imported_orders(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path, store_url)
    imported = import_orders(config, orders_csv(tmp_path / "orders.csv"), store_url=store_url, now=SYNCED)
    assert imported.report.valid, imported.report.issues
    assert imported.stored.upserted.imported == 50 + 5 + 1 + 50 + 1 + 399  # B0's two lines are one order

    report = make_report(config, ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=store_url))
    parties = report.parties
    assert parties.ranked_by == "rate"
    assert str(parties.overall_rate) == "0.0400"  # 20 cases / 500 orders
    assert "distinct Order IDs by Order Date, not units of Quantity" in parties.note
    assert "Vendors-tab Name" in parties.note
    found = {
        r.party: (r.figure.count, r.orders, str(r.rate) if r.rate is not None else None, r.flag) for r in parties.rows
    }
    assert found == {
        "big parts ltd": (10, 50, "0.2000", "alarm"),  # by its name on the Vendors tab, case ignored
        "MID": (6, 50, "0.1200", "watch"),
        "tiny": (1, 1, "1.0000", None),  # by its code, case ignored
        "BASE": (3, 399, "0.0075", None),
        "WH-1": (2, None, None, None),  # a station has no orders
        None: (9, None, None, None),  # the After-Sales cases' blank Logistics Provider
    }
    rows = {r.party: r for r in parties.rows}
    assert [str(x) for x in rows["MID"].watch] == ["0.0000", "0.1000"]  # type: ignore[union-attr]
    assert [str(x) for x in rows["MID"].alarm] == ["0.0000", "0.1400"]  # type: ignore[union-attr]
    assert [str(x) for x in rows["tiny"].watch] == ["0.0000", "1.0000"]  # type: ignore[union-attr]
    # Flagged first, then by cases beyond the expected (TINY 1 - 0.04; none for parties without
    # orders, those by count; BASE 3 - 15.96).
    assert [r.party for r in parties.rows] == ["big parts ltd", "MID", "tiny", None, "WH-1", "BASE"]


def test_a_week_without_orders_is_ranked_by_count(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = team(tmp_path, url)
    import_orders(config, orders_csv(tmp_path / "orders.csv"), store_url=url, now=SYNCED)
    report = make_report(config, ReportOptions(PeriodKind.WEEKLY, "2026-W50", store_url=url))
    assert report.parties.ranked_by == "count" and "no order data" in report.parties.note
    assert "kakosheet import orders" in report.parties.note


@pytest.mark.parametrize("vendor_name", ["Big Parts Ltd", "BIG PARTS  LTD"])
def test_a_party_named_like_the_vendors_tab_in_other_case_and_spacing_matches(tmp_path: Path, vendor_name: str) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_team(tmp_path / "team", logs=("qc",), timezone=TIMEZONE)
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    rows = {
        "qc": [qc("Q1", W53_DAY, "Damaged", "Big Parts Ltd", "Supplier")],
        "vendors": [VENDORS[0] | {"name": vendor_name}],
    }
    fill_master_workbook(tmp_path / "team" / "master.xlsx", config.load_schemas(), rows)
    sync_source(config, store_url=url, now=SYNCED)
    (tmp_path / "o.csv").write_text("Order ID,Vendor ID,Order Date\n1,BIG,2026-12-29\n2,BIG,2026-12-30\n")
    import_orders(config, tmp_path / "o.csv", store_url=url, now=SYNCED)
    report = make_report(config, ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=url))
    assert [(r.party, r.orders) for r in report.parties.rows] == [("Big Parts Ltd", 2)]


def test_one_vendor_named_by_code_in_one_log_and_by_name_in_another_is_one_party(tmp_path: Path) -> None:
    """Big Parts Ltd is "Big Parts Ltd" in the QC Log and "BIG" in After-Sales: one row, its cases
    together, its 2 orders counted once (so the overall rate is 2 cases / 2 orders, not / 4)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_team(tmp_path / "team", logs=("qc", "after_sales"), timezone=TIMEZONE)
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    rows = {
        "qc": [qc("Q1", W53_DAY, "Damaged", "Big Parts Ltd", "Supplier")],
        "after_sales": [after_sales("A1", W53_DAY, "BIG")],
        "vendors": [VENDORS[0]],
    }
    fill_master_workbook(tmp_path / "team" / "master.xlsx", config.load_schemas(), rows)
    sync_source(config, store_url=url, now=SYNCED)
    (tmp_path / "o.csv").write_text("Order ID,Vendor ID,Order Date\n1,BIG,2026-12-29\n2,BIG,2026-12-30\n")
    import_orders(config, tmp_path / "o.csv", store_url=url, now=SYNCED)
    report = make_report(config, ReportOptions(PeriodKind.WEEKLY, "2026-W53", store_url=url))
    suppliers = [r for r in report.parties.rows if r.kind == "Supplier"]
    assert [(r.party, r.figure.count, r.orders, str(r.rate)) for r in suppliers] == [
        ("BIG / Big Parts Ltd", 2, 2, "1.0000")
    ]
    assert str(report.parties.overall_rate) == "1.0000"
    assert sorted(suppliers[0].logs) == ["after_sales", "qc"]
