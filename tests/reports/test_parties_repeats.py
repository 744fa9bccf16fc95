"""Sources of failure judged by funnel-plot limits when orders are known, and repeat problems."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import load_config
from kakosheet.reports.build import ReportRequest, build_report
from kakosheet.reports.logs import log_facts
from kakosheet.reports.money import Rates
from kakosheet.reports.parties import binomial_quantile
from kakosheet.reports.periods import PeriodKind, parse_period
from kakosheet.reports.render_html import render_html
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.reads import Reads
from kakosheet.store.store import Store
from tests.reports.store import SYNCED, qc

W53 = parse_period(PeriodKind.WEEKLY, "2026-W53")


def synced(tmp_path: Path, rows: dict[str, list[dict[str, Any]]]) -> tuple[Store, Any]:
    init_team(tmp_path / "team", logs=tuple(rows))
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    fill_master_workbook(tmp_path / "team" / "master.xlsx", config.load_schemas(), rows)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    sync_source(config, store_url=url, now=SYNCED)
    return Store(url, config.load_schemas()), config


def test_exact_binomial_limits() -> None:
    # Binomial(10, 10/311): P(X <= 2) = 0.9965, P(X <= 3) = 0.99986.
    assert binomial_quantile(10, 10 / 311, 0.999) == 3
    assert binomial_quantile(1, 10 / 311, 0.975) == 1  # one case of one order is within the limits
    assert binomial_quantile(50, 0.0, 0.999) == 0


def test_a_party_with_one_order_is_not_flagged_and_one_far_above_the_rate_is(tmp_path: Path) -> None:
    when = dt.datetime(2026, 12, 29, 9, 0)
    rows = [qc(f"B{i}", when, "Damaged", "Big", "Supplier") for i in range(6)]
    rows += [qc("T1", when, "Damaged", "Tiny", "Supplier")]
    rows += [qc(f"G{i}", when, "Defective", "Good", "Supplier") for i in range(3)]
    store, _ = synced(tmp_path, {"qc": rows})
    facts = log_facts(store.schemas["qc"])
    assert facts is not None
    orders = {"Big": 10, "Tiny": 1, "Good": 300}
    request = ReportRequest(period=W53, logs=(facts,), rates=Rates("USD"), timezone="UTC", orders=orders)
    report = build_report(Reads(store), request)
    parties = report.parties
    assert parties.ranked_by == "rate" and parties.overall_rate is not None
    assert str(parties.overall_rate) == "0.0322"  # 10 cases / 311 orders
    by_party = {r.party: r for r in parties.rows}
    assert (by_party["Big"].flag, str(by_party["Big"].rate)) == ("alarm", "0.6000")  # 6 > 3 cases, the 99.8% limit
    assert str(by_party["Big"].alarm[1]) == "0.3000"  # type: ignore[index]
    assert (by_party["Tiny"].flag, str(by_party["Tiny"].rate)) == (None, "1.0000")  # the highest raw rate
    assert by_party["Good"].flag is None
    assert [r.party for r in parties.rows][0] == "Big"  # flagged first, not the raw rate's 100%
    html = render_html(report)
    assert "alarm limit" in html and "<td>alarm</td>" in html


def after_sales(order: str, when: dt.datetime, sku: str, problem: str) -> dict[str, Any]:
    return {
        "reported_at": when,
        "order_number": order,
        "sku": sku,
        "supplier": "Acme",
        "problem_type": problem,
        "problem_description": "Arrived broken.",
        "stage": "Reported",
    }


def test_repeat_problems_in_the_period_and_in_three_periods_running(tmp_path: Path) -> None:
    w53 = dt.datetime(2026, 12, 29, 9, 0)
    rows = [after_sales(f"A{i}", w53, "SKU-1", "Quality Defect") for i in range(3)]
    rows += [after_sales(f"C{i}", w53 - dt.timedelta(days=7 * i), "SKU-2", "Transport Damage") for i in range(3)]
    rows += [
        after_sales("D0", w53, "SKU-3", "Transport Damage"),
        after_sales("D1", w53 - dt.timedelta(14), "SKU-3", "Transport Damage"),
    ]
    rows += [after_sales(f"E{i}", w53, "SKU-4", problem) for i, problem in enumerate(("Quality Defect", "Other"))]
    store, _ = synced(tmp_path, {"after_sales": rows})
    facts = log_facts(store.schemas["after_sales"])
    assert facts is not None
    request = ReportRequest(period=W53, logs=(facts,), rates=Rates("USD"), timezone="UTC")
    repeats = build_report(Reads(store), request).repeats
    found = {(r.sku, r.reason): (r.count, r.why, len(r.case_ids)) for r in repeats.rows}
    assert found == {
        ("SKU-1", "Quality Defect"): (3, "3 or more in the period", 3),
        ("SKU-2", "Transport Damage"): (1, "in 3 consecutive periods", 3),  # W51, W52, W53
    }  # SKU-3 skipped W52; SKU-4's two cases are two problems
    assert "needs order data" in repeats.note
