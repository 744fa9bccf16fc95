"""A fixed store for report tests, built the real way: a master workbook synced twice.

The cases straddle the ISO year end: 2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03
(2027-01-01 belongs to it), 2027-W01 starts on Monday 2027-01-04. The team is in Asia/Shanghai.

- Q1  2026-12-20 10:00 (W51)  qc Damaged, Acme (Supplier): replacement 1.00 USD; Open
- Q2  2026-12-28 09:00 (W53)  qc Damaged, Acme (Supplier): replacement 10.00 USD; Open
- Q3  2027-01-01 12:00 (W53)  qc Damaged, Acme (Supplier): replacement 20.50 + shipping 5.00 USD; Closed 2027-01-02
- Q4  2027-01-03 23:30 (W53)  qc Defective, Beta (Inspector): penalty 100.00 CNY; Open, no description (incomplete)
- Q5  2027-01-04 00:10 (W01)  qc Defective, Beta (Inspector): replacement 30.00, recovered 5.00 EUR; Open
- Q6  2026-12-30 08:00 (W53)  qc Packaging Damage, Acme (Supplier); deleted from the sheet after the first sync
- R1  2027-01-02 10:00 (W53)  refunds Damaged, V01: 40.00 USD, fee 4.00 USD; Initiated
- R2  2027-01-03 15:00 (W53)  refunds Late Delivery, V01: 10.00 USD, fee 1.00 USD; Completed 2027-01-05
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook

SYNCED = dt.datetime(2027, 1, 20, 9, 0)
TIMEZONE = "Asia/Shanghai"


def qc(order: str, when: dt.datetime, reason: str, party: str, kind: str, **more: Any) -> dict[str, Any]:
    return {
        "original_order_id": order,
        "date_identified": when,
        "date_logged": when + dt.timedelta(minutes=5),
        "exception_type": reason,
        "description": "Carton crushed.",
        "media_links": "https://media.example.com/1.jpg",
        "responsible_party": party,
        "source_type": kind,
        "status": "Open",
        **more,
    }


def refund(order: str, when: dt.datetime, reason: str, amount: float, fee: float, **more: Any) -> dict[str, Any]:
    return {
        "initiated_at": when,
        "original_order_id": order,
        "customer_id": "C1",
        "vendor_id": "V01",
        "refunded_items": "SKU-1 x 1",
        "refund_amount": amount,
        "currency": "USD",
        "platform_fee_adjustment": fee,
        "reason_code": reason,
        "status": "Initiated",
        "settlement_note": "Deducted from V01's balance.",
        **more,
    }


QC_ROWS = [
    qc("Q1", dt.datetime(2026, 12, 20, 10, 0), "Damaged", "Acme", "Supplier", replacement_cost=1, currency="USD"),
    qc(
        "Q2",
        dt.datetime(2026, 12, 28, 9, 0),
        "Damaged",
        "Acme",
        "Supplier",
        replacement_cost=10,
        currency="USD",
        logged_by="ana",
    ),
    qc(
        "Q3",
        dt.datetime(2027, 1, 1, 12, 0),
        "Damaged",
        "Acme",
        "Supplier",
        replacement_cost=20.5,
        shipping_cost=5,
        currency="USD",
        status="Closed",
        disposition="Discarded",
        closure_date=dt.date(2027, 1, 2),
        logged_by="ana",
    ),
    qc(
        "Q4",
        dt.datetime(2027, 1, 3, 23, 30),
        "Defective",
        "Beta",
        "Inspector",
        penalty=100,
        currency="CNY",
        description=None,
        logged_by="bob",
    ),
    qc(
        "Q5",
        dt.datetime(2027, 1, 4, 0, 10),
        "Defective",
        "Beta",
        "Inspector",
        replacement_cost=30,
        recovered_amount=5,
        currency="EUR",
        logged_by="bob",
    ),
    qc("Q6", dt.datetime(2026, 12, 30, 8, 0), "Packaging Damage", "Acme", "Supplier", logged_by="ana"),
]

REFUND_ROWS = [
    refund("R1", dt.datetime(2027, 1, 2, 10, 0), "Damaged", 40, 4, logged_by="cy"),
    refund(
        "R2",
        dt.datetime(2027, 1, 3, 15, 0),
        "Late Delivery",
        10,
        1,
        status="Completed",
        completed_at=dt.datetime(2027, 1, 5, 9, 0),
        logged_by="cy",
    ),
]


def build_team(folder: Path, store_url: str, *, extra_qc: list[dict[str, Any]] | None = None) -> Config:
    """The team folder, its workbook synced into ``store_url``, Q6 then deleted and synced again."""
    init_team(folder, logs=("qc", "refunds"), timezone=TIMEZONE)
    config = load_config(folder / "kakosheet.toml")
    path = folder / "master.xlsx"
    fill_master_workbook(path, config.load_schemas(), {"qc": QC_ROWS + (extra_qc or []), "refunds": REFUND_ROWS})
    sync_source(config, store_url=store_url, now=SYNCED)
    workbook = load_workbook(path)
    sheet = workbook["QC Log"]
    header = [c.value for c in sheet[1]]
    order = header.index("Original Order ID") + 1
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, order).value == "Q6":
            sheet.delete_rows(row)
    workbook.save(path)
    sync_source(config, store_url=store_url, now=SYNCED + dt.timedelta(hours=1))
    return config


def ids_by_order(store_url: str) -> dict[str, str]:
    """Order ID (Q1, R2...) -> the case ID the sync gave it."""
    from sqlalchemy import create_engine, text

    with create_engine(store_url).connect() as connection:
        rows = connection.execute(text("select original_order_id, case_id from case_qc")).all()
        rows += connection.execute(text("select original_order_id, case_id from case_refunds")).all()
    return {order: case_id for order, case_id in rows}
