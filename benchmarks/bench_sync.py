"""Benchmark of `kakosheet sync` on generated QC logs, measured against the python-calamine read.

    python benchmarks/bench_sync.py --sizes 10000,100000 --memory-sizes 300000 [--shapes excel,inline]

For each size and each shape of workbook (``excel``: shared strings and hyperlinks, as Excel
writes; ``inline``: inline strings; see generate.py), side by side in one run, in scratch team
folders (`kakosheet init` with the QC log only) that hold a fresh copy of a generated workbook
without case IDs: the first sync into an empty SQLite store (CLI in a fresh process, and
in-process with the write-back timed alone), a re-sync of the unchanged workbook (which must
write nothing) and re-syncs after 1% of the rows' Description changed and the workbook was
saved again as its editor would save it (which must store only those rows). The first of
those re-syncs reads every row and records each row's digest; the later ones read only the rows
that changed (app/sync_memo.py): the best of them is the scheduled job's everyday case, and
each in-process run says how many rows it carried unread. Memory sizes get one CLI first sync,
for its peak RSS.
Missing workbooks are generated into benchmarks/data/; results go to benchmarks/results/ as
JSON. Targets are reported, never asserted.

Each ratio a target judges divides by the in-process python-calamine read of the file that
sync reads, timed in the same run (best of --repeat): the first sync and its write-back by
the read of the generated workbook (``calamine_read``), the unchanged re-syncs by the read of
the synced workbook (``calamine_read_synced``: IDs and notes written into it), the re-syncs
after 1% was edited by the read of the edited, saved workbook (``calamine_read_edited``: its
shared strings rebuilt, as Excel saves). Every timing's ``x_calamine`` is to the first read,
as before; those with another file have ``x_own_read`` and ``own_read`` (which read) beside it.
The CLI runs with bytecode caching, as an installed kakosheet does (bench_validate.py: one
byte-compiling warm-up, and no PYTHONDONTWRITEBYTECODE in the fresh processes).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import gc
import hashlib
import io
import json
import platform
import pstats
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import create_engine, text

import kakosheet.sources.xlsx as xlsx_source
from kakosheet.app.setup import MASTER_NAME, init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import CONFIG_NAME, load_config
from kakosheet.core.grid import column_letters

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import (  # noqa: E402
    _CALAMINE_READ,
    RESULTS_DIR,
    _cpu_count,
    _kakosheet_source,
    _versions,
    best_of,
    calamine_read,
    ensure_workbook,
    kakosheet_command,
    run_fresh,
    run_measured,
    warm_up,
)
from generate import SHAPES  # noqa: E402

TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
SHEET_PART = "xl/worksheets/sheet1.xml"  # the QC Log tab of a generated workbook
SHARED_STRINGS = "xl/sharedStrings.xml"
CHANGED_SHARE = 0.01  # share of the rows whose Description a re-sync finds changed

# Targets the project sets for itself.
TARGET_FIRST = 4.0  # first sync end to end <= 4x the calamine read
TARGET_RESYNC = 0.5  # re-sync of an unchanged workbook end to end <= 0.5x, writing nothing
TARGET_CHANGED = 1.5  # re-sync after 1% of the rows were edited and the workbook saved again <= 1.5x
TARGET_WRITE_BACK = 1.0  # writing IDs and notes into the file <= 1x the calamine read
TARGET_PEAK_BYTES = 1.5e9  # peak RSS of the first sync at the largest memory size

# The read each re-sync is judged against: of the file it reads (the others: the generated workbook's).
OWN_READS = {
    "resync_cli": "calamine_read_synced",
    "resync_in_process": "calamine_read_synced",
    "resync_read_in_process": "calamine_read_synced",
    "changed_cli": "calamine_read_edited",
    "changed_in_process": "calamine_read_edited",
}


def ensure_unsynced(rows: int, shape: str) -> Path:
    """The generated workbook of this size and shape without case IDs, generating it when missing."""
    return ensure_workbook(rows, shape, case_ids=False)[0]


def team_folder(workbook: Path, scratch: Path) -> Path:
    """A fresh team folder (QC log only) whose master workbook is a copy of ``workbook``."""
    folder = Path(tempfile.mkdtemp(prefix="team-", dir=scratch))
    init_team(folder, logs=("qc",))
    shutil.copyfile(workbook, folder / MASTER_NAME)
    return folder


def sqlite_url(folder: Path) -> str:
    """The URL of a SQLite store inside a team folder."""
    return f"sqlite:///{folder / 'store.db'}"


def cli_sync(folder: Path, url: str) -> list[str]:
    """`kakosheet sync` of a team folder's master workbook into ``url``."""
    return [*kakosheet_command(), "--config", str(folder / CONFIG_NAME), "sync", "--store", url]


