"""The column-wise shortcuts of planning, ID formatting, the write-back and normalizing give
exactly what their row-by-row definitions give: per-row ``RowCase.year``, ``fills``,
``values`` and ``raw``, the fingerprint recipe the store compares with, one normalizer
call per cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kakosheet.config import load_config
from kakosheet.core.cells import CellContext, display
from kakosheet.core.clock import Clock
from kakosheet.core.columns import normalize_column, normalizer_for
from kakosheet.core.grid import Grid, MergedArea
from kakosheet.core.header import locate_header
from kakosheet.core.plan import (
    StoredCases,
    case_years,
    fingerprints,
    format_new_ids,
    plan_log,
    row_cases,
    years_needed,
)
from kakosheet.core.schema import LogSchema
from kakosheet.core.table import Table, build_table
from kakosheet.core.validate import validate_table
from kakosheet.core.writeback import CellUpdate, sheet_write
from kakosheet.store.tables import stored_fields

NOW = dt.datetime(2026, 6, 30, 9, 0)
CTX = CellContext(today=dt.date(2026, 6, 30))


@pytest.fixture(scope="module")
def schemas() -> Any:
    return load_config(None).load_schemas()


def table_of(schema: LogSchema, rows: list[dict[str, Any]]) -> Table:
    """A table of the log read from a grid: the header, then one row per dict (field -> cell)."""
    fields = [column.field for column in schema.columns]
    header = [schema.column(f).label for f in fields]
    grid = Grid(schema.tab, [header, *[[row.get(f, "") for f in fields] for row in rows]])
    located = locate_header(grid, schema)
    assert located is not None
    return build_table(grid, located, schema, CTX)


QC_CELLS: dict[str, list[Any]] = {
    "original_order_id": ["0001234", "0001235", 1234.0, "", "0009"],
    "date_identified": [dt.datetime(2025, 12, 31, 10, 30), dt.datetime(2026, 3, 2), "someday", "", "2024-05-01"],
    "date_logged": [dt.datetime(2026, 3, 2, 11, 0), "", "", "not a date"],
    "exception_type": ["Packaging Damage", "damaged", ""],
    "description": ["Carton crushed.", "Label missing", ""],
    "status": ["Open", "Closed", "Bogus"],
    "case_id": ["", "", "", "QC-2026-0007", "QC-2025-0002", "bad id"],
    "issues": ["", "", "Status: old note"],
}


def qc_table(schemas: Any, rows: list[dict[str, Any]]) -> Table:
    return table_of(schemas["qc"], rows)


qc_rows = st.lists(
    st.fixed_dictionaries({name: st.sampled_from(values) for name, values in QC_CELLS.items()}),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(rows=qc_rows)
def test_years_and_ids_follow_the_row_by_row_definition(schemas: Any, rows: list[dict[str, Any]]) -> None:
    schema = schemas["qc"]
    table = qc_table(schemas, rows)
    cases = row_cases(table, [], fields=stored_fields(schema), clock=Clock.at(NOW))
    assert case_years(cases) == [case.year for case in cases]
    expected: dict[int, int] = {}
    for case in cases:
        expected[case.year] = expected.get(case.year, 0) + 1
    assert years_needed(cases) == expected
    first = {year: 10 * year for year in expected}
    ids = format_new_ids(schema, cases[::-1], first)
    numbers = dict(first)
    reference = {}
    for case in sorted(cases, key=lambda c: c.row):
        reference[schema.id.format(year=case.year, number=numbers[case.year])] = case
        numbers[case.year] += 1
    assert list(ids.items()) == list(reference.items())


def reference_fingerprints(table: Table, fields: list[str], now: dt.datetime) -> list[str]:
    """The recipe stored fingerprints were made with (it must never change; an absent derived
    column counts as blank, as it always should have: it changed with every sync's time)."""
    fillable = {c.field for c in table.schema.columns if c.fill}
    mixed = np.zeros(len(table), dtype=np.uint64)
    for name in sorted(fields):
        typed = table.columns.get(name)
        blank = f"{name}={now!r}" if name in fillable else f"{name}=None"
        if typed is None:
            texts, codes = [f"{name}=None"], np.full(len(table), -1)
        else:
            texts = [
                f"{name}={value!r}" if problem is None else f"{name}!{display(raw)}"
                for value, problem, raw in zip(typed.values[:-1], typed.problems, typed.raw[:-1], strict=True)
            ] + [blank]
            codes = typed.codes
        hashes = np.array(
            [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts],
            dtype=np.uint64,
        )
        mixed = (mixed * np.uint64(0x100000001B3)) ^ hashes[codes]
    return [format(value, "016x") for value in mixed.tolist()]


@settings(max_examples=40, deadline=None)
@given(rows=qc_rows)
def test_fingerprints_keep_their_recipe(schemas: Any, rows: list[dict[str, Any]]) -> None:
    table = qc_table(schemas, rows)
    fields = stored_fields(table.schema)
    prints, matches = fingerprints(table, fields, Clock.at(NOW))
    assert prints == reference_fingerprints(table, fields, NOW)
    derived = {c.field for c in table.schema.columns if c.fill}
    assert matches == reference_fingerprints(table, [f for f in fields if f not in derived], NOW)
    for case in row_cases(table, [], fields=fields, clock=Clock.at(NOW)):  # one row at a time, the same
        assert case.source.fingerprint(case.index, fields) == case.fingerprint


@settings(max_examples=40, deadline=None)
@given(rows=qc_rows)
def test_row_values_on_demand_match_the_columns(schemas: Any, rows: list[dict[str, Any]]) -> None:
    """values, raw, value and fills read per row agree with each column's cells."""
    table = qc_table(schemas, rows)
    fields = stored_fields(table.schema)
    for case in row_cases(table, [], fields=fields, clock=Clock.at(NOW)):
        values, raw = case.values, case.raw
        for name in fields:
            typed = table.columns.get(name)
            if typed is None:
                continue
            code = int(typed.codes[case.index])
            problem = typed.problems[code] if code >= 0 else None
            value = None if problem is not None or code < 0 else typed.values[code]
            if value is None and problem is None and table.schema.column(name).fill:
                value = NOW
                assert case.fills[name] == NOW
            else:
                assert name not in case.fills
            assert values[name] == value == case.value(name)
            assert (name in raw) == (problem is not None)
            if problem is not None:
                assert raw[name] == display(typed.raw[code])


def reference_sheet_write(table: Table, cases: list, new_ids: dict) -> list[tuple[int, int, Any, Any]]:
    """The cells a first sync writes, one row at a time: its ID, its note, its blank fills."""
    columns = table.header.columns
    ids_read = table.columns["case_id"].row_raw().tolist()
    notes_read = table.columns["issues"].row_raw().tolist()
    cells = []
    id_of = {id(case): case_id for case_id, case in new_ids.items()}
    for case in cases:
        if id(case) in id_of:
            cells.append((case.row, columns["case_id"], id_of[id(case)], ids_read[case.index]))
        note = "; ".join(case.notes) or None
        if case.notes or notes_read[case.index] is not None:
            was = notes_read[case.index]
            if (was or "").strip() != (note or ""):
                cells.append((case.row, columns["issues"], note, was))
        if id(case) in id_of:
            cells += [(case.row, columns[f], value, None) for f, value in case.fills.items()]
    return sorted(cells, key=lambda cell: (cell[0], cell[1]))


@settings(max_examples=40, deadline=None)
@given(rows=qc_rows)
def test_sheet_write_of_a_first_sync(schemas: Any, rows: list[dict[str, Any]]) -> None:
    rows = [{**row, "case_id": ""} for row in rows]
    table = qc_table(schemas, rows)
    schema = table.schema
    cases = row_cases(table, [], fields=stored_fields(schema), clock=Clock.at(NOW))
    plan = plan_log(schema, table.sheet, cases, StoredCases.of({}), fields=stored_fields(schema))
    new_ids = format_new_ids(schema, plan.new, {year: 1 for year in years_needed(plan.new)})
    write = sheet_write(table, plan, new_ids)
    assert all(isinstance(cell, CellUpdate) for cell in write.cells)
    assert [(c.row, c.column, c.value, c.was) for c in write.cells] == reference_sheet_write(table, cases, new_ids)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "https://media.example.com/qc/1.jpg",
                    " HTTP://Example.com/a b ",
                    "https://a.example/x, https://b.example/y",
                    "https://a.example/x;https://b.example/y",
                    "https://a.example/x\nhttps://b.example/y",
                    "ftp://example.com/x",
                    "https://.example.com",
                    "https://example.com/x\n",
                    "not a link",
                    "ana@example.com",
                    " ana@example.com ",
                    "bad@",
                    "a@b.c.",
                    "",
                    "  ",
                ]
            ),
            st.text(alphabet="htps:/.,; @\nabc", max_size=20),
            st.floats(allow_nan=False, allow_infinity=False),
            st.none(),
        ),
        max_size=30,
    ),
    column_type=st.sampled_from(["urls", "email"]),
)
def test_a_valid_text_skips_its_normalizer_with_the_same_result(
    schemas: Any, cells: list[Any], column_type: str
) -> None:
    column = next(c for c in schemas["qc"].columns if c.type == column_type)
    _typed_as_its_normalizer_types(column, cells)


