"""Side-by-side benchmark of `kakosheet validate` on generated QC logs, against its peers.

    python benchmarks/bench_validate.py --sizes 10000,100000,300000 [--shapes excel,inline]

For each size and each shape of workbook (``excel``: shared strings and hyperlinks, as Excel
writes; ``inline``: inline strings; see generate.py), side by side in one run: python-calamine
reading the tab (the floor), `kakosheet validate` end to end in a fresh process (time and peak
RSS), kakosheet in-process, openpyxl read-only iteration and frictionless with an equivalent
Table Schema. Missing workbooks are generated into
benchmarks/data/; results go to benchmarks/results/ as JSON. Targets are reported, never
asserted.

Every ratio divides by the in-process python-calamine read of the file validated. The CLI runs
as an installed kakosheet runs, with its bytecode: kakosheet is byte-compiled once before the
first measurement (as installing its wheel does), and every fresh process runs without
PYTHONDONTWRITEBYTECODE (a shell that sets it would make an editable install compile kakosheet
again at every start, about 0.15 s, which no installed user pays).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import python_calamine

from kakosheet.app.validate import validate_source
from kakosheet.config import load_config
from kakosheet.core.codes import COUNTRIES, CURRENCIES
from kakosheet.core.issues import ERROR
from kakosheet.core.schema import LogSchema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import DATA_DIR, HARMLESS, SHAPES, generate, read_manifest  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TAB = "QC Log"
OPENPYXL_DEFAULT_MAX = 100_000
FRICTIONLESS_DEFAULT_MAX = 100_000

# Targets the project sets for itself.
TARGET_VS_CALAMINE = 2.0  # kakosheet validate end to end <= 2x the calamine read
TARGET_VS_FRICTIONLESS = 8.0  # kakosheet validate >= 8x faster than frictionless
LINEAR_TOLERANCE = 1.5  # bytes per added row may grow at most this much between sizes

# Runs a command in this fresh interpreter and prints: exit code, wall seconds, peak RSS (KiB).
_MEASURE = """\
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
print(code, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
_CALAMINE_READ = (
    "import sys, python_calamine as c; "
    f"c.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name({TAB!r}).to_python()"
)


def size_label(rows: int) -> str:
    """10000 -> 10k, 1500000 -> 1500k."""
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def best_of(repeat: int, func: Callable[[], Any]) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` calls, and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def fresh_process_environment() -> dict[str, str]:
    """This process's environment for a measured fresh process: without PYTHONDONTWRITEBYTECODE,
    so Python reads (and writes) bytecode caches as it does for an installed user."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def warm_up() -> None:
    """Byte-compile the kakosheet measured, as installing its wheel does: no measured run compiles it."""
    import kakosheet

    package = Path(kakosheet.__file__).resolve().parent
    compile_all = [sys.executable, "-m", "compileall", "-q", str(package)]
    subprocess.run(compile_all, env=fresh_process_environment(), check=True, stdout=subprocess.DEVNULL)


def run_fresh(command: list[str]) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (bytes) of a command in a fresh process, with bytecode caching."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        text=True,
        check=True,
        env=fresh_process_environment(),
    )
    code, wall, peak_kib = out.stdout.split()
    return int(code), float(wall), int(peak_kib) * 1024


def run_measured(command: list[str], repeat: int) -> dict[str, Any]:
    """Best wall time and largest peak RSS of a command run ``repeat`` times, each in a fresh process."""
    walls, peaks, codes = [], [], set()
    for _ in range(repeat):
        code, wall, peak = run_fresh(command)
        codes.add(code)
        walls.append(wall)
        peaks.append(peak)
    return {"seconds": min(walls), "peak_rss": max(peaks), "exit_codes": sorted(codes)}


def kakosheet_command() -> list[str]:
    """The installed `kakosheet` script beside this interpreter, else `python -m kakosheet`."""
    script = Path(sys.executable).with_name("kakosheet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kakosheet"]


def workbook_path(rows: int, shape: str, *, synced: bool = True) -> Path:
    """Where the generated workbook of this size and shape lives: qc-100k.xlsx, qc-100k-inline-unsynced.xlsx."""
    parts = [f"qc-{size_label(rows)}"] + ([] if shape == "excel" else [shape]) + ([] if synced else ["unsynced"])
    return DATA_DIR / ("-".join(parts) + ".xlsx")


def ensure_workbook(rows: int, shape: str = "excel", *, case_ids: bool = True) -> tuple[Path, dict[str, Any]]:
    """The generated workbook of this size and shape and its MANIFEST entry, generating it when missing."""
    path = workbook_path(rows, shape, synced=case_ids)
    entry = read_manifest(path) if path.is_file() else None
    # Entries written before shapes existed are inline workbooks.
    if entry is None or entry["rows"] != rows or entry.get("shape", "inline") != shape or entry["case_ids"] != case_ids:
        print(f"generating {path.name} ...", flush=True)
        entry = generate(rows, path, case_ids=case_ids, shape=shape)
        print(f"  make_cases {entry['seconds_make_cases']} s, write {entry['seconds_write_xlsx']} s", flush=True)
    return path, entry


def calamine_read(path: Path) -> list[list[Any]]:
    """python-calamine reading the QC tab into Python lists."""
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(TAB).to_python()


def openpyxl_read(path: Path) -> int:
    """openpyxl read-only iteration over every value; returns the number of rows."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in workbook[TAB].iter_rows(values_only=True))
    workbook.close()
    return count


def table_schema(schema: LogSchema, today: dt.date) -> dict[str, Any]:
    """A Frictionless Table Schema with the column-level rules of a kakosheet log schema.

    Types, required, enum lists, min/max, an email pattern, ISO code lists and not-in-the-future
    (as a maximum). Cross-field rules (required when, only when, date order) have no equivalent.
    """
    types = {
        "date": "date",
        "datetime": "datetime",
        "money": "number",
        "number": "number",
        "integer": "integer",
        "percent": "number",
        "bool": "boolean",
    }
    fields = []
    for column in schema.columns:
        constraints: dict[str, Any] = {}
        if column.required and column.kind == "input":
            constraints["required"] = True
        if column.values:
            constraints["enum"] = list(column.values)
        if column.minimum is not None:
            constraints["minimum"] = float(column.minimum)
        if column.maximum is not None:
            constraints["maximum"] = float(column.maximum)
        if column.type == "email":
            constraints["pattern"] = r"[^@\s]+@[^@\s]+\.[^@\s.]+"
        if column.type == "urls":
            constraints["pattern"] = r"https?://\S+(\s+https?://\S+)*"
        if column.type in ("currency", "country"):
            constraints["enum"] = sorted(CURRENCIES if column.type == "currency" else COUNTRIES)
        if column.not_future:
            constraints["maximum"] = today.isoformat() if column.type == "date" else f"{today.isoformat()}T23:59:59"
        field = {"name": column.label, "type": types.get(column.type, "string")}
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields}


def frictionless_installed() -> bool:
    """Import frictionless ahead of timing it (kakosheet's imports are outside its in-process time too)."""
    try:
        import frictionless  # noqa: F401
    except ImportError:
        return False
    return True


def frictionless_validate(path: Path, schema: LogSchema, today: dt.date) -> dict[str, Any]:
    """Validate the QC tab with frictionless; blank trailing cells (missing-cell) are not errors."""
    from frictionless import Checklist, Resource, Schema, formats

    resource = Resource(
        path=path.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(table_schema(schema, today)),
        control=formats.ExcelControl(sheet=TAB),
    )
    report = resource.validate(Checklist(skip_errors=["missing-cell"]), limit_errors=10_000_000)
    errors = report.flatten(["rowNumber", "type"])
    return {
        "errors": len(errors),
        "error_rows": sorted({row for row, _ in errors if row is not None}),
        "by_type": dict(Counter(kind for _, kind in errors).most_common()),
    }


def kakosheet_in_process(path: Path) -> dict[str, Any]:
    """kakosheet's validate use case in this process; the issues summarised."""
    report = validate_source(load_config(None), str(path))
    errors = [issue for issue in report.issues if issue.severity == ERROR]
    return {
        "issues": len(report.issues),
        "errors": len(errors),
        "warnings": len(report.issues) - len(errors),
        "error_rows": sorted({issue.row for issue in errors if issue.row is not None}),
        "by_code": dict(Counter(issue.code for issue in report.issues).most_common()),
    }


def against_planted(flagged_rows: list[int], manifest: dict[str, Any]) -> dict[str, int]:
    """How the rows a validator flagged compare with the rows planted with a mistake."""
    planted = {int(row): name for row, name in manifest["planted_rows"].items()}
    errors = {row for row, name in planted.items() if name not in HARMLESS}
    flagged = set(flagged_rows)
    return {
        "planted_error_rows": len(errors),
        "flagged_rows": len(flagged),
        "planted_found": len(errors & flagged),
        "harmless_flagged": len((planted.keys() - errors) & flagged),
        "unplanted_flagged": len(flagged - planted.keys()),
    }


def profile_in_process(path: Path, top: int = 10) -> str:
    """The ``top`` kakosheet functions by cumulative time while validating ``path``."""
    profiler = cProfile.Profile()
    profiler.runcall(validate_source, load_config(None), str(path))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"kakosheet[/\\](core|app|sources)", top)
    return out.getvalue()


def bench_size(rows: int, shape: str, args: argparse.Namespace, today: dt.date) -> dict[str, Any]:
    """Every measurement for one generated workbook."""
    path, manifest = ensure_workbook(rows, shape)
    schema = load_config(None).load_schemas()["qc"]
    result: dict[str, Any] = {
        "rows": rows,
        "shape": shape,
        "file": path.name,
        "bytes": path.stat().st_size,
        "planted": manifest["planted"],
        "planted_errors": manifest["planted_errors"],
    }
    timings: dict[str, dict[str, Any]] = {}
    print(
        f"\n== {rows:,} rows, {shape} shape: {path.name} ({path.stat().st_size / 1e6:.1f} MB), "
        f"{manifest['planted']} planted mistakes ({manifest['planted_errors']} should be errors)",
        flush=True,
    )

    seconds, grid = best_of(args.repeat, lambda: calamine_read(path))
    timings["calamine_read"] = {"seconds": seconds, "rows_read": len(grid)}
    del grid
    timings["calamine_process"] = run_measured([sys.executable, "-c", _CALAMINE_READ, str(path)], args.repeat)
    timings["kakosheet_startup"] = run_measured([*kakosheet_command(), "--version"], args.repeat)
    timings["kakosheet_cli"] = run_measured(
        [*kakosheet_command(), "validate", str(path), "--format", "json"], args.repeat
    )
    seconds, found = best_of(args.repeat, lambda: kakosheet_in_process(path))
    timings["kakosheet_in_process"] = {"seconds": seconds}
    result["kakosheet"] = {
        **{k: v for k, v in found.items() if k != "error_rows"},
        **against_planted(found["error_rows"], manifest),
    }
    if args.with_openpyxl or (args.with_openpyxl is None and rows <= OPENPYXL_DEFAULT_MAX):
        seconds, _ = best_of(1, lambda: openpyxl_read(path))
        timings["openpyxl_read"] = {"seconds": seconds}
    if not args.no_frictionless and (args.with_frictionless_all or rows <= FRICTIONLESS_DEFAULT_MAX):
        if not frictionless_installed():
            print("  frictionless is not installed: pip install -e '.[bench]'")
        else:
            seconds, found = best_of(1, lambda: frictionless_validate(path, schema, today))
            timings["frictionless"] = {"seconds": seconds}
            result["frictionless"] = {
                **{k: v for k, v in found.items() if k != "error_rows"},
                **against_planted(found["error_rows"], manifest),
            }
    floor = timings["calamine_read"]["seconds"]
    for timing in timings.values():
        timing["x_calamine"] = timing["seconds"] / floor
    result["timings"] = timings
    print_size(result)
    return result


NAMES = {
    "calamine_read": "python-calamine read (in-process)",
    "calamine_process": "python-calamine read (fresh process)",
    "kakosheet_startup": "kakosheet --version (CLI start only)",
    "kakosheet_cli": "kakosheet validate --format json (CLI)",
    "kakosheet_in_process": "kakosheet validate_source (in-process)",
    "openpyxl_read": "openpyxl read-only iteration",
    "frictionless": "frictionless validate (Table Schema)",
}


def print_size(result: dict[str, Any]) -> None:
    """The timing table and the issue counts of one size."""
    print(f"  {'what':42} {'seconds':>8} {'x calamine':>10} {'peak RSS MB':>12}")
    for key, timing in result["timings"].items():
        peak = f"{timing['peak_rss'] / 2**20:12.0f}" if "peak_rss" in timing else f"{'':12}"
        print(f"  {NAMES[key]:42} {timing['seconds']:8.2f} {timing['x_calamine']:10.2f} {peak}")
    cli = result["timings"]["kakosheet_cli"]
    if cli["exit_codes"] != [1]:
        print(f"  ! kakosheet validate exited {cli['exit_codes']}, expected 1 (errors found)")
    for tool in ("kakosheet", "frictionless"):
        if tool in result:
            found = result[tool]
            print(
                f"  {tool}: {found['errors']} errors in {found['flagged_rows']} rows; planted error rows "
                f"found {found['planted_found']}/{found['planted_error_rows']}, "
                f"rows with a forgivable mistake flagged {found['harmless_flagged']}, "
                f"rows with nothing planted flagged {found['unplanted_flagged']}"
            )


def summarize(results: list[dict[str, Any]]) -> list[str]:
    """The project's targets, each as a 'target met / not met' line."""
    lines = []

    def verdict(ok: bool) -> str:
        return "target met" if ok else "target NOT met"

    for result in results:
        timings, label = result["timings"], f"{result['rows']:>9,} rows, {result['shape']:6}"
        ratio = timings["kakosheet_cli"]["x_calamine"]
        in_process = timings["kakosheet_in_process"]["x_calamine"]
        lines.append(
            f"{label}: validate end to end {ratio:.2f}x the calamine read "
            f"(in-process {in_process:.2f}x; target <= {TARGET_VS_CALAMINE:g}x end to end): "
            f"{verdict(ratio <= TARGET_VS_CALAMINE)}"
        )
        if "frictionless" in timings:
            speedup = timings["frictionless"]["seconds"] / timings["kakosheet_cli"]["seconds"]
            in_process = timings["frictionless"]["seconds"] / timings["kakosheet_in_process"]["seconds"]
            lines.append(
                f"{label}: validate end to end {speedup:.1f}x faster than frictionless "
                f"(in-process {in_process:.1f}x; target >= {TARGET_VS_FRICTIONLESS:g}x end to end): "
                f"{verdict(speedup >= TARGET_VS_FRICTIONLESS)}"
            )
    for shape in dict.fromkeys(result["shape"] for result in results):
        lines += memory_lines([result for result in results if result["shape"] == shape], shape)
    return lines


def memory_lines(results: list[dict[str, Any]], shape: str) -> list[str]:
    """Peak RSS per size of one shape and whether it grows linearly."""
    lines = []

    def verdict(ok: bool) -> str:
        return "target met" if ok else "target NOT met"

    ordered = sorted(results, key=lambda r: r["rows"])
    for result in ordered:
        peak, floor = result["timings"]["kakosheet_cli"]["peak_rss"], result["timings"]["calamine_process"]["peak_rss"]
        lines.append(
            f"{shape}: peak RSS at {result['rows']:,} rows: {peak / 2**20:.0f} MB, {peak / result['rows']:,.0f} "
            f"bytes per row (calamine read alone: {floor / 2**20:.0f} MB)"
        )
    increments = []
    for small, large in zip(ordered, ordered[1:], strict=False):
        added = large["timings"]["kakosheet_cli"]["peak_rss"] - small["timings"]["kakosheet_cli"]["peak_rss"]
        per_row = added / (large["rows"] - small["rows"])
        increments.append(per_row)
        lines.append(
            f"{shape}: peak RSS {small['rows']:,} -> {large['rows']:,} rows: +{added / 2**20:.0f} MB, "
            f"{per_row:,.0f} bytes per added row"
        )
    if len(increments) >= 2:
        growth = max(b / a for a, b in zip(increments, increments[1:], strict=False) if a > 0)
        lines.append(
            f"{shape}: memory growth: bytes per added row grow at most {growth:.2f}x between sizes "
            f"(linear if <= {LINEAR_TOLERANCE:g}x): {verdict(growth <= LINEAR_TOLERANCE)}"
        )
    return lines


def main() -> None:
    """Command line: benchmark each size, print the tables and targets, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated row counts")
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help="comma-separated workbook shapes: excel (as Excel writes), inline"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument(
        "--with-openpyxl",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"openpyxl read-only iteration (default: sizes <= {OPENPYXL_DEFAULT_MAX:,})",
    )
    parser.add_argument(
        "--with-frictionless-all",
        action="store_true",
        help=f"run frictionless on every size, not only <= {FRICTIONLESS_DEFAULT_MAX:,}",
    )
    parser.add_argument("--no-frictionless", action="store_true", help="skip frictionless entirely")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="ROWS",
        help="cProfile the in-process validate on this size (the first shape); top 10 kakosheet functions",
    )
    parser.add_argument("--note", help="free text stored in the results JSON (e.g. what was measured)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"--shapes: unknown {', '.join(sorted(unknown))}; expected {', '.join(SHAPES)}")
    today = dt.date.today()
    started = time.perf_counter()
    warm_up()
    results = [bench_size(rows, shape, args, today) for rows in sizes for shape in shapes]
    print("\n== targets")
    targets = summarize(results)
    print("\n".join(targets))
    record = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {_cpu_count()} cores",
        "versions": _versions(),
        "kakosheet_source": _kakosheet_source(),
        "note": args.note,
        "results": results,
        "targets": targets,
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    if args.profile:
        profile = profile_in_process(ensure_workbook(args.profile, shapes[0])[0])
        print(f"\n== cProfile, in-process validate, {args.profile:,} rows, {shapes[0]} shape\n{profile}")
        record["profile"] = profile
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\nresults: {out} ({record['seconds_total']} s)")


def _cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _kakosheet_source() -> dict[str, str | None]:
    """Where the kakosheet measured was imported from, and its git commit when that is a checkout."""
    import kakosheet

    root = Path(kakosheet.__file__).resolve().parent.parent

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["git", "--no-optional-locks", "-C", str(root), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    commit = git("rev-parse", "--short", "HEAD")
    if commit.returncode != 0:
        return {"path": str(root), "git": None}
    dirty = git("diff", "--quiet", "HEAD", "--", "kakosheet", "schemas").returncode != 0
    return {"path": str(root), "git": commit.stdout.strip() + ("-dirty" if dirty else "")}


def _versions() -> dict[str, str]:
    """Installed versions of kakosheet and the peers measured."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("kakosheet", "python-calamine", "openpyxl", "pandas", "numpy", "frictionless"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


if __name__ == "__main__":
    main()
