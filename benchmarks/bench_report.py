"""`kakosheet report` on big stores, SQLite and PostgreSQL, side by side with pandas `read_sql` + `groupby`.

A synthetic store of N cases across the four logs (two years of cases, four currencies) is
written straight into the store's tables once, into benchmarks/data/ (reused by later runs; the
PostgreSQL database is copied from the SQLite store, so both hold the same cases). Then, in
fresh processes, `kakosheet report weekly` as json and as xlsx (wall time with the interpreter's
start, peak RSS), and pandas in a fresh process reading the same cases and grouping them for the
same figures (timed without its imports), checked against the report's own.

    python benchmarks/bench_report.py                                   # 100k, 300k, 1M; both backends
    python benchmarks/bench_report.py --sizes 100000 --backends sqlite  # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

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
        incomplete = rng.random() < 0.03
        meta = {
            "_source": "bench.xlsx",
            "_version": 1,
            "_fingerprint": f"{i:040d}",
            "_match": None,
            "_incomplete": incomplete,
            "_issues": ["a mandatory cell is blank"] if incomplete else [],
            "_notes_digest": "",
            "_raw": None,
            "_missing_since": 1 if rng.random() < 0.005 else None,  # deleted from the sheet
            "_updated_run": 1,
        }
        minor = {minor_column(f): to_minor(row[f], row.get("currency")) for f in money}
        yield {"case_id": f"{schema.name.upper()}-{i:08d}", **row, **meta, **minor}


GENERATOR = 2  # bumped when the generated cases change: stores of an older generator are built again


def team_folder(data: Path, size: int, backend: str, layout: str = "random") -> Path:
    return data / f"report-{size}-{backend}{'' if layout == 'random' else '-' + layout}"


def _write_team(folder: Path, url: str | None = None) -> None:
    """A team folder whose store is ``url`` (the default, kakosheet.db in the folder, when None)."""
    init_team(folder, force=True)
    if url is None:
        return
    config_path = folder / "kakosheet.toml"
    text = config_path.read_text().replace('store = "sqlite:///kakosheet.db"', f'store = "{url}"')
    config_path.write_text(text)


def build_sqlite(folder: Path, size: int) -> float:
    """The SQLite store of ``size`` cases in a team folder, generated once and reused; seconds spent."""
    mark = folder / "BUILT"
    if mark.exists() and json.loads(mark.read_text()) == {"generator": GENERATOR, "cases": size}:
        return 0.0
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    url = f"sqlite:///{folder.resolve() / 'kakosheet.db'}"
    _write_team(folder)
    config = load_config(folder / "kakosheet.toml")
    schemas = config.load_schemas()
    store = Store(url, schemas)
    store.prepare()
    rng = random.Random(7)
    for log, share in SHARES.items():
        schema, table = schemas[log], store.table(log)
        with store.engine.begin() as connection:
            columns = [c.name for c in table.columns]
            insert = BulkInsert(connection, table, columns)
            rows = _values(schema, rng, round(size * share), 1)
            while chunk := [r for r in (next(rows, None) for _ in range(CHUNK)) if r is not None]:
                converted = [insert.convert(c, [r[c] for r in chunk]) for c in columns]
                insert.execute(list(zip(*converted, strict=True)))
    with store.engine.begin() as connection:  # a sync has run, as a real store says
        runs = store.metadata.tables["sync_runs"]
        connection.execute(runs.insert().values(source="bench.xlsx", started_at=END, status="done"))
    store.engine.dispose()
    mark.write_text(json.dumps({"generator": GENERATOR, "cases": size}))
    return time.perf_counter() - started


def build_dated(random_folder: Path, folder: Path, size: int) -> float:
    """The same cases stored in date order, as syncs over the years leave them (a case is stored when
    it is logged), where the random layout spreads every period's cases over the whole table."""
    mark = folder / "BUILT"
    if mark.exists() and json.loads(mark.read_text()) == {"generator": GENERATOR, "cases": size}:
        return 0.0
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    _write_team(folder)
    config = load_config(folder / "kakosheet.toml")
    store = Store(f"sqlite:///{folder.resolve() / 'kakosheet.db'}", config.load_schemas())
    store.prepare()
    store.engine.dispose()
    target = sqlite3.connect(folder / "kakosheet.db")
    target.execute("ATTACH DATABASE ? AS source", (str(random_folder / "kakosheet.db"),))
    for log in SHARES:
        schema = config.load_schemas()[log]
        assert schema.id is not None
        columns = ", ".join(f'"{r[1]}"' for r in target.execute(f"PRAGMA table_info(case_{log})"))
        target.execute(
            f"INSERT INTO case_{log} ({columns}) SELECT {columns} FROM source.case_{log} "
            f'ORDER BY "{schema.id.year_from}", case_id'
        )
    target.execute("INSERT INTO sync_runs SELECT * FROM source.sync_runs")
    target.commit()
    target.close()
    mark.write_text(json.dumps({"generator": GENERATOR, "cases": size}))
    return time.perf_counter() - started


