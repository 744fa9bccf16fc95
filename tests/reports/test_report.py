"""The JSON report on a fixed store (tests/reports/store.py), every number worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from kakosheet.app.report import ReportOptions, make_report
from kakosheet.config import Config
from kakosheet.reports.periods import PeriodKind
from kakosheet.reports.render_json import jsonable
from tests.postgres import create_database
from tests.reports.store import build_team, ids_by_order

WEEKLY, MONTHLY = PeriodKind.WEEKLY, PeriodKind.MONTHLY


def report(
    config: Config, store_url: str, kind: PeriodKind = WEEKLY, period: str | None = "2026-W53", **more: Any
) -> dict[str, Any]:
    return jsonable(make_report(config, ReportOptions(kind, period, store_url=store_url, **more)))


@pytest.fixture
def team(tmp_path: Path, store_url: str) -> tuple[Config, str, dict[str, str]]:
    config = build_team(tmp_path / "team", store_url)
    return config, store_url, ids_by_order(store_url)


def ids(orders: dict[str, str], *names: str) -> list[str]:
    return sorted(orders[name] for name in names)


def row(rows: list[dict[str, Any]], **keys: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in keys.items())]
    assert len(found) == 1, (keys, rows)
    return found[0]


def test_the_week_across_the_year_end(team: tuple[Config, str, dict[str, str]]) -> None:
    config, url, o = team
    doc = report(config, url)
    assert (doc["period"], doc["start"], doc["end"], doc["previous"]) == (
        "2026-W53",
        "2026-12-28",
        "2027-01-03",
        "2026-W52",
    )

    # 1. Reasons. QC in W53: Q2, Q3 Damaged; Q4 Defective (23:30 on Sunday stays in its week); Q6 deleted.
    reasons = doc["reasons"]["rows"]
    damaged = row(reasons, log="qc", reason="Damaged")
    assert damaged["figure"] == {
        "count": 2,
        "previous": 0,
        "change": 2,
        "case_ids": ids(o, "Q2", "Q3"),
        "previous_case_ids": [],
    }
    assert damaged["share"] == "0.667"
    assert damaged["cost"] == [
        {"currency": "USD", "amount": "35.50", "previous": "0.00", "change": "35.50", "case_ids": ids(o, "Q2", "Q3")}
    ]  # 10.00 + 20.50 + 5.00
    defective = row(reasons, log="qc", reason="Defective")
    assert (defective["figure"]["case_ids"], defective["share"]) == (ids(o, "Q4"), "0.333")
    assert defective["cost"][0] | {"case_ids": []} == {
        "currency": "CNY",
        "amount": "100.00",
        "previous": "0.00",
        "change": "100.00",
        "case_ids": [],
    }
    assert not [r for r in reasons if r["reason"] == "Packaging Damage"]  # Q6 left the sheet
    together = row(reasons, log="all", reason="Damaged")
    assert together["figure"]["case_ids"] == ids(o, "Q2", "Q3", "R1")
    assert together["share"] == "0.600"  # 3 of Q2, Q3, Q4, R1, R2
    assert together["cost"][0]["amount"] == "75.50"  # 35.50 + R1's 40.00

    # 2. Parties: no order data, ranked by count, and it says so.
    parties = doc["parties"]
    assert parties["ranked_by"] == "count" and "no order data" in parties["note"]
    assert [(r["kind"], r["party"], r["figure"]["count"]) for r in parties["rows"]] == [
        ("Supplier", "Acme", 2),
        ("Vendor", "V01", 2),
        ("Inspector", "Beta", 1),
    ]
    assert parties["rows"][0]["figure"]["case_ids"] == ids(o, "Q2", "Q3")

    # 3. Costs per currency, never added together without rates.
    costs = {c["currency"]: c for c in doc["costs"]["currencies"]}
    assert sorted(costs) == ["CNY", "USD"]
    usd = {(line["category"], line["log"]): line["money"]["amount"] for line in costs["USD"]["lines"]}
    assert usd == {("replacement", "qc"): "30.50", ("shipping", "qc"): "5.00", ("refunds", "refunds"): "50.00"}
    assert costs["USD"]["net"]["amount"] == "85.50"
    assert costs["USD"]["net"]["previous"] == "0.00"
    assert costs["CNY"]["net"]["amount"] == "100.00"
    assert doc["costs"]["base"] is None

    # 4. Refunds by vendor: gross 40 + 10, fees 4 + 1, net deduction 45.
    assert doc["refunds"]["rows"] == [
        {
            "vendor": "V01",
            "currency": "USD",
            "refunds": 2,
            "gross": "50.00",
            "fee_adjustments": "5.00",
            "net_deduction": "45.00",
            "case_ids": ids(o, "R1", "R2"),
        }
    ]

    # 5. Pipeline on Sunday 2027-01-03: open Q1 (14 days), Q2 (6), Q4 (0); R1 (1). Q5 is later.
    pipeline = doc["pipeline"]
    qc_open = row(pipeline["open_by_status"], log="qc", status="Open")
    assert qc_open["open"] == 3
    assert {a["bucket"]: a["case_ids"] for a in qc_open["ages"] if a["count"]} == {
        "0-2 days": ids(o, "Q4"),
        "3-7 days": ids(o, "Q2"),
        "8-14 days": ids(o, "Q1"),
    }
    refunds_open = row(pipeline["open_by_status"], log="refunds", status="Initiated")
    assert refunds_open["ages"][0]["case_ids"] == ids(o, "R1")
    assert not [r for r in pipeline["open_by_status"] if r["status"] in ("Closed", "Completed")]
    flows = {f["log"]: f for f in pipeline["flow"]}
    assert flows["qc"]["opened"]["case_ids"] == ids(o, "Q2", "Q3", "Q4")
    assert flows["qc"]["closed"]["case_ids"] == ids(o, "Q3")
    assert flows["refunds"]["closed"]["count"] == 0  # R2 completed on 2027-01-05, in W01
    close = {t["log"]: t for t in pipeline["time_to_close"]}
    assert (close["qc"]["closed"], close["qc"]["median_days"], close["qc"]["p90_days"]) == (1, "1.0", 1)

    # 6. Trend: 12 weeks, W52 empty but there, W53 labelled with its ISO year and holding 2027-01-01.
    trend = doc["trend"]
    assert trend["periods"][-3:] == ["2026-W51", "2026-W52", "2026-W53"] and len(trend["periods"]) == 12
    qc_points = {p["period"]: p for p in trend["points"] if p["log"] == "qc"}
    assert [qc_points[w]["cases"]["count"] for w in ("2026-W51", "2026-W52", "2026-W53")] == [1, 0, 3]
    assert o["Q3"] in qc_points["2026-W53"]["cases"]["case_ids"]
    assert qc_points["2026-W53"]["cost"] == [
        {"currency": "CNY", "amount": "100.00", "previous": "0.00", "change": "100.00", "case_ids": ids(o, "Q4")},
        {"currency": "USD", "amount": "35.50", "previous": "0.00", "change": "35.50", "case_ids": ids(o, "Q2", "Q3")},
    ]

    # 8. Data quality: bob's Q4 has no description; Q6 is missing from the sheet.
    quality = doc["quality"]
    bob = row(quality["by_logger"], log="qc", logged_by="bob")
    assert (bob["cases"], bob["incomplete"]["case_ids"], bob["with_issues"]["case_ids"]) == (
        1,
        ids(o, "Q4"),
        ids(o, "Q4"),
    )
    ana = row(quality["by_logger"], log="qc", logged_by="ana")
    assert (ana["cases"], ana["incomplete"]["count"]) == (2, 0)
    assert row(quality["logs"], log="qc")["missing_from_sheet"]["case_ids"] == ids(o, "Q6")

    # The period's cases, with the keys the figures group by.
    lines = {c["case_id"]: c for c in doc["cases"]}
    assert sorted(lines) == ids(o, "Q2", "Q3", "Q4", "R1", "R2")
    assert lines[o["Q3"]] | {"case_id": "", "date": ""} == {
        "log": "qc",
        "case_id": "",
        "date": "",
        "reason": "Damaged",
        "party": "Acme",
        "party_kind": "Supplier",
        "status": "Closed",
        "currency": "USD",
        "net_cost": "25.50",
        "age_days": 2,
        "logged_by": "ana",
        "incomplete": False,
    }
    assert (lines[o["Q4"]]["age_days"], lines[o["Q4"]]["incomplete"], lines[o["R1"]]["net_cost"]) == (0, True, "40.00")

    # 9. Placeholders.
    assert [p["name"] for p in doc["placeholders"]] == ["SLA", "responsibility"]
    assert "no stage deadlines yet" in doc["placeholders"][0]["note"]


def test_the_next_week_and_the_months(team: tuple[Config, str, dict[str, str]]) -> None:
    config, url, o = team
    w01 = report(config, url, period="2027-W01")
    assert (w01["start"], w01["end"], w01["previous"]) == ("2027-01-04", "2027-01-10", "2026-W53")
    defective = row(w01["reasons"]["rows"], log="qc", reason="Defective")
    assert defective["figure"] == {
        "count": 1,
        "previous": 1,
        "change": 0,
        "case_ids": ids(o, "Q5"),
        "previous_case_ids": ids(o, "Q4"),
    }
    assert row(w01["pipeline"]["flow"], log="refunds")["closed"]["case_ids"] == ids(o, "R2")
    eur = {c["currency"]: c for c in w01["costs"]["currencies"]}["EUR"]
    assert eur["net"]["amount"] == "25.00"  # 30.00 replaced less 5.00 recovered

    december = report(config, url, MONTHLY, "2026-12")
    assert (december["start"], december["end"]) == ("2026-12-01", "2026-12-31")
    assert row(december["reasons"]["rows"], log="qc", reason="Damaged")["figure"]["case_ids"] == ids(o, "Q1", "Q2")
    january = report(config, url, MONTHLY, "2027-01")
    assert row(january["reasons"]["rows"], log="all", reason="Damaged")["figure"]["case_ids"] == ids(o, "Q3", "R1")
    assert row(january["reasons"]["rows"], log="qc", reason="Defective")["figure"]["count"] == 2
    assert january["trend"]["periods"][-2:] == ["2026-12", "2027-01"]


def test_the_default_period_is_the_last_complete_one_in_the_teams_timezone(
    team: tuple[Config, str, dict[str, str]],
) -> None:
    config, url, _ = team
    # Monday 01:00 in Shanghai is still Sunday in UTC: W01 is complete in Shanghai, not in UTC.
    now = dt.datetime(2027, 1, 10, 17, 0, tzinfo=dt.UTC)
    assert report(config, url, period=None, now=now)["period"] == "2027-W01"
    from dataclasses import replace

    assert report(replace(config, timezone="UTC"), url, period=None, now=now)["period"] == "2026-W53"
    assert (
        report(config, url, MONTHLY, None, now=dt.datetime(2027, 1, 31, 16, 30, tzinfo=dt.UTC))["period"] == "2027-01"
    )


def test_an_empty_period_has_every_section_and_zeros(team: tuple[Config, str, dict[str, str]]) -> None:
    config, url, _ = team
    doc = report(config, url, period="2026-W40")
    assert doc["reasons"]["rows"] == [] and doc["costs"]["currencies"] == [] and doc["refunds"]["rows"] == []
    assert [p["cases"]["count"] for p in doc["trend"]["points"]] == [0] * 24
    assert doc["pipeline"]["open_by_status"] == []


def test_costs_in_the_base_currency_only_with_a_rate_for_every_currency(
    team: tuple[Config, str, dict[str, str]], tmp_path: Path
) -> None:
    config, url, _ = team
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate,valid_from\nCNY,0.15,2026-01-01\nCNY,0.14,2026-12-01\n", encoding="utf-8")
    base = report(config, url, rates=rates)["costs"]["base"]
    assert base == {
        "currency": "USD",
        "net": "99.50",  # 85.50 USD + 100.00 CNY x 0.14
        "previous": "0.00",
        "missing_rates": [],
        "rates_on": "2027-01-03",
    }
    w01 = report(config, url, period="2027-W01", rates=rates)["costs"]
    assert w01["base"]["net"] is None and w01["base"]["missing_rates"] == ["EUR"]  # no EUR rate: no total
    assert "no rate for EUR" in w01["note"]


def test_the_same_store_on_sqlite_and_postgresql_gives_the_same_report(tmp_path: Path, postgres_server: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
    postgres_url = create_database(postgres_server)
    documents = []
    for name, url in (("a", sqlite_url), ("b", postgres_url)):
        config = build_team(tmp_path / name, url)
        orders = ids_by_order(url)
        for kind, period in ((WEEKLY, "2026-W53"), (WEEKLY, "2027-W01"), (MONTHLY, "2027-01")):
            text = json.dumps(report(config, url, kind, period), sort_keys=True)
            for order, case_id in orders.items():  # the same cases, whatever their IDs
                text = text.replace(case_id, order)
            documents.append((name, kind, period, json.loads(text)))
    for (_, kind, period, a), (_, _, _, b) in zip(documents[:3], documents[3:], strict=True):
        a.pop("source"), b.pop("source")
        assert a == b, (kind, period)
