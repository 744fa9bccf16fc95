"""Planning a re-sync in bulk (unchanged rows found all at once, the store's state read only for
the other rows) gives exactly the plan of matching every row one by one, as planning was first
defined: the same groups, conflicts, copies kept, IDs adopted, restored and gone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kakosheet.config import load_config
from kakosheet.core.case_ids import IdProblem
from kakosheet.core.cells import CellContext
from kakosheet.core.clock import Clock
from kakosheet.core.grid import Grid
from kakosheet.core.header import locate_header
from kakosheet.core.plan import (
    LogPlan,
    RowCase,
    StoredCases,
    StoredState,
    _held_id,
    _hold_back_transitions,
    _keeper,
    _restore_by_content,
    _same_content,
    notes_digest,
    plan_log,
    problem_message,
    row_cases,
)
from kakosheet.core.schema import LogSchema
from kakosheet.core.table import Table, build_table
from kakosheet.core.validate import validate_table
from kakosheet.store.tables import stored_fields

NOW = dt.datetime(2026, 6, 30, 9, 0)
CTX = CellContext(today=dt.date(2026, 6, 30))
# IDs a sheet shows: blanks, a copy, another padding of a stored one, an older sheet's, a
# malformed one, another workbook's.
SHEET_IDS = ["", "", "QC-2026-0001", "QC-2026-0001", "QC-2026-00001", "QC-2026-0002", "QC-2025-0003"]
SHEET_IDS += ["bad id", "QC-2026-0009", "QC-2024-0042", " QC-2026-0002 "]
STORED_IDS = ["QC-2026-0001", "QC-2026-0002", "QC-2025-0003", "QC-2024-0042", "QC-2026-0100", "QC-2026-0101"]
STORED_IDS += ["bad id"]  # issued under an ID format the schema since changed
FOREIGN_IDS = ["QC-2026-0009", "QC-2026-0100"]


@pytest.fixture(scope="module")
def schema() -> LogSchema:
    return load_config(None).load_schemas()["qc"]


def _table(schema: LogSchema, rows: list[dict[str, Any]], formulas: set[int] = frozenset()) -> Table:
    """The log's tab of these rows; the ID cells of rows at ``formulas`` (0 = first) hold a formula."""
    fields = [column.field for column in schema.columns]
    grid = Grid(
        schema.tab,
        [[schema.column(f).label for f in fields], *[[row.get(f, "") for f in fields] for row in rows]],
        formulas={(index + 2, fields.index("case_id")) for index in formulas if index < len(rows)},
    )
    located = locate_header(grid, schema)
    assert located is not None
    return build_table(grid, located, schema, CTX)


rows = st.lists(
    st.fixed_dictionaries(
        {
            "case_id": st.sampled_from(SHEET_IDS),
            "original_order_id": st.sampled_from(["1001", "1002"]),
            "date_identified": st.sampled_from([dt.datetime(2026, 3, 2), "someday"]),
            "date_logged": st.sampled_from(["", dt.datetime(2026, 3, 2, 11, 0)]),
            "exception_type": st.just("Damaged"),
            "description": st.sampled_from(["Carton crushed.", "Label missing"]),
            "responsible_party": st.just("Acme"),
            "status": st.sampled_from(["Open", "Closed"]),
        }
    ),
    min_size=1,
    max_size=14,
)
# How a stored case stands against the rows: its fingerprint, match print and notes those of
# the first row showing its ID (or of a row without an ID), or others; missing; its status.
states = st.dictionaries(
    st.sampled_from(STORED_IDS),
    st.tuples(  # mostly as a row shows it: the rows the bulk pass finds unchanged
        st.sampled_from(["row", "row", "row", "other"]),
        st.sampled_from(["row", "row", "row", "other", None]),
        st.sampled_from(["row", "row", "row", "other"]),
        st.sampled_from([False, False, False, True]),
        st.sampled_from([None, "Open", "Closed"]),
        st.sampled_from([{}, {"date_logged": dt.datetime(2026, 1, 5, 8, 0)}]),
    ),
)


