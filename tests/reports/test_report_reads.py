"""How a report reads the store: one snapshot that takes no write lock, IDs listed only where the
report lists them, the indexes its queries use (added to an older store), the same figures to the
cent on SQLite and PostgreSQL for a store of thousands of cases, and cells Excel can hold."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import zipfile
from dataclasses import replace
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import create_engine, inspect, text

from kakosheet.app.report import ReportOptions, make_report
from kakosheet.app.setup import init_team
from kakosheet.config import Config, load_config
from kakosheet.core.owned_tab import CELL_CHARS
from kakosheet.reports.periods import PeriodKind
from kakosheet.reports.render_json import jsonable, render_json
from kakosheet.reports.render_xlsx import render_xlsx
from kakosheet.reports.tables import layout
from kakosheet.store.bulk import BulkInsert
from kakosheet.store.minor import minor_column, money_fields, to_minor
from kakosheet.store.reads import Between, Reads, Scope
from kakosheet.store.store import Store
from tests.postgres import create_database
from tests.reports.store import build_team, ids_by_order

WEEKLY = PeriodKind.WEEKLY


def test_the_trend_lists_ids_of_the_period_and_the_one_before_only(tmp_path: Path, store_url: str) -> None:
    config = build_team(tmp_path / "team", store_url)
    orders = ids_by_order(store_url)
    doc = jsonable(make_report(config, ReportOptions(WEEKLY, "2027-W01", store_url=store_url)))
    qc = {p["period"]: p for p in doc["trend"]["points"] if p["log"] == "qc"}
    assert qc["2027-W01"]["cases"] == {"count": 1, "case_ids": [orders["Q5"]]}
    assert qc["2026-W53"]["cases"]["count"] == 3 and orders["Q3"] in qc["2026-W53"]["cases"]["case_ids"]
    # W51, older: counted and costed, its cases not listed (a trend of 12 periods would list them all)
    assert qc["2026-W51"]["cases"] == {"count": 1, "case_ids": []}
    assert [(c["currency"], c["amount"], c["case_ids"]) for c in qc["2026-W51"]["cost"]] == [("USD", "1.00", [])]
    assert [c["previous"] for c in qc["2026-W52"]["cost"]] == ["1.00"]  # the change against it stays exact


def test_a_report_reads_one_snapshot_and_takes_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "team" / "kakosheet.db"
    config = build_team(tmp_path / "team", f"sqlite:///{path}")
    store = Store(f"sqlite:///{path}", config.load_schemas(), create=False)
    reads = Reads(store)
    scope = Scope("qc", (Between("date_identified", dt.date(2026, 12, 28), dt.date(2027, 1, 4)),))
    with reads.snapshot():
        before = reads.groups(scope, [])[0].count
        writer = sqlite3.connect(path, timeout=0.2)  # a sync writing meanwhile: not kept waiting
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("update case_qc set date_identified = '2026-12-29 10:00:00.000000' where 1")
        writer.commit()
        writer.close()
        assert reads.groups(scope, [])[0].count == before  # the report's figures agree with each other
    assert reads.groups(scope, [])[0].count == 5  # the next report sees the sync's change
    store.engine.dispose()


def test_an_older_store_gets_the_indexes_reports_read_by_on_the_next_report(tmp_path: Path, store_url: str) -> None:
    config = build_team(tmp_path / "team", store_url)
    wanted = {"ix_case_qc_date", "ix_case_qc_status", "ix_case_qc_closure_date", "ix_case_qc_missing"}
    wanted |= {"ix_case_refunds_status", "ix_case_refunds_completed_at", "ix_case_refunds_missing"}
    engine = create_engine(store_url)
    with engine.begin() as connection:
        for name in sorted(wanted):
            connection.execute(text(f"drop index {name}"))
    make_report(config, ReportOptions(WEEKLY, "2026-W53", store_url=store_url))
    with engine.connect() as connection:
        found = {i["name"] for t in ("case_qc", "case_refunds") for i in inspect(connection).get_indexes(t)}
        missing = connection.execute(text("select count(*) from case_qc where _missing_since is not null")).scalar()
    engine.dispose()
    assert wanted <= found
    assert missing == 1  # Q6, deleted from the sheet: what the partial index holds


# ---------------------------------------------------------------------- thousands of cases, both stores

LOGS = ("qc", "refunds", "returns", "after_sales")
CLOSED = {"qc": "Closed", "refunds": "Completed", "returns": "Closed", "after_sales": "Closed"}
END = dt.datetime(2026, 11, 30)


def _cases(config: Config, log: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Cases of one log written as a sync stores them: every kind of value reports group by, four
    currencies (JPY without minor units), open and closed, a few missing from the sheet or undated."""
    schema = config.load_schemas()[log]
    assert schema.id is not None and schema.id.year_from is not None
    id_field, date_field = schema.id.field, schema.id.year_from
    fields = {c.field: c for c in schema.columns if c.field not in (id_field, "issues")}
    money = money_fields(schema)
    rows = []
    for i in range(count):
        row: dict[str, Any] = dict.fromkeys(fields)
        when = END - dt.timedelta(minutes=rng.randrange(200 * 24 * 60))
        row[date_field] = when if fields[date_field].type == "datetime" else when.date()
        if rng.random() < 0.01:
            row[date_field] = None
        for name, column in fields.items():
            if column.type == "enum" and column.values and rng.random() < 0.95:
                row[name] = rng.choice(column.values)
        for party in ("responsible_party", "vendor_id", "supplier", "logistics_provider", "sku", "logged_by"):
            if party in row:
                row[party] = f"{party[:3]}{rng.randrange(12)}" if rng.random() < 0.97 else None
        currency = rng.choice(["USD", "EUR", "JPY", "CNY", None, "XX"])  # XX: not a currency, not summed
        if "currency" in row:
            row["currency"] = currency
        for name in money:
            if rng.random() < 0.7:
                row[name] = Decimal(rng.randrange(1, 99999)).scaleb(-rng.choice([0, 1, 2]))
        status = "stage" if log == "after_sales" else "status"
        if rng.random() < 0.6:
            row[status] = CLOSED[log]
        closed_on = {"qc": "closure_date", "refunds": "completed_at"}.get(log)
        if closed_on and row[status] == CLOSED[log] and rng.random() < 0.9:
            shut = when + dt.timedelta(days=rng.randrange(40), hours=rng.randrange(24))
            row[closed_on] = shut.date() if fields[closed_on].type == "date" else shut
        incomplete = rng.random() < 0.05
        meta = {
            "_source": "book.xlsx",
            "_version": 1,
            "_fingerprint": f"{i:040d}",
            "_match": None,
            "_incomplete": incomplete,
            "_issues": ["a mandatory cell is blank"] if incomplete else [],
            "_notes_digest": "",
            "_raw": None,
            "_missing_since": 1 if rng.random() < 0.02 else None,
            "_updated_run": 1,
        }
        minor = {minor_column(f): to_minor(row[f], row.get("currency")) for f in money}
        rows.append({"case_id": f"{log.upper()}-{i:06d}", **row, **meta, **minor})
    return rows


