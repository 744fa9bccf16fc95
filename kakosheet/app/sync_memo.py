"""A re-sync that reads only the rows a person changed since the last sync.

The scheduled job re-syncs a big log every few minutes, and between two runs a person edits a few
of its rows: reading, typing, checking and planning the other hundred thousand again is most of a
re-sync's time. A completed sync whose sheet ends as it was judged records a **row memo** of each
log tab: every row's digest as read (sources/xlsx_row_digests.py: shared strings counted by their
text, so Excel's renumbering at each save changes none), the ID each row shows, and the header's
row. The next sync of the same workbook hands the memo to the source, whose child process tells
which rows changed and writes a copy holding only those (sources/xlsx_changed_rows.py); they are
read, typed, checked and planned as always, and every other row is carried as the last sync left
it: its case unchanged, its issues as recorded (app/unchanged.py keeps them with the outcome).

That is only exact when no issue of a carried row can depend on a row that changed. So a log tab
is read in part only when all of these hold, and read whole otherwise:

- no sync of any source ran since the memo's but re-syncs of this workbook that found it unchanged
  (so nothing touched the cases since), and the rows are judged by the same settings, schemas,
  code, day and styles (``context``);
- the log's schema has no check across its rows but its IDs (no ``unique`` column, no
  ``sum_within`` check), and the tab has no merged area;
- the last sync left no conflict and no issue of the tab that is not a row's own (a header issue,
  a copied ID, a merged cell), and the rows read now have none either;
- no row read shows an ID a carried row shows (by its key: another padding is the same ID);
- the reference tabs (Orders, Vendors, ...) are as they were, row for row, since carried rows are
  checked against them.

A tab read in part that fails one of the later checks is read again whole, in the same sync.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kakosheet.core.case_ids import IdProblem
from kakosheet.core.issues import Issue, Report
from kakosheet.core.merges import MERGED_CELL, MERGED_ID
from kakosheet.sources.base import KnownRows

if TYPE_CHECKING:
    from kakosheet.app.read import ReadResult
    from kakosheet.app.sync import SyncResult
    from kakosheet.core.plan import LogPlan, RowCase, StoredCases
    from kakosheet.core.schema import LogSchema, SchemaSet
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store

_DIGEST_SIZE = 16
_NO_DIGEST = bytes(_DIGEST_SIZE)  # a row the sync wrote to: its digest is not known until it is read again
# Issue codes whose verdict on a row depends on more than its cells: on other rows (core/validate.py,
# core/cross_checks.py) or on the tab's merged areas (core/merges.py).
_NOT_THE_ROWS_OWN = frozenset({"duplicate-id", "duplicate-key", "over-limit", MERGED_ID, MERGED_CELL})


@dataclass(frozen=True)
class TabMemo:
    """One log tab as a completed sync left it: each row's digest as read (None: written since), and
    the ID each row shows (None: not a case)."""

    header_row: int
    digests: dict[int, bytes | None]
    case_ids: dict[int, str | None]

    def known(self) -> KnownRows:
        return KnownRows({row: d for row, d in self.digests.items() if d is not None}, self.header_row)


@dataclass(frozen=True)
class RowMemo:
    """Every log tab of a source as its last completed sync (``run_id``) left them."""

    run_id: int
    context: str
    tabs: dict[str, TabMemo]


def context_digest(settings_digest: str, opened: Source, references: Mapping[str, dict[int, bytes] | None]) -> str:
    """What the rows carried unread are judged by, beyond their own cells: the settings, schemas,
    code and day (``settings_digest``), how the workbook reads dates, and every row of the reference
    tabs."""
    digest = hashlib.sha256(settings_digest.encode())
    digest.update(b"1904" if opened.date1904 else b"1900")
    digest.update((opened.styles_digest() or "").encode())
    for tab in sorted(references):
        rows = references[tab]
        digest.update(tab.encode() + b"\0")
        if rows is None:
            digest.update(b"unread\0")
            continue
        for row in sorted(rows):
            digest.update(row.to_bytes(4, "big") + rows[row])
    return digest.hexdigest()


def usable_memo(store: Store, source: str, state: tuple[str, int, dict[str, Any]] | None) -> RowMemo | None:
    """The source's memo, when it is of the last sync run in the store and that run's outcome is kept."""
    stored = store.row_memo(source)
    if stored is None or state is None:
        return None
    run_id, context, tabs, blob = stored
    # Since that run, only re-syncs of the same workbook that found it unchanged (they touch no case).
    if run_id != state[1] or any(
        other != source or status != "unchanged" for other, status in store.runs_since(run_id)
    ):
        return None
    decoded = _decode(tabs, blob)
    return RowMemo(run_id, context, decoded) if decoded is not None else None


def digested_tabs(tabs: Mapping[str, str], schemas: SchemaSet) -> list[str]:
    """The tabs whose rows' digests a re-sync tells: the log tabs whose rows can be carried, and the
    reference tabs, whose rows' digests judge the carried rows (``context_digest``)."""
    return [tab for name, tab in tabs.items() if _carried(schemas[name]) or schemas[name].kind == "reference"]


