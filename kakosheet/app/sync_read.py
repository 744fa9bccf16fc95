"""A sync that reads the source: validate, plan against the store, assign IDs, write back, store.

app/sync.py decides whether the source has to be read at all (a workbook unchanged since its
last sync is not); this is the rest of the sync, in the order of steps its docstring gives.
It is what a sync needs of pandas and numpy (reading and typing the cells), of the planner and
of the write-back.
"""

from __future__ import annotations

import dataclasses
import gc
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kakosheet.app import identity, unchanged
from kakosheet.app.import_orders import store_reference_tabs
from kakosheet.app.progress import SILENT, Progress
from kakosheet.app.sync import SyncResult, SyncRun
from kakosheet.app.sync_memo import (
    Carried,
    carry_over,
    context_digest,
    ids_collide,
    memo_after,
    save_memo,
    stored_subset,
    with_carried,
)
from kakosheet.app.validate import known_ids_of, read_and_validate
from kakosheet.core.drift import schema_drift
from kakosheet.core.issues import ERROR, Issue, Report
from kakosheet.core.issues_tab import issues_tab
from kakosheet.core.plan import (
    PLANNED_CODES,
    LogPlan,
    RowCase,
    StoredCases,
    format_new_ids,
    highest_numbers,
    plan_log,
    row_cases,
    years_needed,
)
from kakosheet.core.plural import counted
from kakosheet.core.writeback import WriteBack, sheet_write
from kakosheet.errors import SourceChangedError, SourceError
from kakosheet.store.changes import apply_log_plan
from kakosheet.store.tables import stored_fields

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kakosheet.app.identity import Identity
    from kakosheet.app.read import ReadResult
    from kakosheet.config import Config
    from kakosheet.core.clock import Clock
    from kakosheet.core.schema import LogSchema, SchemaSet
    from kakosheet.core.table import Table
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store


def sync_read(
    config: Config,
    schemas: SchemaSet,
    store: Store,
    opened: Source,
    run: SyncRun,
    *,
    found: Identity,
    moved_from: str | None,
    dry_run: bool,
    progress: Progress = SILENT,
) -> SyncResult:
    """Read and validate the source, then sync what was read (``found``: how it was identified;
    ``moved_from``: ``--moved-from``); records the outcome when the sheet ends as it was judged."""
    known = known_ids_of(store, run.key) if store.has_tables() else None
    # The store's view of the cases, taken while the source's tabs are still being read (read_ahead).
    stored = {name: store.stored_cases(name, run.key) for name in config.logs} if store.has_tables() else {}

    def read_all() -> tuple[ReadResult, Report]:
        """The tabs read and validated (a second read takes every row: the source has used its memo)."""
        return read_and_validate(config, schemas, opened, today=run.clock.today, progress=progress, known_ids=known)

    read, report = read_all()
    carried = _carry(config, schemas, opened, run, read, report, stored) if read.partial else {}
    if carried is None:  # a tab read in part whose rows cannot be carried (app/sync_memo.py): every row is read
        (read, report), carried = read_all(), {}
    moved = None if dry_run else identity.moved_before_identities(store, found, _sheet_ids(read, carried))
    if moved is not None:
        store.refile_source(moved, run.key)
        stored = {name: store.stored_cases(name, run.key) for name in config.logs}  # its cases are filed here now
        if carried:  # planned against other cases than the memo's: every row is read
            (read, report), carried = read_all(), {}
    report = with_carried(report, carried)
    with _frozen_heap():
        result = _sync_read(
            store, opened, schemas, read, report, run, stored, carried, dry_run=dry_run, progress=progress
        )
    result.moved_from = found.moved_from or moved or moved_from
    result.behind = schema_drift(read.lists, read.tables.values(), schemas)
    if not dry_run:
        memo = None
        if result.judgement_kept:
            judged = unchanged.judged_digest(config, run.key, opened.content_digest, run.clock.today)
            store.save_source_state(run.key, judged, result.run_id, result.outcome)
            if result.run_id is not None:
                memo = memo_after(read, opened, schemas, result, carried, _context(config, run, opened, read))
        save_memo(store, run.key, memo)
    return result