@pytest.mark.parametrize(
    "template", ["QC-{year}-{number:04d}", "X{number}-{year:05d}", "A{{b}}-{year}-{number:03d}", "{number!r}-{year}"]
)
def test_an_id_formatted_once_per_year_is_the_template_formatted(template: str) -> None:
    from kakosheet.core.plan import _number_formatter

    for year, number in [(2026, 1), (2026, 12345), (1999, 7)]:
        assert _number_formatter(template, year)(number) == template.format(year=year, number=number)


CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "  ",
            " text ",
            "Open",
            "open",
            "QC-2026-0001",
            " QC-2026-0001",
            "12.50",
            "1,500",
            "2026-03-01",
            "ana@x.io",
        ]
    ),
    st.sampled_from(["https://media.example.com/1.jpg", "https://a.example/x https://b.example/y", "USD", "x\x00y"]),
    st.text(max_size=8),
    # Numbers as a workbook gives them (floats): cells 1, 1.0 and True are one distinct cell to pandas.
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.none(),
)


def _same(value: Any, expected: Any) -> bool:
    """Equal and of one type: 12.5 == Decimal("12.5"), yet a float is not what a money column holds."""
    return type(value) is type(expected) and value == expected


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(CELLS, max_size=30),
    field=st.sampled_from([c.field for c in load_config(None).load_schemas()["qc"].columns]),
)
def test_a_column_normalizes_each_cell_as_its_normalizer_does(schemas: Any, cells: list[Any], field: str) -> None:
    """Every column type, whatever the cells: each row's value and problem are the normalizer's own
    (the cell cleaned of characters no database holds, as the column reports it)."""
    column = schemas["qc"].column(field)
    typed = normalize_column(np.array([*cells, None], dtype=object)[:-1], column, CTX)
    normalize = normalizer_for(column)
    for index, cell in enumerate(cells):
        code = int(typed.codes[index])
        cleaned = cell.replace("\x00", "") if isinstance(cell, str) else cell
        value, problem = normalize(cleaned, CTX)
        if code < 0:
            assert value is None and problem is None
            continue
        assert _same(typed.values[code], value) or (value is None and typed.values[code] is None)
        assert typed.problems[code] == problem
        assert _same(typed.raw[code], cleaned)


