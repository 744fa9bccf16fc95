"""Sources of failure: cases per party (supplier, vendor, station, inspector, logistics provider),
and, where order data is known, the after-sales rate judged by funnel-plot control limits."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from kakosheet.reports import model as m
from kakosheet.reports.periods import Period
from kakosheet.store.reads import Between, Reads, Scope

if TYPE_CHECKING:
    from kakosheet.reports.build import ReportRequest

WATCH_Z = 1.959964  # two-sided 95%
ALARM_Z = 3.090232  # two-sided 99.8%
UNSPECIFIED = "Unspecified"
NO_ORDERS = "no order data: parties ranked by case count, not by rate (a rate needs the orders behind it)"


def party_cases(
    reads: Reads, request: ReportRequest, period: Period
) -> dict[tuple[str, str | None], tuple[set[str], set[str]]]:
    """(kind, party) -> (its cases in the period, the logs they are in)."""
    found: dict[tuple[str, str | None], tuple[set[str], set[str]]] = {}
    for facts in request.logs:
        scope = Scope(facts.log, (Between(facts.date_field, period.start, period.end),), source=request.source)
        for party in facts.parties:
            by = [party.field] + ([party.kind_field] if party.kind_field and party.kind_field in facts.fields else [])
            for group in reads.groups(scope, by):
                kind = party.kind or (group.keys[1] if len(group.keys) > 1 else None) or UNSPECIFIED
                ids, logs = found.setdefault((kind, group.keys[0]), (set(), set()))
                ids.update(group.case_ids)
                logs.add(facts.log)
    return found


def control_limits(overall: float, orders: int, z: float) -> tuple[Decimal, Decimal]:
    """The binomial's normal-approximation limits around the overall rate for a party of ``orders``."""
    spread = z * math.sqrt(overall * (1 - overall) / orders)
    return _rate(max(0.0, overall - spread)), _rate(min(1.0, overall + spread))


def _rate(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def parties_section(reads: Reads, request: ReportRequest, previous: Period) -> m.PartiesSection:
    now = party_cases(reads, request, request.period)
    before = party_cases(reads, request, previous)
    orders = request.orders
    rows = []
    overall = None
    if orders:
        total_orders = sum(orders.get(party or "", 0) for _, party in now)
        total_cases = sum(len(ids) for (_, party), (ids, _) in now.items() if orders.get(party or ""))
        overall = total_cases / total_orders if total_orders else None
    for key in set(now) | set(before):
        kind, party = key
        ids = tuple(sorted(now.get(key, (set(), set()))[0]))
        prior = tuple(sorted(before.get(key, (set(), set()))[0]))
        logs = tuple(sorted(now.get(key, (set(), set()))[1] | before.get(key, (set(), set()))[1]))
        row = m.PartyRow(kind, party, m.figure(ids, prior), logs)
        count = orders.get(party or "") if orders else None
        if count and overall is not None:
            rate = len(ids) / count
            watch, alarm = control_limits(overall, count, WATCH_Z), control_limits(overall, count, ALARM_Z)
            flag = "alarm" if _rate(rate) > alarm[1] else "watch" if _rate(rate) > watch[1] else None
            row = m.PartyRow(kind, party, row.figure, logs, count, _rate(rate), watch, alarm, flag)
        rows.append(row)
    if overall is not None:
        rows.sort(key=lambda r: (r.rate is None, -(r.rate or 0), -r.figure.count, r.kind, str(r.party)))
        note = (
            "after-sales rate = cases / orders in the period; flagged outside funnel-plot control limits "
            "of the binomial around the overall rate (watch 95%, alarm 99.8%), never by raw rank"
        )
        return m.PartiesSection(tuple(rows), "rate", note, _rate(overall))
    rows.sort(key=lambda r: (-r.figure.count, r.kind, str(r.party)))
    return m.PartiesSection(tuple(rows), "count", NO_ORDERS)


def worsened_parties(reads: Reads, request: ReportRequest, previous: Period) -> tuple[tuple[m.PartyRow, ...], str]:
    """Parties whose rate rose significantly (two-proportion test, 95%) against the previous period."""
    orders: Mapping[str, int] | None = request.orders
    if not orders:
        return (), "whether a party's rate worsened needs order data; none is known"
    section = parties_section(reads, request, previous)
    worse = []
    for row in section.rows:
        n = orders.get(row.party or "")
        if not n or row.figure.previous == 0 and row.figure.count == 0:
            continue
        p1, p0 = row.figure.count / n, row.figure.previous / n
        pooled = (row.figure.count + row.figure.previous) / (2 * n)
        spread = math.sqrt(pooled * (1 - pooled) * 2 / n) if 0 < pooled < 1 else 0
        if spread and (p1 - p0) / spread > WATCH_Z:
            worse.append(row)
    note = "rate against the previous period with the same orders per party (two-proportion test, 95%)"
    return tuple(worse), note
