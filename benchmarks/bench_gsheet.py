"""Benchmark of `kakosheet sync` from a Google Sheet, against the local Sheets API server.

    python benchmarks/bench_gsheet.py --sizes 1000,50000

For each size, the same generated QC log (without case IDs) is loaded into a spreadsheet on
the local Sheets API server (tests/sheets_api, the one the tests use: gspread and google-auth
run for real over HTTP on loopback) and synced into an empty SQLite store; then synced again
unchanged. Side by side, in the same run, the same rows are synced from the .xlsx file. It
reports the API requests of each sync by endpoint (they must not grow with the rows), the
times, and the Google sync's time as a ratio to the file's. Results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import python_calamine

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import ensure_unsynced  # noqa: E402
from bench_validate import size_label  # noqa: E402

from kakosheet.app.setup import init_team  # noqa: E402
from kakosheet.app.sync import sync_source  # noqa: E402
from kakosheet.config import load_config  # noqa: E402
from tests.sheets_api import SheetsApiServer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
EMAIL = "bench@after-sales.iam.gserviceaccount.com"


def endpoint(path: str, key: str) -> str:
    return path.replace(key, "{id}")


def timed_sync(folder: Path, spec: str) -> tuple[float, Any]:
    config = load_config(folder / "kakosheet.toml")
    started = time.perf_counter()
    result = sync_source(config, spec)
    return time.perf_counter() - started, result


def bench_size(api: SheetsApiServer, rows: int, scratch: Path) -> dict[str, Any]:
    workbook = ensure_unsynced(rows)
    tab = python_calamine.CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("QC Log").to_python()
    book = api.create_spreadsheet(title=f"QC {rows}", tabs={"QC Log": tab}, share_with=[EMAIL])

    file_team, google_team = scratch / f"file-{rows}", scratch / f"google-{rows}"
    for folder in (file_team, google_team):
        init_team(folder, logs=("qc",))
    local_copy = file_team / "log.xlsx"
    shutil.copyfile(workbook, local_copy)
    file_seconds, _ = timed_sync(file_team, str(local_copy))

    api.reset_requests()
    first_seconds, first = timed_sync(google_team, f"gsheet:{book.key}")
    first_requests = Counter(f"{r.method} {endpoint(r.path, book.key)}" for r in api.requests)
    api.reset_requests()
    again_seconds, again = timed_sync(google_team, f"gsheet:{book.key}")
    again_requests = Counter(f"{r.method} {endpoint(r.path, book.key)}" for r in api.requests)
    assert first.counts["qc"]["new"] == len(tab) - 1 and not again.written
    return {
        "rows": rows,
        "xlsx_first_sync_s": round(file_seconds, 2),
        "gsheet_first_sync_s": round(first_seconds, 2),
        "gsheet_over_xlsx": round(first_seconds / file_seconds, 2),
        "gsheet_unchanged_resync_s": round(again_seconds, 2),
        "first_sync_requests": dict(sorted(first_requests.items())),
        "unchanged_resync_requests": dict(sorted(again_requests.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,50000", help="comma-separated row counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as scratch, SheetsApiServer() as api:
        credentials = api.service_account_file(Path(scratch), email=EMAIL)
        os.environ.update({"KAKOSHEET_SHEETS_API_URL": api.url, "GOOGLE_APPLICATION_CREDENTIALS": str(credentials)})
        for rows in sizes:
            print(f"{size_label(rows)} rows ...", flush=True)
            results.append(bench_size(api, rows, Path(scratch)))
            print(json.dumps(results[-1], indent=1), flush=True)
    counts = [sum(r["first_sync_requests"].values()) for r in results]
    same = all(r["first_sync_requests"] == results[0]["first_sync_requests"] for r in results)
    print(f"\nrequests per first sync: {counts} -> {'equal at every size' if same else 'NOT EQUAL'}")
    for r in results:
        print(
            f"{size_label(r['rows']):>5}: Google Sheet first sync {r['gsheet_first_sync_s']} s = "
            f"{r['gsheet_over_xlsx']}x the same sync from .xlsx ({r['xlsx_first_sync_s']} s); "
            f"unchanged re-sync {r['gsheet_unchanged_resync_s']} s, "
            f"{sum(r['unchanged_resync_requests'].values())} requests"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gsheet.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