class _Text(str):
    """A text of a str subclass: no source gives one, yet a text column must not take it for a str."""


@pytest.mark.parametrize("field", ["case_id", "original_order_id", "description", "media_links", "owner"])
def test_a_text_column_of_another_kind_of_str_normalizes_as_its_normalizer_does(schemas: Any, field: str) -> None:
    """The text shortcut (all cells plain str, trimmed in C) leaves other kinds of text to the normalizer."""
    column = schemas["qc"].column(field)
    _typed_as_its_normalizer_types(column, [_Text("QC-2026-0001"), _Text("https://a.example/x"), "ana@x.io"])


VALID_ROW = {  # a QC row with every mandatory cell valid
    "original_order_id": "1",
    "date_identified": dt.datetime(2026, 1, 1),
    "exception_type": "Damaged",
    "description": "Carton crushed.",
    "responsible_party": "Acme",
    "status": "Open",
}


def test_a_formula_in_a_derived_column_leaves_the_blank_cells_their_derived_value(schemas: Any) -> None:
    """A formula showing nothing in one Date Logged cell is not blank; the blank cells below it still
    count by the value a sync fills in, in the fingerprint of every row as of a single row."""
    schema = schemas["qc"]
    row = VALID_ROW
    fields = [column.field for column in schema.columns]
    grid = Grid(
        schema.tab,
        [[schema.column(f).label for f in fields], *[[row.get(f, "") for f in fields] for _ in range(3)]],
        formulas={(2, fields.index("date_logged"))},
    )
    located = locate_header(grid, schema)
    assert located is not None
    table = build_table(grid, located, schema, CTX)
    stored = stored_fields(schema)
    cases = row_cases(table, [], fields=stored, clock=Clock.at(NOW))
    assert [case.fills for case in cases] == [{}, {"date_logged": NOW}, {"date_logged": NOW}]
    for case in cases:
        assert case.source.fingerprint(case.index, stored) == case.fingerprint
    assert cases[0].fingerprint != cases[1].fingerprint == cases[2].fingerprint


