"""Planning a sync: which rows are new, changed, unchanged or in conflict, and which stored
cases are gone from the sheet. Pure: the store's state comes in (``StoredCases``: what the
store reads when asked), a plan goes out.

A re-sync of a big log finds nearly every row unchanged: a row whose ID is typed exactly as a
stored case's, on no other row, and whose fingerprint, match print and notes are the case's,
is unchanged in a pass over all rows at once (``_unchanged_in_bulk``); only the other rows
are matched by the rules below, and only their cases' state is read from the store.

Matching rules (ARCHITECTURE.md, invariant 2):
- a row is its case by its ID, wherever it moved in the sheet;
- a row copied with its ID is a duplicate: the row matching the stored case keeps the ID
  (failing that, the top-most) and the others are flagged, never merged;
- an ID is its year and number (kakosheet/core/case_ids.py): another padding of a stored
  case's ID is that case, and two paddings of one number in the sheet are a duplicate;
- a malformed ID (look-alike digits too), one that belongs to a case of another source, one
  computed by a formula, or an ID cell a merged area holds (core/merges.py), is flagged: its
  row is not stored and never given a new ID;
- a well-formed ID the store does not know is adopted (an older sheet's `QC-2023-001`, or
  an ID written by a sync that crashed before storing);
- a row without an ID whose content matches exactly one case missing from the sheet gets
  that case's ID back; other rows without an ID get new ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import attrgetter, not_
from typing import Any, NamedTuple

import numpy as np

from kakosheet.core.case_ids import EARLIEST_YEAR, FormulaId, IdFormat, IdProblem, Key, formula_message, problem_message
from kakosheet.core.cells import display
from kakosheet.core.clock import Clock
from kakosheet.core.columns import TypedColumn
from kakosheet.core.derived import derived_columns
from kakosheet.core.issues import ERROR, Issue
from kakosheet.core.merges import MERGED_ID, MergedId, merged_cells, merged_message
from kakosheet.core.schema import LogSchema
from kakosheet.core.table import Table

# ID issues the planner decides itself: validation flags every copy of a duplicated ID,
# the plan knows which row keeps it.
PLANNED_CODES = frozenset({"duplicate-id", "malformed-id", "formula-id", MERGED_ID})


class StoredState(NamedTuple):
    """What the planner needs to know of one stored case."""

    fingerprint: str
    missing: bool
    notes: str  # notes_digest of its issue notes
    status: str | None = None  # the stored value of the schema's transitions field
    match: str | None = None  # its match print (None in a store older than match prints)
    derived: Mapping[str, Any] = {}  # the stored values of its derived columns (core/derived.py)


def case_summary(fingerprint: str, match: str | None, notes: str) -> str:
    """A case's prints and its notes' digest as one text: a row whose summary is its stored case's is
    unchanged, and nothing more of the case is read. The store reads its cases' summaries in this form
    (``Store.stored_cases``)."""
    return f"{fingerprint}:{match or ''}:{notes}"


@dataclass(frozen=True)
class StoredCases:
    """What the store knows that planning a source's rows needs: every case's summary (None for a case
    missing from the sheet); the whole state of the few cases the plan looks at closer, and which IDs
    the sheet shows are another source's, read when asked for.

    On a re-sync nearly every row is its case unchanged: reading and building the state of each of a
    big log's cases took longer than planning them."""

    summaries: Mapping[str, str | None]
    read_states: Callable[[list[str]], Mapping[str, StoredState]] = field(repr=False)
    # IDs -> where the source whose cases they are was last seen, for those of another source
    read_foreign: Callable[[list[str]], Mapping[str, str]] = field(repr=False, default=lambda case_ids: {})

    def states(self, case_ids: Iterable[str]) -> dict[str, StoredState]:
        """The state of each of some cases (IDs the store does not hold are left out)."""
        wanted = sorted({case_id for case_id in case_ids if case_id in self.summaries})
        return dict(self.read_states(wanted)) if wanted else {}

    def foreign(self, case_ids: Iterable[str]) -> dict[str, str]:
        """Of some IDs this source has no case under, those another source's case has (in any form of
        the ID) -> where that source was last seen."""
        wanted = sorted(set(case_ids))
        return dict(self.read_foreign(wanted)) if wanted else {}

    @classmethod
    def of(cls, states: Mapping[str, StoredState], foreign: Mapping[str, str] | None = None) -> StoredCases:
        """Cases whose state is known already (none, for a store that was never synced)."""
        summaries = {
            case_id: None if state.missing else case_summary(state.fingerprint, state.match, state.notes)
            for case_id, state in states.items()
        }
        others = foreign or {}
        return cls(
            summaries,
            lambda case_ids: {case_id: states[case_id] for case_id in case_ids},
            lambda case_ids: {case_id: others[case_id] for case_id in case_ids if case_id in others},
        )