def _context(config: Config, run: SyncRun, opened: Source, read: ReadResult) -> str:
    """What judges the rows a re-sync may carry unread, beyond their cells (sync_memo.context_digest)."""
    settings = unchanged.judged_digest(config, run.key, "rows", run.clock.today)
    assert settings is not None
    references = {t.sheet: opened.rows_as_read(t.sheet) for t in read.tables.values() if t.schema.kind == "reference"}
    return context_digest(settings, opened, references)


def _carry(
    config: Config,
    schemas: SchemaSet,
    opened: Source,
    run: SyncRun,
    read: ReadResult,
    report: Report,
    stored: dict[str, StoredCases],
) -> dict[str, Carried] | None:
    """What the log tabs read in part carry over from the last sync; None when a tab's rows cannot be."""
    if run.memo is None or run.outcome is None:
        return None
    carried = carry_over(read, report, opened, run.memo, run.outcome, _context(config, run, opened, read))
    if carried is None:
        return None
    typed = _sheet_ids(read, {})
    for name, log in carried.items():
        ids = typed.get(name, [])
        if name not in stored or stored_subset(stored[name], log, ids) is None or ids_collide(schemas[name], log, ids):
            return None
    return carried


def _sheet_ids(read: ReadResult, carried: dict[str, Carried]) -> dict[str, list[str]]:
    """Per log, the IDs typed in its tabs (those of the rows carried unread too)."""
    ids: dict[str, list[str]] = {name: list(log.rows.values()) for name, log in carried.items()}
    for table in read.all_tables():
        schema = table.schema
        if schema.kind == "log" and schema.id is not None and schema.id.field in table.columns:
            cells = table.columns[schema.id.field].row_raw().tolist()
            ids.setdefault(schema.name, []).extend(str(c).strip() for c in cells if c is not None and str(c).strip())
    return ids


def _sync_read(
    store: Store,
    opened: Source,
    schemas: SchemaSet,
    read: ReadResult,
    report: Report,
    run: SyncRun,
    stored: dict[str, StoredCases],
    carried: dict[str, Carried],
    *,
    dry_run: bool,
    progress: Progress = SILENT,
) -> SyncResult:
    """Plan, assign IDs, write back and store what was read (steps 1-3 of the module docstring);
    ``stored``: the store's view of each log's cases (none before the first sync); ``carried``: of
    the logs read in part, the rows carried unread."""
    result = SyncResult(source=opened.name, store=store.display_url, report=report, dry_run=dry_run)
    tables = {name: t for name, t in read.tables.items() if t.schema.kind == "log"}
    typed = _sheet_ids(read, {}) if carried else {}
    for name, table in tables.items():
        tabs = [table, *read.archives.get(name, [])]
        known = stored[name] if name in stored else StoredCases.of({})
        if name in carried:  # planned against every case but the carried rows' (sync_read checked it can be)
            subset = stored_subset(known, carried[name], typed.get(name, []))
            assert subset is not None
            known = subset
        result.plans[name] = _plan(tabs, report.issues, run.clock, known)
        result.plans[name].carried = len(carried[name].rows) if name in carried else 0
    result.carried = sum(len(log.rows) for log in carried.values())
    # One verdict: the sync's own findings about IDs (which row of a copy keeps it) replace
    # validation's, in the summary, --strict, the Issues column and tab, and the recorded outcome.
    if dry_run:
        result.report = _sync_report(report, result.plans, {})
        return result
    result.run_id = store.start_run(run.key, at=run.clock.utc)
    for name, plan in result.plans.items():
        result.new_ids[name] = _assign_ids(store, schemas[name], plan)
    # The store's inserts (the longer task on a first sync) start now, and commit after the write-back.
    storing = _StoringBehind(store, schemas, result, run)
    try:
        with_ids = result.report = _sync_report(report, result.plans, result.new_ids)
        changes = WriteBack(
            sheets=[
                sheet_write(table, result.plans[name], result.new_ids[name])
                for name in result.plans
                for table in [tables[name], *read.archives.get(name, [])]
            ],
            issues=with_ids.issues,
            identity=run.identity,
        )
        changes.tabs.append(issues_tab(changes))
        progress.stage(f"writing back to {opened.name}")
        outcome = opened.write_back(changes)
        for sheet in changes.sheets:
            result.rows_written_to.setdefault(sheet.sheet, set()).update(cell.row for cell in sheet.cells)
        progress.stage(f"storing {counted(sum(len(t) for t in tables.values()), 'row')}")
    except SourceChangedError:
        storing.abandon()
        store.finish_run(result.run_id, "source-changed", result.counts)
        raise
    except SourceError:
        storing.abandon()
        store.finish_run(result.run_id, "write-failed", result.counts)
        raise
    except BaseException:
        storing.abandon()
        raise
    result.written = outcome.written
    result.write_warnings = list(outcome.warnings)
    if outcome.skipped:  # rows moved meanwhile: what was inserted is rolled back, the rest stored again
        storing.abandon()
        result.rows_left = _leave_unwritten(result, outcome.skipped)
        with store.changes() as connection:
            result.rows_stored = _store_plans(store, connection, schemas, result, run)
            store.finish_run(result.run_id, "done", result.counts, connection=connection)
    else:
        result.rows_stored = storing.commit(result.counts)
    # The Orders and Vendors tabs' valid rows, as `kakosheet import orders` stores a file's.
    store_reference_tabs(store, read.tables, result.report.issues, source=run.key, at=run.clock.utc)
    judged = [*tables.values(), *(t for ts in read.archives.values() for t in ts)]
    result.judgement_kept = (
        not result.rows_left
        and not result.write_warnings
        and (not result.written or unchanged.keeps_judgement(changes, judged))
    )
    result.outcome = unchanged.outcome(with_ids, result.plans, result.new_ids)
    return result