CANONICAL_IDS = ["QC-2026-0001", "QC-2026-0002", "QC-2025-0002", "QC-2026-12345"]
OTHER_ID_CELLS = [
    "",
    " QC-2026-0001",
    "QC-2026-0004 ",
    "QC-2026-00001",
    "qc-2026-0003",
    "QC-2026-0005\x00",
    "QC-2026-0005",
    "bad id",
    "QC-２０２６-0001",
]


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.sampled_from(CANONICAL_IDS), min_size=1, max_size=12)
    | st.lists(st.sampled_from(CANONICAL_IDS + OTHER_ID_CELLS), min_size=1, max_size=12),
    formula_row=st.none() | st.integers(0, 11),
    merged_row=st.none() | st.integers(0, 10),
)
@example(ids=["QC-2026-0001", "QC-2026-0001"], formula_row=1, merged_row=None)  # a formula is no copy
@example(ids=["QC-2026-0001"] * 3, formula_row=None, merged_row=0)  # nor are IDs a merged area holds
def test_a_column_of_ids_each_its_own_text_is_checked_as_any_column(
    schemas: Any, ids: list[str], formula_row: int | None, merged_row: int | None
) -> None:
    """A column whose distinct cells are valid texts, none alike (IDs as a sync writes them), skips
    looking for problems and repeats among them: its issues are those of the same column checked
    without the shortcut, copies, formulas and merged ID cells included."""
    schema = schemas["qc"]
    fields = [column.field for column in schema.columns]
    base = VALID_ROW
    id_column = fields.index("case_id")
    grid = Grid(
        schema.tab,
        [[schema.column(f).label for f in fields], *[[{**base, "case_id": i}.get(f, "") for f in fields] for i in ids]],
        formulas={(formula_row + 2, id_column)} if formula_row is not None and formula_row < len(ids) else set(),
        merges=[MergedArea(merged_row + 2, merged_row + 3, id_column, id_column)]
        if merged_row is not None and merged_row + 1 < len(ids)
        else [],
    )
    located = locate_header(grid, schema)
    assert located is not None
    table = build_table(grid, located, schema, CTX)
    typed = table.columns["case_id"]
    values = typed.values[:-1].tolist()
    if typed.distinct_texts:  # what the shortcut takes for granted
        assert all(type(v) is str for v in values) and len(set(values)) == len(values)
        assert not any(typed.problems) and not typed.removed
    assert typed.distinct_texts == all(i and i == i.strip() and "\x00" not in i for i in ids)
    plain = dataclasses.replace(
        table, columns={f: dataclasses.replace(c, distinct_texts=False) for f, c in table.columns.items()}
    )
    today = dt.date(2026, 6, 30)
    assert validate_table(table, today=today) == validate_table(plain, today=today)


@settings(max_examples=200, deadline=None)
@given(
    uniques=st.lists(
        st.one_of(
            st.sampled_from(["Total", " grand  TOTAL* ", "Subtotal", "ſum", "ＳＵＭ", "Carton crushed.", "", "sum:"]),
            st.text(alphabet="toalsumgrndbTOALSUMſ *\n", max_size=12),
            st.floats(allow_nan=False),
            st.none(),
        ),
        max_size=20,
    )
)
def test_total_labels_of_a_column_are_each_cells_own(uniques: list[Any]) -> None:
    """A 'Total' row is found by one look over a column's texts, as it is cell by cell."""
    from kakosheet.core.table import _is_total_label, _total_labels

    assert _total_labels(uniques) == [_is_total_label(value) for value in uniques]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            str.__add__,
            st.sampled_from(["https://", "HTTP://b", "ana@x", "a@b.", ""]),
            st.text(alphabet="htps:/.ab@,;$?# \t\x0b\x0c\r\x1c\x1f", max_size=10),
        ),
        min_size=1,
        max_size=6,
    ),
    column_type=st.sampled_from(["urls", "email"]),
)
@example(lines=["https://a\x1c"], column_type="urls")  # a separator str.isspace counts, re's ASCII \s does not
def test_ascii_links_and_emails_match_as_any_text_does(lines: list[str], column_type: str) -> None:
    """The ASCII flavour of a type's pattern, taken for ASCII text, matches what the pattern itself does."""
    from kakosheet.core.columns import _all_lines_match

    for text in ["\n".join(lines), *lines]:
        assert (_all_lines_match(column_type, True)(text) is None) == (
            _all_lines_match(column_type, False)(text) is None
        )


def _typed_as_its_normalizer_types(column: Any, cells: list[Any]) -> None:
    """Each cell of the column, typed column-wise, is what the column's normalizer makes of it alone."""
    typed = normalize_column(np.array([*cells, None], dtype=object)[:-1], column, CTX)
    normalize = normalizer_for(column)
    for index, cell in enumerate(cells):
        code = int(typed.codes[index])
        value, problem = normalize(cell, CTX)
        if code < 0:
            assert value is None and problem is None
            continue
        assert _same(typed.values[code], value) and typed.problems[code] == problem
