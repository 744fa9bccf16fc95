"""Every rule of a log's schema, checked over whole columns, reported as issues.

Checks never stop at the first failure: each rule looks at every row, so a bad row never
hides the issues of other rows, nor other issues of the same row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from kakosheet.core.case_ids import IdProblem, Key, formula_message, id_part, problem_message
from kakosheet.core.cells import display, quoted
from kakosheet.core.codes import CURRENCIES, minor_units
from kakosheet.core.columns import TypedColumn
from kakosheet.core.cross_checks import run_cross_check
from kakosheet.core.issues import ERROR, WARNING, Issue
from kakosheet.core.merges import MERGED_CELL, MERGED_ID, merged_cells, merged_message
from kakosheet.core.money import round_money
from kakosheet.core.plan import PLANNED_CODES
from kakosheet.core.references import ReferenceIndex
from kakosheet.core.reporter import RowReporter
from kakosheet.core.schema import Column, Condition
from kakosheet.core.table import Table

# (log, IDs) -> those of them the store holds for the source: IDs kakosheet issued under an ID
# format the schema has since changed are still the cases' own (IDs are permanent).
KnownIds = Callable[[str, list[str]], set[str]]


def validate_table(
    table: Table,
    *,
    today: dt.date,
    references: ReferenceIndex | None = None,
    known_ids: KnownIds | None = None,
) -> list[Issue]:
    """All issues of one typed table; reference checks need the reference tabs' index."""
    report = RowReporter(table)
    schema = table.schema
    _check_header(table, report)
    for column in schema.columns:
        typed = table.columns.get(column.field)
        if typed is None:
            continue
        _check_values(typed, report)
        _check_removed(typed, report)
        _check_pattern(typed, report)
        _check_range(typed, report)
        _check_not_future(typed, report, today)
        if column.unique:
            _check_unique(typed, report, "duplicate-key", "appears on more than one row; each value must be unique")
        if column.references and references is not None and references.holds_data(column.references):
            _check_reference(typed, references.keys(column.references), references.title(column.references), report)
    for column in schema.columns:
        if column.kind != "input" and column.kind != "fill_when_blank":
            continue
        _check_required(table, column, report)
        _check_conditions(table, column, report)
        _check_order(table, column, report)
    if schema.id and schema.id.field in table.columns:
        _check_ids(table, report, known_ids)
    _check_merges(table, report)
    _check_minor_units(table, report)
    if references is not None:
        for check in schema.checks:
            run_cross_check(table, check, references, report)
    for row in table.stray_rows:
        report.add_table(
            None,
            "not-a-case",
            "this row holds values but none of the mandatory columns ("
            + ", ".join(c.label for c in schema.mandatory)
            + "), so it is not read as a case; fill them in, or clear the row",
            severity=WARNING,
            row=row,
        )
    return report.issues


def _check_merges(table: Table, report: RowReporter) -> None:
    """kakosheet's cells of a case row held by a merged area (core/merges.py). A row whose ID cell
    is held has no ID of its own: the merge is its one ID issue, as the sync's plan says."""
    held = merged_cells(table)
    if not held:
        return
    id_field = table.schema.id.field if table.schema.id else None
    held_ids = {int(table.rows[cell.index]) for cell in held if cell.field == id_field}
    if held_ids:
        report.issues = [i for i in report.issues if not (i.row in held_ids and i.code in PLANNED_CODES)]
    raw = {cell.field: table.columns[cell.field].row_raw() for cell in held}
    for cell in held:
        is_id = cell.field == id_field
        report.add(
            cell.index,
            cell.field,
            MERGED_ID if is_id else MERGED_CELL,
            merged_message(table, cell),
            severity=ERROR if is_id else WARNING,
            value=raw[cell.field][cell.index],
        )
        if is_id:  # a hidden ID is no case's: the issue names none
            report.issues[-1] = dataclasses.replace(report.issues[-1], case_id=None)