@dataclass(eq=False, slots=True)
class RowCase:
    """One row of the sheet, as the store would keep it.

    The values are read from the table only when asked for: an unchanged row of a big log
    is matched by its fingerprint alone and never turned into a dict. Slots: a sync holds
    one per row, and without a ``__dict__`` each is half the objects to allocate and for the
    garbage collector to walk.
    """

    sheet: str  # the tab the row is on (the log's tab, or one of its archive tabs)
    index: int  # position in that tab's table
    row: int  # sheet row number
    sheet_id: str | None  # the ID cell as typed
    notes: tuple[str, ...]  # short issue notes ("Status: ...")
    incomplete: bool
    fingerprint: str  # of every stored value (derived ones as they will be stored)
    match: str  # of every stored value kakosheet does not derive: what matches a row to its case
    source: _TableRows = field(repr=False)

    # Built on each use and not kept: a first sync of 300k rows would otherwise hold them all.
    @property
    def values(self) -> dict[str, Any]:
        return self.source.values(self.index)

    @property
    def raw(self) -> dict[str, str]:
        """Cells whose text did not fit the column's type, as typed."""
        return self.source.raw(self.index)

    @property
    def fills(self) -> dict[str, Any]:
        """Blank cells kakosheet fills (field -> value)."""
        return self.source.fills(self.index)

    @property
    def year(self) -> int:
        return self.source.year(self.index)

    def value(self, field_name: str) -> Any:
        """One stored value of the row, without building the others."""
        return self.source.value(self.index, field_name)


@dataclass(frozen=True)
class StoredColumn:
    """One field of some rows as the store keeps it, each distinct cell once: a bulk writer
    converts ``distinct`` once and indexes it with ``codes`` instead of building a dict per row.

    The row at index ``i`` of its table holds ``distinct[codes[i]]`` (what ``RowCase.values``
    gives for the field) and, when its cell did not fit the type, ``as_typed[codes[i]]`` (what
    ``RowCase.raw`` gives).
    """

    field: str
    distinct: list[Any]
    as_typed: list[str | None]
    codes: np.ndarray


