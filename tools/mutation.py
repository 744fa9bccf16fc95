"""A small mutation harness: plant one plausible bug at a time in the code that keeps kakosheet's
promises (every case once, under one ID, nothing lost) and check that the test suite notices.

Each mutant is one exact text replacement in one file. It is applied to a throwaway copy of the
project (the package and its tests, in a temporary folder put first on PYTHONPATH); the real
files are never touched. The tests most likely to catch it run against that copy, with a
timeout. A mutant is *caught* when they fail, *survived* when they pass, *stale* when its old
text is no longer in the file (the code moved on: update the mutant, it is not counted).

    python tools/mutation.py                 # every mutant, then the score
    python tools/mutation.py --list          # the mutants and their tests
    python tools/mutation.py --only M07 M12  # some of them
    python tools/mutation.py --jobs 2        # two at a time (2 cores)

Tests that already fail on the unmutated code are found first and left out of every run, so a
broken test never counts as a catch.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
COPIED = ("kakosheet", "tests", "schemas", "templates", "pyproject.toml", "README.md")

SYNC = "tests/app/test_sync.py"
DERIVED = "tests/app/test_sync_derived.py"
IDENTITY = "tests/app/test_sync_identity.py"
UNCHANGED = "tests/app/test_sync_unchanged.py"
SAFETY = "tests/app/test_sync_safety.py"
CREATED = "tests/app/test_sync_created.py"
HABITS = "tests/app/test_team_habits.py"
INVARIANTS = "tests/app/test_invariants.py"
WRITEBACK = "tests/sources/test_writeback.py"
WRITE_SAFETY = "tests/sources/test_write_safety.py"
GSHEET = "tests/gsheet"
GSHEET_INVARIANTS = "tests/gsheet/test_gsheet_invariants.py"
CLI = "tests/test_cli.py"
CELLS = "tests/core/test_cells.py"


@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``old`` (exactly once in ``file``) becomes ``new``."""

    id: str
    file: str
    old: str
    new: str
    description: str
    tests: tuple[str, ...]
    postgres: bool = False  # the bug only shows on PostgreSQL (concurrency): run those tests too
    keyword: str | None = None  # a pytest -k expression narrowing the tests


MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ core/plan.py: matching
    Mutant(
        "M01",
        "kakosheet/core/plan.py",
        "        elif sheet_id in foreign:",
        "        elif False and sheet_id in foreign:",
        "the foreign-ID check removed: a case of another workbook is adopted as this one's",
        (INVARIANTS, IDENTITY),
    ),
    Mutant(
        "M02",
        "kakosheet/core/plan.py",
        "        keeper = rows[0] if known is None else _keeper(rows, known, fields)",
        "        keeper = rows[0]",
        "the top-most copy keeps the ID instead of the row matching the stored case",
        (INVARIANTS, SYNC, HABITS),
    ),
    Mutant(
        "M03",
        "kakosheet/core/plan.py",
        "            if other is not keeper:",
        "            if other is not keeper and other.fingerprint != keeper.fingerprint:",
        "an exact copy of a row (ID and all) merged silently instead of flagged",
        (INVARIANTS, SYNC, HABITS),
    ),
    Mutant(
        "M04",
        "kakosheet/core/plan.py",
        "        if known.missing:\n            plan.returned[case_id] = case",
        "        if known.missing and not same:\n            plan.returned[case_id] = case",
        "a returned case (row back as it was) left missing in the store",
        (INVARIANTS, SYNC, HABITS),
    ),
    Mutant(
        "M05",
        "kakosheet/core/plan.py",
        "        if len(candidates) == 1 and len(rows_by_match[case.match]) == 1:",
        "        if candidates and len(rows_by_match[case.match]) == 1:",
        "a cleared ID restored by content when several missing cases match (the wrong one may win)",
        (INVARIANTS, HABITS),
    ),
    Mutant(
        "M06",
        "kakosheet/core/plan.py",
        "        if len(candidates) == 1 and len(rows_by_match[case.match]) == 1:",
        "        if len(candidates) == 1:",
        "two identical rows without an ID both given one missing case's ID back",
        (INVARIANTS, HABITS),
    ),
    Mutant(
        "M07",
        "kakosheet/core/plan.py",
        "        if name not in derived:\n            matching = (matching * _MIX) ^ hashed",
        "        if True:\n            matching = (matching * _MIX) ^ hashed",
        "derived values (Date Logged filled by kakosheet) counted in the match print",
        (DERIVED, INVARIANTS, HABITS),
    ),
    Mutant(
        "M08",
        "kakosheet/core/plan.py",
        "    if case.index in case.source.fillable_rows():\n        case.source.keep(case.index, known.derived)",
        "    if False:\n        case.source.keep(case.index, known.derived)",
        "a blank derived cell of a stored case not given the stored value: a stale copy is 'changed'",
        (DERIVED, INVARIANTS, HABITS),
    ),
    Mutant(
        "M09",
        "kakosheet/core/plan.py",
        '            if sheet_id not in stored:\n                plan.conflicts.append((case, "malformed-id"',
        '            if False:\n                plan.conflicts.append((case, "malformed-id"',
        "the malformed-ID check removed: a mistyped ID is adopted as a case of its own",
        (SYNC, INVARIANTS),
    ),
    Mutant(
        "M10",
        "kakosheet/core/plan.py",
        "            highest[parsed.year] = max(highest.get(parsed.year, 0), parsed.number)",
        "            highest[parsed.year] = min(highest.get(parsed.year, parsed.number), parsed.number)",
        "the sequence continues past the lowest adopted ID, not the highest",
        (SYNC, INVARIANTS),
    ),
    Mutant(
        "M11",
        "kakosheet/core/plan.py",
        "for case_id in gone if not stored[case_id].missing)",
        "for case_id in gone)",
        "a case already missing is marked missing again on every sync (a new history event each time)",
        (INVARIANTS, HABITS),
    ),
    # ------------------------------------------------------------------ store/store.py: reserve_numbers
    Mutant(
        "M12",
        "kakosheet/store/store.py",
        """            end = connection.execute(
                update(sequences)
                .where(sequences.c.log == log, sequences.c.year == year)
                .values(next_number=sequences.c.next_number + count)
                .returning(sequences.c.next_number)
            ).scalar_one()""",
        """            current = connection.execute(
                select(sequences.c.next_number).where(sequences.c.log == log, sequences.c.year == year)
            ).scalar_one()
            end = current + count
            connection.execute(
                update(sequences).where(sequences.c.log == log, sequences.c.year == year).values(next_number=end)
            )""",
        "ID numbers reserved by a SELECT then an UPDATE instead of one atomic statement",
        (INVARIANTS,),
        postgres=True,
        keyword="concurrent",
    ),
    Mutant(
        "M13",
        "kakosheet/store/store.py",
        "sequences.c.next_number <= past)",
        "sequences.c.next_number < past)",
        "a typed (adopted) ID equal to the next number: that number is issued again",
        (INVARIANTS, SYNC),
    ),
    Mutant(
        "M14",
        "kakosheet/store/store.py",
        "        return int(end) - count\n",
        "        return int(end) - count + 1\n",
        "reserve_numbers hands out one number past what it reserved (the next sync issues it again)",
        (INVARIANTS, SYNC, SAFETY),
    ),
    # ------------------------------------------------------------------ store/changes.py
    Mutant(
        "M15",
        "kakosheet/store/changes.py",
        '            changes = _diff(old, values, present) | _raw_changes(old.get("_raw") or {}, case.raw, present)',
        "            changes = _diff(old, values, present)",
        "a change only in a cell kept as typed (text that did not fit its type) is not versioned",
        (INVARIANTS,),
    ),
    Mutant(
        "M16",
        "kakosheet/store/changes.py",
        '[{"key": case_id, "_missing_since": run_id, "_updated_run": run_id} for case_id in plan.gone]',
        '[{"key": case_id, "_missing_since": None, "_updated_run": run_id} for case_id in plan.gone]',
        "a deleted row's case not marked missing in the store",
        (INVARIANTS, SYNC, HABITS),
    ),
    Mutant(
        "M17",
        "kakosheet/store/changes.py",
        '        "_missing_since": None,\n        "_updated_run": run_id,\n    }',
        '        "_updated_run": run_id,\n    }',
        "a returned case stored with its new content but left marked missing",
        (INVARIANTS, HABITS),
    ),
    Mutant(
        "M18",
        "kakosheet/store/changes.py",
        '            version = old["_version"] + (1 if changes else 0)',
        '            version = old["_version"]',
        "a changed case keeps its version number: two history entries share one version",
        (INVARIANTS, SYNC),
    ),
    Mutant(
        "M19",
        "kakosheet/store/changes.py",
        '            if changes or was_missing:\n                event(case_id, version, "returned"',
        '            if changes:\n                event(case_id, version, "returned"',
        "a case back in the sheet unchanged leaves no 'returned' event in its history",
        (INVARIANTS, SYNC, HABITS),
    ),
    # ------------------------------------------------------------------ store/created.py
    Mutant(
        "M20",
        "kakosheet/store/created.py",
        '            ("_source", run.source),',
        '            ("_source", run.log),',
        "created cases filed under the log's name instead of the workbook's identity",
        (SYNC, INVARIANTS),
    ),
    Mutant(
        "M21",
        "kakosheet/store/created.py",
        "                [case.match for _, case in chunk],",
        "                [case.fingerprint for _, case in chunk],",
        "created cases stored with their fingerprint as match print (a stale copy no longer matches)",
        (DERIVED, INVARIANTS, HABITS, CREATED),
    ),
    # ------------------------------------------------------------------ app/sync_read.py
    Mutant(
        "M22",
        "kakosheet/app/sync_read.py",
        "        identity=run.identity,",
        "        identity=None,",
        "the workbook identity not written: a moved workbook loses its cases",
        (IDENTITY, INVARIANTS, HABITS),
    ),
    Mutant(
        "M23",
        "kakosheet/app/sync_read.py",
        "        for year in sorted(set(needed) | set(adopted))",
        "        for year in sorted(set(needed))",
        "an adopted ID in a year with no new row does not move that year's sequence on",
        (INVARIANTS, SYNC),
    ),
    Mutant(
        "M24",
        "kakosheet/app/sync_read.py",
        "needed.get(year, 0), past=adopted.get(year, 0))",
        "needed.get(year, 0), past=0)",
        "new IDs numbered without regard to IDs adopted in the same sync",
        (SYNC, INVARIANTS),
    ),
    Mutant(
        "M25",
        "kakosheet/app/sync_read.py",
        "    foreign = {case_id: owner for case_id, owner in owners.items() if owner != source}",
        "    foreign = {}",
        "IDs owned by another workbook not looked up at all (the sync side of the foreign-ID check)",
        (IDENTITY, INVARIANTS),
    ),
    Mutant(
        "M26",
        "kakosheet/app/sync_read.py",
        "            for case_id in [case_id for case_id, case in ids.items() if (case.sheet, case.row) in skipped]:",
        "            for case_id in []:",
        "a new case stored although its ID never reached its row (the row moved during the write)",
        ("tests/gsheet/test_gsheet_sync.py",),
    ),
    # ------------------------------------------------------------------ app/unchanged.py
    Mutant(
        "M27",
        "kakosheet/app/unchanged.py",
        '        "date_order": config.date_order,\n',
        "",
        "date_order left out of the unchanged-workbook digest: a changed setting reports the old verdict",
        (UNCHANGED, INVARIANTS),
    ),
    Mutant(
        "M28",
        "kakosheet/app/unchanged.py",
        '        "today": today.isoformat(),\n',
        "",
        "the day left out of the unchanged-workbook digest: 'not in the future' judged only once",
        (UNCHANGED, INVARIANTS),
    ),
    Mutant(
        "M29",
        "kakosheet/app/unchanged.py",
        "    return not any(cell.column in filled.get(sheet.sheet, set()) for sheet in changes.sheets for cell in "
        "sheet.cells)",
        "    return True",
        "a sync that filled blanks records its outcome as if the sheet were what it judged",
        (UNCHANGED, INVARIANTS),
    ),
    # ------------------------------------------------------------------ app/identity.py
    Mutant(
        "M30",
        "kakosheet/app/identity.py",
        "        if seen is not None and seen != location and _carries(seen, carried):",
        "        if False:",
        "a copy used as a second master is synced into the same cases",
        (IDENTITY, INVARIANTS),
    ),
    Mutant(
        "M31",
        "kakosheet/app/identity.py",
        "    if known is not None and known.startswith(WORKBOOK):",
        "    if False:",
        "a workbook that lost its identity (a copy from before its first sync saved over it) becomes a new source",
        (DERIVED, IDENTITY, INVARIANTS, HABITS),
    ),
    # ------------------------------------------------------------------ core/derived.py
    Mutant(
        "M32",
        "kakosheet/core/derived.py",
        "    return clock.local",
        "    return clock.utc",
        "Date Logged filled with the server's UTC time, not the team's",
        (DERIVED, INVARIANTS),
    ),
    Mutant(
        "M33",
        "kakosheet/core/derived.py",
        "    return frozenset(c.field for c in schema.columns if _rule(c) is not None)",
        "    return frozenset()",
        "the registry forgets which fields are derived (write-back and unchanged digest treat them as staff's)",
        (UNCHANGED, DERIVED, INVARIANTS),
    ),
    # ------------------------------------------------------------------ reading
    Mutant(
        "M34",
        "kakosheet/core/cells.py",
        "    days = serial + (_EXCEL_1904_OFFSET if ctx.date1904 else 0)",
        "    days = serial",
        "the 1904 epoch ignored on the read path: a Mac workbook's dates read four years early",
        (CELLS, INVARIANTS),
    ),
    # ------------------------------------------------------------------ sources/xlsx_writeback.py
    Mutant(
        "M35",
        "kakosheet/sources/xlsx_file.py",
        "        return FileStamp.of(path) != stamp",
        "        return False",
        "the file-stamp check before writing removed: a staff save during the sync is overwritten",
        (INVARIANTS, WRITE_SAFETY, WRITEBACK, SYNC),
    ),
    Mutant(
        "M36",
        "kakosheet/sources/xlsx_file.py",
        '        if excel.exists():\n            _refuse_open(path, "Excel"',
        '        if False:\n            _refuse_open(path, "Excel"',
        "a workbook open in Excel (its ~$ lock file there) is written anyway",
        (SYNC, WRITE_SAFETY, INVARIANTS),
    ),
    Mutant(
        "M37",
        "kakosheet/sources/xlsx_owned.py",
        "    if type(value) is str and number_format is None and not cell.bold:  # most cells: no style to look up\n"
        "        return (",
        "    if type(value) is str and number_format is None and not cell.bold:  # most cells: no style to look up\n"
        "        if value.startswith('='):\n"
        "            return f'<c r=\"{ref}\"><f>{xml_text(value[1:])}</f></c>'\n"
        "        return (",
        "a value shown on an owned tab (Issues, report) that starts with = is written as a formula (formula injection)",
        (INVARIANTS, WRITEBACK),
    ),
    # ------------------------------------------------------------------ Google Sheets write-back
    Mutant(
        "M38",
        "kakosheet/sources/gsheet_client.py",
        '        body = {"valueInputOption": "USER_ENTERED" if formulas else "RAW", "data": data}',
        '        body = {"valueInputOption": "USER_ENTERED", "data": data}',
        "RAW replaced by USER_ENTERED in the Google Sheets write: what kakosheet writes is parsed as typed",
        (GSHEET_INVARIANTS, GSHEET),
    ),
    Mutant(
        "M39",
        "kakosheet/sources/gsheet_writeback.py",
        "            if row_of(read.get(write.sheet, []), cell.row) == row_of(current[write.sheet], cell.row):",
        "            if True:",
        "a Google Sheet row that moved since it was read is written anyway",
        ("tests/gsheet/test_gsheet_sync.py",),
    ),
    Mutant(
        "M40",
        "kakosheet/sources/gsheet_writeback.py",
        "            _put_back(client, landing.repairs)",
        "            pass",
        "a value that landed in the wrong row (a row slid in during the write) is left there",
        ("tests/gsheet/test_gsheet_sync.py",),
    ),
    # ------------------------------------------------------------------ cli: exit codes
    Mutant(
        "M41",
        "kakosheet/cli/__init__.py",
        "            ctx.exit(EXIT_INTERNAL)",
        "            ctx.exit(0)",
        "an unexpected error exits 0 (the cli's translation): a scheduled job never notices",
        (CLI, INVARIANTS),
    ),
]


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # caught | survived | timeout | stale | error
    seconds: float = 0.0
    detail: str = ""
    failed: list[str] = field(default_factory=list)


