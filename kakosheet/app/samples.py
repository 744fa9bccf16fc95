"""Realistic sample cases for the demo and the benchmarks, some deliberately wrong.

A small world (vendors, products, orders) and cases drawn from it, so reference checks
have something to check against. Every planted mistake is one a person makes: a blank
mandatory cell, a misspelt status, a date in the future, a closed case without its
closure date, an amount typed with its currency sign, an unknown vendor.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]

FIRST_NAMES = ["Ana", "Wei", "Lukas", "Priya", "Mateo", "Yuki", "Omar", "Sofia", "Jin", "Chloe", "Ivan", "Amara"]
LAST_NAMES = ["Silva", "Zhang", "Becker", "Nair", "Rossi", "Tanaka", "Haddad", "Novak", "Kim", "Dubois"]
STAFF = ["ana.silva", "wei.zhang", "lukas.becker", "priya.nair", "mateo.rossi"]
DOMAIN = "example.com"
STATIONS = ["WH-Station 3", "WH-Station 7", "Inspector QC-12", "Inspector QC-04"]
CATEGORIES = ["Outdoor", "Audio", "Kitchen", "Apparel", "Lighting", "Tools"]
PRODUCT_WORDS = ["Tent", "Speaker", "Kettle", "Jacket", "Lamp", "Drill", "Backpack", "Headphones", "Blender", "Lantern"]
COUNTRY_CURRENCY = [("US", "USD"), ("DE", "EUR"), ("BR", "BRL"), ("GB", "GBP"), ("JP", "JPY"), ("AU", "AUD")]
DESCRIPTIONS = {
    "Damaged": "Outer carton crushed, item scratched on arrival at QC.",
    "Incorrect Item": "Colour variant differs from the order.",
    "Defective": "Unit does not power on during inspection.",
    "Wrong Quantity": "Two units short against the packing list.",
    "Missing Parts": "Mounting screws and manual missing.",
    "Packaging Damage": "Retail box torn; product intact.",
}


@dataclass
class World:
    """The reference data cases are drawn from."""

    vendors: list[Row]
    products: list[Row]
    orders: list[Row]
    known_defects: list[Row]
    today: dt.date


def _email(rng: random.Random) -> str:
    return f"{rng.choice(STAFF)}@{DOMAIN}"


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def make_world(
    rng: random.Random, *, today: dt.date, vendors: int = 12, products: int = 40, orders: int = 600
) -> World:
    vendor_rows = []
    for i in range(vendors):
        kind = "Logistics" if i % 6 == 5 else ("Supplier" if i % 2 else "Vendor")
        code = f"V{i + 1:02d}" if kind != "Logistics" else f"LG{i + 1:02d}"
        vendor_rows.append(
            {
                "vendor_id": code,
                "name": f"{rng.choice(LAST_NAMES)} {'Logistics' if kind == 'Logistics' else 'Trading'} {i + 1}",
                "type": kind,
                "commission_rate": rng.choice([0.08, 0.1, 0.12, 0.15]),
                "contact_email": f"claims@{code.lower()}.{DOMAIN}",
            }
        )
    suppliers = [v for v in vendor_rows if v["type"] != "Logistics"]
    product_rows: list[dict[str, Any]] = []
    for i in range(products):
        currency = rng.choice(["USD", "EUR", "USD", "CNY"])
        product_rows.append(
            {
                "sku": f"SKU-{1000 + i}",
                "name": f"{rng.choice(PRODUCT_WORDS)} {rng.choice(['Pro', 'Lite', 'Max', 'Mini', 'Plus'])}",
                "category": rng.choice(CATEGORIES),
                "price": _money(rng, 15, 400),
                "currency": currency,
                "warranty_months": rng.choice([6, 12, 24]),
                "return_window_days": rng.choice([14, 30]),
                "serialized": i % 3 == 0,
            }
        )
    order_rows = []
    for i in range(orders):
        product = rng.choice(product_rows)
        quantity = rng.randint(1, 4)
        country, _ = rng.choice(COUNTRY_CURRENCY)
        order_rows.append(
            {
                "order_id": f"{100000 + i * 7:07d}",
                "customer_id": f"C{rng.randint(1, 400):05d}",
                "vendor_id": rng.choice(suppliers)["vendor_id"],
                "sku": product["sku"],
                "quantity": quantity,
                "amount": round(product["price"] * quantity, 2),
                "currency": product["currency"],
                "order_date": today - dt.timedelta(days=rng.randint(5, 300)),
                "incoterm": rng.choice(["FOB", "CIF", "DAP", "DDP", "EXW"]),
                "destination_country": country,
            }
        )
    defects = [
        {
            "sku": p["sku"],
            "serial_from": f"{p['sku'][-4:]}-0100",
            "serial_to": f"{p['sku'][-4:]}-0199",
            "defect_type": "Hardware Failure",
            "note": "Faulty power board in this range.",
        }
        for p in product_rows[:4]
        if p["serialized"]
    ]
    return World(vendor_rows, product_rows, order_rows, defects, today)


def _when(rng: random.Random, world: World, max_days: int = 120) -> dt.datetime:
    day = world.today - dt.timedelta(days=rng.randint(1, max_days))
    return dt.datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.choice([0, 15, 30, 45]))


def _after(start: dt.datetime, days: int, world: World) -> dt.datetime:
    """A moment ``days`` after ``start``, but never after today."""
    return min(start + dt.timedelta(days=days), dt.datetime.combine(world.today, dt.time(0)))


def qc_case(rng: random.Random, world: World) -> Row:
    order = rng.choice(world.orders)
    exception = rng.choice(list(DESCRIPTIONS))
    status = rng.choices(["Open", "Reshipment Created", "Vendor Claim Submitted", "Closed"], [3, 2, 2, 4])[0]
    found = _when(rng, world)
    supplier = next(v for v in world.vendors if v["vendor_id"] == order["vendor_id"])
    row: Row = {
        "original_order_id": order["order_id"],
        "date_identified": found,
        "date_logged": found + dt.timedelta(hours=rng.randint(0, 30)),
        "exception_type": exception,
        "description": DESCRIPTIONS[exception],
        "media_links": f"https://media.{DOMAIN}/qc/{rng.randint(10000, 99999)}.jpg" if rng.random() < 0.97 else None,
        "responsible_party": supplier["name"] if rng.random() < 0.7 else rng.choice(STATIONS),
        "source_type": "Supplier",
        "disposition": None
        if status == "Open"
        else rng.choice(["Returned to Supplier", "Discarded", "Repaired", "Restocked"]),
        "reshipment_order_id": f"R{rng.randint(100000, 999999)}" if status != "Open" else None,
        "replacement_cost": _money(rng, 5, 300),
        "shipping_cost": _money(rng, 3, 40),
        "penalty": _money(rng, 0, 20) if rng.random() < 0.2 else None,
        "currency": order["currency"],
        "status": status,
        "recovered_amount": _money(rng, 0, 150) if status in ("Vendor Claim Submitted", "Closed") else None,
        "owner": _email(rng),
        "closure_date": (found + dt.timedelta(days=rng.randint(1, 20))).date() if status == "Closed" else None,
        "logged_by": rng.choice(STAFF),
    }
    if row["closure_date"] and row["closure_date"] > world.today:
        row["closure_date"] = world.today
    if row["responsible_party"] in STATIONS:
        row["source_type"] = "Warehouse Station" if row["responsible_party"].startswith("WH") else "Inspector"
    return row


def refund_case(rng: random.Random, world: World) -> Row:
    order = rng.choice(world.orders)
    status = rng.choices(["Initiated", "Vendor Approved", "Processed", "Completed", "Rejected"], [2, 2, 2, 5, 1])[0]
    started = _when(rng, world)
    quantity = rng.randint(1, order["quantity"])
    amount = round(order["amount"] / order["quantity"] * quantity * rng.choice([0.3, 0.5, 1.0]), 2)
    return {
        "initiated_at": started,
        "completed_at": _after(started, rng.randint(1, 9), world) if status == "Completed" else None,
        "original_order_id": order["order_id"],
        "customer_id": order["customer_id"],
        "customer_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "vendor_id": order["vendor_id"],
        "refunded_items": f"{order['sku']} x {quantity}",
        "refund_amount": max(amount, 1.0),
        "currency": order["currency"],
        "reason_code": rng.choice(
            ["Damaged", "Wrong Item", "Partial Shipment", "Defective", "Not as Described", "Late Delivery"]
        ),
        "status": status,
        "owner": _email(rng),
        "logged_by": rng.choice(STAFF),
    }


def return_case(rng: random.Random, world: World) -> Row:
    order = rng.choice(world.orders)
    product = next(p for p in world.products if p["sku"] == order["sku"])
    bought = order["order_date"]
    reported = min(bought + dt.timedelta(days=rng.randint(2, 200)), world.today)
    approval = rng.choices(["Pending", "Approved", "Rejected"], [3, 4, 1])[0]
    status = rng.choice(["Requested", "Item Received", "Resolved", "Closed"])
    return {
        "customer_id": order["customer_id"],
        "original_order_id": order["order_id"],
        "sku": product["sku"],
        "serial_number": f"{product['sku'][-4:]}-{rng.randint(0, 999):04d}" if product["serialized"] else None,
        "purchase_date": bought,
        "reported_date": reported,
        "defect_type": rng.choice(
            ["Hardware Failure", "Cosmetic Damage", "Software Issue", "Missing Component", "Dead on Arrival"]
        ),
        "evidence_links": f"https://media.{DOMAIN}/rma/{rng.randint(10000, 99999)}.mp4"
        if approval == "Approved" or rng.random() < 0.5
        else None,
        "approval": approval,
        "inventory_status": rng.choice(["Awaiting Return", "Quality Reject", "Scrapped", "Returned to Vendor"]),
        "status": status,
        "owner": _email(rng),
        "logged_by": rng.choice(STAFF),
    }


def after_sales_case(rng: random.Random, world: World) -> Row:
    order = rng.choice(world.orders)
    product = next(p for p in world.products if p["sku"] == order["sku"])
    reported = _when(rng, world, 90)
    stage = rng.choice(
        [
            "Reported",
            "Responsibility Confirmation",
            "Plan Formulation",
            "Implementation",
            "Completed",
            "Customer Feedback",
            "Closed",
        ]
    )
    logistics = [v for v in world.vendors if v["type"] == "Logistics"]
    cost = _money(rng, 10, 800) if rng.random() < 0.7 else None
    return {
        "reported_at": reported,
        "order_number": order["order_id"],
        "sku": product["sku"],
        "product_category": product["category"],
        "supplier": order["vendor_id"],
        "logistics_provider": rng.choice(logistics)["name"] if logistics else None,
        "incoterm": order["incoterm"],
        "problem_type": rng.choice(
            [
                "Quality Defect",
                "Transport Damage",
                "Wrong Shipment",
                "Missing Parts",
                "Packaging Damage",
                "Customs Hold",
            ]
        ),
        "where_found": rng.choice(
            [
                "Pre-shipment QC",
                "Origin Warehouse",
                "In Transit",
                "Import Customs",
                "Destination Warehouse",
                "At Customer",
            ]
        ),
        "problem_description": "Customer reports the unit arrived with a cracked housing.",
        "evidence_links": f"https://media.{DOMAIN}/as/{rng.randint(10000, 99999)}.jpg",
        "customer_feedback": rng.choice([None, "Wants a replacement quickly.", "Accepts a partial refund."]),
        "responsible_party": rng.choice([None, "Supplier", "Logistics", "Purchaser"]),
        "processing_plan": rng.choice([None, "Replacement", "Refund", "Partial Refund", "Repair"]),
        "priority": rng.choice(["Low", "Normal", "Normal", "High", "Urgent"]),
        "expected_resolution_date": (reported + dt.timedelta(days=rng.randint(7, 40))).date(),
        "stage": stage,
        "owner": _email(rng),
        "cost": cost,
        "currency": order["currency"] if cost is not None else None,
        "destination_country": order["destination_country"],
        "logged_by": rng.choice(STAFF),
    }


# --------------------------------------------------------------------- planted mistakes

Mistake = Callable[[random.Random, Row, World], None]


def _blank(field: str) -> Mistake:
    def plant(rng: random.Random, row: Row, world: World) -> None:
        row[field] = None

    return plant


def _set(field: str, value: Any) -> Mistake:
    def plant(rng: random.Random, row: Row, world: World) -> None:
        row[field] = value

    return plant


def _future(field: str) -> Mistake:
    def plant(rng: random.Random, row: Row, world: World) -> None:
        row[field] = dt.datetime.combine(world.today + dt.timedelta(days=rng.randint(20, 300)), dt.time(9))

    return plant


MISTAKES: dict[str, list[Mistake]] = {
    "qc": [
        _blank("original_order_id"),
        _blank("responsible_party"),
        _set("exception_type", "Damagd"),
        _set("status", "closed "),  # fine: case and spacing are forgiven
        _set("status", "Done"),
        _future("date_identified"),
        _set("replacement_cost", -12.5),
        _set("shipping_cost", "$12.50"),
        _set("currency", "EURO"),
        _set("owner", "ana.silva at example.com"),
        _set("date_identified", "03/04/2026"),
    ],
    "refunds": [
        _blank("customer_id"),
        _set("vendor_id", "ZZ99"),
        _set("refund_amount", 0),
        _set("refunded_items", "two kettles"),
        _set("status", "Complete"),
        _blank("currency"),
    ],
    "returns": [
        _blank("sku"),
        _set("sku", "SKU-9999"),
        _set("defect_type", "Broken"),
        _set("purchase_date", "yesterday"),
    ],
    "after_sales": [
        _blank("problem_description"),
        _set("incoterm", "FOB Shanghai"),
        _set("stage", "Waiting"),
        _set("destination_country", "Germany"),
    ],
}

MAKERS: dict[str, Callable[[random.Random, World], Row]] = {
    "qc": qc_case,
    "refunds": refund_case,
    "returns": return_case,
    "after_sales": after_sales_case,
}


def make_cases(rng: random.Random, world: World, log: str, count: int, *, bad_share: float) -> list[Row]:
    """``count`` cases of a log; about ``bad_share`` of them carry one planted mistake."""
    make = MAKERS[log]
    mistakes = MISTAKES[log]
    rows = []
    for _ in range(count):
        row = make(rng, world)
        if rng.random() < bad_share:
            rng.choice(mistakes)(rng, row, world)
        rows.append(row)
    return rows


def make_closure_mistakes(rows: list[Row]) -> None:
    """Cross-field slips: a closed case without its closure date, and the reverse."""
    closed = [row for row in rows if row.get("status") == "Closed"]
    if len(closed) >= 2:
        closed[0]["closure_date"] = None
    open_rows = [row for row in rows if row.get("status") == "Open"]
    if open_rows and closed:
        open_rows[0]["closure_date"] = closed[-1]["closure_date"]


def reference_rows(world: World) -> dict[str, list[Row]]:
    return {
        "vendors": world.vendors,
        "products": world.products,
        "orders": world.orders,
        "known_defects": world.known_defects,
    }