def build_postgres(server_url: str, sqlite_folder: Path, folder: Path, size: int, layout: str) -> tuple[str, float]:
    """The same cases in a PostgreSQL database (copied from the SQLite store with COPY, in its
    order), made once."""
    import psycopg

    name = f"report_{size}_g{GENERATOR}{'' if layout == 'random' else '_' + layout}"
    url = server_url.rsplit("/", 1)[0] + "/" + name
    _write_team(folder, url)
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        if connection.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            return url, 0.0
        connection.execute(f'CREATE DATABASE "{name}_building"')
    started = time.perf_counter()
    building = url + "_building"
    config = load_config(folder / "kakosheet.toml")
    store = Store(building, config.load_schemas())
    store.prepare()
    store.engine.dispose()
    source = sqlite3.connect(sqlite_folder / "kakosheet.db")
    with psycopg.connect(building.replace("postgresql+psycopg://", "postgresql://")) as target:
        for table in [*(f"case_{log}" for log in SHARES), "sync_runs"]:
            cursor = source.execute(f'select * from "{table}" order by rowid')
            columns = ", ".join(f'"{d[0]}"' for d in cursor.description)
            with target.cursor().copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in cursor:
                    copy.write_row(row)
        target.execute("select setval('sync_runs_id_seq', (select max(id) from sync_runs))")
        target.commit()
        target.autocommit = True
        target.execute("VACUUM ANALYZE")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
    return url, time.perf_counter() - started


