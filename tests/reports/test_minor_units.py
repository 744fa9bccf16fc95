"""Exact money in SQL: each amount also stored in integer minor units of its currency, written
on create and change, filled for an older store on the next sync, summed exactly by SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.minor import to_minor

NOW = dt.datetime(2026, 6, 30, 9, 0)


def qc(order: str, cost: Any, currency: str | None, **more: Any) -> dict[str, Any]:
    return {
        "original_order_id": order,
        "date_identified": dt.datetime(2026, 6, 1, 10, 0),
        "exception_type": "Damaged",
        "description": "Carton crushed.",
        "media_links": "https://media.example.com/1.jpg",
        "responsible_party": "Acme",
        "replacement_cost": cost,
        "currency": currency,
        "status": "Open",
        **more,
    }


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def minor_rows(store_url: str) -> dict[str, tuple[Any, ...]]:
    with create_engine(store_url).connect() as connection:
        rows = connection.execute(
            text("select original_order_id, _minor_replacement_cost, _minor_penalty from case_qc")
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_to_minor_follows_the_currency_exponent() -> None:
    assert to_minor(Decimal("12.50"), "USD") == 1250
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert to_minor(Decimal("1.234"), "KWD") == 1234
    assert to_minor(Decimal("12.505"), "USD") == 1251  # half-up, as money is rounded everywhere
    assert to_minor(Decimal("12.50"), None) is None
    assert to_minor(None, "USD") is None
    assert to_minor(Decimal("NaN"), "USD") is None


def test_minor_units_are_written_on_create_and_change_and_sum_exactly(team: Config, store_url: str) -> None:
    path = team.root / "master.xlsx"
    rows = [qc(f"A{i:03d}", 0.1, "USD") for i in range(30)]
    rows += [qc("J1", 1500, "JPY", penalty=7), qc("K1", 1.234, "KWD"), qc("N1", 5, None)]
    fill_master_workbook(path, team.load_schemas(), {"qc": rows})
    sync_source(team, store_url=store_url, now=NOW)
    stored = minor_rows(store_url)
    assert stored["A000"] == (10, None)
    assert stored["J1"] == (1500, 7)
    assert stored["K1"] == (1234, None)
    assert stored["N1"] == (None, None)  # no currency: not summable
    with create_engine(store_url).connect() as connection:
        total = connection.execute(
            text("select sum(_minor_replacement_cost) from case_qc where currency = 'USD'")
        ).scalar_one()
    assert total == 300  # 30 x 0.10 USD, to the cent (a float sum gives 3.0000000000000013)

    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook["QC Log"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("Original Order ID")].value == "K1":
            row[header.index("Replacement Cost")].value = 2.5
            row[header.index("Currency")].value = "EUR"
    workbook.save(path)
    sync_source(team, store_url=store_url, now=NOW + dt.timedelta(hours=1))
    assert minor_rows(store_url)["K1"] == (250, None)


def test_an_older_store_gets_its_minor_units_on_the_next_sync(team: Config, store_url: str) -> None:
    path = team.root / "master.xlsx"
    fill_master_workbook(path, team.load_schemas(), {"qc": [qc("U1", 19.99, "USD"), qc("J1", 1500, "JPY")]})
    sync_source(team, store_url=store_url, now=NOW)
    engine = create_engine(store_url)
    with engine.begin() as connection:  # the store as a version before minor units left it
        for column in ("_minor_replacement_cost", "_minor_shipping_cost", "_minor_penalty", "_minor_recovered_amount"):
            connection.execute(text(f"alter table case_qc drop column {column}"))
    sync_source(team, store_url=store_url, now=NOW + dt.timedelta(days=1))  # the same workbook, a new day
    assert minor_rows(store_url) == {"U1": (1999, None), "J1": (1500, None)}


def test_an_older_store_gets_the_date_index_reports_read_by(team: Config, store_url: str) -> None:
    path = team.root / "master.xlsx"
    fill_master_workbook(path, team.load_schemas(), {"qc": [qc("U1", 19.99, "USD")]})
    sync_source(team, store_url=store_url, now=NOW)
    engine = create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text("drop index ix_case_qc_date"))
    sync_source(team, store_url=store_url, now=NOW + dt.timedelta(days=1))
    from sqlalchemy import inspect

    with engine.connect() as connection:
        assert "ix_case_qc_date" in {i["name"] for i in inspect(connection).get_indexes("case_qc")}