def _filled(folder: Path, url: str, rows: dict[str, list[dict[str, Any]]]) -> Config:
    init_team(folder, timezone="Asia/Shanghai")
    config_path = folder / "kakosheet.toml"
    config_path.write_text(config_path.read_text().replace('store = "sqlite:///kakosheet.db"', f'store = "{url}"'))
    config = load_config(config_path)
    store = Store(url, config.load_schemas())
    store.prepare()
    for log, cases in rows.items():
        table = store.table(log)
        with store.engine.begin() as connection:
            columns = [c.name for c in table.columns]
            insert = BulkInsert(connection, table, columns)
            insert.execute(list(zip(*(insert.convert(c, [r[c] for r in cases]) for c in columns), strict=True)))
    with store.engine.begin() as connection:
        runs = store.metadata.tables["sync_runs"]
        connection.execute(runs.insert().values(source="book.xlsx", started_at=END, status="done"))
    store.engine.dispose()
    return config


def test_thousands_of_cases_give_the_same_report_to_the_cent_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_server: str
) -> None:
    rng = random.Random(5)
    template = _filled(tmp_path / "template", f"sqlite:///{tmp_path / 'template.db'}", {})
    rows = {log: _cases(template, log, 1500, rng) for log in LOGS}
    urls = {"sqlite": f"sqlite:///{tmp_path / 'store.db'}", "postgresql": create_database(postgres_server)}
    teams = {name: _filled(tmp_path / name, url, rows) for name, url in urls.items()}
    for kind, period in ((WEEKLY, "2026-W47"), (PeriodKind.MONTHLY, "2026-10")):
        documents = [
            json.loads(render_json(make_report(teams[name], ReportOptions(kind, period, store_url=url))))
            for name, url in urls.items()
        ]
        assert documents[0] == documents[1], (kind, period)
        doc = documents[0]
        assert doc["cases"] and doc["pipeline"]["open_by_status"] and doc["quality"]["logs"][0]["missing_from_sheet"]
        assert {c["currency"] for c in doc["costs"]["currencies"]} == {"CNY", "EUR", "JPY", "USD"}
        assert doc["costs"]["unsummed"]["count"] > 0  # amounts in "XX": in no total
        # every figure to the cent: the net cost per currency, summed from the cases listed
        for cost in doc["costs"]["currencies"]:
            total = sum(
                Decimal(line["money"]["amount"]) * (-1 if line["category"] == "recovered" else 1)
                for line in cost["lines"]
            )
            assert Decimal(cost["net"]["amount"]) == total


def test_a_cell_excel_cannot_hold_is_cut_with_a_note(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team' / 'kakosheet.db'}"
    config = build_team(tmp_path / "team", url)
    report = make_report(config, ReportOptions(WEEKLY, "2026-W53", store_url=url))
    many = tuple(f"QC-2026-{i:06d}" for i in range(5000))  # 5000 IDs: 80,000 characters joined
    flows = (replace(report.pipeline.flow[0], opened=replace(report.pipeline.flow[0].opened, case_ids=many)),)
    report = replace(report, pipeline=replace(report.pipeline, flow=flows + report.pipeline.flow[1:]))
    data = render_xlsx(report)
    sheet = load_workbook(BytesIO(data))["Opened and closed"]
    header = [c.value for c in sheet[4]]
    assert header[:5] == ["Log", "Opened", "Opened before", "Closed", "Closed before"]  # a table's names are unique
    cell = str(sheet.cell(5, len(header)).value)
    assert len(cell) <= CELL_CHARS and cell.startswith("QC-2026-000000, QC-2026-000001")
    kept = cell.split(" … ")[0].count(", ") + 1
    listed = len(next(t for t in layout(report).tables if t.key == "flow").case_ids[0])  # 5000 and the real ones
    assert cell.endswith(f"… and {listed - kept} more (the Cases table and the JSON report list them all)")
    with zipfile.ZipFile(BytesIO(data)) as package:
        assert b"QC-2026-004999" not in package.read("xl/sharedStrings.xml")