def _stored(cases: list[RowCase], drawn: dict[str, tuple[Any, ...]]) -> dict[str, StoredState]:
    by_id = {}
    for case in cases:
        by_id.setdefault(case.sheet_id, case)
    without_id = [case for case in cases if case.sheet_id is None]
    stored = {}
    for number, (case_id, (prints, match, notes, missing, status, derived)) in enumerate(sorted(drawn.items())):
        like = by_id.get(case_id) or (without_id[number % len(without_id)] if without_id else None)
        other = format(number, "016x")
        stored[case_id] = StoredState(
            fingerprint=like.fingerprint if like is not None and prints == "row" else other,
            missing=missing,
            notes=notes_digest(like.notes) if like is not None and notes == "row" else "1" * 16,
            status=status,
            match=None if match is None else like.match if like is not None and match == "row" else other,
            derived=derived,
        )
    return stored


def reference_plan(
    schema: LogSchema, cases: list[RowCase], stored: dict[str, StoredState], foreign: dict[str, str], fields: list[str]
) -> LogPlan:
    """Every row matched one by one against every stored case's state."""
    id_format = schema.id
    assert id_format is not None
    plan = LogPlan(log=schema.name, sheet=schema.tab)
    label = schema.column(id_format.field).label
    ids = [c.sheet_id for c in cases if type(c.sheet_id) is str]
    keys = dict(zip(ids, id_format.keys(ids), strict=True))
    by_key: dict[Any, list[RowCase]] = {}
    without_id = []
    for case in cases:
        sheet_id = case.sheet_id
        if sheet_id is None:
            without_id.append(case)
        elif type(sheet_id) is not str:
            plan.conflicts.append(_held_id(case, label))
        elif isinstance(key := keys[sheet_id], IdProblem) and sheet_id not in stored:
            plan.conflicts.append((case, "malformed-id", f"{label}: {problem_message(key, sheet_id, id_format)}"))
        elif not isinstance(key, IdProblem) and sheet_id in foreign:
            where = foreign[sheet_id]
            plan.conflicts.append(
                (
                    case,
                    "foreign-id",
                    f"{label}: {sheet_id} is a case of another workbook ({where}); clear it and the next sync "
                    "assigns this row its own (if this workbook is that one, moved, run kakosheet sync "
                    f"--moved-from '{where}' instead)",
                )
            )
        else:
            by_key.setdefault(("stored", sheet_id) if isinstance(key, IdProblem) else key, []).append(case)
    stored_keys: dict[Any, str] = {}
    for case_id, key in zip(sorted(stored), id_format.keys(sorted(stored)), strict=True):
        if not isinstance(key, IdProblem):
            stored_keys.setdefault(key, case_id)
    claimed: dict[str, RowCase] = {}
    for key, shown in by_key.items():
        found = next((r.sheet_id for r in shown if r.sheet_id in stored), None) or stored_keys.get(key)
        keeper = shown[0] if found is None or len(shown) == 1 else _keeper(shown, stored[found], fields)
        case_id = found or keeper.sheet_id
        assert case_id is not None
        claimed[case_id] = keeper
        for other in shown:
            if other is not keeper:
                written = (
                    "also"
                    if other.sheet_id == keeper.sheet_id
                    else f"the same ID as {keeper.sheet_id}, written another way,"
                )
                plan.conflicts.append(
                    (
                        other,
                        "duplicate-id",
                        f"{label}: {other.sheet_id} is {written} on row {keeper.row}; a copied row keeps no ID, so "
                        "clear this one and the next sync assigns a new one",
                    )
                )
    _restore_by_content(plan, without_id, stored, claimed)
    for case_id, case in claimed.items():
        if case_id in plan.restored:
            continue
        known = stored.get(case_id)
        if known is None:
            plan.adopted[case_id] = case
        elif known.missing:
            _same_content(case, known, fields)
            plan.returned[case_id] = case
        elif not _same_content(case, known, fields):
            plan.changed[case_id] = case
        else:
            if known.match != case.match:
                plan.reprinted[case_id] = case
            group = plan.unchanged if known.notes == notes_digest(case.notes) else plan.notes_changed
            group[case_id] = case
    plan.gone = sorted(case_id for case_id in stored.keys() - claimed.keys() if not stored[case_id].missing)
    _hold_back_transitions(schema, plan, stored)
    return plan


