"""`kakosheet report` on big stores, side by side with pandas `read_sql` + `groupby`.

A synthetic store of N cases across the four logs (two years of cases, four currencies) is
written straight into the store's tables; then, in fresh processes, `kakosheet report weekly`
as json and as xlsx, and in-process pandas reading the same cases and grouping them for the
same headline figures (cases per reason, cost per currency, the weekly trend).

    python benchmarks/bench_report.py                       # 100k and 1M cases, SQLite
    python benchmarks/bench_report.py --sizes 100000 --postgres   # also a PostgreSQL store
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from kakosheet.app.setup import init_team
from kakosheet.config import load_config
from kakosheet.store.bulk import BulkInsert
from kakosheet.store.minor import minor_column, money_fields, to_minor
from kakosheet.store.store import Store

SHARES = {"qc": 0.4, "refunds": 0.25, "returns": 0.2, "after_sales": 0.15}
CURRENCIES = ["USD", "EUR", "CNY", "JPY"]
END = dt.datetime(2026, 11, 30)
SPAN_DAYS = 730
PERIOD = "2026-W48"
CHUNK = 20_000
CLOSED = {
    "qc": ("status", "Closed"),
    "refunds": ("status", "Completed"),
    "returns": ("status", "Closed"),
    "after_sales": ("stage", "Closed"),
}


def _values(schema, rng: random.Random, n: int, start: int):  # type: ignore[no-untyped-def]
    """Rows of one log: the fields reports read, filled; the rest blank."""
    id_field = schema.id.field
    columns = {c.field: c for c in schema.columns if c.field not in (id_field, "issues")}
    money = money_fields(schema)
    for i in range(start, start + n):
        row = {f: None for f in columns}
        when = END - dt.timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        row[schema.id.year_from] = when if columns[schema.id.year_from].type == "datetime" else when.date()
        for f, column in columns.items():
            if column.type == "enum" and column.values and f not in ("currency",):
                row[f] = rng.choice(column.values)
        for party in ("responsible_party", "vendor_id", "supplier", "logistics_provider", "sku"):
            if party in row:
                row[party] = f"{party[:3].upper()}{rng.randrange(200):03d}"
        row["logged_by"] = f"user{rng.randrange(20)}"
        currency = rng.choice(CURRENCIES)
        if "currency" in row:
            row["currency"] = currency
        for f in money:
            if rng.random() < 0.6:
                row[f] = (
                    Decimal(rng.randrange(100, 50000)).scaleb(-2)
                    if currency != "JPY"
                    else Decimal(rng.randrange(100, 50000))
                )
        status_field, closed = CLOSED[schema.name]
        if (END - when).days > 60 and rng.random() < 0.97:  # as in a team's log: old cases are mostly closed
            row[status_field] = closed
        elif row[status_field] == closed:
            row[status_field] = None if rng.random() < 0.01 else schema.column(status_field).values[0]
        if "closure_date" in row and row.get("status") == "Closed":
            row["closure_date"] = (when + dt.timedelta(days=rng.randrange(30))).date()
        if "completed_at" in row and row.get("status") == "Completed":
            row["completed_at"] = when + dt.timedelta(days=rng.randrange(20))
        meta = {
            "_source": "bench.xlsx",
            "_version": 1,
            "_fingerprint": f"{i:040d}",
            "_incomplete": rng.random() < 0.03,
            "_issues": [],
            "_notes_digest": "",
            "_raw": None,
            "_missing_since": None,
            "_updated_run": 1,
        }
        minor = {minor_column(f): to_minor(row[f], row.get("currency")) for f in money}
        yield {"case_id": f"{schema.name.upper()}-{i:08d}", **row, **meta, **minor}


def build_store(url: str, folder: Path, size: int) -> Path:
    init_team(folder, force=True)
    config_path = folder / "kakosheet.toml"
    text = config_path.read_text().replace('store = "sqlite:///kakosheet.db"', f'store = "{url}"')
    config_path.write_text(text)
    config = load_config(config_path)
    schemas = config.load_schemas()
    store = Store(url, schemas)
    store.prepare()
    rng = random.Random(7)
    for log, share in SHARES.items():
        schema, table = schemas[log], store.table(log)
        count = round(size * share)
        with store.engine.begin() as connection:
            columns = [c.name for c in table.columns]
            insert = BulkInsert(connection, table, columns)
            rows = _values(schema, rng, count, 1)
            while True:
                chunk = [next(rows, None) for _ in range(CHUNK)]
                chunk = [r for r in chunk if r is not None]
                if not chunk:
                    break
                converted = [insert.convert(c, [r[c] for r in chunk]) for c in columns]
                insert.execute(list(zip(*converted, strict=True)))
    with store.engine.begin() as connection:  # a sync has run, as a real store says
        runs = store.metadata.tables["sync_runs"]
        connection.execute(runs.insert().values(source="bench.xlsx", started_at=END, status="done"))
    store.engine.dispose()
    return folder


def run_cli(folder: Path, *args: str) -> tuple[float, int]:
    """Wall time of one fresh process, and its peak RSS in MB (VmHWM: ru_maxrss would carry the
    parent's peak over the fork)."""
    started = time.perf_counter()
    code = (
        "import resource, sys; from kakosheet.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1], file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kakosheet {' '.join(args)} failed: {done.stderr}")
    return elapsed, int(done.stderr.strip().splitlines()[-1]) // 1024


def run_pandas(url: str) -> tuple[float, int]:
    """read_sql of the same cases + groupby for the report's headline figures, in-process."""
    import pandas as pd
    from sqlalchemy import create_engine

    started = time.perf_counter()
    engine = create_engine(url)
    dates = {
        "qc": "date_identified",
        "refunds": "initiated_at",
        "returns": "reported_date",
        "after_sales": "reported_at",
    }
    reasons = {
        "qc": "exception_type",
        "refunds": "reason_code",
        "returns": "defect_type",
        "after_sales": "problem_type",
    }
    costs = {
        "qc": ["replacement_cost", "shipping_cost", "penalty"],
        "refunds": ["refund_amount"],
        "returns": ["credit_amount"],
        "after_sales": ["cost"],
    }
    start = dt.datetime(2026, 11, 23)
    figures = 0
    for log in SHARES:
        frame = pd.read_sql(
            f"select case_id, {dates[log]}, {reasons[log]}, currency, {', '.join(costs[log])}, _missing_since "
            f"from case_{log}",
            engine,
        )
        frame = frame[frame["_missing_since"].isna()]
        when = pd.to_datetime(frame[dates[log]])
        week = frame[(when >= start) & (when < start + dt.timedelta(days=7))]
        figures += len(week.groupby(reasons[log])["case_id"].apply(list))
        for column in costs[log]:
            amounts = week[column].map(lambda v: Decimal(v) if v is not None else Decimal(0))
            figures += len(amounts.groupby(week["currency"]).sum())
        trend = frame[when >= start - dt.timedelta(weeks=12)]
        figures += len(trend.groupby(pd.to_datetime(trend[dates[log]]).dt.to_period("W"))["case_id"].apply(list))
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--postgres", action="store_true", help="also a PostgreSQL store (tests/postgres.py)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    server = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.postgres import create_database, start_postgres

        server = start_postgres()
    try:
        for size in sizes:
            backends = [("sqlite", None)] + ([("postgresql", server)] if server else [])
            for backend, pg in backends:
                folder = Path(tempfile.mkdtemp(prefix=f"bench-report-{backend}-{size}-"))
                url = f"sqlite:///{folder / 'kakosheet.db'}" if pg is None else create_database(pg.url)
                started = time.perf_counter()
                build_store(url, folder, size)
                built = time.perf_counter() - started
                json_time, json_mb = min(run_cli(folder, "report", "weekly", "--period", PERIOD) for _ in range(3))
                xlsx_time, xlsx_mb = min(
                    run_cli(folder, "report", "weekly", "--period", PERIOD, "--format", "xlsx", "--out", "w.xlsx")
                    for _ in range(2)
                )
                pandas_time, pandas_mb = run_pandas(url)
                result = {
                    "backend": backend,
                    "cases": size,
                    "store_built_s": round(built, 1),
                    "json_s": round(json_time, 2),
                    "json_peak_mb": json_mb,
                    "xlsx_s": round(xlsx_time, 2),
                    "xlsx_peak_mb": xlsx_mb,
                    "pandas_s": round(pandas_time, 2),
                    "pandas_peak_mb": pandas_mb,
                    "pandas_over_json": round(pandas_time / json_time, 2),
                }
                results.append(result)
                print(json.dumps(result), flush=True)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