def known_rows(tabs: Mapping[str, str], schemas: SchemaSet, memo: RowMemo | None) -> dict[str, KnownRows | None]:
    """For read_ahead: each of the digested tabs, with what the memo knows of its rows (None:
    nothing, and always for a reference tab, which is only digested)."""
    logs = {tab for name, tab in tabs.items() if _carried(schemas[name])}
    known: dict[str, KnownRows | None] = {}
    for tab in digested_tabs(tabs, schemas):
        recorded = memo.tabs.get(tab) if memo is not None and tab in logs else None
        known[tab] = recorded.known() if recorded is not None else None
    return known


def _carried(schema: LogSchema) -> bool:
    return schema.kind == "log" and can_carry(schema)


def can_carry(schema: LogSchema) -> bool:
    """Whether a log's rows can be carried unread: no check of its looks across rows but its IDs'."""
    return (
        schema.id is not None
        and not any(c.unique for c in schema.columns)
        and not any(check.check == "sum_within" for check in schema.checks)
    )


def carry_over(
    read: ReadResult,
    report: Report,
    opened: Source,
    memo: RowMemo,
    outcome: Mapping[str, Any],
    context: str,
) -> dict[str, Carried] | None:
    """What each log tab read in part carries over from the last sync; None when one cannot be
    (see the module's docstring): the sync then reads every tab whole."""
    if not read.partial:
        return {}
    if context != memo.context:
        return None
    recorded = [Issue(**issue) for issue in outcome["issues"]]
    carried: dict[str, Carried] = {}
    for name, table in read.tables.items():
        if table.sheet not in read.partial:
            continue
        tab = memo.tabs.get(table.sheet)
        logs = outcome["logs"]
        if tab is None or name not in logs or logs[name]["conflicts"] or table.header_row != tab.header_row:
            return None
        read_rows = set(read.partial[table.sheet])
        before = [i for i in recorded if i.log == name and i.sheet == table.sheet]
        now = [i for i in report.issues if i.log == name and i.sheet == table.sheet]
        if any(i.row is None or i.code in _NOT_THE_ROWS_OWN for i in (*before, *now)):
            return None
        now_rows = opened.rows_as_read(table.sheet)
        if now_rows is None:
            return None
        # The rows not read are those whose digest is the memo's (the source read every other one).
        unread = [row for row in now_rows if row not in read_rows and row > tab.header_row]
        if any(tab.digests.get(row) != now_rows[row] for row in unread):
            return None
        unread_set = set(unread)
        carried[name] = Carried(
            sheet=table.sheet,
            rows={row: case_id for row in unread if (case_id := tab.case_ids.get(row)) is not None},
            issues=[i for i in before if i.row in unread_set],
            earlier_ids={case_id for row, case_id in tab.case_ids.items() if case_id and row not in unread_set},
        )
    return carried


@dataclass(frozen=True)
class Carried:
    """Of one log tab read in part: the rows carried unread (sheet row -> the ID it shows), their
    issues as the last sync recorded them, and the IDs the rows read showed then."""

    sheet: str
    rows: dict[int, str]
    issues: list[Issue]
    earlier_ids: set[str]


def with_carried(report: Report, carried: Mapping[str, Carried]) -> Report:
    """The report of what was read, with the carried rows' issues and counts: as reading every row gives it."""
    whole = Report()
    whole.extend(report.issues)
    for log in carried.values():
        whole.extend(log.issues)
    whole.rows_read.update(report.rows_read)
    whole.sheets_read.update(report.sheets_read)
    for name, log in carried.items():
        whole.rows_read[name] = report.rows_read.get(name, 0) + len(log.rows)
    return whole


def stored_subset(stored: StoredCases, carried: Carried, typed: list[str]) -> StoredCases | None:
    """The store's view the rows read are planned against: every case but those the carried rows
    show (which stay as they are). None when a row read shows a carried row's ID (a copy)."""
    from kakosheet.core.plan import StoredCases

    shown = set(carried.rows.values())
    if any(case_id in shown for case_id in typed):
        return None
    summaries = {case_id: summary for case_id, summary in stored.summaries.items() if case_id not in shown}
    return StoredCases(summaries, stored.read_states, stored.read_foreign)


