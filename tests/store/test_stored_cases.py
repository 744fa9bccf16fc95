"""The store's view of a source's cases for planning, on SQLite and on PostgreSQL: the summary the
database puts together is the planner's own (``case_summary``) of each case's state; a missing case
has none; the state is read for the cases asked for, of this source only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import load_config
from kakosheet.core.plan import case_summary
from kakosheet.store.store import Store
from tests.helpers import qc_row, qc_tab, write_workbook

NOW = dt.datetime(2026, 6, 30, 9, 0)


def test_the_summaries_the_database_reads_are_the_planners(tmp_path: Path, store_url: str) -> None:
    init_team(tmp_path / "team", logs=("qc",))
    config = load_config(tmp_path / "team" / "kakosheet.toml")
    rows = [qc_row(Status="Closed"), *[qc_row(Description=f"Carton {n} crushed.") for n in range(4)]]
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab(rows)})
    result = sync_source(config, store_url=store_url, now=NOW)
    ids = sorted(result.new_ids["qc"])
    store = Store(store_url, config.load_schemas())
    source = store.source_at(str(tmp_path / "team" / "master.xlsx"))
    assert source is not None
    table = store.table("qc")
    with store.changes() as connection:  # one case gone from the sheet, one from a store older than match prints
        connection.execute(update(table).where(table.c.case_id == ids[0]).values(_missing_since=result.run_id))
        connection.execute(update(table).where(table.c.case_id == ids[1]).values(_match=None))
    stored = store.stored_cases("qc", source)
    states = stored.states([*ids, "QC-2026-9999"])
    assert sorted(states) == ids == sorted(stored.summaries)
    assert stored.summaries[ids[0]] is None and states[ids[0]].missing
    assert states[ids[1]].match is None
    for case_id in ids[1:]:
        state = states[case_id]
        assert not state.missing
        assert stored.summaries[case_id] == case_summary(state.fingerprint, state.match, state.notes)
    assert any(state.notes for state in states.values())  # the rows' issue notes are in the summaries too
    assert store.stored_cases("qc", "another source").states(ids) == {}
