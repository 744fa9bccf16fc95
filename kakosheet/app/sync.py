"""`kakosheet sync`: read, validate, plan against the store, assign IDs, write back, store.

The order keeps a crash harmless (ARCHITECTURE.md, invariant 2):
1. reserve the new IDs in the store (committed on its own: a crash leaves a gap);
2. write the IDs and notes into the sheet (atomically; refused if the sheet changed);
3. store every case under the ID the sheet now shows, with its history, in one transaction.
A crash after 2 leaves IDs in the sheet the store does not know: the next sync adopts them.

A workbook unchanged since its last completed sync is not read at all: that sync's recorded
outcome is reported again (kakosheet/app/unchanged.py), and nothing that reads cells is even
imported. The sync that reads the source is kakosheet/app/sync_read.py.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kakosheet.app import identity, unchanged
from kakosheet.app.configured import open_configured_source, open_store
from kakosheet.app.find_tabs import find_tabs
from kakosheet.app.identity import WORKBOOK, Identity, claim, identify
from kakosheet.app.progress import SILENT, Progress
from kakosheet.app.sync_memo import RowMemo, digested_tabs, known_rows, usable_memo
from kakosheet.config import Config
from kakosheet.core.clock import Clock
from kakosheet.core.issues import Report

if TYPE_CHECKING:
    from kakosheet.core.plan import LogPlan, RowCase
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store

__all__ = ["SyncResult", "SyncRun", "open_store", "sync_source"]


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
    rows_written_to: dict[str, set[int]] = field(default_factory=dict)  # tab -> the rows the write-back wrote to
    carried: int = 0  # rows carried unread, unchanged since the last sync (app/sync_memo.py)
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
    # From now, while the store opens: a workbook kakosheet never synced is read (every row of it
    # is read whatever the store holds); one it synced before has its rows digested on the other
    # core, for the store to tell which changed since the last sync.
    tabs = find_tabs(opened, schemas, config.logs, config.archives, by_header=False)
    if opened.identity is None:
        opened.read_ahead(tabs.sheets, write_back_follows=not dry_run)
    elif not dry_run:
        opened.digest_ahead(digested_tabs(tabs.logs, schemas))
    try:
        store = open_store(config, schemas, store_url, create=not dry_run)
    except BaseException:
        opened.close()
        raise
    try:
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
            state = None
            if not dry_run:
                state = store.source_state(key)
                if state is not None and judged is not None and state[0] == judged and found.write is None:
                    recorded = _recorded_result(store, opened, key, state[1], state[2], clock)
                    recorded.moved_from = found.moved_from
                    return recorded
                store.forget_source_state(key)  # whatever happens next, the record is stale
            # The tabs are being read while the one import of what types them loads (pandas, numpy,
            # the planner, the write-back): a workbook unchanged since its last sync returned above
            # without reading or loading any of it.
            memo = usable_memo(store, key, state) if state is not None and found.write is None else None
            # A re-sync tells each row's digest, for the next one; with a memo, it reads only the rows changed.
            known = known_rows(tabs.logs, schemas, memo) if state is not None else None
            opened.read_ahead(tabs.sheets, write_back_follows=not dry_run, known=known)
            from kakosheet.app.sync_read import sync_read

            run = SyncRun(key, clock, found.write, memo, state[2] if memo is not None and state else None)
            return sync_read(
                config,
                schemas,
                store,
                opened,
                run,
                found=found,
                moved_from=moved_from,
                dry_run=dry_run,
                progress=progress,
            )
    finally:
        opened.close()
        store.close()  # its connections closed (SQLite checkpoints its log): a scheduled job opens a new one


@dataclass(frozen=True)
class SyncRun:
    """What every step of one sync shares."""

    key: str  # the source's identity in the store
    clock: Clock
    identity: str | None  # to write into a workbook that lacks it
    memo: RowMemo | None = None  # the log tabs as the last sync left them (app/sync_memo.py)
    outcome: dict[str, Any] | None = None  # the last sync's recorded outcome, when its memo is used


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