def _store_plans(store: Store, connection: Connection, schemas: SchemaSet, result: SyncResult, run: SyncRun) -> int:
    """Every log's plan into the store, inside the caller's transaction; returns the rows written."""
    assert result.run_id is not None
    return sum(
        apply_log_plan(
            store,
            connection,
            schemas[name],
            plan,
            result.new_ids[name],
            run_id=result.run_id,
            source=run.key,
            recorded_at=run.clock.utc,
        )
        for name, plan in result.plans.items()
    )


class _StoringBehind:
    """The store's transaction of a sync, on a thread while the write-back runs (a workbook's in
    a forked child, sources/forked.py; a Google Sheet's waits on its sockets): on a first sync of
    100k rows the inserts take three times as long as the write-back, so they start first. It
    commits only once the sheet is written (step 3 after step 2 of the module docstring): a
    crash or a refused write-back leaves nothing of it stored."""

    def __init__(self, store: Store, schemas: SchemaSet, result: SyncResult, run: SyncRun) -> None:
        self._store = store
        self._verdict: queue.SimpleQueue[dict[str, dict[str, int]] | None] = queue.SimpleQueue()
        self._rows = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(schemas, result, run), name="kakosheet-store", daemon=True
        )
        self._thread.start()

    def _run(self, schemas: SchemaSet, result: SyncResult, run: SyncRun) -> None:
        try:
            with self._store.changes() as connection:
                rows = _store_plans(self._store, connection, schemas, result, run)
                counts = self._verdict.get()
                if counts is None:
                    raise _Abandoned
                assert result.run_id is not None
                self._store.finish_run(result.run_id, "done", counts, connection=connection)
            self._rows = rows
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the sync's own thread, which raises it
            self._error = exc

    def commit(self, counts: dict[str, dict[str, int]]) -> int:
        """Commit what was inserted (recording the run as done); returns the rows written."""
        self._verdict.put(counts)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._rows

    def abandon(self) -> None:
        """Roll back whatever was inserted, and wait for it (the next step may need the store)."""
        self._verdict.put(None)
        self._thread.join()


class _Abandoned(Exception):
    """The sheet was not written as planned: the transaction is rolled back."""


def _leave_unwritten(result: SyncResult, skipped: frozenset[tuple[str, int]]) -> int:
    """Keep out of the store the new and restored cases whose ID did not reach their row (the
    row moved or changed while the sync ran): their numbers stay unused, the next sync reads
    the row again. Rows with an ID already are stored as read; only their note waits."""
    left = 0
    for name, plan in result.plans.items():
        for ids in (result.new_ids[name], plan.restored):
            for case_id in [case_id for case_id, case in ids.items() if (case.sheet, case.row) in skipped]:
                del ids[case_id]
                left += 1
    return left


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the collector off the rows already read, and off while the sync runs: nearly all it
    builds (cases, cells, rows to insert) lives until it ends, so a 100k-row sync otherwise
    spends a quarter of its time in full collections that free nothing."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()


