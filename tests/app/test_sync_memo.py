"""A re-sync that reads only the rows changed since the last sync (app/sync_memo.py) tells the same
story as one that reads every row: the same counts, issues, stored cases and history, and the
same workbook afterwards.

Two teams keep the same workbook and get the same edits, each saved by openpyxl (which writes the
shared strings anew, as Excel does); team A's syncs may carry rows unread, team B's memo is thrown
away before each sync, so B reads every row. After every sync both are compared whole.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import python_calamine as calamine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from openpyxl import Workbook, load_workbook
from openpyxl.writer.excel import ExcelWriter

from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.config import load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.app.test_sync import NOW, qc_case

TEAMS = ("A", "B")
# Values a person types, good and bad, per column label (a blank, a typo, a date in the future).
TYPED: dict[str, list[Any]] = {
    "Description": ["Box dented", "", "Wrong colour sent", "Lid missing"],
    "Status": ["Open", "Closed", "closed ", "Opne", None],
    "Exception Type": ["Damaged", "Incorrect Item", "Damagd", None],
    "Replacement Cost": [12.5, -3, "12,50", None, 0],
    "Currency": ["USD", "EURO", None, "JPY"],
    "Date Identified": [dt.datetime(2026, 3, 1, 9, 0), dt.datetime(2027, 1, 1), "03/04/2026", None],
    "Closure Date": [dt.datetime(2026, 4, 1), None],
    "Owner": ["ana@example.com", "not an email", None],
}


class TwoTeams(RuleBasedStateMachine):
    """The same workbook, synced by a team whose syncs may carry rows (A) and one whose never do (B)."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kakosheet-memo-"))
        # The syncs' copies of changed rows go to a temporary folder of this test's own: a sync run
        # by anything else on the computer leaves its copies in the system's.
        self.temporary = self.folder / "tmp"
        self.temporary.mkdir()
        self.steps = 0
        self.carried = 0
        self.same_stamps = True  # every save stamped alike (save below)
        self.orders = 0
        rows = [self._case() for _ in range(40)]
        for team in TEAMS:
            init_team(self.folder / team, logs=("qc",))
            fill_master_workbook(self._path(team), load_config(self._config(team)).load_schemas(), {"qc": rows})
        self._sync_both()  # the first sync: every case new, IDs written
        self._edit_both(lambda ws: ws.cell(2, 6, "first edit"))  # the second reads all and records the memo
        self.system_temporary, tempfile.tempdir = tempfile.tempdir, str(self.temporary)  # put back by teardown

    def teardown(self) -> None:
        tempfile.tempdir = self.system_temporary
        shutil.rmtree(self.folder, ignore_errors=True)

    def _case(self) -> dict[str, Any]:
        self.orders += 1
        return qc_case(Original_Order_ID=f"ORD-{self.orders:04d}", Description=f"case {self.orders}")

    def _path(self, team: str) -> Path:
        return self.folder / team / "master.xlsx"

    def _config(self, team: str) -> Path:
        return self.folder / team / "kakosheet.toml"

    def _rows(self) -> int:
        return load_workbook(self._path("A"), read_only=True)["QC Log"].max_row

    def _column(self, label: str) -> int:
        header = next(load_workbook(self._path("A"), read_only=True)["QC Log"].iter_rows(max_row=1, values_only=True))
        return list(header).index(label) + 1

    def _edit_both(self, change: Callable[[Any], object], *, stamps: tuple[dt.datetime, ...] = (NOW, NOW)) -> None:
        """The same change to both workbooks, saved by openpyxl (stamped as modified at ``stamps``, A's
        then B's); then both synced and compared."""
        for team, stamp in zip(TEAMS, stamps, strict=True):
            workbook = load_workbook(self._path(team))
            change(workbook["QC Log"])
            save(workbook, self._path(team), stamp)
        self._sync_both()

    def _sync_both(self) -> None:
        self.steps += 1
        results: dict[str, SyncResult] = {}
        for team in TEAMS:
            if team == "B" and (self.folder / "B" / "kakosheet.db").exists():
                with sqlite3.connect(self.folder / "B" / "kakosheet.db") as connection:
                    connection.execute("DELETE FROM row_memos")
            now = NOW + dt.timedelta(minutes=self.steps)  # the same day: a memo is of the day it was made
            results[team] = sync_source(load_config(self._config(team)), now=now)
        a, b = self.results = results["A"], results["B"]
        assert b.carried == 0
        self.carried += a.carried
        assert a.counts == b.counts
        assert _issues(a) == _issues(b)
        if self.same_stamps:  # a save that changed nothing is the last sync's workbook for both teams or neither
            assert (a.unchanged_since is None) == (b.unchanged_since is None)
            assert _issues_of(a.outcome) == _issues_of(b.outcome)
            assert {k: v for k, v in a.outcome.items() if k != "issues"} == {
                k: v for k, v in b.outcome.items() if k != "issues"
            }
        assert (a.written, a.rows_stored) == (b.written, b.rows_stored)
        assert _store(self.folder / "A") == _store(self.folder / "B")
        assert _cells(self._path("A")) == _cells(self._path("B"))

    # ------------------------------------------------------------------ what a person does

    @rule(data=st.data())
    def type_into_some_rows(self, data: st.DataObject) -> None:
        rows = data.draw(st.lists(st.integers(2, self._rows()), min_size=1, max_size=4, unique=True), label="rows")
        edits = []
        for row in rows:
            label = data.draw(st.sampled_from(sorted(TYPED)), label="column")
            edits.append((row, self._column(label), data.draw(st.sampled_from(TYPED[label]), label="value")))

        def type_in(ws: Any) -> None:
            for row, column, value in edits:
                ws.cell(row, column).value = value  # ws.cell(row, column, None) would leave the cell as it is

        self._edit_both(type_in)

    @rule()
    def add_a_case_at_the_end(self) -> None:
        case = self._case()
        labels = {"original_order_id": "Original Order ID", "description": "Description", "status": "Status"}
        columns = {field: self._column(label) for field, label in labels.items()}
        row = self._rows() + 1
        exception, currency = self._column("Exception Type"), self._column("Currency")

        def add(ws: Any) -> None:
            for field, column in columns.items():
                ws.cell(row, column, case[field])
            ws.cell(row, exception, "Damaged")
            ws.cell(row, currency, "USD")

        self._edit_both(add)

    @precondition(lambda self: self._rows() > 5)
    @rule()
    def delete_the_last_row(self) -> None:
        self._edit_both(lambda ws: ws.delete_rows(ws.max_row))

    @precondition(lambda self: self._rows() > 5)
    @rule(data=st.data())
    def copy_an_id_onto_another_row(self, data: st.DataObject) -> None:
        source, target = data.draw(st.lists(st.integers(2, self._rows()), min_size=2, max_size=2, unique=True))
        column = self._column("Case ID")
        form = data.draw(st.sampled_from(["same", "lower", "padded"]), label="written")

        def copy(ws: Any) -> None:
            value = str(ws.cell(source, column).value or "")
            if form == "lower":
                value = value.lower()
            elif form == "padded" and value[-4:].isdigit():
                value = value[:-4] + "0" + value[-4:]
            ws.cell(target, column, value)

        self._edit_both(copy)

    @rule(data=st.data())
    def clear_an_id(self, data: st.DataObject) -> None:
        row = data.draw(st.integers(2, self._rows()), label="row")
        column = self._column("Case ID")

        def clear(ws: Any) -> None:
            ws.cell(row, column).value = None

        self._edit_both(clear)

    @rule()
    def sort_by_description(self) -> None:
        def sort(ws: Any) -> None:
            rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
            rows.sort(key=lambda r: str(r[5]))
            for i, values in enumerate(rows, 2):
                for j, value in enumerate(values, 1):
                    ws.cell(i, j).value = value

        self._edit_both(sort)

    @invariant()
    def nothing_left_running(self) -> None:
        assert not list(self.temporary.glob("kakosheet-*/reduced.xlsx"))


