"""`kakosheet sync`: read, validate, plan against the store, assign IDs, write back, store.

The order keeps a crash harmless (ARCHITECTURE.md, invariant 2):
1. reserve the new IDs in the store (committed on its own: a crash leaves a gap);
2. write the IDs and notes into the sheet (atomically; refused if the sheet changed);
3. store every case under the ID the sheet now shows, with its history, in one transaction.
A crash after 2 leaves IDs in the sheet the store does not know: the next sync adopts them.

A workbook unchanged since its last completed sync is not read at all: that sync's recorded
outcome is reported again (kakosheet/app/unchanged.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kakosheet.app import identity, unchanged
from kakosheet.app.identity import WORKBOOK, Identity, claim, identify
from kakosheet.app.import_orders import store_reference_tabs
from kakosheet.app.progress import SILENT, Progress
from kakosheet.app.read import ReadResult
from kakosheet.app.validate import known_ids_of, open_configured_source, open_store, read_and_validate
from kakosheet.config import Config
from kakosheet.core.clock import Clock
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
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.core.table import Table
from kakosheet.core.writeback import WriteBack, sheet_write
from kakosheet.errors import SourceChangedError, SourceError
from kakosheet.sources.base import Source
from kakosheet.store.changes import apply_log_plan
from kakosheet.store.store import Store
from kakosheet.store.tables import stored_fields

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass
class SyncResult:
    """What a sync did (or, with --dry-run, would do)."""

    source: str
    store: str
    report: Report
    plans: dict[str, LogPlan] = field(default_factory=dict)
    new_ids: dict[str, dict[str, RowCase]] = field(default_factory=dict)
    run_id: int | None = None
    written: bool = False
    rows_stored: int = 0
    rows_left: int = 0  # rows that changed in the sheet during the sync: the next sync takes them
    write_warnings: list[str] = field(default_factory=list)  # what the write-back could not do, and why
    dry_run: bool = False
    unchanged_since: int | None = None  # the sync run whose outcome this is, when nothing was read
    recorded: dict[str, dict[str, int]] = field(default_factory=dict)  # its counts, then
    recorded_sheets: dict[str, str] = field(default_factory=dict)  # log -> tab, then
    judgement_kept: bool = False  # the sheet ends the sync as validation judged it
    moved_from: str | None = None  # where the workbook was last seen, when it moved
    outcome: dict[str, Any] = field(default_factory=dict)  # what a re-sync of it would report
    behind: list[str] = field(default_factory=list)  # what the sheet lacks of its schemas (`kakosheet setup`)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        if self.unchanged_since is not None:
            return self.recorded
        return {log: plan.counts for log, plan in self.plans.items()}

    @property
    def open_errors(self) -> int:
        return self.report.errors


def sync_source(
    config: Config,
    source: str | None = None,
    *,
    store_url: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    moved_from: str | None = None,
    progress: Progress = SILENT,
) -> SyncResult:
    """Sync one source into the store; see the module's docstring for the order of steps.

    ``now`` is the command's time (``--as-of``): aware, or naive in the team's timezone.
    ``moved_from`` names where the workbook was before (``--moved-from``): its cases follow it.
    A dry run creates nothing (no store, no lock): it plans against what the store holds.
    """
    schemas = config.load_schemas()
    opened = open_configured_source(config, source)
    store = open_store(config, schemas, store_url, create=not dry_run)
    clock = Clock.at(now or dt.datetime.now(dt.UTC), config.timezone)
    if not dry_run:
        opened.check_writable()
        store.prepare()
    with nullcontext() if dry_run else store.source_lock(opened.location):
        if store.has_tables():
            found = identify(store, opened)
        else:  # a dry run before the first sync: nothing is stored yet
            found = Identity(opened.identity or WORKBOOK + "new", opened.location)
        key = found.key if not dry_run else found.refile or found.key
        if not dry_run:
            claim(store, found, at=clock.utc, also=identity.moved_from(store, moved_from) if moved_from else None)
        judged = unchanged.judged_digest(config, key, opened.content_digest, clock.today)
        if not dry_run:
            state = store.source_state(key)
            if state is not None and judged is not None and state[0] == judged and found.write is None:
                return _recorded_result(store, opened, key, state[1], state[2], clock)
            store.forget_source_state(key)  # whatever happens next, the record is stale
        known = known_ids_of(store, key) if store.has_tables() else None
        read, report = read_and_validate(config, schemas, opened, today=clock.today, progress=progress, known_ids=known)
        moved = None if dry_run else identity.moved_before_identities(store, found, _sheet_ids(read))
        if moved is not None:
            store.refile_source(moved, key)
        with _frozen_heap():
            result = _sync_read(
                store, opened, schemas, read, report, _Run(key, clock, found.write), dry_run=dry_run, progress=progress
            )
        result.moved_from = found.moved_from or moved or moved_from
        result.behind = schema_drift(read.lists, read.tables.values(), schemas)
        if result.judgement_kept and not dry_run:
            judged = unchanged.judged_digest(config, key, opened.content_digest, clock.today)
            store.save_source_state(key, judged, result.run_id, result.outcome)
        return result


@dataclass(frozen=True)
class _Run:
    """What every step of one sync shares."""

    key: str  # the source's identity in the store
    clock: Clock
    identity: str | None  # to write into a workbook that lacks it


def _sheet_ids(read: ReadResult) -> dict[str, list[str]]:
    """Per log, the IDs typed in its tabs."""
    ids: dict[str, list[str]] = {}
    for table in read.all_tables():
        schema = table.schema
        if schema.kind == "log" and schema.id is not None and schema.id.field in table.columns:
            cells = table.columns[schema.id.field].row_raw().tolist()
            ids.setdefault(schema.name, []).extend(str(c).strip() for c in cells if c is not None and str(c).strip())
    return ids


def _recorded_result(
    store: Store, opened: Source, key: str, run_id: int, recorded: dict[str, Any], clock: Clock
) -> SyncResult:
    """The outcome of the last sync, for a workbook unchanged since (kakosheet/app/unchanged.py)."""
    result = SyncResult(
        source=opened.name,
        store=store.display_url,
        report=unchanged.recorded_report(recorded),
        unchanged_since=run_id,
        recorded=unchanged.recorded_counts(recorded),
        recorded_sheets={name: log["sheet"] for name, log in recorded["logs"].items()},
    )
    result.run_id = store.start_run(key, at=clock.utc)
    store.finish_run(result.run_id, "unchanged", result.counts)
    return result


def _sync_read(
    store: Store,
    opened: Source,
    schemas: SchemaSet,
    read: ReadResult,
    report: Report,
    run: _Run,
    *,
    dry_run: bool,
    progress: Progress = SILENT,
) -> SyncResult:
    """Plan, assign IDs, write back and store what was read (steps 1-3 of the module docstring)."""
    result = SyncResult(source=opened.name, store=store.display_url, report=report, dry_run=dry_run)
    tables = {name: t for name, t in read.tables.items() if t.schema.kind == "log"}
    for name, table in tables.items():
        tabs = [table, *read.archives.get(name, [])]
        result.plans[name] = _plan(
            store, tabs, report.issues, run.key, run.clock, exists=not dry_run or store.has_tables()
        )
    # One verdict: the sync's own findings about IDs (which row of a copy keeps it) replace
    # validation's, in the summary, --strict, the Issues column and tab, and the recorded outcome.
    if dry_run:
        result.report = _sync_report(report, result.plans, {})
        return result
    result.run_id = store.start_run(run.key, at=run.clock.utc)
    for name, plan in result.plans.items():
        result.new_ids[name] = _assign_ids(store, schemas[name], plan)
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
    storing = _StoringBehind(store, schemas, result, run)  # inserts while the sheet is written; commits after
    try:
        outcome = opened.write_back(changes)
        progress.stage(f"storing {sum(len(t) for t in tables.values())} rows")
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


def _store_plans(store: Store, connection: Connection, schemas: SchemaSet, result: SyncResult, run: _Run) -> int:
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
    """The store's transaction of a sync, on a thread while the write-back runs (SQLite, zlib
    and the driver's sockets release the GIL: on a first sync of 100k rows the inserts take as
    long as the write-back). It commits only once the sheet is written (step 3 after step 2
    of the module docstring): a crash or a refused write-back leaves nothing of it stored."""

    def __init__(self, store: Store, schemas: SchemaSet, result: SyncResult, run: _Run) -> None:
        self._store = store
        self._verdict: queue.SimpleQueue[dict[str, dict[str, int]] | None] = queue.SimpleQueue()
        self._rows = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(schemas, result, run), name="kakosheet-store", daemon=True
        )
        self._thread.start()

    def _run(self, schemas: SchemaSet, result: SyncResult, run: _Run) -> None:
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


def _plan(
    store: Store, tables: list[Table], issues: list[Issue], source: str, clock: Clock, *, exists: bool
) -> LogPlan:
    """Plan one log over its tab and its archive tabs (whose cases are present, not missing)."""
    schema = tables[0].schema
    fields = stored_fields(schema)
    cases = [case for table in tables for case in row_cases(table, issues, fields=fields, clock=clock)]
    stored = store.stored_cases(schema.name, source) if exists else StoredCases.of({})
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