class _TableRows:
    """Column arrays of one table, from which a RowCase's values are taken on demand.

    A cell is read by its row's code into the field's distinct values, kept as lists (a list
    is several times faster to index than a numpy array) once one of its cells is read: no
    per-row list is built, as a sync reads few rows one by one (the changed ones; a first sync
    reads every field column-wise), and a hundred thousand-item list per field is what each
    full garbage collection walks for as long as the sync runs.

    A blank derived cell (core/derived.py) holds what the store kept for the row's case
    (``keep``), else the derivation's value; a cell holding a formula is never blank.
    """

    def __init__(self, table: Table, fields: list[str], clock: Clock) -> None:
        self.clock = clock
        self.now = clock.local
        self.columns = {f: table.columns[f] for f in fields if f in table.columns}
        self._distinct: dict[str, tuple[list[Any], list[Any], list[bool]]] = {}
        schema = table.schema
        derived = [d for d in derived_columns(schema) if d.field in self.columns]
        self.defaults: dict[str, Any] = {d.field: d.value(clock) for d in derived}
        self.fillable = list(self.defaults)
        self.formulas = {f: table.formula_mask(f) for f in self.fillable if f in table.formulas}
        self.kept: dict[int, Mapping[str, Any]] = {}  # row index -> its stored case's derived values
        self.year_field = schema.id.year_from if schema.id else None
        self._year_of_code: np.ndarray | None = None
        self._fillable_rows: set[int] | None = None
        self.untrusted_years: np.ndarray | None = None  # per row: its year_from cell has an error on it

    def _cell(self, index: int, field_name: str) -> tuple[Any, Any, bool]:
        """A row's value of the field, its cell as read, and whether the cell did not fit the type."""
        lists = self._distinct.get(field_name)
        typed = self.columns[field_name]
        if lists is None:  # the blank cell's code, -1, picks the last item of each
            invalid = [p is not None for p in typed.problems]
            invalid.append(False)
            lists = self._distinct[field_name] = (typed.values.tolist(), typed.raw.tolist(), invalid)
        code = typed.codes[index]
        values, raws, invalids = lists
        return values[code], raws[code], invalids[code]

    def keep(self, index: int, stored: Mapping[str, Any]) -> None:
        """The row is a stored case: its blank derived cells hold the values the store kept."""
        if stored and self.fillable:
            self.kept[index] = stored

    def fillable_rows(self) -> set[int]:
        """Rows with a blank derived cell (no formula in it): the only ones a fill can reach."""
        if self._fillable_rows is None:
            blank = np.zeros(len(next(iter(self.columns.values())).codes) if self.columns else 0, dtype=bool)
            for f in self.fillable:
                formulas = self.formulas.get(f)
                blank |= self.columns[f].blank if formulas is None else self.columns[f].blank & ~formulas
            self._fillable_rows = set(np.flatnonzero(blank).tolist())
        return self._fillable_rows

    def _derived(self, index: int, field_name: str) -> Any:
        """The value a blank derived cell of the row holds."""
        kept = self.kept.get(index)
        stored = kept.get(field_name) if kept is not None else None
        return self.defaults[field_name] if stored is None else stored

    def values(self, index: int) -> dict[str, Any]:
        return {f: self.value(index, f) for f in self.columns}

    def value(self, index: int, field_name: str) -> Any:
        if field_name not in self.columns:
            return None
        value, _raw, invalid = self._cell(index, field_name)
        if invalid:
            return None
        if value is None and field_name in self.defaults and index in self.fillable_rows():
            return self._derived(index, field_name)
        return value

    def stored_column(self, field_name: str) -> StoredColumn:
        """The field of every row, as ``values`` and ``raw`` would give it, each distinct cell once
        (for new cases: a blank derived cell holds the derivation's value)."""
        typed = self.columns[field_name]
        fill = self.defaults.get(field_name)
        distinct = [
            None if problem is not None else (fill if value is None else value)
            for value, problem in zip(typed.values[:-1], typed.problems, strict=True)
        ]
        as_typed: list[str | None] = [
            None if problem is None else display(raw)
            for raw, problem in zip(typed.raw[:-1], typed.problems, strict=True)
        ]
        codes = typed.codes
        formulas = self.formulas.get(field_name)
        if fill is not None and formulas is not None and (formulas & typed.blank).any():
            # A formula that shows nothing is not blank: it gets a code of its own, holding None.
            codes = np.where(formulas & typed.blank, len(distinct), codes)
            return StoredColumn(field_name, [*distinct, None, fill], [*as_typed, None, None], codes)
        return StoredColumn(field_name, [*distinct, fill], [*as_typed, None], codes)

    def raw(self, index: int) -> dict[str, str]:
        raw = {}
        for f in self.columns:
            _value, cell, invalid = self._cell(index, f)
            if invalid:
                raw[f] = display(cell)
        return raw

    def year(self, index: int) -> int:
        """The year a new ID of the row carries: its year_from date's, else the sync's."""
        return self.years([index])[0]

    def years(self, indexes: list[int]) -> list[int]:
        """``year`` of many rows at once; a date with an error on it gives the sync's year."""
        typed = self.columns.get(self.year_field) if self.year_field else None
        if typed is None:
            return [self.now.year] * len(indexes)
        years = self._years_by_code()[typed.codes[indexes]]
        if self.untrusted_years is not None:
            years = np.where(self.untrusted_years[indexes], self.now.year, years)
        return years.tolist()

    def _years_by_code(self) -> np.ndarray:
        """The year of each distinct value of the year_from field, found once: the sync's for a blank or
        bad cell, or a year outside EARLIEST_YEAR to the sync's (a mistyped 2027, 1900 or 9999)."""
        if self._year_of_code is None:
            typed = self.columns[self.year_field]  # type: ignore[index]
            now = self.now.year
            by_code = [
                value.year
                if problem is None and isinstance(value, (dt.date, dt.datetime)) and EARLIEST_YEAR <= value.year <= now
                else now
                for value, problem in zip(typed.values[:-1], typed.problems, strict=True)
            ]
            by_code.append(self.now.year)  # what the blank cell's code, -1, picks
            self._year_of_code = np.asarray(by_code, dtype=np.int64)
        return self._year_of_code

    def fills(self, index: int) -> dict[str, Any]:
        """The values kakosheet writes into the row's blank derived cells."""
        if index not in self.fillable_rows():
            return {}
        fills = {}
        for f in self.fillable:
            value, _raw, invalid = self._cell(index, f)
            if value is None and not invalid and not (f in self.formulas and self.formulas[f][index]):
                fills[f] = self._derived(index, f)
        return fills

    def fingerprint(self, index: int, fields: list[str]) -> str:
        """The row's fingerprint as ``fingerprints`` computes it, with its derived values as
        they are now (after ``keep``): one row, in Python."""
        mixed = 0
        for name in sorted(fields):
            if name not in self.columns:
                text = f"{name}=None"
            else:
                _value, cell, invalid = self._cell(index, name)
                text = f"{name}!{display(cell)}" if invalid else f"{name}={self.value(index, name)!r}"
            digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
            mixed = ((mixed * _MIX_INT) & _MASK) ^ int.from_bytes(digest, "little")
        return format(mixed, "016x")


_MIX = np.uint64(0x100000001B3)


def _hashes(texts: list[str]) -> np.ndarray:
    """The first 8 bytes of each text's blake2b digest, as a little-endian unsigned integer (a copy of
    one fresh hash per text: a third faster than a new one)."""
    fresh = hashlib.blake2b(digest_size=8).copy
    digests = []
    for text in texts:
        digest = fresh()
        digest.update(text.encode())
        digests.append(digest.digest())
    return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)


_MIX_INT = int(_MIX)
_MASK = (1 << 64) - 1