def _check_header(table: Table, report: RowReporter) -> None:
    """A column missing from the header is one issue naming it, and the closest staff header
    (renamed?); the store keeps what it holds for the column (store/changes.py)."""
    id_field = table.schema.id.field if table.schema.id else None
    for field in table.missing_fields:
        column = table.schema.column(field)
        closest = difflib.get_close_matches(column.label, table.header.extra, n=1, cutoff=0.5)
        renamed = f" (is {closest[0]!r} it, renamed? name it {column.label!r} again)" if closest else ""
        where = f"the header row (row {table.header_row})"
        held = field == id_field and len(table) > 0
        if held:  # rows without it could get no ID back (app/sync_read.py holds the log)
            add = "" if closest else f"add it to {where} (`kakosheet setup` adds it); "
            message = (
                f"kakosheet's column {column.label!r} is missing{renamed}; {add}until it is back, "
                "sync stores none of this tab's rows"
            )
        elif column.kind == "owned":
            message = f"kakosheet's column {column.label!r} is missing{renamed}; add it to {where} so sync can write it"
        elif column.required:
            message = f"the mandatory column {column.label!r} is missing{renamed}; add it to {where}"
        else:
            message = (
                f"the column {column.label!r} is not in {where}{renamed}; the store keeps what it holds "
                "for it until the column is back"
            )
        severity = ERROR if held or (column.required and column.kind != "owned") else WARNING
        report.add_table(field, "missing-column", message, severity=severity)
    for field, extra_columns in table.header.duplicates.items():
        report.add_table(
            field,
            "duplicate-column",
            f"{len(extra_columns) + 1} columns are labelled {table.label(field)!r}; only the first "
            "is read. Rename or remove the others",
            severity=WARNING,
            row=table.header_row,
        )


def _check_values(typed: TypedColumn, report: RowReporter) -> None:
    if not any(typed.problems):  # a Problem is never falsy: one pass in C over a column of IDs
        return
    flags = [p is not None for p in typed.problems]
    raw = typed.raw
    for index in typed.rows_where(flags):
        code = typed.codes[index]
        problem = typed.problems[code]
        assert problem is not None
        report.add(
            int(index), typed.column.field, problem.code, problem.message, severity=problem.severity, value=raw[code]
        )


def _check_removed(typed: TypedColumn, report: RowReporter) -> None:
    """Cells stored without the characters no database can hold (core.columns)."""
    if not typed.removed:
        return
    flags = np.zeros(len(typed.problems), dtype=bool)
    flags[list(typed.removed)] = True
    for index in typed.rows_where(flags):
        code = int(typed.codes[index])
        problem = typed.removed[code]
        report.add(
            int(index), typed.column.field, problem.code, problem.message, severity=WARNING, value=typed.raw[code]
        )


def _check_pattern(typed: TypedColumn, report: RowReporter) -> None:
    column = typed.column
    if not column.pattern:
        return
    regex = re.compile(column.pattern)
    flags = [False] * len(typed.problems)
    for i, value in typed.valid_uniques():
        flags[i] = not regex.search(str(value))
    hint = column.pattern_hint or f"the pattern {column.pattern}"
    for index in typed.rows_where(flags):
        value = typed.values[typed.codes[index]]
        report.add(
            int(index), column.field, "pattern", f"{quoted(value)} does not follow the format: {hint}", value=value
        )


def _check_range(typed: TypedColumn, report: RowReporter) -> None:
    column = typed.column
    if column.minimum is None and column.maximum is None:
        return
    low, high, strict = column.minimum, column.maximum, column.exclusive_minimum
    flags = [
        value is not None
        and problem is None
        and ((low is not None and (value <= low if strict else value < low)) or (high is not None and value > high))
        for value, problem in zip(typed.values[:-1], typed.problems, strict=True)
    ]
    if not any(flags):
        return
    if column.exclusive_minimum and column.maximum is None:
        expected = f"more than {column.minimum}"
    elif column.maximum is None:
        expected = f"at least {column.minimum}"
    elif column.minimum is None:
        expected = f"at most {column.maximum}"
    else:
        expected = f"between {column.minimum} and {column.maximum}"
    for index in typed.rows_where(flags):
        value = typed.values[typed.codes[index]]
        report.add(int(index), column.field, "out-of-range", f"{display(value)} should be {expected}", value=value)