def start_server(data: Path) -> tuple[str, Callable[[], None]]:
    """A PostgreSQL server on a cluster kept in ``data`` (made once; as root it runs as nobody)."""
    cluster = data / "pg-report"
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "nobody", "--"]
    if not (cluster / "PG_VERSION").exists():
        cluster.mkdir(parents=True, exist_ok=True)
        if prefix:
            shutil.chown(cluster, "nobody")
        subprocess.run(
            [*prefix, "initdb", "-D", str(cluster), "-U", "kakosheet", "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            check=True,
        )
    sockets = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if prefix:
        shutil.chown(sockets, "nobody")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB"
    subprocess.run(
        [*prefix, "pg_ctl", "-D", str(cluster), "-l", str(sockets / "log"), "-o", options, "-w", "start"],
        capture_output=True,
        check=True,
    )

    def stop() -> None:
        subprocess.run([*prefix, "pg_ctl", "-D", str(cluster), "-m", "fast", "stop"], capture_output=True, check=False)
        shutil.rmtree(sockets, ignore_errors=True)

    return f"postgresql+psycopg://kakosheet@127.0.0.1:{port}/postgres", stop


_MEASURE = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "from kakosheet.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    "peak = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]\n"
    "print('BENCH', peak, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_cli(folder: Path, *args: str) -> tuple[float, int, float, str]:
    """Wall time of one fresh process (interpreter start included), its peak RSS in MB (VmHWM:
    ru_maxrss would carry the parent's peak over the fork), its CPU seconds (user + sys: what
    the load of other work disturbs less), and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"kakosheet {' '.join(args)} failed: {done.stderr}")
    peak = next(line for line in done.stderr.splitlines() if line.startswith("BENCH ")).split()[1]
    return elapsed, int(peak) // 1024, cpu, done.stdout


# ---------------------------------------------------------------------- pandas, the same figures

LOGS = {  # date, reason, status, closed, closed on, parties, costs, recovered, sku
    "qc": ("date_identified", "exception_type", "status", {"Closed"}, "closure_date",
           ["responsible_party", "source_type"], ["replacement_cost", "shipping_cost", "penalty"],
           ["recovered_amount"], None),
    "refunds": ("initiated_at", "reason_code", "status", {"Completed", "Rejected"}, "completed_at",
                ["vendor_id"], ["refund_amount"], [], None),
    "returns": ("reported_date", "defect_type", "status", {"Closed"}, None, [], ["credit_amount"], [], "sku"),
    "after_sales": ("reported_at", "problem_type", "stage", {"Closed"}, None, ["supplier", "logistics_provider"],
                    ["cost"], [], "sku"),
}  # fmt: skip


def pandas_figures(url: str, period_start: dt.date) -> dict[str, Any]:
    """What the report computes, done the pandas way: read_sql every case of each log (the report
    reads open cases and cases missing from the sheet of all time), then filter and groupby."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    week = pd.Timedelta(days=7)
    start = pd.Timestamp(period_start)
    previous = start - week
    trend_from = start - 12 * week
    as_of = start + pd.Timedelta(days=6)
    out: dict[str, Any] = {}

    def ids(frame: pd.DataFrame) -> list[str]:
        return sorted(frame["case_id"])

    for log, (date, reason, status, closed, closed_on, parties, costs, recovered, sku) in LOGS.items():
        money = [*costs, *recovered]
        minor = [f"_minor_{f}" for f in money]
        columns = ["case_id", date, reason, status, "currency", "logged_by", "_incomplete", "_issues",
                   "_missing_since", *([closed_on] if closed_on else []), *parties, *([sku] if sku else []),
                   *(["platform_fee_adjustment", "_minor_platform_fee_adjustment"] if log == "refunds" else []),
                   *money, *minor]  # fmt: skip
        frame = pd.read_sql(f"select {', '.join(dict.fromkeys(columns))} from case_{log}", engine)
        present = frame[frame["_missing_since"].isna()]
        when = pd.to_datetime(present[date]).dt.normalize()
        this = present[(when >= start) & (when < start + week)]
        before = present[(when >= previous) & (when < start)]
        net = sum(present[c].fillna(0) for c in minor[: len(costs)]) - sum(
            (present[c].fillna(0) for c in minor[len(costs) :]), 0
        )
        present = present.assign(_net=net, _when=when)
        this, before = present.loc[this.index], present.loc[before.index]
        figures: dict[str, Any] = {}
        for name, part in (("now", this), ("before", before)):
            figures[f"reasons {name}"] = part.groupby(reason, dropna=False)["case_id"].apply(sorted).to_dict()
            figures[f"reason cost {name}"] = part.groupby([reason, "currency"], dropna=False)["_net"].sum().to_dict()
            figures[f"costs {name}"] = part.groupby("currency")[minor].sum().to_dict()
            for party in parties:
                figures[f"party {party} {name}"] = part.groupby(party, dropna=False)["case_id"].apply(sorted).to_dict()
            figures[f"opened {name}"] = ids(part)
            if closed_on:
                shut = pd.to_datetime(present[closed_on]).dt.normalize()
                low = start if name == "now" else previous
                figures[f"closed {name}"] = ids(present[(shut >= low) & (shut < low + week)])
        if log == "refunds":
            figures["refunds"] = (
                this.groupby(["vendor_id", "currency"], dropna=False)
                .agg(
                    n=("case_id", "size"),
                    gross=("_minor_refund_amount", "sum"),
                    fee=("_minor_platform_fee_adjustment", "sum"),
                )
                .to_dict()
            )
        if closed_on:
            shut = pd.to_datetime(present[closed_on]).dt.normalize()
            done = present[(shut >= start) & (shut < start + week) & present[date].notna()]
            days = (shut[done.index] - done["_when"]).dt.days.sort_values()
            figures["time to close"] = (len(days), days.median() if len(days) else None)
        open_cases = present[~present[status].isin(closed) & (present["_when"] <= as_of)]
        age = (as_of - open_cases["_when"]).dt.days
        bucket = pd.cut(age, [-1, 2, 7, 14, 30, 10**6], labels=False)
        figures["open"] = open_cases.groupby([open_cases[status].fillna(""), bucket])["case_id"].apply(sorted).to_dict()
        trend = present[(present["_when"] >= trend_from - week) & (present["_when"] < start + week)]
        monday = trend["_when"] - pd.to_timedelta(trend["_when"].dt.day_of_week, unit="D")
        figures["trend"] = trend.groupby(monday)["case_id"].apply(sorted).to_dict()
        figures["trend cost"] = trend.groupby([monday, "currency"])["_net"].sum().to_dict()
        if sku:
            three = trend[trend["_when"] >= start - 2 * week]
            figures["repeats"] = three.groupby([sku, reason, monday[three.index]]).size().to_dict()
        figures["quality"] = (
            this.groupby("logged_by", dropna=False)
            .agg(n=("case_id", "size"), incomplete=("_incomplete", "sum"))
            .to_dict()
        )
        has_issues = this["_issues"].map(lambda v: bool(v) and v not in ("[]", "null"))
        figures["with issues"] = ids(this[has_issues])
        figures["missing"] = ids(frame[frame["_missing_since"].notna()])
        figures["undated"] = ids(present[present[date].isna()])
        out[log] = figures
    engine.dispose()
    return out