def fingerprints(table: Table, fields: list[str], clock: Clock) -> tuple[list[str], list[str]]:
    """Two digests per row: its fingerprint (equal exactly when every stored value is equal)
    and its match print (the same over the fields kakosheet does not derive).

    Each column's distinct values are hashed once and the hashes mixed per row in numpy;
    a cell that did not fit its type counts by its text, a blank derived cell by the value
    a new case gets (a stored case's own is put in by ``_TableRows.fingerprint``), an absent
    column as blank. Stored fingerprints are compared with these: the recipe must never change.
    """
    derived = {d.field: d.value(clock) for d in derived_columns(table.schema)}
    mixed = np.zeros(len(table), dtype=np.uint64)
    matching = np.zeros(len(table), dtype=np.uint64)
    for name in sorted(fields):
        typed = table.columns.get(name)
        if typed is None:
            texts = [f"{name}=None"]
            codes = np.full(len(table), -1)
        else:
            texts = _distinct_texts(name, typed)
            codes = typed.codes
            if name in derived and name in table.formulas:
                texts.append(f"{name}=None")  # a formula showing nothing: not blank, never filled
                codes = np.where(table.formula_mask(name) & typed.blank, len(texts) - 1, codes)
            texts.append(f"{name}={derived[name]!r}" if name in derived else f"{name}=None")  # code -1: blank
        hashed = _hashes(texts)[codes]
        mixed = (mixed * _MIX) ^ hashed
        if name not in derived:
            matching = (matching * _MIX) ^ hashed
    return _hex_digits(mixed), _hex_digits(matching)


def _distinct_texts(name: str, typed: TypedColumn) -> list[str]:
    """What each distinct cell of a field is hashed as: its value, or its text when it did not fit the type."""
    values = typed.values[:-1].tolist()
    if not any(typed.problems):
        return [f"{name}={value!r}" for value in values]
    raws = typed.raw[:-1].tolist()
    return [
        f"{name}={value!r}" if problem is None else f"{name}!{display(raw)}"
        for value, problem, raw in zip(values, typed.problems, raws, strict=True)
    ]


def _hex_digits(numbers: np.ndarray) -> list[str]:
    """Each number as 16 hex digits (format(n, "016x")), split from one hex string of their big-endian bytes."""
    return numbers.astype(">u8").tobytes().hex(" ", 8).split(" ") if len(numbers) else []


def notes_digest(notes: tuple[str, ...]) -> str:
    """What the store keeps to tell whether a row's issue notes changed."""
    return hashlib.blake2b("\n".join(notes).encode(), digest_size=8).hexdigest() if notes else ""


@dataclass
class LogPlan:
    """What a sync will do to one log."""

    log: str
    sheet: str
    new: list[RowCase] = field(default_factory=list)  # need a new ID
    adopted: dict[str, RowCase] = field(default_factory=dict)  # ID -> row, well-formed ID unknown to the store
    restored: dict[str, RowCase] = field(default_factory=dict)  # ID given back by content
    changed: dict[str, RowCase] = field(default_factory=dict)
    returned: dict[str, RowCase] = field(default_factory=dict)  # was missing from the sheet, is back
    notes_changed: dict[str, RowCase] = field(default_factory=dict)  # same content, other issues
    unchanged: dict[str, RowCase] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    conflicts: list[tuple[RowCase, str, str]] = field(default_factory=list)  # row, code, message
    # Stored cases whose match print is out of date (a store older than match prints): their
    # prints are brought up to date, without a new version.
    reprinted: dict[str, RowCase] = field(default_factory=dict)
    carried: int = 0  # rows unchanged since the last sync, not read again (app/sync_memo.py)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new) + len(self.adopted),
            "restored": len(self.restored),
            "changed": len(self.changed),
            "returned": len(self.returned),
            "unchanged": len(self.unchanged) + len(self.notes_changed) + self.carried,
            "gone": len(self.gone),
            "conflicts": len(self.conflicts),
        }

    @property
    def stored_rows(self) -> int:
        """How many rows end up stored: those ``rows`` gives, and the rows carried unread."""
        groups = (self.adopted, self.restored, self.changed, self.returned, self.notes_changed, self.unchanged)
        return sum(len(group) for group in groups) + self.carried

    def rows(self) -> Iterable[tuple[str, RowCase]]:
        """Every row that ends up stored, with its case ID (new rows once they have one)."""
        for group in (self.adopted, self.restored, self.changed, self.returned, self.notes_changed, self.unchanged):
            yield from group.items()


def issue_note(issue: Issue) -> str:
    return f"{issue.column}: {issue.message}" if issue.column else issue.message