def _outcome(plan: LogPlan) -> dict[str, Any]:
    """A plan as rows: each group's (case ID, row, print) pairs, the new rows, conflicts, gone cases."""
    groups = ("adopted", "restored", "changed", "returned", "notes_changed", "unchanged", "reprinted")
    outcome: dict[str, Any] = {
        name: sorted((case_id, case.row, case.fingerprint) for case_id, case in getattr(plan, name).items())
        for name in groups
    }
    outcome["new"] = sorted(case.row for case in plan.new)
    outcome["conflicts"] = sorted((case.row, code, message) for case, code, message in plan.conflicts)
    outcome["gone"] = plan.gone
    return outcome


ROW = {"original_order_id": "1001", "date_identified": dt.datetime(2026, 3, 2), "exception_type": "Damaged"}
ROW |= {"description": "Carton crushed.", "responsible_party": "Acme", "status": "Open"}


def two_rows(first: str, second: str) -> list[dict[str, Any]]:
    return [ROW | {"case_id": first}, ROW | {"case_id": second}]


UNCHANGED = {"QC-2026-0001": ("row", "row", "row", False, "Open", {})}  # as the first row shows it


@settings(max_examples=400, deadline=None)
@given(
    sheet=rows,
    drawn=states,
    foreign_ids=st.sets(st.sampled_from(FOREIGN_IDS)),
    formulas=st.sets(st.integers(0, 13), max_size=2),
)
# An unchanged row, and beside it another padding of its ID, a copy, a row without an ID, a formula.
@example(sheet=two_rows("QC-2026-0001", "QC-2026-00001"), drawn=UNCHANGED, foreign_ids=set(), formulas=set())
@example(sheet=two_rows("QC-2026-0001", "QC-2026-0001"), drawn=UNCHANGED, foreign_ids=set(), formulas=set())
@example(sheet=two_rows("QC-2026-0001", ""), drawn=UNCHANGED, foreign_ids=set(), formulas=set())
@example(sheet=two_rows("QC-2026-0001", "QC-2026-0001"), drawn=UNCHANGED, foreign_ids=set(), formulas={1})
def test_planning_in_bulk_is_planning_row_by_row(
    schema: LogSchema,
    sheet: list[dict[str, Any]],
    drawn: dict[str, tuple[Any, ...]],
    foreign_ids: set[str],
    formulas: set[int],
) -> None:
    table = _table(schema, sheet, formulas)
    issues = validate_table(table, today=CTX.today)
    fields = stored_fields(schema)

    def cases() -> list[RowCase]:  # each planner its own: matching puts stored values into the rows
        return row_cases(table, issues, fields=fields, clock=Clock.at(NOW))

    stored = _stored(cases(), drawn)
    foreign = {case_id: "elsewhere.xlsx" for case_id in foreign_ids if case_id not in stored}
    bulk = plan_log(schema, table.sheet, cases(), StoredCases.of(stored, foreign), fields=fields)
    assert _outcome(bulk) == _outcome(reference_plan(schema, cases(), stored, foreign, fields))


def test_a_sheet_of_unchanged_rows_reads_no_case_state(schema: LogSchema) -> None:
    """The store is asked for the whole state of no case when every row is its case unchanged."""
    table = _table(
        schema,
        [
            {"case_id": f"QC-2026-000{n}", "original_order_id": "1", "date_identified": dt.datetime(2026, 3, 2)}
            | {"exception_type": "Damaged", "description": "x", "responsible_party": "Acme", "status": "Open"}
            for n in range(1, 4)
        ],
    )
    fields = stored_fields(schema)
    issues = validate_table(table, today=CTX.today)
    cases = row_cases(table, issues, fields=fields, clock=Clock.at(NOW))
    known = {
        case.sheet_id: StoredState(case.fingerprint, False, notes_digest(case.notes), "Open", case.match)
        for case in cases
        if case.sheet_id is not None
    }
    asked: list[list[str]] = []
    everything = StoredCases.of(known)
    stored = StoredCases(everything.summaries, lambda ids: asked.append(ids) or everything.read_states(ids))
    plan = plan_log(schema, table.sheet, cases, stored, fields=fields)
    assert sorted(plan.unchanged) == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    assert asked == []
