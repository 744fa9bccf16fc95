"""A stateful property test of the team's habits: whatever they do with the workbook, each
followed by a sync, every case is stored once under its first ID and nothing is lost.

The habits (each done to a real .xlsx with openpyxl, as a person in Excel would): sort the
rows, move a column, insert a row, delete a row, copy a row with its ID to start another case
from it, clear an ID, edit a cell, save a stale copy over the workbook (the version someone
had open since before the last sync, or one saved after an earlier sync), move the folder or
rename the workbook. A real SQLite store.

Each case is known to the test by its Original Order ID (its token, unique per case). After
every sync the sheet and the store must agree with what the team did:
- every row shows an ID; no two rows show one ID but flagged copies (one of them unflagged);
- every unflagged row is its stored case, present, holding what the row holds;
- every case ever stored is still stored, exactly once, under the first ID its row got
  (a deleted row's case marked missing; a row back is that case again, not a new one);
- no other case is in the store.

A copy the sync flagged is fixed as its note says only by clearing its ID or deleting it:
the habits leave alone the rows whose ID is on a copy (what a person edits there, kakosheet
cannot tell apart from the copy).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.tables import build_metadata
from tests.app.test_sync import NOW, qc_case
from tests.helpers import qc_row

COPY_NOTE = "is also on row"  # the Issues note of a flagged copy (app/sync, core/plan)


def _rows(path: Path) -> list[dict[str, Any]]:
    """The QC Log's rows as a person sees them (by header label), blank rows left out."""
    rows = list(load_workbook(path, data_only=True)["QC Log"].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:] if any(v is not None for v in row)]


def _flagged(row: dict[str, Any]) -> bool:
    return COPY_NOTE in str(row.get("Issues") or "")