def ids_collide(schema: LogSchema, carried: Carried, typed: list[str]) -> bool:
    """Whether an ID typed in a row read is a carried row's in another form (QC-2026-1, QC-2026-0001)."""
    id_format = schema.id
    assert id_format is not None
    new = [text for text in typed if text not in carried.earlier_ids]
    if not new:
        return False
    shown = {key for key in id_format.keys(list(carried.rows.values())) if not isinstance(key, IdProblem)}
    return any(not isinstance(key, IdProblem) and key in shown for key in id_format.keys(new))


def memo_after(
    read: ReadResult,
    opened: Source,
    schemas: SchemaSet,
    result: SyncResult,
    carried: Mapping[str, Carried],
    context: str,
) -> RowMemo | None:
    """The memo of the log tabs as this sync leaves them (None when a tab's rows were not digested):
    each row's digest as read, but for the rows the write-back wrote to, and the ID each row shows."""
    assert result.run_id is not None
    tabs: dict[str, TabMemo] = {}
    for name, table in read.tables.items():
        if schemas[name].kind != "log" or not can_carry(schemas[name]):
            continue
        digests = opened.rows_as_read(table.sheet)
        if digests is None:
            return None
        plan = result.plans[name]
        ids: dict[int, str | None] = {}
        if name in carried:
            ids.update(carried[name].rows)
        for group in (result.new_ids.get(name, {}), *_groups(plan)):
            for case_id, case in group.items():
                if case.sheet == table.sheet:
                    ids[case.row] = case_id
        written = result.rows_written_to.get(table.sheet, set())
        tabs[table.sheet] = TabMemo(
            header_row=table.header_row,
            digests={row: None if row in written else digest for row, digest in digests.items()},
            case_ids={row: ids.get(row) for row in digests},
        )
    return RowMemo(result.run_id, context, tabs) if tabs else None


def _groups(plan: LogPlan) -> tuple[Mapping[str, RowCase], ...]:
    return (plan.adopted, plan.restored, plan.changed, plan.returned, plan.notes_changed, plan.unchanged)


def save_memo(store: Store, source: str, memo: RowMemo | None) -> None:
    """Keep the memo for the next sync (none: the last one is dropped, it no longer holds)."""
    if memo is None:
        store.forget_row_memo(source)
        return
    tabs, blob = _encode(memo.tabs)
    store.save_row_memo(source, memo.run_id, memo.context, tabs, blob)


def _encode(tabs: Mapping[str, TabMemo]) -> tuple[dict[str, Any], bytes]:
    """Each tab's header row and count of rows, as JSON; and its rows as bytes, tab after tab: their
    numbers (4 bytes each), their digests (16) and the IDs they show, one a line (none: an empty
    line), compressed. At 100k rows that is 2 MB, not the 4 MB of plain JSON, and reads in a tenth."""
    meta: dict[str, Any] = {}
    pieces: list[bytes] = []
    for sheet, tab in tabs.items():
        rows = sorted(tab.digests)
        ids = zlib.compress("\n".join(tab.case_ids.get(r) or "" for r in rows).encode(), 1)
        meta[sheet] = {"header_row": tab.header_row, "rows": len(rows), "ids_size": len(ids)}
        pieces.append(struct.pack(f"<{len(rows)}I", *rows))
        pieces.extend(tab.digests[r] or _NO_DIGEST for r in rows)
        pieces.append(ids)
    return meta, b"".join(pieces)


def _decode(meta: Mapping[str, Any], blob: bytes) -> dict[str, TabMemo] | None:
    """The tabs _encode wrote; None for a memo written otherwise (by an older kakosheet)."""
    tabs: dict[str, TabMemo] = {}
    at = 0
    try:
        for sheet, tab in meta.items():
            count, ids_size = tab["rows"], tab["ids_size"]
            rows = list(struct.unpack_from(f"<{count}I", blob, at))
            at += 4 * count
            digests = [blob[i : i + _DIGEST_SIZE] for i in range(at, at + _DIGEST_SIZE * count, _DIGEST_SIZE)]
            at += _DIGEST_SIZE * count
            ids = zlib.decompress(blob[at : at + ids_size]).decode().split("\n") if count else []
            at += ids_size
            tabs[sheet] = TabMemo(
                tab["header_row"],
                {row: None if digest == _NO_DIGEST else digest for row, digest in zip(rows, digests, strict=True)},
                {row: case_id or None for row, case_id in zip(rows, ids, strict=True)},
            )
    except (KeyError, TypeError, ValueError, struct.error, zlib.error):
        return None
    return tabs if at == len(blob) else None