def _pandas_main(url: str, period_start: str, report_json: str | None) -> None:
    """In a fresh process: the pandas figures, timed without the imports; checked against the report."""
    import pandas  # noqa: F401  imports are not timed: pandas gets the benefit of the doubt
    import sqlalchemy  # noqa: F401

    started = time.perf_counter()
    figures = pandas_figures(url, dt.date.fromisoformat(period_start))
    elapsed = time.perf_counter() - started
    checked = _check(figures, json.loads(Path(report_json).read_text())) if report_json else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "checked": checked}))


def _check(figures: dict[str, Any], report: dict[str, Any]) -> int:
    """The report's figures against pandas': cases per reason and opened/closed (period and the
    previous one), open cases per status and age, the trend's counts (and the cases of its last two
    periods, the ones the report lists). Returns how many figures agreed."""
    agreed = 0
    for row in report["reasons"]["rows"]:
        if row["log"] == "all":
            continue
        ours = figures[row["log"]]
        for key, name in (("case_ids", "reasons now"), ("previous_case_ids", "reasons before")):
            theirs = next((v for k, v in ours[name].items() if (None if k != k else k) == row["reason"]), [])
            assert row["figure"][key] == theirs, (row["log"], row["reason"], key)
            agreed += 1
    for flow in report["pipeline"]["flow"]:
        ours = figures[flow["log"]]
        assert flow["opened"]["case_ids"] == ours["opened now"], flow["log"]
        assert flow["opened"]["previous_case_ids"] == ours["opened before"], flow["log"]
        agreed += 2
        if flow["closed"] is not None:
            assert flow["closed"]["case_ids"] == ours["closed now"], flow["log"]
            agreed += 1
    for row in report["pipeline"]["open_by_status"]:
        ours = figures[row["log"]]["open"]
        for index, age in enumerate(row["ages"]):
            assert age["case_ids"] == ours.get((row["status"] or "", index), []), (row["log"], row["status"], index)
            agreed += 1
    for point in report["trend"]["points"]:
        ours = figures[point["log"]]["trend"]
        theirs = next((v for k, v in ours.items() if k.date().isoformat() == point["start"]), [])
        assert point["cases"]["count"] == len(theirs), (point["log"], point["period"])
        if point["cases"]["case_ids"] or point["period"] in (report["period"], report["previous"]):
            assert point["cases"]["case_ids"] == theirs, (point["log"], point["period"])
        agreed += 1
    return agreed


def run_pandas(url: str, report_json: Path | None) -> dict[str, Any]:
    period = dt.date.fromisocalendar(int(PERIOD[:4]), int(PERIOD[-2:]), 1).isoformat()
    args = [sys.executable, __file__, "--pandas-run", url, period, str(report_json or "")]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pandas failed: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------- the run


