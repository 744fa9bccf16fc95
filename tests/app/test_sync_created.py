"""Created cases are stored column by column (store/created.py); the row-by-row definition
(RowCase.values and RowCase.raw, one dict per row) is what they must equal, on SQLite and
PostgreSQL alike: the same values, and a history whose created event tells the same JSON text
as the copy of the case it once stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, cast, delete, select

from kakosheet.app.setup import init_team
from kakosheet.app.validate import read_and_validate
from kakosheet.config import Config, load_config
from kakosheet.core.clock import Clock
from kakosheet.core.plan import RowCase, notes_digest, row_cases
from kakosheet.sources import open_source
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.created import store_created
from kakosheet.store.minor import minor_values
from kakosheet.store.store import Store, to_json
from kakosheet.store.tables import stored_fields

NOW = dt.datetime(2026, 6, 30, 9, 0)
RUN_ID = 7
SOURCE = "/teams/qc/master.xlsx"
MONEY = ["replacement_cost", "shipping_cost", "penalty", "recovered_amount"]

# Per field, values that normalize, that do not fit the type, that are blank, and repeats.
CELLS: dict[str, list[Any]] = {
    "original_order_id": ["0001234", "0001234", 1234, "  ", None],
    "date_identified": [dt.datetime(2026, 3, 2, 10, 30), "2026-03-15", "03/04/2026", "someday", None],
    "date_logged": [dt.datetime(2026, 3, 2, 11, 0), None, None, "not a date"],
    "exception_type": ["Damaged", "damaged", "Damagd", None],
    "description": ["Carton crushed.", 'é ü "quoted" \\ back\u2028', "=1+1", None],
    "media_links": ["https://media.example.com/qc/1.jpg", "not a link", None],
    "responsible_party": ["Acme Trading", "Acme Trading", None],
    "source_type": ["Supplier", "Inspector", "Elsewhere", None],
    "replacement_cost": [25.5, 12.505, "$12.50", -3, None],
    "currency": ["USD", "EURO", "cny", None],
    "status": ["Open", "Closed", "closed ", "Bogus", None],
    "owner": ["ana@example.com", "bad@", None],
    "closure_date": [dt.date(2026, 4, 1), "2026-13-01", None],
}


def qc_rows() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: st.sampled_from(values) for name, values in CELLS.items()})


def reference_row(case_id: str, case: RowCase, fields: list[str]) -> dict[str, Any]:
    """What the row-by-row path stored for a created case."""
    return {
        "case_id": case_id,
        **{f: case.values.get(f) for f in fields},
        "_source": SOURCE,
        "_version": 1,
        "_fingerprint": case.fingerprint,
        "_match": case.match,
        "_incomplete": case.incomplete,
        "_issues": list(case.notes),
        "_notes_digest": notes_digest(case.notes),
        "_raw": dict(case.raw) or None,
        "_missing_since": None,
        "_updated_run": RUN_ID,
        **minor_values(case.values, MONEY),
    }


def reference_event(case: RowCase) -> str:
    """The JSON text of a created case's history event, as the row-by-row path wrote it (a copy of the case)."""
    raw = case.raw
    changes = {f: [None, value] for f, value in case.values.items() if value is not None}
    changes |= {f"{f} (as typed)": [None, raw[f]] for f in sorted(raw)}
    return to_json(changes)


def created_cases(team: Config, tmp: Path, rows: list[dict[str, Any]]) -> tuple[list[tuple[str, RowCase]], list[str]]:
    path = tmp / "master.xlsx"
    path.write_bytes((team.root / "master.xlsx").read_bytes())
    schemas = team.load_schemas()
    fill_master_workbook(path, schemas, {"qc": rows})
    read, report = read_and_validate(team, schemas, open_source(str(path)), today=NOW.date())
    fields = stored_fields(schemas["qc"])
    cases = row_cases(read.tables["qc"], report.issues, fields=fields, clock=Clock.at(NOW))
    return [(f"QC-2026-{number:04d}", case) for number, case in enumerate(cases, start=1)], fields


def test_created_cases_are_stored_as_the_row_by_row_path_stored_them(store_url: str, tmp_path: Path) -> None:
    init_team(tmp_path / "team", logs=("qc",))
    team = load_config(tmp_path / "team" / "kakosheet.toml")
    store = Store(store_url, team.load_schemas())
    store.prepare()
    table, history = store.table("qc"), store.metadata.tables["case_history"]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=st.lists(qc_rows(), min_size=1, max_size=12))
    def check(rows: list[dict[str, Any]]) -> None:
        creations, fields = created_cases(team, tmp_path, rows)
        with store.changes() as connection:
            connection.execute(delete(table))
            connection.execute(delete(history))
            written = store_created(
                connection, table, history, creations, log="qc", run_id=RUN_ID, source=SOURCE, now=NOW
            )
        assert written == 2 * len(creations)
        with store.engine.connect() as connection:
            stored = {row.case_id: dict(row._mapping) for row in connection.execute(select(table))}
            events = connection.execute(
                select(history.c.case_id, history.c.version, history.c.event, cast(history.c.changes, Text))
            ).all()
        assert stored == {case_id: reference_row(case_id, case, fields) for case_id, case in creations}
        by_id = dict(creations)
        assert sorted(e.case_id for e in events) == sorted(by_id)
        for case_id, version, event, changes in events:
            assert (version, event, changes) == (1, "created", "{}")  # no copy of the case
            (told,) = store.history(case_id)
            assert to_json(told.changes) == reference_event(by_id[case_id])  # its first version, from the present

    check()