def save(workbook: Any, path: Path, stamp: dt.datetime) -> None:
    """As openpyxl saves, but stamped as modified at ``stamp``: Workbook.save stamps the package
    (docProps/core.xml) with the second it runs, whatever ``properties.modified`` says, so a save that
    changes nothing would give the bytes of the last one only when it falls in the same second."""
    workbook.properties.modified = stamp
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()


def _issues(result: SyncResult) -> list[str]:
    return sorted(json.dumps(issue.to_json(), sort_keys=True) for issue in result.report.issues)


def _issues_of(outcome: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(issue, sort_keys=True) for issue in outcome.get("issues", []))


def _store(team: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored case and history event, but what tells one team's store from the other's
    (its workbook's identity, when each sync ran)."""
    with sqlite3.connect(team / "kakosheet.db") as connection:
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'cases_%'"):
            columns = [c[1] for c in connection.execute(f"PRAGMA table_info({table})") if c[1] not in ("_source",)]
            dump[table] = sorted(connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)
        dump["history"] = sorted(
            connection.execute("SELECT log, case_id, version, run_id, event, changes FROM case_history").fetchall(),
            key=repr,
        )
    return dump


def _cells(path: Path) -> dict[str, list[list[Any]]]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


TwoTeams.TestCase.settings = settings(
    max_examples=4, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
)
test_two_teams_tell_the_same_story = TwoTeams.TestCase


def test_the_memo_is_used() -> None:
    """The machine above compares nothing if team A never carries a row: a plain edit must."""
    machine = TwoTeams()
    try:
        machine._edit_both(lambda ws: ws.cell(3, machine._column("Description"), "edited once more"))
        assert machine.carried > 0
    finally:
        machine.teardown()


def test_formulas_in_the_rows_read_are_told_as_in_the_whole_tab() -> None:
    """The copy's rows are numbered anew: a formula cell of a row read is still told at its sheet row."""
    machine = TwoTeams()
    try:
        cost, description = machine._column("Replacement Cost"), machine._column("Description")

        def formulas(ws: Any) -> None:
            ws.cell(7, cost, "=2*3")
            ws.cell(9, description, '=CONCAT("a","b")')

        machine._edit_both(formulas)
        assert machine.carried > 0
    finally:
        machine.teardown()


def test_a_save_that_changes_nothing_is_unchanged_for_both_teams_or_neither() -> None:
    """Why the teams once told a save that changed nothing apart: B found its workbook unchanged since its
    last sync, A read it. Not the memo: a sync that carries rows records the digest of the workbook as it
    leaves it, as one that reads every row does. The saves: openpyxl stamps each with the second it runs
    (the modified date of docProps/core.xml, part of the package's digest), so B's save fell in the second
    of its last one and A's did not. A package that differs in a byte is read, as it must be; the machine
    above stamps every save alike, and both teams then take the shortcut on the same syncs."""
    probe = Path(tempfile.mkdtemp(prefix="kakosheet-memo-"))
    try:  # what Workbook.save does with the modified date it is given
        workbook = Workbook()
        workbook.properties.modified = NOW
        workbook.save(probe / "probe.xlsx")
        assert load_workbook(probe / "probe.xlsx").properties.modified != NOW
    finally:
        shutil.rmtree(probe, ignore_errors=True)

    machine = TwoTeams()
    try:
        description = machine._column("Description")
        machine._edit_both(lambda ws: ws.cell(3, description, "edited once more"))
        a, b = machine.results
        assert a.carried > 0 and b.carried == 0 and not a.written and a.judgement_kept and b.judgement_kept

        def nothing(ws: Any) -> None:
            pass

        machine.same_stamps = False
        machine._edit_both(nothing, stamps=(NOW + dt.timedelta(seconds=1), NOW))  # A's a second later
        a, b = machine.results
        assert a.unchanged_since is None and b.unchanged_since is not None  # as the Hypothesis run found
        machine._edit_both(nothing, stamps=(NOW + dt.timedelta(seconds=1), NOW))  # each as its last sync read it
        a, b = machine.results
        assert a.unchanged_since is not None and b.unchanged_since is not None
        machine.same_stamps = True

        machine._edit_both(lambda ws: ws.cell(4, description, "and once more"))  # carried again
        assert machine.results[0].carried > 0
        machine._edit_both(nothing)
        a, b = machine.results
        assert a.unchanged_since is not None and b.unchanged_since is not None
    finally:
        machine.teardown()