def _plan(tables: list[Table], issues: list[Issue], clock: Clock, stored: StoredCases) -> LogPlan:
    """Plan one log over its tab and its archive tabs (whose cases are present, not missing)."""
    schema = tables[0].schema
    assert schema.id is not None
    if any(schema.id.field not in table.columns for table in tables):
        # A tab without its ID column: no row there can get an ID written or keep one, so each
        # edit would make its case look new and the stored one gone. Nothing of the log is stored
        # or marked gone until the column is back (validation's error on the tab says so).
        return LogPlan(log=schema.name, sheet=tables[0].sheet)
    fields = stored_fields(schema)
    cases = [case for table in tables for case in row_cases(table, issues, fields=fields, clock=clock)]
    return plan_log(schema, tables[0].sheet, cases, stored, fields=fields)


def _assign_ids(store: Store, schema: LogSchema, plan: LogPlan) -> dict[str, RowCase]:
    """Reserve numbers for the new rows of each year, past any adopted ID of that year."""
    adopted = highest_numbers(schema, plan.adopted)
    needed = years_needed(plan.new)
    first = {
        year: store.reserve_numbers(schema.name, year, needed.get(year, 0), past=adopted.get(year, 0))
        for year in sorted(set(needed) | set(adopted))
    }
    return format_new_ids(schema, plan.new, first)


def _sync_report(report: Report, plans: dict[str, LogPlan], new_ids: dict[str, dict[str, RowCase]]) -> Report:
    """The sync's verdict: validation's report with the new rows' IDs, and the plan's findings
    about IDs instead of validation's."""
    with_ids = report_with_ids(report, plans, new_ids)
    final = Report()
    final.extend(_open_issues(with_ids, plans))
    final.rows_read.update(report.rows_read)
    final.sheets_read.update(report.sheets_read)
    return final


def _open_issues(report: Report, plans: dict[str, LogPlan]) -> list[Issue]:
    """Every issue still open after the sync (the report given with the new IDs): the sync's
    own findings about IDs come from the plan, not from validation."""
    issues = [issue for issue in report.issues if issue.code not in PLANNED_CODES]
    for name, plan in plans.items():
        for case, code, message in plan.conflicts:
            column, _, text = message.partition(": ")
            issues.append(
                Issue(
                    log=name,
                    sheet=case.sheet,
                    row=case.row,
                    column=column,
                    code=code,
                    severity=ERROR,
                    message=text,
                    value=case.sheet_id,
                )
            )
    return issues


def _ids_by_row(
    plans: dict[str, LogPlan], new_ids: dict[str, dict[str, RowCase]], wanted: set[tuple[str | None, int]]
) -> dict[tuple[str | None, int], str]:
    """The case ID of each wanted (tab, row) that ends up stored; the rows are checked by number first,
    without building a pair for each of a big log's rows."""
    numbers = {row for _, row in wanted}
    return {
        (case.sheet, case.row): case_id
        for name, plan in plans.items()
        for group in (new_ids.get(name, {}), *_stored_groups(plan))
        for case_id, case in group.items()
        if case.row in numbers and (case.sheet, case.row) in wanted
    }


def _stored_groups(plan: LogPlan) -> tuple[dict[str, RowCase], ...]:
    """The plan's groups of rows that end up stored (as ``LogPlan.rows`` walks them)."""
    return (plan.adopted, plan.restored, plan.changed, plan.returned, plan.notes_changed, plan.unchanged)


def report_with_ids(report: Report, plans: dict[str, LogPlan], new_ids: dict[str, dict[str, RowCase]]) -> Report:
    """The report as validating the sheet again would give it: the new rows have their IDs now."""
    wanted = {(issue.sheet, issue.row) for issue in report.issues if not issue.case_id and issue.row is not None}
    ids_by_row = _ids_by_row(plans, new_ids, wanted) if wanted else {}
    again = Report()
    again.extend(
        issue if issue.case_id or issue.row is None else _with_id(issue, ids_by_row.get((issue.sheet, issue.row)))
        for issue in report.issues
    )
    again.rows_read.update(report.rows_read)
    again.sheets_read.update(report.sheets_read)
    return again


def _with_id(issue: Issue, case_id: str | None) -> Issue:
    return issue if case_id is None else dataclasses.replace(issue, case_id=case_id)