def measure(
    folder: Path, url: str, backend: str, layout: str, size: int, built: float, args: argparse.Namespace
) -> dict[str, Any]:
    weekly = ("report", "weekly", "--period", PERIOD)
    run_cli(folder, *weekly, "--format", "json")  # warm-up: an index added since the store was built is made now
    runs = [run_cli(folder, *weekly, "--format", "json") for _ in range(args.repeat)]
    json_time, json_mb, json_cpu, document = min(runs, key=lambda r: r[0])
    report_json = folder / "report.json"
    report_json.write_text(document)
    xlsx = [
        run_cli(folder, *weekly, "--format", "xlsx", "--out", "weekly.xlsx")[:3] for _ in range(max(1, args.repeat - 1))
    ]
    xlsx_time, xlsx_mb, xlsx_cpu = min(xlsx)
    result: dict[str, Any] = {
        "backend": backend,
        "layout": layout,
        "cases": size,
        "period_cases": len(json.loads(document)["cases"]),
        "store_built_s": round(built, 1),
        "json_s": round(json_time, 2),
        "json_peak_mb": json_mb,
        "json_cpu_s": round(json_cpu, 2),
        "xlsx_s": round(xlsx_time, 2),
        "xlsx_peak_mb": xlsx_mb,
        "xlsx_cpu_s": round(xlsx_cpu, 2),
        "load": round(os.getloadavg()[0], 1),  # other work on the machine: wall times beside CPU times
    }
    if args.pandas:
        pandas = run_pandas(url, report_json if args.check else None)
        result |= {
            "pandas_s": round(pandas["seconds"], 2),
            "pandas_peak_mb": pandas["peak_mb"],
            "pandas_over_json": round(pandas["seconds"] / json_time, 2),
            "figures_checked": pandas["checked"],
        }
    return result


def _growth(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How each time grew from the smallest size to each larger one, against the cases' growth."""
    rows = []
    for backend, layout in dict.fromkeys((r["backend"], r["layout"]) for r in results):
        mine = [r for r in results if (r["backend"], r["layout"]) == (backend, layout)]
        mine.sort(key=lambda r: r["cases"])
        for later in mine[1:]:
            first = mine[0]
            rows.append(
                {
                    "backend": backend,
                    "layout": layout,
                    "from": first["cases"],
                    "to": later["cases"],
                    "cases_x": round(later["cases"] / first["cases"], 2),
                    "period_cases_x": round(later["period_cases"] / first["period_cases"], 2),
                    "json_x": round(later["json_s"] / first["json_s"], 2),
                    "json_cpu_x": round(later["json_cpu_s"] / first["json_cpu_s"], 2),
                    "xlsx_x": round(later["xlsx_s"] / first["xlsx_s"], 2),
                    "xlsx_cpu_x": round(later["xlsx_cpu_s"] / first["xlsx_cpu_s"], 2),
                }
            )
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--pandas-run":
        _pandas_main(sys.argv[2], sys.argv[3], sys.argv[4] or None)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--layouts",
        default="random",
        help="random: a period's cases spread over the table (worst case); dated: in date order, as syncs store them",
    )
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs of the json report, best kept")
    parser.add_argument("--no-pandas", dest="pandas", action="store_false")
    parser.add_argument("--no-check", dest="check", action="store_false", help="skip checking pandas' figures")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent / "data")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    args.data.mkdir(parents=True, exist_ok=True)
    server, stop = start_server(args.data) if "postgresql" in backends else (None, None)
    results = []
    try:
        for size in sizes:
            random_folder = team_folder(args.data, size, "sqlite")
            built = build_sqlite(random_folder, size)
            for layout in args.layouts.split(","):
                sqlite_folder = random_folder
                if layout == "dated":
                    sqlite_folder = team_folder(args.data, size, "sqlite", layout)
                    built = build_dated(random_folder, sqlite_folder, size)
                for backend in backends:
                    if backend == "sqlite":
                        folder, url, took = sqlite_folder, f"sqlite:///{sqlite_folder / 'kakosheet.db'}", built
                    else:
                        assert server is not None
                        folder = team_folder(args.data, size, backend, layout)
                        url, took = build_postgres(server, sqlite_folder, folder, size, layout)
                    result = measure(folder, url, backend, layout, size, took, args)
                    results.append(result)
                    print(json.dumps(result), flush=True)
    finally:
        if stop is not None:
            stop()
    growth = _growth(results)
    for row in growth:
        print(json.dumps(row))
    out = Path(__file__).resolve().parent / "results" / f"report-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()  # the machine's load when done: wall times beside CPU times say how busy it was
    record = {"commit": commit, "note": args.note, "load": load, "results": results, "growth": growth}
    out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
