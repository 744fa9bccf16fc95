"""Sources of failure: cases per party (supplier, vendor, station, inspector, logistics provider),
and, where order data is known, the after-sales rate judged by funnel-plot control limits."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from kakosheet.reports import model as m
from kakosheet.reports.periods import Period, PeriodKind
from kakosheet.store.orders import PartyOrders, fold
from kakosheet.store.reads import Between, Bucket, Key, PeriodOf, Reads, Scope

if TYPE_CHECKING:
    from kakosheet.reports.build import ReportRequest

WATCH, ALARM = 0.95, 0.998  # coverage of the funnel plot's control limits
WATCH_Z = 1.959964  # one-sided 97.5%: a rate worse than the previous period's
UNSPECIFIED = "Unspecified"
NO_ORDERS = (
    "no order data: parties ranked by case count, not by rate (a rate needs the orders behind it: "
    "`kakosheet import orders FILE`, or the workbook's Orders tab)"
)
RATE_NOTE = (
    "after-sales rate = cases / orders in the period: orders are distinct Order IDs by Order Date, not units "
    "of Quantity (a case concerns an order); a party's orders are those whose Vendor ID is the party as its "
    "cases name it, or whose Vendors-tab Name is (case and spacing ignored). Flagged outside funnel-plot "
    "control limits of the binomial around the overall rate (watch 95%, alarm 99.8%), never by raw rank"
)


def party_cases(
    reads: Reads, request: ReportRequest, period: Period
) -> dict[tuple[str, str | None], tuple[set[str], set[str]]]:
    """(kind, party) -> (its cases in the period, the logs they are in)."""
    return period_party_cases(reads, request, (period,))[0]


def period_party_cases(
    reads: Reads, request: ReportRequest, periods: tuple[Period, ...]
) -> list[dict[tuple[str, str | None], tuple[set[str], set[str]]]]:
    """``party_cases`` of some periods of the report's kind, one query per party field for them all."""
    found: list[dict[tuple[str, str | None], tuple[set[str], set[str]]]] = [{} for _ in periods]
    at = {p.start: i for i, p in enumerate(periods)}
    bucket = bucket_of(periods[0].kind)
    for facts in request.logs:
        for party in facts.parties:
            by: list[Key] = [PeriodOf(bucket), party.field]
            by += [party.kind_field] if party.kind_field and party.kind_field in facts.fields else []
            for start, end in _runs(periods):
                scope = Scope(facts.log, (Between(facts.date_field, start, end),), source=request.source)
                for group in reads.groups(scope, by):
                    index = at.get(group.keys[0])
                    if index is None:
                        continue
                    kind = party.kind or (group.keys[2] if len(group.keys) > 2 else None) or UNSPECIFIED
                    ids, logs = found[index].setdefault((kind, group.keys[1]), (set(), set()))
                    ids.update(group.case_ids)
                    logs.add(facts.log)
    return found


def _runs(periods: tuple[Period, ...]) -> list[tuple[dt.date, dt.date]]:
    """The periods as spans of consecutive ones: [start, end) each."""
    spans: list[tuple[dt.date, dt.date]] = []
    for period in sorted(periods):
        if spans and spans[-1][1] == period.start:
            spans[-1] = (spans[-1][0], period.end)
        else:
            spans.append((period.start, period.end))
    return spans


def bucket_of(kind: PeriodKind) -> Bucket:
    """How the store groups dates into periods of a report's kind."""
    return Bucket.WEEK if kind is PeriodKind.WEEKLY else Bucket.MONTH


def binomial_quantile(orders: int, rate: float, q: float) -> int:
    """The smallest case count k with P(X <= k) >= q, X binomial over ``orders`` at ``rate``: exact
    (the normal approximation flags a party with 1 order and 1 case), summed in log space."""
    if rate <= 0:
        return 0
    if rate >= 1:
        return orders
    log_p, log_q = math.log(rate), math.log1p(-rate)
    base = math.lgamma(orders + 1)
    total = 0.0
    for k in range(orders + 1):
        total += math.exp(base - math.lgamma(k + 1) - math.lgamma(orders - k + 1) + k * log_p + (orders - k) * log_q)
        if total >= q - 1e-12:
            return k
    return orders


def control_limits(overall: float, orders: int, coverage: float) -> tuple[Decimal, Decimal]:
    """The funnel plot's limits (as rates) for a party of ``orders``, around the overall rate."""
    tail = (1 - coverage) / 2
    low, high = binomial_quantile(orders, overall, tail), binomial_quantile(orders, overall, 1 - tail)
    return _rate(low / orders), _rate(high / orders)