class TeamHabits(RuleBasedStateMachine):
    """A team's workbook, synced after every habit."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kakosheet-habits-"))
        init_team(self.folder / "team", logs=("qc",))
        self.config: Config = load_config(self.folder / "team" / "kakosheet.toml")
        self.store_url = f"sqlite:///{self.folder / 'store' / 'kakosheet.db'}"
        (self.folder / "store").mkdir()
        self.path = self.folder / "share" / "After-sales" / "master.xlsx"
        self.path.parent.mkdir(parents=True)
        shutil.copy(self.config.root / "master.xlsx", self.path)
        self.tokens = 0
        self.steps = 0
        self.first_id: dict[str, str] = {}  # token -> the first ID its case got
        self.saved: list[bytes] = []  # the workbook after each sync
        self.before_sync = b""  # the workbook as it was before the last sync
        start = [self._new_case() for _ in range(3)]
        fill_master_workbook(self.path, self.config.load_schemas(), {"qc": start})
        self._sync()

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------ the team's helpers

    def _token(self) -> str:
        self.tokens += 1
        return f"ORD-{self.tokens:04d}"

    def _new_case(self) -> dict[str, Any]:
        """A new case as staff type it: Date Logged left for kakosheet to fill."""
        return qc_case(Original_Order_ID=self._token(), Date_Logged=None, Description=f"case {self.tokens}")

    def _edit(self, change) -> None:  # type: ignore[no-untyped-def]
        """Open the workbook, change the QC Log, save it: as a person in Excel."""
        workbook = load_workbook(self.path)
        change(workbook["QC Log"])
        workbook.save(self.path)

    def _sync(self) -> None:
        self.before_sync = self.path.read_bytes()
        self.steps += 1
        # Each sync later than the one before: a Date Logged filled now differs from one filled then.
        sync_source(self.config, str(self.path), store_url=self.store_url, now=NOW + dt.timedelta(hours=self.steps))
        self.saved.append(self.path.read_bytes())
        for row in _rows(self.path):
            if not _flagged(row):
                self.first_id.setdefault(row["Original Order ID"], row["Case ID"])

    def _data_rows(self) -> list[int]:
        """Sheet row numbers of the rows holding a case."""
        sheet = load_workbook(self.path, read_only=True)["QC Log"]
        return [n for n, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), 2) if any(row)]

    def _free_rows(self) -> list[int]:
        """Rows a person may change freely: their ID is on no other row (see the module docstring)."""
        rows = _rows(self.path)
        shown = [row["Case ID"] for row in rows]
        numbers = self._data_rows()
        return [n for n, row in zip(numbers, rows, strict=True) if row["Case ID"] and shown.count(row["Case ID"]) == 1]

    def _copies(self) -> list[int]:
        return [n for n, row in zip(self._data_rows(), _rows(self.path), strict=True) if _flagged(row)]

    def _labels(self) -> list[str]:
        sheet = load_workbook(self.path, read_only=True)["QC Log"]
        return [c for c in next(sheet.iter_rows(max_row=1, values_only=True)) if c is not None]

    # ------------------------------------------------------------------ habits

    @rule(data=st.data())
    def sort_rows(self, data: st.DataObject) -> None:
        count = len(self._data_rows())
        order = data.draw(st.permutations(range(count)), label="order")

        def sort(ws) -> None:  # type: ignore[no-untyped-def]
            width = ws.max_column
            cells = [[(c.value, c.number_format) for c in ws[r][:width]] for r in range(2, 2 + count)]
            for offset, source in enumerate(order):
                for column, (value, number_format) in enumerate(cells[source], start=1):
                    cell = ws.cell(2 + offset, column)
                    cell.value, cell.number_format = value, number_format

        self._edit(sort)
        self._sync()

    @rule(data=st.data())
    def move_a_column(self, data: st.DataObject) -> None:
        width = len(self._labels())
        moved = data.draw(st.integers(1, width), label="column")
        to = data.draw(st.integers(1, width), label="to")

        def move(ws) -> None:  # type: ignore[no-untyped-def]
            rows = ws.max_row
            cells = [[(c.value, c.number_format) for c in ws[r][:width]] for r in range(1, rows + 1)]
            for r, row in enumerate(cells, start=1):
                row.insert(to - 1, row.pop(moved - 1))
                for column, (value, number_format) in enumerate(row, start=1):
                    cell = ws.cell(r, column)
                    cell.value, cell.number_format = value, number_format

        self._edit(move)
        self._sync()

    @rule(data=st.data())
    def insert_a_row(self, data: st.DataObject) -> None:
        at = data.draw(st.integers(2, len(self._data_rows()) + 2), label="at")
        labels = self._labels()
        case = qc_row(Original_Order_ID=self._token(), Date_Logged=None, Description=f"case {self.tokens}")

        def insert(ws) -> None:  # type: ignore[no-untyped-def]
            ws.insert_rows(at)
            for column, label in enumerate(labels, start=1):
                ws.cell(at, column).value = case.get(label)

        self._edit(insert)
        self._sync()

    @precondition(lambda self: len(self._data_rows()) > 1 and (self._free_rows() or self._copies()))
    @rule(data=st.data())
    def delete_a_row(self, data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(self._free_rows() + self._copies()), label="row")
        self._edit(lambda ws: ws.delete_rows(row))
        self._sync()

    @precondition(lambda self: self._free_rows())
    @rule(data=st.data())
    def copy_a_row_to_start_another_case(self, data: st.DataObject) -> None:
        """A row copied with its ID, its order ID changed: the sync flags the copy."""
        source = data.draw(st.sampled_from(self._free_rows()), label="copied")
        at = data.draw(st.integers(2, len(self._data_rows()) + 2), label="at")
        token = self._token()
        labels = self._labels()

        def copy(ws) -> None:  # type: ignore[no-untyped-def]
            width = len(labels)
            cells = [(c.value, c.number_format) for c in ws[source][:width]]
            ws.insert_rows(at)
            for column, (value, number_format) in enumerate(cells, start=1):
                cell = ws.cell(at, column)
                cell.value, cell.number_format = value, number_format
            ws.cell(at, labels.index("Original Order ID") + 1).value = token

        self._edit(copy)
        self._sync()
        assert any(row["Original Order ID"] == token and _flagged(row) for row in _rows(self.path))

    @precondition(lambda self: self._free_rows() or self._copies())
    @rule(data=st.data())
    def clear_an_id(self, data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(self._free_rows() + self._copies()), label="row")
        column = self._labels().index("Case ID") + 1
        self._edit(lambda ws: setattr(ws.cell(row, column), "value", None))
        self._sync()

    @precondition(lambda self: self._free_rows())
    @rule(data=st.data())
    def edit_a_cell(self, data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(self._free_rows()), label="row")
        label = data.draw(st.sampled_from(["Description", "Owner", "Replacement Cost"]), label="label")
        value = {"Description": f"edited at step {self.steps}", "Owner": "bo@example.com"}.get(label, 7.25)
        column = self._labels().index(label) + 1
        self._edit(lambda ws: setattr(ws.cell(row, column), "value", value))
        self._sync()

    @rule(data=st.data())
    def save_a_stale_copy_over_the_workbook(self, data: st.DataObject) -> None:
        """The version someone had open since before the last sync, or one saved after an
        earlier sync (a cloud-sync conflict copy, a restore from e-mail)."""
        stale = data.draw(st.sampled_from([self.before_sync, *self.saved]), label="stale copy")
        self.path.write_bytes(stale)
        self._sync()

    @rule(rename=st.booleans())
    def move_or_rename(self, rename: bool) -> None:
        if rename:
            target = self.path.with_name(f"master {self.steps}.xlsx")
            self.path.rename(target)
        else:
            folder = self.folder / "share" / f"moved {self.steps}"
            self.path.parent.rename(folder)
            target = folder / self.path.name
        self.path = target
        self._sync()

    # ------------------------------------------------------------------ what must hold

    def _stored(self) -> dict[str, dict[str, Any]]:
        table = build_metadata(self.config.load_schemas()).tables["case_qc"]
        with create_engine(self.store_url).connect() as connection:
            rows = connection.execute(
                select(table.c.case_id, table.c.original_order_id, table.c.description, table.c._missing_since)
            ).all()
        return {
            r.case_id: {"token": r.original_order_id, "description": r.description, "missing": r._missing_since}
            for r in rows
        }

    @invariant()
    def every_case_once_under_its_first_id_and_nothing_lost(self) -> None:
        rows = _rows(self.path)
        stored = self._stored()
        assert all(row["Case ID"] for row in rows), "a row without an ID after a sync"
        shown: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            shown.setdefault(row["Case ID"], []).append(row)
        for case_id, showing in shown.items():
            unflagged = [row for row in showing if not _flagged(row)]
            assert len(unflagged) == 1, f"{case_id} is on {len(showing)} rows, {len(unflagged)} of them unflagged"
            row = unflagged[0]
            assert case_id in stored, f"{case_id} is in the sheet but not in the store"
            case = stored[case_id]
            assert case["missing"] is None, f"{case_id} is in the sheet but stored as missing"
            assert case["token"] == row["Original Order ID"], f"{case_id} holds another case's content"
            assert case["description"] == row["Description"]
        for case_id, case in stored.items():
            if case_id not in shown:
                assert case["missing"] is not None, f"{case_id} is gone from the sheet but not marked missing"
        by_token: dict[str, list[str]] = {}
        for case_id, case in stored.items():
            by_token.setdefault(case["token"], []).append(case_id)
        assert {token: ids for token, ids in by_token.items() if len(ids) > 1} == {}, "a case stored twice"
        for token, case_id in self.first_id.items():
            assert by_token.get(token) == [case_id], f"{token} is not stored under its first ID {case_id}"
        assert set(stored) == set(self.first_id.values()), "a case in the store the team never had"


# A few tens of steps in CI; KAKOSHEET_HABITS_EXAMPLES=50 for a longer hunt.
TeamHabits.TestCase.settings = settings(
    max_examples=int(os.environ.get("KAKOSHEET_HABITS_EXAMPLES", "6")),
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_team_habits = TeamHabits.TestCase