def project_copy(root: Path, mutant: Mutant | None) -> Path:
    """A copy of the project under ``root`` with the mutant applied; ``root/shared`` points at
    the shared corpus the tests read beside the project, when there is one."""
    project = root / "project"
    project.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPIED:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, project / name)
    shared = PROJECT.parent / "shared"
    if not shared.exists():  # a worktree lives one folder deeper than the main checkout
        shared = PROJECT.parent.parent / "shared"
    if shared.exists():
        (root / "shared").symlink_to(shared)
    if mutant is not None:
        target = project / mutant.file
        target.write_text(target.read_text().replace(mutant.old, mutant.new, 1))
    return project


def occurrences(mutant: Mutant) -> int:
    return (PROJECT / mutant.file).read_text().count(mutant.old)


def run_pytest(
    project: Path, tests: list[str], *, keyword: str | None, deselect: list[str], timeout: float
) -> tuple[int | None, str]:
    """pytest on the copy (its package first on the path); None as the code on a timeout."""
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTEST_ADDOPTS", None)
    args = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider", *tests]
    if keyword:
        args += ["-k", keyword]
    for node in deselect:
        args += ["--deselect", node]
    process = subprocess.Popen(
        args, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output
    return process.returncode, output


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", re.MULTILINE)


def failed_tests(output: str) -> list[str]:
    return _FAILED.findall(output)


def keyword_for(mutant: Mutant) -> str | None:
    """SQLite only unless the bug needs PostgreSQL to show (the PostgreSQL server costs time)."""
    parts = [] if mutant.postgres else ["not postgresql"]
    if mutant.keyword:
        parts.append(f"({mutant.keyword})")
    return " and ".join(parts) or None


def selected(mutant: Mutant) -> list[str]:
    return [t for t in mutant.tests if (PROJECT / t.split("::")[0]).exists()]


def baseline(mutants: list[Mutant], timeout: float) -> list[str]:
    """The tests that fail on the unmutated code: every selected test once on SQLite (without -x),
    and the PostgreSQL runs of the mutants that need one."""
    runs: list[tuple[list[str], str | None]] = [(sorted({t for m in mutants for t in selected(m)}), "not postgresql")]
    runs += [(selected(m), m.keyword) for m in mutants if m.postgres]
    failing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kakosheet-baseline-") as root:
        project = project_copy(Path(root), None)
        env = {**os.environ, "PYTHONPATH": str(project)}
        probe = subprocess.run(
            [sys.executable, "-c", "import kakosheet; print(kakosheet.__file__)"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        if not probe.stdout.startswith(str(project)):
            sys.exit(f"the copy's package is not the one imported ({probe.stdout.strip() or probe.stderr.strip()})")
        for tests, keyword in runs:
            if not tests:
                continue
            args = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *tests]
            if keyword:
                args += ["-k", keyword]
            done = subprocess.run(
                args,
                cwd=project,
                env={**env, "PYTHONWARNINGS": "ignore"},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if done.returncode not in (0, 1, 5):
                print(done.stdout[-3000:], file=sys.stderr)
                sys.exit(f"the baseline run did not complete (pytest exit {done.returncode})")
            failing += [node for node in failed_tests(done.stdout) if node not in failing]
    return failing


def try_mutant(mutant: Mutant, deselect: list[str], timeout: float) -> Outcome:
    count = occurrences(mutant)
    if count != 1:
        return Outcome(mutant, "stale", detail=f"old text found {count} times in {mutant.file}")
    tests = selected(mutant)
    if not tests:
        return Outcome(mutant, "error", detail="none of its tests exist")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"kakosheet-{mutant.id}-") as root:
        project = project_copy(Path(root), mutant)
        code, output = run_pytest(project, tests, keyword=keyword_for(mutant), deselect=deselect, timeout=timeout)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds, f"no verdict in {timeout:.0f} s")
    if code == 0:
        return Outcome(mutant, "survived", seconds)
    if code == 5:
        return Outcome(mutant, "error", seconds, "no test selected")
    failed = failed_tests(output)
    detail = failed[0] if failed else output.strip().splitlines()[-1] if output.strip() else f"exit {code}"
    return Outcome(mutant, "caught", seconds, detail, failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", metavar="ID", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, run nothing")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant (default 600)")
    parser.add_argument("--no-baseline", action="store_true", help="skip finding the tests that already fail")
    options = parser.parse_args()
    mutants = [m for m in MUTANTS if not options.only or m.id in options.only]
    if options.list:
        for m in mutants:
            state = "" if occurrences(m) == 1 else "  [stale]"
            print(f"{m.id}  {m.file}: {m.description}{state}\n      tests: {' '.join(m.tests)}")
        return 0
    deselect: list[str] = []
    if not options.no_baseline:
        deselect = baseline(mutants, timeout=options.timeout * 3)
        if deselect:
            print(f"left out, failing already on the unmutated code: {len(deselect)}", flush=True)
            for node in deselect:
                print(f"  {node}", flush=True)
    outcomes: list[Outcome] = []

    def one(mutant: Mutant) -> Outcome:
        outcome = try_mutant(mutant, deselect, options.timeout)
        print(
            f"{outcome.mutant.id} {outcome.status:8} {outcome.seconds:6.1f}s  {outcome.mutant.description}"
            + (f"\n      {outcome.detail}" if outcome.detail else ""),
            flush=True,
        )
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        outcomes = list(pool.map(one, mutants))
    counted = [o for o in outcomes if o.status in ("caught", "survived", "timeout")]
    caught = [o for o in counted if o.status in ("caught", "timeout")]
    stale = [o for o in outcomes if o.status == "stale"]
    errors = [o for o in outcomes if o.status == "error"]
    print()
    for o in outcomes:
        if o.status == "survived":
            print(f"survived: {o.mutant.id} {o.mutant.file}: {o.mutant.description}")
    for o in stale:
        print(f"stale: {o.mutant.id} {o.mutant.file}: {o.detail}")
    score = 100 * len(caught) / len(counted) if counted else 0.0
    print(f"caught {len(caught)} of {len(counted)} mutants ({score:.0f}%); {len(stale)} stale, {len(errors)} not run")
    return 0 if not errors else 2


if __name__ == "__main__":
    sys.exit(main())