def _check_minor_units(table: Table, report: RowReporter) -> None:
    """An amount finer than its row's currency counts (12.5 JPY, 12.345 USD) is stored as typed, but
    every sum counts it rounded half-up to the currency's minor unit: a warning, so it is checked."""
    if "currency" not in table.columns:
        return
    currencies = table.columns["currency"]
    known = [c if isinstance(c, str) and c in CURRENCIES else None for c in currencies.values]
    # Per distinct currency the decimals it counts; a blank or unknown one (the blank is last) none to judge by.
    allowed = np.array([minor_units(c) if c is not None else -1 for c in known], dtype=np.int64)
    row_allowed = allowed[currencies.codes]
    judged = row_allowed >= 0
    for typed in table.columns.values():
        if typed.column.type != "money":
            continue
        decimals = np.zeros(len(typed.values), dtype=np.int64)  # the blank cell's value, last, has none
        for i, value in typed.valid_uniques():
            if isinstance(value, Decimal) and value.is_finite():
                decimals[i] = max(0, -int(value.normalize().as_tuple().exponent))
        for index in np.flatnonzero(judged & (decimals[typed.codes] > row_allowed)).tolist():
            value, currency = typed.values[typed.codes[index]], str(known[currencies.codes[index]])
            units = minor_units(currency)
            counted = "no decimals" if units == 0 else f"{units} decimal{'s' if units > 1 else ''}"
            report.add(
                index,
                typed.column.field,
                "finer-than-currency",
                f"{display(value)} has more decimals than {currency} counts ({counted}); sums count it as "
                f"{display(round_money(value, currency))}: check the amount",
                severity=WARNING,
                value=value,
            )


def _check_not_future(typed: TypedColumn, report: RowReporter, today: dt.date) -> None:
    if not typed.column.not_future:
        return
    flags = [False] * len(typed.problems)
    for i, value in typed.valid_uniques():
        day = value.date() if isinstance(value, dt.datetime) else value
        flags[i] = day > today
    for index in typed.rows_where(flags):
        value = typed.values[typed.codes[index]]
        report.add(
            int(index),
            typed.column.field,
            "future-date",
            f"{display(value)} is in the future (today is {today.isoformat()}); check the year and the day/month order",
            value=value,
        )


def _check_unique(typed: TypedColumn, report: RowReporter, code: str, message: str) -> None:
    keys = pd.Series(typed.codes)
    duplicated = (keys.duplicated(keep=False) & typed.present).to_numpy()
    if not duplicated.any():
        return
    counts = np.bincount(typed.codes[typed.present], minlength=len(typed.problems))
    first_row: dict[int, int] = {}
    for index in np.flatnonzero(duplicated):
        first_row.setdefault(int(typed.codes[index]), int(report.table.rows[index]))
    for index in np.flatnonzero(duplicated):
        value = typed.values[typed.codes[index]]
        others = int(counts[typed.codes[index]]) - 1
        report.add(
            int(index),
            typed.column.field,
            code,
            f"{quoted(value)} {message} (also on {others} other row{'s' if others > 1 else ''}, "
            f"first on row {first_row[int(typed.codes[index])]})",
            value=value,
        )


def _check_copied_ids(
    table: Table,
    typed: TypedColumn,
    indexes: Sequence[int],
    texts: list[str],
    report: RowReporter,
    *,
    canonical: bool,
) -> None:
    """One ID on several rows, typed alike (spaces aside) or as another padding of its number
    (QC-2026-0001, QC-2026-00001), is one case's: the top-most row keeps it and the others are
    flagged, grouped and worded as the sync's plan does (core/plan.py; a sync keeps the ID on the
    row holding the stored case, which it alone knows). ``indexes``, ``texts``: the distinct cells
    of the IDs that are not malformed and their trimmed texts; ``canonical``: each text is its own key.
    A cell with a formula, or one a merged area holds, is no ID's."""
    id_format = table.schema.id
    assert id_format is not None
    if canonical and typed.distinct_texts:  # each distinct cell an ID of its own: its code is its ID's number
        groups = typed.codes.copy()
        numbered = len(typed.problems)
    else:
        keys: list[Key | IdProblem] = list(texts) if canonical else id_format.keys(texts)
        hashable = [
            ("as typed", text) if isinstance(key, IdProblem) else key for text, key in zip(texts, keys, strict=True)
        ]
        numbers, distinct = pd.factorize(np.fromiter(hashable, dtype=object, count=len(hashable)))  # hashed in C
        group_of = np.full(len(typed.problems) + 1, -1, dtype=np.int64)  # distinct cell -> its ID's number
        group_of[np.fromiter(indexes, dtype=np.int64, count=len(indexes))] = numbers
        groups = group_of[typed.codes]  # a blank row's code (-1) picks the last entry: -1
        numbered = len(distinct)
    groups[table.formula_mask(id_format.field)] = -1
    held = [cell.index for cell in merged_cells(table) if cell.field == id_format.field]
    groups[held] = -1
    counts = np.bincount(groups[groups >= 0], minlength=numbered)
    copied = np.flatnonzero((groups >= 0) & (np.append(counts, 0)[groups] > 1))
    if not len(copied):
        return
    first_of: dict[int, int] = {}  # ID number -> the index of its top-most row
    for index in copied.tolist():
        first = first_of.setdefault(int(groups[index]), index)
        if first == index:
            continue
        value, kept = typed.values[typed.codes[index]], typed.values[typed.codes[first]]
        shown = "also" if str(value) == str(kept) else f"the same ID as {display(kept)}, written another way,"
        report.add(
            index,
            typed.column.field,
            "duplicate-id",
            f"{display(value)} is {shown} on row {int(table.rows[first])}; a copied row keeps no ID, so clear this "
            "one and the next sync assigns a new one",
            value=value,
        )