def _rate(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


PartyCases = dict[tuple[str, str | None], tuple[set[str], set[str]]]


def _one_row_per_party(found: list[PartyCases], orders: Mapping[str, int] | None) -> list[PartyCases]:
    """One party spelt several ways is one row, its cases counted once: spellings that differ only in
    case and spacing ("Acme", "ACME "), and, once order data is known, a vendor named by its code in one
    log and by its name in another, with its orders counted once. The row goes by every name it has
    ("ACME / Acme", "Acme / V01"): which one is right is for the team to say."""
    vendor_of = orders.vendor_of if isinstance(orders, PartyOrders) else None
    spellings: dict[tuple[str, str], set[str]] = {}
    for period in found:
        for kind, party in period:
            if party is not None:
                vendor = vendor_of(party) if vendor_of is not None else None
                same = f"vendor:{vendor}" if vendor is not None else f"name:{fold(party)}"
                spellings.setdefault((kind, same), set()).add(party)
    label = {(kind, name): " / ".join(sorted(names)) for (kind, _), names in spellings.items() for name in names}
    merged: list[PartyCases] = []
    for period in found:
        into: PartyCases = {}
        for (kind, party), (ids, logs) in period.items():
            key = (kind, label.get((kind, party), party) if party is not None else None)
            have_ids, have_logs = into.setdefault(key, (set(), set()))
            have_ids.update(ids)
            have_logs.update(logs)
        merged.append(into)
    return merged


def _orders_of(orders: Mapping[str, int], party: str | None) -> int:
    """A party's orders; a merged party ("Acme / V01") by any of its names."""
    names = (party or "").split(" / ") if isinstance(orders, PartyOrders) else [party or ""]
    return next((orders[name] for name in names if name in orders), 0)


def parties_section(reads: Reads, request: ReportRequest, previous: Period) -> m.PartiesSection:
    now, before = _one_row_per_party(period_party_cases(reads, request, (request.period, previous)), request.orders)
    orders = request.orders
    rows = []
    overall = None
    if orders:
        total_orders = sum(_orders_of(orders, party) for _, party in now)
        total_cases = sum(len(ids) for (_, party), (ids, _) in now.items() if _orders_of(orders, party))
        overall = total_cases / total_orders if total_orders else None
    for key in set(now) | set(before):
        kind, party = key
        ids = tuple(sorted(now.get(key, (set(), set()))[0]))
        prior = tuple(sorted(before.get(key, (set(), set()))[0]))
        logs = tuple(sorted(now.get(key, (set(), set()))[1] | before.get(key, (set(), set()))[1]))
        row = m.PartyRow(kind, party, m.figure(ids, prior), logs)
        count = (_orders_of(orders, party) or None) if orders else None
        if count and overall is not None:
            watch, alarm = control_limits(overall, count, WATCH), control_limits(overall, count, ALARM)
            over_watch = len(ids) > binomial_quantile(count, overall, 1 - (1 - WATCH) / 2)
            over_alarm = len(ids) > binomial_quantile(count, overall, 1 - (1 - ALARM) / 2)
            flag = "alarm" if over_alarm else "watch" if over_watch else None
            row = m.PartyRow(kind, party, row.figure, logs, count, _rate(len(ids) / count), watch, alarm, flag)
        rows.append(row)
    if overall is not None:
        # Flagged first, then by cases beyond what the overall rate expects: never by the raw rate.
        severity = {"alarm": 0, "watch": 1, None: 2}
        rows.sort(
            key=lambda r: (
                severity[r.flag],
                -(r.figure.count - overall * r.orders) if r.orders else 0,  # type: ignore[operator]
                -r.figure.count,
                r.kind,
                str(r.party),
            )
        )
        return m.PartiesSection(tuple(rows), "rate", RATE_NOTE, _rate(overall))
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
        n = _orders_of(orders, row.party) or None
        if not n or row.figure.previous == 0 and row.figure.count == 0:
            continue
        p1, p0 = row.figure.count / n, row.figure.previous / n
        pooled = (row.figure.count + row.figure.previous) / (2 * n)
        spread = math.sqrt(pooled * (1 - pooled) * 2 / n) if 0 < pooled < 1 else 0
        if spread and (p1 - p0) / spread > WATCH_Z:
            worse.append(row)
    note = "rate against the previous period with the same orders per party (two-proportion test, 95%)"
    return tuple(worse), note
