"""Writing a sync's plan into the store: current rows and their append-only history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.exc import SQLAlchemyError

from kakosheet.core.plan import LogPlan, RowCase, notes_digest
from kakosheet.core.schema import LogSchema
from kakosheet.errors import StoreError
from kakosheet.store.created import store_created
from kakosheet.store.deferred_indexes import indexes_deferred
from kakosheet.store.minor import minor_values, money_fields
from kakosheet.store.store import Store, connection_lost, utc_now
from kakosheet.store.tables import stored_fields


def _present(case: RowCase, fields: list[str]) -> list[str]:
    """The fields the row's tab has a column for: a column missing from the sheet erases nothing."""
    columns = case.source.columns
    return [f for f in fields if f in columns]


def _diff(before: dict[str, Any], after: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    return {f: [before.get(f), after.get(f)] for f in fields if before.get(f) != after.get(f)}


def apply_log_plan(
    store: Store,
    connection: Connection,
    schema: LogSchema,
    plan: LogPlan,
    new_ids: dict[str, RowCase],
    *,
    run_id: int,
    source: str,
    recorded_at: dt.datetime | None = None,
) -> int:
    """Apply one log's plan inside the sync's transaction; returns the rows written.

    Validation keeps every value storable (unbounded text, no NUL, numbers in range); should
    the database still refuse one, the sync stops naming the cell, not with a traceback, and
    nothing of it is stored: the next sync adopts the IDs the sheet already shows."""
    created = len(new_ids.keys() | plan.adopted.keys())
    # The history gets an event per created case and at most one per other case the plan touches.
    events = created + len(plan.changed) + len(plan.returned) + len(plan.restored) + len(plan.gone)
    inserting = {store.table(schema.name): created, store.metadata.tables["case_history"]: events}
    savepoint = connection.begin_nested()  # a refused value leaves the transaction usable, to find it
    try:
        with indexes_deferred(connection, inserting):  # a first sync's indexes built once, after its rows
            written = _apply_log_plan(
                store, connection, schema, plan, new_ids, run_id=run_id, source=source, recorded_at=recorded_at
            )
    except REFUSED as exc:
        if connection_lost(exc):  # the server went away: no value of the sheet to blame
            raise store.failure(exc) from exc
        savepoint.rollback()
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        where = _refused_cell(store, connection, schema, plan, new_ids, run_id=run_id, source=source)
        raise StoreError(
            f"the store refused {where or 'a change to the ' + schema.name + ' log'} ({reason}); nothing of "
            "this sync was stored: fix the cell and run sync again (it keeps the IDs the sheet shows)"
        ) from exc
    savepoint.commit()
    return written


REFUSED = (SQLAlchemyError, ValueError, OverflowError, UnicodeError)


def _refused_cell(
    store: Store,
    connection: Connection,
    schema: LogSchema,
    plan: LogPlan,
    new_ids: dict[str, RowCase],
    *,
    run_id: int,
    source: str,
) -> str | None:
    """The cell the store refused, as "the Column of row N on Sheet (ID)", found by writing again,
    each try undone: halves of the cases until one is left, then that case with one field
    blank at a time. Runs only after a refusal; None when no single case explains it."""
    table = store.table(schema.name)
    fields = stored_fields(schema)

    def tries(items: list[tuple[str, RowCase]], *, created: bool, blank: str | None = None) -> bool:
        rows = [
            {
                "key": case_id,
                **{f: case.values.get(f) for f in _present(case, fields)},
                **_meta(case, case.raw, source, run_id, version=1),
                **({blank: None} if blank else {}),
            }
            for case_id, case in items
        ]
        savepoint = connection.begin_nested()
        try:
            if created:
                connection.execute(table.insert().values(case_id=bindparam("key")), rows)
            else:
                connection.execute(update(table).where(table.c.case_id == bindparam("key")), rows)
            return True
        except REFUSED:
            return False
        finally:
            savepoint.rollback()

    groups = (({**new_ids, **plan.adopted}, True), ({**plan.changed, **plan.returned, **plan.restored}, False))
    for cases, created in groups:
        group = list(cases.items())
        if not group or tries(group, created=created):
            continue
        while len(group) > 1:
            half = group[: len(group) // 2]
            group = half if not tries(half, created=created) else group[len(half) :]
        case_id, case = group[0]
        culprit = next((f for f in fields if tries(group, created=created, blank=f)), None)
        label = f"the {schema.column(culprit).label} of " if culprit else ""
        return f"{label}row {case.row} on {case.sheet} ({case_id})"
    return None


def _apply_log_plan(
    store: Store,
    connection: Connection,
    schema: LogSchema,
    plan: LogPlan,
    new_ids: dict[str, RowCase],
    *,
    run_id: int,
    source: str,
    recorded_at: dt.datetime | None = None,
) -> int:
    """Apply one log's plan inside the sync's transaction; returns the rows written.

    ``recorded_at`` is the sync's time (naive UTC), which every history event of it carries."""
    table = store.table(schema.name)
    history = store.metadata.tables["case_history"]
    fields = stored_fields(schema)
    amounts = money_fields(schema)
    now = recorded_at or utc_now()
    written = 0
    events: list[dict[str, Any]] = []

    def event(case_id: str, version: int, name: str, changes: dict[str, list[Any]]) -> None:
        events.append(
            {
                "log": schema.name,
                "case_id": case_id,
                "version": version,
                "run_id": run_id,
                "source": source,
                "recorded_at": now,
                "event": name,
                "changes": changes,
            }
        )

    creations = list({**new_ids, **plan.adopted}.items())
    written += store_created(
        connection, table, history, creations, log=schema.name, run_id=run_id, source=source, now=now
    )

    rewritten = {**plan.changed, **plan.returned, **plan.restored}
    if rewritten:
        before = store.case_values(schema.name, list(rewritten), connection=connection)
        rows: list[dict[str, Any]] = []
        for case_id, case in rewritten.items():
            old = before[case_id]
            present = _present(case, fields)
            values = case.values
            changes = _diff(old, values, present) | _raw_changes(old.get("_raw") or {}, case.raw, present)
            was_missing = old["_missing_since"] is not None
            if not changes and not was_missing:
                # The same content under an out-of-date print (a restored ID, a column gone from the
                # sheet, a store older than match prints): no version, the prints brought up to date.
                notes_differ = old["_notes_digest"] != notes_digest(case.notes)
                if plan.changed.pop(case_id, None) is not None:  # so the sync's counts say what happened
                    (plan.notes_changed if notes_differ else plan.unchanged)[case_id] = case
                    plan.reprinted[case_id] = case
                    continue
                if not notes_differ:
                    plan.reprinted[case_id] = case
                    continue
            version = old["_version"] + (1 if changes else 0)
            raw = {f: text for f, text in (old.get("_raw") or {}).items() if f not in present} | case.raw
            row = {
                **{f: values.get(f) for f in present},
                **_meta(case, raw, source, run_id, version=version),
                # of the amounts as stored: a column gone from the sheet keeps its stored amount
                **minor_values(old | {f: values.get(f) for f in present}, amounts),
            }
            # Only the columns whose value changes are set: an index over the others (the date, the
            # status, the source...) is then not rewritten, which at 1,000 cases changed of 100k is
            # most of the pages the transaction writes.
            rows.append(
                {"key": case_id}
                | {column: value for column, value in row.items() if column not in old or old[column] != value}
            )
            if changes or was_missing:
                event(case_id, version, "returned" if was_missing else "changed", changes)
        written += _update_rows(connection, table, rows)

    reprints = [
        {"key": case_id, "_fingerprint": case.fingerprint, "_match": case.match}
        for case_id, case in plan.reprinted.items()
    ]
    if reprints:
        connection.execute(update(table).where(table.c.case_id == bindparam("key")), reprints)

    if plan.notes_changed:
        connection.execute(
            update(table).where(table.c.case_id == bindparam("key")),
            [
                {
                    "key": case_id,
                    "_issues": list(case.notes),
                    "_notes_digest": notes_digest(case.notes),
                    "_incomplete": case.incomplete,
                }
                for case_id, case in plan.notes_changed.items()
            ],
        )
        written += len(plan.notes_changed)

    if plan.gone:
        versions = store.case_versions(schema.name, plan.gone, connection=connection)
        connection.execute(
            update(table).where(table.c.case_id == bindparam("key")),
            [{"key": case_id, "_missing_since": run_id, "_updated_run": run_id} for case_id in plan.gone],
        )
        for case_id in plan.gone:
            event(case_id, versions[case_id], "missing", {})
        written += len(plan.gone)

    if events:
        connection.execute(history.insert(), events)
    return written + len(events)


def _update_rows(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> int:
    """Update stored rows, grouped by the columns they set (rows of tabs lacking a column set fewer)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for group in groups.values():
        connection.execute(update(table).where(table.c.case_id == bindparam("key")), group)
    return len(rows)


def _meta(case: RowCase, raw: dict[str, str], source: str, run_id: int, *, version: int) -> dict[str, Any]:
    return {
        "_source": source,
        "_version": version,
        "_fingerprint": case.fingerprint,
        "_match": case.match,
        "_incomplete": case.incomplete,
        "_issues": list(case.notes),
        "_notes_digest": notes_digest(case.notes),
        "_raw": dict(raw) or None,
        "_missing_since": None,
        "_updated_run": run_id,
    }


def _raw_changes(before: dict[str, str], after: dict[str, str], present: list[str]) -> dict[str, list[Any]]:
    """Cells whose text did not fit their type are history too, under the field's name + " (as typed)"
    (of the columns the sheet has: a missing one changes nothing)."""
    return {
        f"{f} (as typed)": [before.get(f), after.get(f)]
        for f in sorted((set(before) | set(after)) & set(present))
        if before.get(f) != after.get(f)
    }