def row_cases(table: Table, issues: Iterable[Issue], *, fields: list[str], clock: Clock) -> list[RowCase]:
    """The table's rows as cases: their IDs, issue notes and fingerprints (values on demand)."""
    schema = table.schema
    by_row: dict[int, list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.row is not None and issue.sheet == table.sheet and issue.log == schema.name:
            by_row[issue.row].append(issue)
    source = _TableRows(table, fields, clock)
    source.untrusted_years = _untrusted_years(table, by_row)
    prints, matches = fingerprints(table, fields, clock)
    id_texts = _id_texts(table)
    sheet_ids = id_texts if id_texts is not None else [None] * len(prints)
    rows = table.rows.tolist()
    notes, incomplete = _notes_by_index(table.rows, by_row)
    # Built by map, positionally in RowCase's field order: no Python loop over the rows.
    return list(
        map(
            RowCase,
            repeat(table.sheet),
            range(len(rows)),
            rows,
            sheet_ids,
            notes,
            incomplete,
            prints,
            matches,
            repeat(source),
        )
    )


def _notes_by_index(rows: np.ndarray, by_row: Mapping[int, list[Issue]]) -> tuple[list[tuple[str, ...]], list[bool]]:
    """Per row of the table, its issue notes and whether it is incomplete (most rows have no issue)."""
    notes: list[tuple[str, ...]] = [()] * len(rows)
    incomplete = [False] * len(rows)
    if by_row:
        sheet_rows = list(by_row)
        indexes = np.searchsorted(rows, sheet_rows).tolist()  # the table's rows are in sheet order
        for sheet_row, index in zip(sheet_rows, indexes, strict=True):
            if index < len(rows) and rows[index] == sheet_row:
                notes[index], incomplete[index] = _notes(by_row[sheet_row])
    return notes, incomplete


def _untrusted_years(table: Table, by_row: Mapping[int, list[Issue]]) -> np.ndarray | None:
    """Per row, whether its year_from cell has an error on it (its year is then not an ID's year)."""
    id_format = table.schema.id
    if id_format is None or id_format.year_from is None or id_format.year_from not in table.columns or not by_row:
        return None
    label = table.label(id_format.year_from)
    flagged = [row for row, issues in by_row.items() if any(i.column == label and i.severity == ERROR for i in issues)]
    return np.isin(table.rows, flagged) if flagged else None


def _id_texts(table: Table) -> list[str | None] | None:
    """Each row's ID cell as typed, trimmed (None when blank); each distinct cell trimmed once.

    A cell holding a formula is a ``FormulaId`` (also when it shows nothing), one a merged area
    holds a ``MergedId``: never an ID."""
    schema = table.schema
    if schema.id is None or schema.id.field not in table.columns:
        return None
    typed = table.columns[schema.id.field]
    cells = typed.raw[:-1].tolist()
    trimmed = list(map(str.strip, cells)) if set(map(type, cells)) <= {str} else [str(cell).strip() for cell in cells]
    texts = np.fromiter(chain(trimmed, (None,)), dtype=object, count=len(cells) + 1)  # the blank cell's last
    if "" in trimmed:  # a cell of spaces: blank
        texts[np.flatnonzero(texts[:-1] == "")] = None
    by_row = texts[typed.codes]
    if schema.id.field in table.formulas:
        for index in np.flatnonzero(table.formula_mask(schema.id.field)).tolist():
            by_row[index] = FormulaId(by_row[index] or "")
    for held in merged_cells(table):
        if held.field == schema.id.field:
            by_row[held.index] = MergedId(by_row[held.index] or "", merged_message(table, held))
    return by_row.tolist()


def _notes(issues: list[Issue]) -> tuple[tuple[str, ...], bool]:
    """A row's issue notes, and whether one of them is an error (the row is incomplete)."""
    own = [issue for issue in issues if issue.code not in PLANNED_CODES]
    return tuple(issue_note(i) for i in own), any(i.severity == ERROR for i in own)


def _id_keys(id_format: IdFormat, ids: list[str]) -> Mapping[str, Key | IdProblem]:
    """Each distinct ID typed in the sheet -> its key (year and number), or why it is not an ID; built
    only when some ID is not its own key (all canonical, the usual case: ``_OWN_KEYS`` gives each back)."""
    if id_format.own_keys(ids):
        return _OWN_KEYS
    distinct = list(dict.fromkeys(ids))
    return dict(zip(distinct, id_format.keys(distinct), strict=True))


class _OwnKeys(dict[str, Key | IdProblem]):
    """The keys of IDs that are each their own: an empty map that gives any ID back."""

    def __missing__(self, sheet_id: str) -> Key:
        return sheet_id


_OWN_KEYS = _OwnKeys()


def _stored_by_key(id_format: IdFormat, stored: Iterable[str]) -> dict[Key, str]:
    """Key -> stored case ID (the first in order when an older version stored two forms of one)."""
    ids = sorted(stored)
    by_key: dict[Key, str] = {}
    for case_id, key in zip(ids, id_format.keys(ids), strict=True):
        if not isinstance(key, IdProblem):
            by_key.setdefault(key, case_id)
    return by_key


def _unchanged_in_bulk(
    cases: list[RowCase],
    sheet_ids: list[Any],
    ids: list[str],
    keys: Mapping[str, Key | IdProblem],
    stored: StoredCases,
) -> tuple[dict[str, RowCase], list[RowCase]]:
    """The rows whose ID is typed exactly as a stored case's, shown on no other row (in no other form
    either), and whose summary is the case's: unchanged, found in a few passes over all rows at once
    that read nothing more of the store. The other rows are planned one by one."""
    summaries = stored.summaries
    if not summaries:
        return {}, cases
    if len(ids) + sheet_ids.count(None) < len(sheet_ids):  # a formula or a merged area holds an ID cell
        sheet_ids = [sheet_id if type(sheet_id) is str else None for sheet_id in sheet_ids]
    same = [
        summary is not None and summary == case_summary(case.fingerprint, case.match, notes_digest(case.notes))
        for summary, case in zip(map(summaries.get, sheet_ids), cases, strict=True)
    ]
    if keys is not _OWN_KEYS or len(set(ids)) != len(ids):  # an ID on two rows, or in two forms
        shown = Counter(map(keys.__getitem__, ids))
        same = [ok and shown[keys[sheet_id]] == 1 for ok, sheet_id in zip(same, sheet_ids, strict=True)]
    unchanged = dict(zip(compress(sheet_ids, same), compress(cases, same), strict=True))
    return unchanged, list(compress(cases, map(not_, same)))


def plan_log(
    schema: LogSchema,
    sheet: str,
    cases: list[RowCase],
    stored: StoredCases,
    *,
    fields: list[str],
) -> LogPlan:
    """Match the sheet's rows to the stored cases of this source (``fields``: the stored fields the
    rows' fingerprints cover)."""
    id_format = schema.id
    assert id_format is not None
    plan = LogPlan(log=schema.name, sheet=sheet)
    summaries = stored.summaries
    sheet_ids = [case.sheet_id for case in cases]
    ids = [sheet_id for sheet_id in sheet_ids if type(sheet_id) is str]  # typed: neither a formula's nor merged
    keys = _id_keys(id_format, ids)
    plan.unchanged, cases = _unchanged_in_bulk(cases, sheet_ids, ids, keys, stored)
    first, more, without_id = _rows_by_key(plan, schema, cases, keys, stored)
    shown = _stored_case_of_each_key(id_format, first, more, summaries)
    # Stored cases no row shows: a row without an ID may be one of them, restored by its content.
    unclaimed = summaries.keys() - plan.unchanged.keys() - {found or rows[0].sheet_id for found, rows in shown}
    known = stored.states([*(found for found, _ in shown if found is not None), *(unclaimed if without_id else ())])
    claimed = _keepers(plan, schema, shown, known, fields)
    _restore_by_content(plan, without_id, known, claimed)
    _sort_claimed(plan, claimed, known, fields)
    plan.gone = sorted(case_id for case_id in unclaimed - plan.restored.keys() if summaries[case_id] is not None)
    if schema.transitions is not None:
        _hold_back_transitions(schema, plan, known)
    return plan


def _rows_by_key(
    plan: LogPlan, schema: LogSchema, cases: list[RowCase], keys: Mapping[str, Key | IdProblem], stored: StoredCases
) -> tuple[dict[Key, RowCase], dict[Key, list[RowCase]], list[RowCase]]:
    """Each key's first row, the other rows of the few keys shown on more than one (a list per key
    would be a hundred thousand lists for a log whose every ID is shown once), and the rows without
    an ID. A row whose ID cell holds no ID of this source's is a conflict."""
    id_format = schema.id
    assert id_format is not None
    label = schema.column(id_format.field).label
    summaries = stored.summaries
    foreign = stored.foreign(c.sheet_id for c in cases if type(c.sheet_id) is str and c.sheet_id not in summaries)
    first: dict[Key, RowCase] = {}
    more: dict[Key, list[RowCase]] = {}
    without_id: list[RowCase] = []
    for case in cases:
        sheet_id = case.sheet_id
        if sheet_id is None:
            without_id.append(case)
            continue
        if type(sheet_id) is not str:  # a formula or a merged area holds the cell
            plan.conflicts.append(_held_id(case, label))
            continue
        key = keys[sheet_id]
        if isinstance(key, IdProblem):
            if sheet_id not in summaries:
                plan.conflicts.append((case, "malformed-id", f"{label}: {problem_message(key, sheet_id, id_format)}"))
                continue
            key = ("stored", sheet_id)  # issued under an ID format the schema since changed
        elif sheet_id in foreign:
            plan.conflicts.append(
                (
                    case,
                    "foreign-id",
                    (
                        f"{label}: {sheet_id} is a case of another workbook ({foreign[sheet_id]}); "
                        "clear it and the next sync assigns this row its own (if this workbook is that one, "
                        f"moved, run kakosheet sync --moved-from '{foreign[sheet_id]}' instead)"
                    ),
                )
            )
            continue
        if key in first:
            more.setdefault(key, []).append(case)
        else:
            first[key] = case
    return first, more, without_id


def _stored_case_of_each_key(
    id_format: IdFormat, first: dict[Key, RowCase], more: dict[Key, list[RowCase]], summaries: Mapping[str, Any]
) -> list[tuple[str | None, list[RowCase]]]:
    """Each key's stored case and rows: the case an ID of its rows is typed as, else the one stored
    under another form of it (looked up only when an ID is not typed exactly as stored), else none
    (the ID is adopted as typed)."""
    stored_keys: dict[Key, str] | None = None
    shown: list[tuple[str | None, list[RowCase]]] = []
    for key, row in first.items():
        others = more.get(key)
        rows = [row] if others is None else [row, *others]
        found = next((r.sheet_id for r in rows if r.sheet_id in summaries), None)
        if found is None and summaries:
            if stored_keys is None:
                stored_keys = _stored_by_key(id_format, summaries)
            found = stored_keys.get(key)
        shown.append((found, rows))
    return shown


def _keepers(
    plan: LogPlan,
    schema: LogSchema,
    shown: list[tuple[str | None, list[RowCase]]],
    known: Mapping[str, StoredState],
    fields: list[str],
) -> dict[str, RowCase]:
    """Case ID -> the row that keeps it; the other rows showing it are copies, flagged."""
    assert schema.id is not None
    label = schema.column(schema.id.field).label
    claimed: dict[str, RowCase] = {}
    for found, rows in shown:
        state = known.get(found) if found is not None else None
        keeper = rows[0] if state is None or len(rows) == 1 else _keeper(rows, state, fields)
        case_id = found or keeper.sheet_id
        assert case_id is not None
        claimed[case_id] = keeper
        for other in rows:
            if other is not keeper:
                same = other.sheet_id == keeper.sheet_id
                plan.conflicts.append(
                    (
                        other,
                        "duplicate-id",
                        (
                            f"{label}: {other.sheet_id} is "
                            + ("also" if same else f"the same ID as {keeper.sheet_id}, written another way,")
                            + f" on row {keeper.row}; a copied row keeps no ID, so clear this one and the next "
                            "sync assigns a new one"
                        ),
                    )
                )
    return claimed


def _sort_claimed(
    plan: LogPlan, claimed: dict[str, RowCase], known: Mapping[str, StoredState], fields: list[str]
) -> None:
    """Each claimed row (but the restored ones) as adopted, returned, changed or unchanged."""
    restored = plan.restored
    for case_id, case in claimed.items():
        if restored and case_id in restored:
            continue
        state = known.get(case_id)
        if state is None:
            plan.adopted[case_id] = case
            continue
        # The fingerprints compared first: _same_content also gives blank derived cells the stored values.
        same = case.fingerprint == state.fingerprint or _same_content(case, state, fields)
        if state.missing:
            plan.returned[case_id] = case
        elif not same:
            plan.changed[case_id] = case
        else:
            if state.match != case.match:
                plan.reprinted[case_id] = case
            if state.notes != notes_digest(case.notes):
                plan.notes_changed[case_id] = case
            else:
                plan.unchanged[case_id] = case


def _held_id(case: RowCase, label: str) -> tuple[RowCase, str, str]:
    """The conflict of a row whose ID cell is not an ID: a formula's result, or held by a merge."""
    if isinstance(case.sheet_id, MergedId):
        return case, MERGED_ID, f"{label}: {case.sheet_id.message}"
    return case, "formula-id", f"{label}: {formula_message(case.sheet_id or '')}"


def _same_content(case: RowCase, known: StoredState, fields: list[str]) -> bool:
    """Whether a row holds what its stored case holds. A blank derived cell holds the case's
    stored value (a stale copy without kakosheet's Date Logged is unchanged): the row's
    fingerprint is taken again with it, only for such rows."""
    if case.fingerprint == known.fingerprint:
        return True
    if case.index in case.source.fillable_rows():
        case.source.keep(case.index, known.derived)
        case.fingerprint = case.source.fingerprint(case.index, fields)
    return case.fingerprint == known.fingerprint


def _keeper(rows: list[RowCase], known: StoredState, fields: list[str]) -> RowCase:
    """Of the rows showing one ID, the one holding the stored case (else the one matching it
    but for kakosheet's derived values, else the top-most) keeps it."""
    return next(
        (r for r in rows if _same_content(r, known, fields)),
        next((r for r in rows if known.match is not None and r.match == known.match), rows[0]),
    )


def _restore_by_content(
    plan: LogPlan, without_id: list[RowCase], known: Mapping[str, StoredState], claimed: dict[str, RowCase]
) -> None:
    """A row without an ID whose content (but for kakosheet's own values: ID, derived columns)
    is that of exactly one stored case missing from the sheet gets that case's ID back; the
    other rows without an ID are new. ``known`` holds the state of every stored case no row claims."""
    if not without_id:  # a re-sync of a log whose every row has its ID
        return
    unclaimed: dict[str, list[str]] = defaultdict(list)
    for case_id, state in known.items():
        if case_id not in claimed:
            unclaimed[state.match or "print:" + state.fingerprint].append(case_id)
    if not unclaimed:  # every stored case is in the sheet (a first sync: none is stored): the rows are new
        plan.new.extend(without_id)
        return
    rows_by_match: dict[str, list[RowCase]] = defaultdict(list)
    for case in without_id:
        rows_by_match[case.match].append(case)
    for case in without_id:
        candidates = unclaimed.get(case.match) or unclaimed.get("print:" + case.fingerprint, [])
        if len(candidates) == 1 and len(rows_by_match[case.match]) == 1:
            case_id = candidates[0]
            case.source.keep(case.index, known[case_id].derived)
            plan.restored[case_id] = case
            claimed[case_id] = case
        else:
            plan.new.append(case)


def _hold_back_transitions(schema: LogSchema, plan: LogPlan, stored: Mapping[str, StoredState]) -> None:
    """A status change the schema does not allow is flagged and not stored until it is fixed."""
    rules = schema.transitions
    assert rules is not None
    label = schema.column(rules.field).label
    for group in (plan.changed, plan.returned):
        for case_id, case in list(group.items()):
            before, after = stored[case_id].status, case.value(rules.field)
            if before is None or after is None or before == after:
                continue
            message = None
            if (before, after) in rules.forbidden:
                message = (
                    f"{label}: a case cannot go from {before} back to {after}; set it back to {before} "
                    "(the change is not stored until then)"
                )
            elif (
                before in rules.reopen_from
                and after not in rules.reopen_from
                and rules.reason_field
                and case.value(rules.reason_field) in (None, "")
            ):
                reason = schema.column(rules.reason_field).label
                message = (
                    f"{label}: a {before} case was reopened; give the reason in {reason} "
                    "(the change is not stored until then)"
                )
            if message:
                del group[case_id]
                plan.conflicts.append((case, "transition", message))


def format_new_ids(schema: LogSchema, cases: list[RowCase], first_numbers: Mapping[int, int]) -> dict[str, RowCase]:
    """IDs for new rows, numbered in sheet order from each year's first reserved number."""
    assert schema.id is not None
    id_format = schema.id
    row_fields = id_format.row_fields
    ordered = sorted(cases, key=attrgetter("row"))
    years = case_years(ordered)
    numbers = _numbers_in_order(years, first_numbers)
    if not row_fields:  # QC-{year}-{number:04d}: nothing to read from the rows
        by_year = {year: _number_formatter(id_format.template, year) for year in set(years)}
        ids = [by_year[year](number) for year, number in zip(years, numbers, strict=True)]
    else:  # the row fields written by the grammar's one rule (case_ids.id_part)
        ids = [
            id_format.format(year=year, number=number, **{name: case.value(name) for name in row_fields})
            for case, year, number in zip(ordered, years, numbers, strict=True)
        ]
    return dict(zip(ids, ordered, strict=True))


class _NumberSlot:
    """Stands for the number while a template is formatted for one year: it leaves a positional
    field with the number's own format spec in its place ("{0:04d}")."""

    def __format__(self, spec: str) -> str:
        return "{0:" + spec + "}" if spec else "{0}"


def _number_formatter(template: str, year: int) -> Callable[[int], str]:
    """``number -> template.format(year=year, number=number)``, the year's part formatted once."""
    if "{{" in template or "}}" in template or "!" in template:  # braces or conversions: the plain way
        return lambda number: template.format(year=year, number=number)
    return template.format(year=year, number=_NumberSlot()).format


def _numbers_in_order(years: list[int], first_numbers: Mapping[int, int]) -> list[int]:
    """Each year's numbers handed out in turn, from its first reserved number."""
    by_year = np.asarray(years, dtype=np.int64)
    numbers = np.zeros(len(years), dtype=np.int64)
    for year in set(years):
        taking = by_year == year
        numbers[taking] = first_numbers[year] + np.arange(int(taking.sum()), dtype=np.int64)
    return numbers.tolist()


def case_years(cases: Sequence[RowCase]) -> list[int]:
    """The year each case's new ID carries (``RowCase.year``), found column-wise per table."""
    if cases and all(case.source is cases[0].source for case in cases):  # one tab's rows: the usual case
        return cases[0].source.years([case.index for case in cases])
    years = [0] * len(cases)
    positions_by_source: dict[_TableRows, list[int]] = defaultdict(list)
    for position, case in enumerate(cases):
        positions_by_source[case.source].append(position)
    for source, positions in positions_by_source.items():
        found = source.years([cases[position].index for position in positions])
        for position, year in zip(positions, found, strict=True):
            years[position] = year
    return years


def years_needed(cases: Sequence[RowCase]) -> dict[int, int]:
    """How many new IDs each year needs."""
    return dict(Counter(case_years(cases)))


def highest_numbers(schema: LogSchema, case_ids: Iterable[str]) -> dict[int, int]:
    """Per year, the highest number among IDs (so sequences continue past adopted IDs)."""
    assert schema.id is not None
    highest: dict[int, int] = {}
    for case_id in case_ids:
        parsed = schema.id.parse(case_id)
        if not isinstance(parsed, IdProblem):
            highest[parsed.year] = max(highest.get(parsed.year, 0), parsed.number)
    return highest
