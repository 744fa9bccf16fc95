"""Checks that look across a log and a reference tab, named in a schema's ``checks``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Context, Decimal, localcontext

import numpy as np

from kakosheet.core.cells import display
from kakosheet.core.money import round_money
from kakosheet.core.references import ReferenceIndex
from kakosheet.core.reporter import RowReporter
from kakosheet.core.schema import CrossCheck
from kakosheet.core.table import Table

# Room for a rate times an amount rounded to cents: each has at most 15 digits before the point
# (cells.NUMBER_LIMIT), and the default 28 would refuse to round a product of two such.
_WIDE = Context(prec=60)


def _required_if_flag(table: Table, check: CrossCheck, index: ReferenceIndex, report: RowReporter) -> None:
    field, via = check.params["field"], check.params["via"]
    if field not in table.columns or via not in table.columns:
        return
    flags = index.lookup(check.params["reference"], check.params["flag"])
    target, keys = table.columns[field], table.columns[via].row_values()
    for row in np.flatnonzero(target.blank):
        key = keys[row]
        if isinstance(key, str) and flags.get(key.upper()) is True:
            report.add(
                int(row),
                field,
                "required-when",
                f"{table.label(field)} is needed because {key} is marked {check.params['flag']} on the "
                f"{index.title(check.params['reference'])} tab; fill it in",
                severity=check.severity,
            )


def _sum_within(table: Table, check: CrossCheck, index: ReferenceIndex, report: RowReporter) -> None:
    field, group_by = check.params["field"], check.params["group_by"]
    if field not in table.columns or group_by not in table.columns:
        return
    limits = index.totals(check.params["reference"], check.params["reference_field"])
    if not limits:
        return
    amounts = table.columns[field].row_values()
    groups = table.columns[group_by].row_values()
    currencies = table.columns["currency"].row_values() if "currency" in table.columns else [None] * len(table)
    rows_of: dict[str, list[int]] = {}
    sums: dict[str, Decimal] = {}
    for row, (group, amount, currency) in enumerate(zip(groups, amounts, currencies, strict=True)):
        if not isinstance(group, str) or not isinstance(amount, Decimal):
            continue
        key = group.upper()
        known = limits.get(key)
        if known is None or (currency is not None and known[1] is not None and currency != known[1]):
            continue
        rows_of.setdefault(key, []).append(row)
        sums[key] = sums.get(key, Decimal(0)) + amount
    for key, total in sums.items():
        limit, currency = limits[key]
        if total <= limit:
            continue
        for row in rows_of[key]:
            report.add(
                row,
                field,
                "over-limit",
                f"the {table.label(field)} of all rows for {groups[row]} add up to {total} {currency or ''}, "
                f"more than the {limit} on the {index.title(check.params['reference'])} tab; check the amounts",
                severity=check.severity,
                value=amounts[row],
            )


def _matches_rate(table: Table, check: CrossCheck, index: ReferenceIndex, report: RowReporter) -> None:
    field, base, via = check.params["field"], check.params["base"], check.params["via"]
    if any(name not in table.columns for name in (field, base, via)):
        return
    rates = index.lookup(check.params["reference"], check.params["rate_field"])
    typed = table.columns[field]
    values, bases, keys = typed.row_values(), table.columns[base].row_values(), table.columns[via].row_values()
    currencies = table.columns["currency"].row_values() if "currency" in table.columns else [None] * len(table)
    for row in np.flatnonzero(typed.present):
        value, amount, key = values[row], bases[row], keys[row]
        rate = rates.get(key.upper()) if isinstance(key, str) else None
        if not isinstance(value, Decimal) or not isinstance(amount, Decimal) or not isinstance(rate, Decimal):
            continue
        with localcontext(_WIDE):
            expected = round_money(rate * amount, currencies[row])
            differs = round_money(value, currencies[row]) != expected
        if differs:
            report.add(
                int(row),
                field,
                "disagrees",
                f"{display(value)} differs from {key}'s {check.params['rate_field'].replace('_', ' ')} "
                f"({rate:%}) x {table.label(base)} ({amount}) = {expected}; check the rate or clear the cell "
                "so kakosheet fills it",
                severity=check.severity,
                value=value,
            )


CHECKS: dict[str, Callable[[Table, CrossCheck, ReferenceIndex, RowReporter], None]] = {
    "required_if_flag": _required_if_flag,
    "sum_within": _sum_within,
    "matches_rate": _matches_rate,
}


def run_cross_check(table: Table, check: CrossCheck, index: ReferenceIndex, report: RowReporter) -> None:
    """Run one check when its reference tab holds data; otherwise there is nothing to check against."""
    if index.holds_data(check.params["reference"]):
        CHECKS[check.check](table, check, index, report)