def _check_reference(typed: TypedColumn, keys: frozenset[str], title: str, report: RowReporter) -> None:
    flags = [False] * len(typed.problems)
    for i, value in typed.valid_uniques():
        flags[i] = str(value).upper() not in keys
    for index in typed.rows_where(flags):
        value = typed.values[typed.codes[index]]
        report.add(
            int(index),
            typed.column.field,
            "unknown-reference",
            f"{quoted(value)} is not on the {title} tab; check the spelling or add it there first",
            value=value,
        )


def condition_mask(table: Table, condition: Condition) -> np.ndarray:
    """Rows where a condition holds. A condition on a missing column never holds."""
    n = len(table)
    if condition.any_present:
        mask = np.zeros(n, dtype=bool)
        for field in condition.any_present:
            if field in table.columns:
                mask |= table.columns[field].present
        return mask
    assert condition.field is not None
    typed = table.columns.get(condition.field)
    if typed is None:
        return np.zeros(n, dtype=bool)
    wanted = {v.casefold() for v in condition.values_in or condition.values_not_in}
    flags = [
        isinstance(v, str) and v.casefold() in wanted and p is None
        for v, p in zip(typed.values[:-1], typed.problems, strict=True)
    ]
    matches = typed.mask_where(flags)
    if condition.values_in:
        return matches
    # "not in" holds for any valid value outside the list, but not for a blank or bad cell.
    valid = typed.mask_where([p is None for p in typed.problems])
    return typed.present & valid & ~matches


def condition_unknown(table: Table, condition: Condition) -> np.ndarray:
    """Rows where a condition cannot be judged: its field holds a value that is itself wrong."""
    typed = table.columns.get(condition.field) if condition.field else None
    if typed is None:
        return np.zeros(len(table), dtype=bool)
    return typed.mask_where([p is not None for p in typed.problems])


def _rows(mask: np.ndarray) -> Iterator[int]:
    return (int(i) for i in np.flatnonzero(mask))


def _check_required(table: Table, column: Column, report: RowReporter) -> None:
    if not column.required or column.kind != "input":
        return
    typed = table.columns.get(column.field)
    if typed is None:
        return
    for index in _rows(typed.blank):
        report.add(index, column.field, "required", f"{column.label} is mandatory; fill it in")


def _check_conditions(table: Table, column: Column, report: RowReporter) -> None:
    typed = table.columns.get(column.field)
    labels = table.schema.labels
    if column.required_when is not None:
        when = condition_mask(table, column.required_when)
        blank = typed.blank if typed is not None else np.ones(len(table), dtype=bool)
        if typed is None and when.any():
            report.add_table(
                column.field,
                "missing-column",
                f"the column {column.label!r} is missing, and it is needed when "
                f"{column.required_when.describe(labels)}; add it to the header row (row {table.header_row})",
            )
        else:
            for index in _rows(when & blank):
                report.add(
                    index,
                    column.field,
                    "required-when",
                    f"{column.label} is needed when {column.required_when.describe(labels)}; fill it in",
                )
    if column.only_when is not None and typed is not None:
        # A wrong Status is reported once, on Status, not again on every field that depends on it.
        outside = typed.present & ~condition_mask(table, column.only_when) & ~condition_unknown(table, column.only_when)
        for index in _rows(outside):
            value = typed.raw[typed.codes[index]]
            report.add(
                index,
                column.field,
                "only-when",
                f"{column.label} is set but only belongs when {column.only_when.describe(labels)}; "
                "clear it or update the status",
                value=value,
            )
    if column.recommended_when is not None and typed is not None:
        for index in _rows(condition_mask(table, column.recommended_when) & typed.blank):
            report.add(
                index,
                column.field,
                "recommended",
                f"{column.label} should be given when {column.recommended_when.describe(labels)}",
                severity=WARNING,
            )