def in_process_sync(folder: Path, url: str, *, forget_outcome: bool = False) -> tuple[float, dict[str, Any]]:
    """Wall seconds of sync_source on a team folder (kakosheet already imported), and what it wrote.

    The result is not kept: earlier syncs' tables left alive would slow the next one's garbage collection.
    ``forget_outcome`` makes a re-sync of an unchanged workbook read it again (kakosheet/app/unchanged.py).
    """
    config = load_config(folder / CONFIG_NAME)
    if forget_outcome:
        with create_engine(url).begin() as connection:
            connection.execute(text("delete from source_states"))
    gc.collect()
    start = time.perf_counter()
    result = sync_source(config, store_url=url)
    seconds = time.perf_counter() - start
    synced = {"counts": result.counts["qc"], "rows_stored": result.rows_stored, "written": result.written}
    return seconds, {**synced, "rows_carried": result.carried}


def cli_runs(runs: list[tuple[int, float, int]]) -> dict[str, Any]:
    """Best wall time, largest peak RSS and the exit codes of some CLI runs."""
    return {
        "seconds": min(r[1] for r in runs),
        "peak_rss": max(r[2] for r in runs),
        "exit_codes": sorted({r[0] for r in runs}),
    }


@contextmanager
def timing_write_back() -> Iterator[list[float]]:
    """Seconds of each write-back, as the sync waits for it (XlsxSource.write_back, wrapped here
    only: the patching itself runs in a forked child, whose clock this process does not see)."""
    spent: list[float] = []
    original = xlsx_source.XlsxSource.write_back

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    xlsx_source.XlsxSource.write_back = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        xlsx_source.XlsxSource.write_back = original  # type: ignore[method-assign]


def sha256(path: Path) -> str:
    """Hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def history_rows(url: str) -> int:
    """Rows in the store's case_history table."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM case_history")).scalar_one())
    finally:
        engine.dispose()


def description_column() -> bytes:
    """Column letters of the QC log's Description (generated workbooks keep the schema's order)."""
    fields = [column.field for column in load_config(None).load_schemas()["qc"].columns]
    return column_letters(fields.index("description")).encode()