def _as_datetime64(typed: TypedColumn, *, day: bool) -> np.ndarray:
    """Each row's date or time as numpy's (NaT when blank or wrong), the distinct values converted by
    pandas in C (numpy converts a datetime object ten times slower)."""
    valid = [
        value if problem is None else None for value, problem in zip(typed.values[:-1], typed.problems, strict=True)
    ]
    valid.append(None)  # the blank cell's code, -1
    uniques = pd.Series(valid, dtype=object).astype("datetime64[s]").to_numpy()
    return uniques.astype("datetime64[D]" if day else "datetime64[s]")[typed.codes]


def _check_order(table: Table, column: Column, report: RowReporter) -> None:
    if not column.not_before:
        return
    later, earlier = table.columns.get(column.field), table.columns.get(column.not_before)
    if later is None or earlier is None:
        return
    other = table.schema.column(column.not_before)
    day = column.type == "date" or other.type == "date"
    later_values, earlier_values = _as_datetime64(later, day=day), _as_datetime64(earlier, day=day)
    wrong = later_values < earlier_values  # NaT compares False
    for index in _rows(wrong):  # each row's cells looked up: a column of them is 100k objects to copy
        later_code, earlier_code = later.codes[index], earlier.codes[index]
        report.add(
            index,
            column.field,
            "date-order",
            f"{column.label} ({display(later.values[later_code])}) is before {table.label(other.field)} "
            f"({display(earlier.values[earlier_code])}); check both dates",
            value=later.raw[later_code],
        )


def _check_ids(table: Table, report: RowReporter, known_ids: KnownIds | None) -> None:
    id_format = table.schema.id
    assert id_format is not None
    typed = table.columns[id_format.field]
    flags = [False] * len(typed.problems)
    parsed: dict[int, dict[str, str]] = {}
    rejected: dict[int, IdProblem] = {}
    indexes, values = typed.valid_values()
    texts = values if typed.distinct_texts else list(map(str, values))  # texts already: no copy of 100k IDs
    # Usually every ID is canonical, so well-formed and its own key: one regex over all of them says so.
    canonical = id_format.own_keys(texts)
    if not canonical and (id_format.row_fields or not id_format.all_match(texts)):
        for i, text in zip(indexes, texts, strict=True):
            match = id_format.regex.match(text)
            if match is None:
                flags[i] = True
                rejected[i] = id_format.problem(text)
            else:
                parsed[i] = match.groupdict()
    if rejected and known_ids is not None:
        known = known_ids(table.schema.name, [str(typed.values[i]) for i in rejected])
        for i in [i for i in rejected if str(typed.values[i]) in known]:
            flags[i] = False
            del rejected[i]
    for index in typed.rows_where(flags) if rejected else ():
        code = int(typed.codes[index])
        value = typed.values[code]
        report.add(
            int(index),
            id_format.field,
            "malformed-id",
            problem_message(rejected[code], display(value), id_format),
            value=value,
        )
    for index in np.flatnonzero(table.formula_mask(id_format.field)):
        value = typed.values[typed.codes[index]]
        report.add(int(index), id_format.field, "formula-id", formula_message(display(value)), value=value)
    if rejected:
        kept = [(i, t) for i, t in zip(indexes, texts, strict=True) if i not in rejected]
        indexes, texts = [i for i, _ in kept], [t for _, t in kept]
    _check_copied_ids(table, typed, indexes, texts, report, canonical=canonical)
    for part in id_format.row_fields:
        other = table.columns.get(part)
        if other is None:
            continue
        other_values = other.row_values()
        for index in _rows(typed.present):
            groups = parsed.get(int(typed.codes[index]))
            expected = other_values[index]
            if groups and isinstance(expected, str) and groups[part].upper() != id_part(expected):
                report.add(
                    index,
                    id_format.field,
                    "id-mismatch",
                    f"{quoted(typed.values[typed.codes[index]])} ends with {quoted(groups[part])} but "
                    f"{table.label(part)} is {quoted(expected)}; check which one is right",
                    value=typed.values[typed.codes[index]],
                )