_CELL = re.compile(rb"<c ([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_TYPE = re.compile(rb'\s+t="([^"]*)"')
_REF = re.compile(rb'r="([A-Z]+)(\d+)"')
_SHARED = re.compile(rb"<si>(.*?)</si>", re.S)
_INLINE = re.compile(rb"<is>(.*?)</is>", re.S)
_VALUE = re.compile(rb"<v>(\d+)</v>")


def change_descriptions(path: Path, share: float, tag: str) -> int:
    """Edit the Description of every 1/share-th data row, then save the workbook as its editor would.

    A shared-strings workbook is saved as Excel saves: the shared-strings table rebuilt in the order
    strings occur (inline strings, such as the IDs and notes a sync wrote, become shared ones too)
    and every cell of every sheet pointing into it anew. A workbook without that table (the inline
    shape) keeps its strings inline. Either way every part of the package is written again, so
    nothing of the old file's digest is left. Returns the number of rows changed.
    """
    step = round(1 / share)
    description = description_column()
    edited_text = b"<t>" + escape(f"Edited by the sync benchmark ({tag}).").encode() + b"</t>"
    with zipfile.ZipFile(path) as source:
        infos = source.infolist()
        parts = {info.filename: source.read(info) for info in infos}
    old_shared = _SHARED.findall(parts[SHARED_STRINGS]) if SHARED_STRINGS in parts else None
    table: dict[bytes, int] = {}
    count = seen = changed = 0

    def shared(text: bytes) -> bytes:
        nonlocal count
        count += 1
        return b"<v>" + str(table.setdefault(text, len(table))).encode() + b"</v>"

    def edit(match: re.Match[bytes], *, log_tab: bool) -> bytes:
        nonlocal seen, changed
        attributes, body = match.group(1), match.group(2) or b""
        ref = _REF.search(attributes) if log_tab else None
        if ref is not None and ref.group(1) == description and ref.group(2) != b"1":
            seen += 1
            if seen % step == step // 2:
                changed += 1
                plain = _TYPE.sub(b"", attributes)
                if old_shared is None:
                    return b"<c " + plain + b' t="inlineStr"><is>' + edited_text + b"</is></c>"
                return b"<c " + plain + b' t="s">' + shared(edited_text) + b"</c>"
        if old_shared is None:
            return match.group(0)
        kind = _TYPE.search(attributes)
        if kind is None or kind.group(1) not in (b"s", b"inlineStr"):
            return match.group(0)
        if kind.group(1) == b"s":
            found = _VALUE.search(body)
            text = old_shared[int(found.group(1))] if found else b"<t></t>"
        else:
            found = _INLINE.search(body)
            text = found.group(1) if found else b"<t></t>"
        return b"<c " + _TYPE.sub(b"", attributes) + b' t="s">' + shared(text) + b"</c>"

    for name in parts:
        if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
            parts[name] = _CELL.sub(functools.partial(edit, log_tab=name == SHEET_PART), parts[name])
    if old_shared is not None:
        head = parts[SHARED_STRINGS][: parts[SHARED_STRINGS].index(b"<sst ")]
        parts[SHARED_STRINGS] = (
            head
            + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="'
            + str(count).encode()
            + b'" uniqueCount="'
            + str(len(table)).encode()
            + b'">'
            + b"".join(b"<si>" + text + b"</si>" for text in table)
            + b"</sst>"
        )
    for name, xml in parts.items():  # Excel ends each part's XML declaration with CR LF, as it writes the part anew
        if name.endswith((".xml", ".rels")) and xml.startswith(b"<?xml") and b"?>\n" in xml[:100]:
            parts[name] = xml.replace(b"?>\n", b"?>\r\n", 1)
    staging = path.with_suffix(".tmp")
    with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            entry = zipfile.ZipInfo(info.filename, time.localtime()[:6])
            target.writestr(entry, parts[info.filename], compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    staging.replace(path)
    return changed


def bench_size(rows: int, shape: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Every measurement for one generated workbook."""
    path = ensure_unsynced(rows, shape)
    print(f"\n== {rows:,} rows, {shape} shape: {path.name} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    result: dict[str, Any] = {"rows": rows, "shape": shape, "file": path.name, "bytes": path.stat().st_size}
    timings: dict[str, dict[str, Any]] = {
        "calamine_read": {"seconds": best_of(args.repeat, lambda: calamine_read(path))[0]},
        "calamine_process": run_measured([sys.executable, "-c", _CALAMINE_READ, str(path)], args.repeat),
        "kakosheet_startup": run_measured([*kakosheet_command(), "--version"], args.repeat),
    }
    folder = first_syncs(path, args.repeat, scratch, timings, result)
    workbook = folder / MASTER_NAME
    timings["calamine_read_synced"] = {"seconds": best_of(args.repeat, lambda: calamine_read(workbook))[0]}
    unchanged_resyncs(folder, args.repeat, timings, result)
    changed_resyncs(folder, args.repeat, timings, result)
    shutil.rmtree(folder)
    if args.postgres:
        timings.update(bench_postgres(path, args.repeat, scratch))
    for key, timing in timings.items():
        timing["x_calamine"] = timing["seconds"] / timings["calamine_read"]["seconds"]
        if key in OWN_READS:
            timing["own_read"] = OWN_READS[key]
            timing["x_own_read"] = timing["seconds"] / timings[OWN_READS[key]]["seconds"]
    result["timings"] = timings
    print_size(result)
    return result


def first_syncs(path: Path, repeat: int, scratch: Path, timings: dict[str, Any], result: dict[str, Any]) -> Path:
    """First syncs into empty SQLite stores, CLI then in-process; returns the last run's team folder."""
    runs = []
    for _ in range(repeat):
        folder = team_folder(path, scratch)
        runs.append(run_fresh(cli_sync(folder, sqlite_url(folder))))
        shutil.rmtree(folder)
    timings["first_cli"] = cli_runs(runs)
    first, write_backs = [], []
    for run in range(repeat):
        folder = team_folder(path, scratch)
        with timing_write_back() as spent:
            seconds, synced = in_process_sync(folder, sqlite_url(folder))
        first.append(seconds)
        write_backs.append(sum(spent))
        if run < repeat - 1:
            shutil.rmtree(folder)
    timings["first_in_process"] = {"seconds": min(first)}
    timings["write_back"] = {"seconds": min(write_backs)}
    result["first_sync"] = {
        **synced,
        "history_rows": history_rows(sqlite_url(folder)),
        "bytes_after": (folder / MASTER_NAME).stat().st_size,
    }
    return folder


def unchanged_resyncs(folder: Path, repeat: int, timings: dict[str, Any], result: dict[str, Any]) -> None:
    """Re-syncs of the synced workbook as it is: they must write nothing, to the file or the store."""
    workbook, url = folder / MASTER_NAME, sqlite_url(folder)
    digest, history = sha256(workbook), history_rows(url)
    timings["resync_cli"] = cli_runs([run_fresh(cli_sync(folder, url)) for _ in range(repeat)])
    resyncs = [in_process_sync(folder, url) for _ in range(repeat)]
    timings["resync_in_process"] = {"seconds": min(seconds for seconds, _ in resyncs)}
    # The same re-sync with the recorded outcome forgotten: the workbook read and judged again.
    reread = [in_process_sync(folder, url, forget_outcome=True) for _ in range(repeat)]
    timings["resync_read_in_process"] = {"seconds": min(seconds for seconds, _ in reread)}
    resyncs += reread
    result["resync"] = {
        "counts": resyncs[-1][1]["counts"],
        "rows_stored": [synced["rows_stored"] for _, synced in resyncs],
        "written": [synced["written"] for _, synced in resyncs],
        "file_unchanged": sha256(workbook) == digest,
        "history_added": history_rows(url) - history,
    }


def changed_resyncs(folder: Path, repeat: int, timings: dict[str, Any], result: dict[str, Any]) -> None:
    """Re-syncs after 1% of the rows' Description changed (the same rows, new text each run): only those are stored.

    The calamine read of the edited workbook, what these re-syncs read, is timed after the first edit.
    """
    workbook, url = folder / MASTER_NAME, sqlite_url(folder)
    edits: list[dict[str, Any]] = []
    runs, seconds = [], []
    for via in ("cli", "in-process"):
        for run in range(repeat):
            edited, before = change_descriptions(workbook, CHANGED_SHARE, f"{via} run {run}"), history_rows(url)
            if "calamine_read_edited" not in timings:
                timings["calamine_read_edited"] = {"seconds": best_of(repeat, lambda: calamine_read(workbook))[0]}
            if via == "cli":
                runs.append(run_fresh(cli_sync(folder, url)))
                synced: dict[str, Any] = {}
            else:
                spent, synced = in_process_sync(folder, url)
                seconds.append(spent)
            edits.append({"via": via, "rows_edited": edited, **synced, "history_added": history_rows(url) - before})
    timings["changed_cli"] = cli_runs(runs)
    timings["changed_in_process"] = {"seconds": min(seconds)}
    result["changed"] = edits


def bench_postgres(path: Path, repeat: int, scratch: Path) -> dict[str, dict[str, Any]]:
    """First sync into an empty database of a throwaway PostgreSQL server (tests/postgres.py)."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        print("  PostgreSQL binaries (initdb, pg_ctl) are not on PATH: skipped")
        return {}
    sys.path.insert(0, str(TESTS_DIR))
    from postgres import create_database, start_postgres

    server = start_postgres()
    try:
        runs, seconds = [], []
        for _ in range(repeat):
            folder = team_folder(path, scratch)
            runs.append(run_fresh(cli_sync(folder, create_database(server.url))))
            shutil.rmtree(folder)
            folder = team_folder(path, scratch)
            seconds.append(in_process_sync(folder, create_database(server.url))[0])
            shutil.rmtree(folder)
    finally:
        server.stop()
    return {"first_cli_postgres": cli_runs(runs), "first_in_process_postgres": {"seconds": min(seconds)}}


def bench_memory(rows: int, shape: str, scratch: Path) -> dict[str, Any]:
    """One CLI first sync of a large workbook: wall time and peak RSS (and the calamine floor)."""
    path = ensure_unsynced(rows, shape)
    print(f"\n== {rows:,} rows, {shape} shape (memory): {path.name} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    timings = {
        "calamine_read": {"seconds": best_of(1, lambda: calamine_read(path))[0]},
        "calamine_process": run_measured([sys.executable, "-c", _CALAMINE_READ, str(path)], 1),
    }
    folder = team_folder(path, scratch)
    timings["first_cli"] = cli_runs([run_fresh(cli_sync(folder, sqlite_url(folder)))])
    history = history_rows(sqlite_url(folder))
    shutil.rmtree(folder)
    for timing in timings.values():
        timing["x_calamine"] = timing["seconds"] / timings["calamine_read"]["seconds"]
    result = {
        "rows": rows,
        "shape": shape,
        "file": path.name,
        "memory_only": True,
        "history_rows": history,
        "timings": timings,
    }
    print_size(result)
    return result


NAMES = {
    "calamine_read": "python-calamine read (in-process)",
    "calamine_process": "python-calamine read (fresh process)",
    "calamine_read_synced": "python-calamine read of the synced file",
    "calamine_read_edited": "python-calamine read of the edited file",
    "kakosheet_startup": "kakosheet --version (CLI start only)",
    "first_cli": "first sync, empty SQLite (CLI)",
    "first_in_process": "first sync, empty SQLite (in-process)",
    "write_back": "  of which write-back (IDs, notes)",
    "resync_cli": "re-sync unchanged (CLI)",
    "resync_in_process": "re-sync unchanged (in-process)",
    "resync_read_in_process": "  the same, outcome forgotten: read again",
    "changed_cli": "re-sync, 1% edited and saved (CLI)",
    "changed_in_process": "re-sync, 1% edited and saved (in-process)",
    "first_cli_postgres": "first sync, empty PostgreSQL (CLI)",
    "first_in_process_postgres": "first sync, empty PostgreSQL (in-process)",
}


def print_size(result: dict[str, Any]) -> None:
    """The timing table of one size and what each sync wrote."""
    print(f"  {'what':42} {'seconds':>8} {'x calamine':>10} {'peak RSS MB':>12} {'x its file':>10}")
    for key, timing in result["timings"].items():
        peak = f"{timing['peak_rss'] / 2**20:12.0f}" if "peak_rss" in timing else f"{'':12}"
        own = f" {timing['x_own_read']:10.2f}" if "x_own_read" in timing else ""
        print(f"  {NAMES[key]:42} {timing['seconds']:8.2f} {timing['x_calamine']:10.2f} {peak}{own}")
    if not result.get("memory_only"):
        print(
            "  (x calamine: / the read of the generated workbook; x its file: / the read of the file that "
            "re-sync reads, the synced or the edited one: what the targets judge)"
        )
    for key, timing in result["timings"].items():
        if timing.get("exit_codes", [0]) != [0] and key not in ("calamine_process", "kakosheet_startup"):
            print(f"  ! {NAMES[key]} exited {timing['exit_codes']}")
    if result.get("memory_only"):
        print(f"  history rows stored: {result['history_rows']:,}")
        return
    first, resync = result["first_sync"], result["resync"]
    print(
        f"  first sync: {first['counts']}, {first['rows_stored']:,} store rows written, "
        f"{first['history_rows']:,} history rows, file rewritten: {first['written']}"
    )
    print(
        f"  re-sync unchanged: {resync['counts']}, store rows written {resync['rows_stored']}, "
        f"file rewritten {resync['written']}, file bytes unchanged: {resync['file_unchanged']}, "
        f"history rows added: {resync['history_added']}"
    )
    for edit in result["changed"]:
        line = f"  re-sync 1% ({edit['via']}): {edit['rows_edited']:,} edited, +{edit['history_added']:,} history rows"
        if "counts" in edit:
            line += f", {edit['counts']}, store rows written {edit['rows_stored']}, file rewritten {edit['written']}"
            line += f", rows carried unread {edit['rows_carried']:,}"
        print(line)


def summarize(results: list[dict[str, Any]]) -> list[str]:
    """The project's targets, each as a 'target met / not met' line."""
    lines = []

    def verdict(ok: bool) -> str:
        return "target met" if ok else "target NOT met"

    for result in results:
        rows, timings = f"{result['rows']:>9,} rows, {result['shape']:6}", result["timings"]
        if result.get("memory_only"):
            peak = timings["first_cli"]["peak_rss"]
            lines.append(
                f"{rows}: first sync peak RSS {peak / 2**20:,.0f} MB (target < {TARGET_PEAK_BYTES / 2**20:,.0f} MB): "
                f"{verdict(peak < TARGET_PEAK_BYTES)}"
            )
            continue
        first, resync = timings["first_cli"], timings["resync_cli"]
        lines.append(
            f"{rows}: first sync end to end {first['x_calamine']:.2f}x the calamine read (in-process "
            f"{timings['first_in_process']['x_calamine']:.2f}x; target <= {TARGET_FIRST:g}x): "
            f"{verdict(first['x_calamine'] <= TARGET_FIRST)}"
        )
        lines.append(
            f"{rows}: re-sync unchanged end to end {resync['x_own_read']:.2f}x the read of the synced file "
            f"({resync['x_calamine']:.2f}x the unsynced one; in-process "
            f"{timings['resync_in_process']['x_own_read']:.2f}x; target <= {TARGET_RESYNC:g}x): "
            f"{verdict(resync['x_own_read'] <= TARGET_RESYNC)}; with the workbook read again (recorded "
            f"outcome forgotten) {timings['resync_read_in_process']['x_own_read']:.2f}x in-process"
        )
        quiet = result["resync"]
        nothing = not any(quiet["rows_stored"] + quiet["written"]) and quiet["file_unchanged"]
        nothing = nothing and quiet["history_added"] == 0
        lines.append(
            f"{rows}: re-sync unchanged writes nothing (store rows {quiet['rows_stored']}, file rewritten "
            f"{quiet['written']}, sha256 unchanged {quiet['file_unchanged']}, history +{quiet['history_added']}): "
            f"{verdict(nothing)}"
        )
        edits = result["changed"]
        exact = all(e["history_added"] == e["rows_edited"] for e in edits)
        exact = exact and all(e["counts"]["changed"] == e["rows_edited"] for e in edits if "counts" in e)
        stored = max(e.get("rows_stored", 0) for e in edits)
        changed = timings["changed_cli"]["x_own_read"]
        lines.append(
            f"{rows}: re-sync after 1% edited and saved {changed:.2f}x the read of the edited file end to end "
            f"({timings['changed_cli']['x_calamine']:.2f}x the unsynced one; in-process "
            f"{timings['changed_in_process']['x_own_read']:.2f}x; target <= {TARGET_CHANGED:g}x): "
            f"{verdict(changed <= TARGET_CHANGED)}"
        )
        lines.append(
            f"{rows}: re-sync after 1% edited stores only those rows ({edits[0]['rows_edited']:,} edited, "
            f"history +{max(e['history_added'] for e in edits):,}, at most {stored:,} store rows written): "
            f"{verdict(exact)}"
        )
        write_back = timings["write_back"]["x_calamine"]
        lines.append(
            f"{rows}: write-back of the first sync {write_back:.2f}x the calamine read "
            f"({timings['write_back']['seconds']:.2f} s; target <= {TARGET_WRITE_BACK:g}x): "
            f"{verdict(write_back <= TARGET_WRITE_BACK)}"
        )
        peak = first["peak_rss"]
        lines.append(f"{rows}: first sync peak RSS {peak / 2**20:,.0f} MB, {peak / result['rows']:,.0f} bytes per row")
    return lines


def profile_syncs(rows: int, shape: str, scratch: Path, top: int = 10) -> dict[str, str]:
    """The ``top`` kakosheet functions by cumulative time of a first sync, an unchanged and a 1% re-sync."""
    folder = team_folder(ensure_unsynced(rows, shape), scratch)
    url, profiles = sqlite_url(folder), {}
    for step in ("first sync", "re-sync unchanged", "re-sync 1% changed"):
        if step == "re-sync 1% changed":
            change_descriptions(folder / MASTER_NAME, CHANGED_SHARE, "profile")
        profiler = cProfile.Profile()
        profiler.runcall(in_process_sync, folder, url)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"kakosheet[/\\](core|app|sources|store)", top)
        profiles[step] = out.getvalue().strip()
    shutil.rmtree(folder)
    return profiles


def main() -> None:
    """Command line: benchmark each size, print the tables and targets, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated row counts")
    parser.add_argument("--memory-sizes", default="", help="comma-separated row counts: one CLI first sync each")
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help="comma-separated workbook shapes: excel (as Excel writes), inline"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--postgres", action="store_true", help="also a first sync into a throwaway PostgreSQL")
    parser.add_argument(
        "--profile", type=int, metavar="ROWS", help="cProfile the in-process syncs on this size (the first shape)"
    )
    parser.add_argument("--note", help="free text stored in the results JSON (e.g. what was measured)")
    args = parser.parse_args()
    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"--shapes: unknown {', '.join(sorted(unknown))}; expected {', '.join(SHAPES)}")
    sizes = [int(rows) for rows in args.sizes.split(",") if rows.strip()]
    memory_sizes = [int(rows) for rows in args.memory_sizes.split(",") if rows.strip()]
    started = time.perf_counter()
    warm_up()
    with tempfile.TemporaryDirectory(prefix="kakosheet-bench-sync-") as name:
        scratch = Path(name)
        results = [bench_size(rows, shape, args, scratch) for rows in sizes for shape in shapes]
        results += [bench_memory(rows, shape, scratch) for rows in memory_sizes for shape in shapes]
        print("\n== targets")
        targets = summarize(results)
        print("\n".join(targets))
        profiles = profile_syncs(args.profile, shapes[0], scratch) if args.profile else {}
    for step, profile in profiles.items():
        print(f"\n== cProfile, in-process {step}, {args.profile:,} rows, {shapes[0]} shape\n{profile}")
    record = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {_cpu_count()} cores",
        "versions": {**_versions(), "sqlalchemy": version("sqlalchemy"), "psycopg": version("psycopg")},
        "kakosheet_source": _kakosheet_source(),
        "note": args.note,
        "results": results,
        "targets": targets,
        "profile": profiles,
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"sync-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\nresults: {out} ({record['seconds_total']} s)")


if __name__ == "__main__":
    main()
