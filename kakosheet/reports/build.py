"""Building a report: each section computed from grouped reads of the store."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kakosheet.reports import model as m
from kakosheet.reports.logs import COST_CATEGORIES, LogFacts
from kakosheet.reports.money import Rates, amount_of
from kakosheet.reports.parties import bucket_of, parties_section, worsened_parties
from kakosheet.reports.periods import Period
from kakosheet.store.minor import minor_column
from kakosheet.store.orders import fold
from kakosheet.store.reads import AgeOf, Between, Flag, Group, In, Key, PeriodOf, Reads, Scope, Span

AGE_EDGES = (3, 8, 15, 31)
AGE_LABELS = ("0-2 days", "3-7 days", "8-14 days", "15-30 days", "> 30 days")
TREND_PERIODS = 12
REPEAT_MIN = 3


@dataclass(frozen=True)
class ReportRequest:
    """What to report on: the period, the logs, where from, and the money settings."""

    period: Period
    logs: tuple[LogFacts, ...]
    rates: Rates
    timezone: str
    source: str | None = None
    orders: Mapping[str, int] | None = None  # party -> orders in the period, when order data is known
    rates_given: bool = False


class _Context:
    def __init__(self, reads: Reads, request: ReportRequest) -> None:
        self.reads = reads
        self.request = request
        self.period = request.period
        self.previous = request.period.previous()
        self.bucket = bucket_of(request.period.kind)
        self.trend = request.period.back(TREND_PERIODS)
        self._passes: dict[str, _Pass] = {}

    def scope(self, facts: LogFacts, period: Period | None, *more: Any) -> Scope:
        conditions = list(more)
        if period is not None:
            conditions.insert(0, Between(facts.date_field, period.start, period.end))
        return Scope(facts.log, tuple(conditions), source=self.request.source)

    def groups(
        self, facts: LogFacts, period: Period | None, by: Sequence[Any], *more: Any, money: Sequence[str] = ()
    ) -> list[Group]:
        return self.reads.groups(self.scope(facts, period, *more), by, money=money)

    def one_pass(self, facts: LogFacts) -> _Pass:
        """The log's cases of the trend's periods (and the one before its first) by period, reason and
        currency, with their money: one query for reasons, costs, cases opened and the trend. The IDs
        are those of the period and the previous one only."""
        found = self._passes.get(facts.log)
        if found is None:
            money = _money_fields(facts) if "currency" in facts.fields else ()
            by: list[Key] = [PeriodOf(self.bucket), facts.reason_field, *(["currency"] if money else [])]
            span = Between(facts.date_field, self.trend[0].previous().start, self.period.end)
            listed = Between(facts.date_field, self.previous.start, self.period.end)
            groups = self.reads.groups(
                Scope(facts.log, (span,), source=self.request.source), by, money=money, ids_within=listed
            )
            per_period: dict[dt.date, list[Group]] = {}
            for group in groups:
                per_period.setdefault(group.keys[0], []).append(group)
            found = self._passes[facts.log] = _Pass(per_period, bool(money))
        return found


@dataclass(frozen=True)
class _Pass:
    """One log's cases grouped by period start, then (reason, currency): keys[1] is the reason, keys[2]
    the currency when the log has money with a currency (``money``)."""

    per_period: dict[dt.date, list[Group]]
    money: bool

    def of(self, period: Period) -> list[Group]:
        return self.per_period.get(period.start, [])


def _union(groups: Sequence[Group]) -> tuple[str, ...]:
    return tuple(sorted(i for g in groups for i in g.case_ids))


def build_report(reads: Reads, request: ReportRequest) -> m.Report:
    """The whole report for one period, read from one snapshot of the store."""
    collecting = gc.isenabled()
    gc.disable()  # every record made is kept till the end: a collection on the way would find nothing to free
    try:
        with reads.snapshot():
            return _build(_Context(reads, request))
    finally:
        if collecting:
            gc.enable()


def _build(context: _Context) -> m.Report:
    request = context.request
    period = request.period
    return m.Report(
        kind=period.kind.value,
        period=period.label,
        start=period.start,
        end=period.last_day,
        previous=context.previous.label,
        timezone=request.timezone,
        base_currency=request.rates.base,
        source=request.source,
        logs=tuple(f.log for f in request.logs),
        reasons=_reasons(context),
        parties=parties_section(context.reads, request, context.previous),
        costs=_costs(context),
        refunds=_refunds(context),
        pipeline=_pipeline(context),
        trend=_trend(context),
        repeats=_repeats(context),
        quality=_quality(context),
        placeholders=(
            m.Placeholder("SLA", "no stage deadlines yet: the SLA issue fills this section"),
            m.Placeholder("responsibility", "no stage deadlines yet: the responsibility rules fill this section"),
        ),
        cases=_cases(context),
    )


# ---------------------------------------------------------------------- money helpers


def _net_by_currency(groups: Sequence[Group], facts: LogFacts, currency_at: int) -> dict[str, tuple[int, set[str]]]:
    """Costs minus recoveries of groups keyed with a currency, per currency, with their cases."""
    totals: dict[str, tuple[int, set[str]]] = {}
    for group in groups:
        currency = group.keys[currency_at]
        if currency is None:
            continue
        net = sum(group.minor.get(f, 0) for f in facts.costs) - sum(group.minor.get(f, 0) for f in facts.recovered)
        minor, ids = totals.get(currency, (0, set()))
        summed = {i for f in (*facts.costs, *facts.recovered) for i in group.summed.get(f, ())}
        totals[currency] = (minor + net, ids | summed)
    return totals


def _money_lines(
    now: Mapping[str, tuple[int, set[str]]], before: Mapping[str, tuple[int, set[str]]]
) -> tuple[m.MoneyLine, ...]:
    lines = []
    for currency in sorted(set(now) | set(before)):
        minor, ids = now.get(currency, (0, set()))
        previous = before.get(currency, (0, set()))[0]
        amount, prior = amount_of(minor, currency), amount_of(previous, currency)
        lines.append(m.MoneyLine(currency, amount, prior, amount - prior, tuple(sorted(ids))))
    return tuple(lines)


def _money_fields(facts: LogFacts) -> tuple[str, ...]:
    return (*facts.costs, *facts.recovered)


# ---------------------------------------------------------------------- 1 reasons


def _share(count: int, total: int) -> Decimal:
    if total == 0:
        return Decimal("0.000")
    return (Decimal(count) / Decimal(total)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _reasons(context: _Context) -> m.ReasonsSection:
    rows: list[m.ReasonRow] = []
    together: dict[
        str | None, tuple[set[str], set[str], dict[str, tuple[int, set[str]]], dict[str, tuple[int, set[str]]]]
    ] = {}
    for facts in context.request.logs:
        done = context.one_pass(facts)
        now: dict[str | None, list[Group]] = {}
        before: dict[str | None, list[Group]] = {}
        for target, period in ((now, context.period), (before, context.previous)):
            for group in done.of(period):
                target.setdefault(group.keys[1], []).append(group)
        cost_now: dict[str | None, dict[str, tuple[int, set[str]]]] = {}
        cost_before: dict[str | None, dict[str, tuple[int, set[str]]]] = {}
        if done.money:
            for costs, source in ((cost_now, now), (cost_before, before)):
                for reason, groups in source.items():
                    costs[reason] = _net_by_currency(groups, facts, 2)
        counts = {reason: sum(g.count for g in groups) for reason, groups in now.items()}
        total = sum(counts.values())
        for reason in sorted(set(now) | set(before), key=lambda r: (-counts.get(r, 0), str(r))):
            ids = _union(now.get(reason, ()))
            prior = _union(before.get(reason, ()))
            rows.append(
                m.ReasonRow(
                    facts.log,
                    reason,
                    m.figure(ids, prior),
                    _share(len(ids), total),
                    _money_lines(cost_now.get(reason, {}), cost_before.get(reason, {})),
                )
            )
            entry = together.setdefault(reason, (set(), set(), {}, {}))
            entry[0].update(ids)
            entry[1].update(prior)
            for costs_of, into in ((cost_now.get(reason, {}), entry[2]), (cost_before.get(reason, {}), entry[3])):
                for currency, (minor, behind) in costs_of.items():
                    was, seen = into.get(currency, (0, set()))
                    into[currency] = (was + minor, seen | behind)
    total = sum(len(entry[0]) for entry in together.values())
    for reason in sorted(together, key=lambda r: (-len(together[r][0]), str(r))):
        all_ids, all_prior, cost, cost_before_all = together[reason]
        rows.append(
            m.ReasonRow(
                "all",
                reason,
                m.figure(tuple(sorted(all_ids)), tuple(sorted(all_prior))),
                _share(len(all_ids), total),
                _money_lines(cost, cost_before_all),
            )
        )
    return m.ReasonsSection(tuple(rows), {f.log: f.reason_field for f in context.request.logs})


# ---------------------------------------------------------------------- 3 costs


def _costs(context: _Context) -> m.CostSection:
    per_currency: dict[str, list[m.CostLine]] = {}
    net_now: dict[str, tuple[int, set[str]]] = {}
    net_before: dict[str, tuple[int, set[str]]] = {}
    unsummed: set[str] = set()
    for facts in context.request.logs:
        done = context.one_pass(facts)
        if not done.money:
            continue
        money = _money_fields(facts)
        now, before = done.of(context.period), done.of(context.previous)
        unsummed.update(_unsummed(now))
        for name in money:
            sign = -1 if name in facts.recovered else 1
            this, prior = _per_currency(now, name), _per_currency(before, name)
            for line in _money_lines(this, prior):
                per_currency.setdefault(line.currency, []).append(
                    m.CostLine(COST_CATEGORIES.get(name, name), facts.log, line)
                )
            for target, totals in ((net_now, this), (net_before, prior)):
                for currency, (minor, behind) in totals.items():
                    was, seen = target.get(currency, (0, set()))
                    target[currency] = (was + sign * minor, seen | behind)
    nets = {line.currency: line for line in _money_lines(net_now, net_before)}
    currencies = tuple(
        m.CurrencyCost(currency, tuple(per_currency.get(currency, ())), nets[currency]) for currency in sorted(nets)
    )
    rates = context.request.rates
    base = None
    note = "totals per currency; two currencies are never added without a rate table"
    if context.request.rates_given:
        day = context.period.last_day
        now_total, missing = rates.convert({c: v[0] for c, v in net_now.items()}, day)
        before_total, missing_before = rates.convert(
            {c: v[0] for c, v in net_before.items()}, context.previous.last_day
        )
        base = m.BaseTotal(rates.base, now_total, before_total, tuple(sorted(set(missing) | set(missing_before))), day)
        note = f"converted to {rates.base} with the rate table, at the rates valid on the period's last day"
        if base.missing_rates:
            note += f"; no total in {rates.base}: no rate for {', '.join(base.missing_rates)}"
    return m.CostSection(currencies, base, note, m.cases(tuple(sorted(unsummed))))


def _per_currency(groups: Sequence[Group], name: str) -> dict[str, tuple[int, set[str]]]:
    """One money field's sum per currency (keys[2]) of the groups, with the cases in it."""
    totals: dict[str, tuple[int, set[str]]] = {}
    for group in groups:
        currency = group.keys[2]
        if not currency or not group.summed[name]:
            continue
        minor, ids = totals.get(currency, (0, set()))
        totals[currency] = (minor + group.minor[name], ids | set(group.summed[name]))
    return totals


def _unsummed(groups: Sequence[Group]) -> set[str]:
    return {i for group in groups for ids in group.unsummed.values() for i in ids}


# ---------------------------------------------------------------------- 4 refunds by vendor


@dataclass
class _VendorTotal:
    """One vendor's refunds in one currency, in minor units, as its groups are added up."""

    count: int = 0
    gross: int = 0
    fees: int = 0
    case_ids: set[str] = field(default_factory=set)


def _refunds(context: _Context) -> m.RefundsSection:
    facts = next((f for f in context.request.logs if f.log == "refunds"), None)
    if facts is None or "vendor_id" not in facts.fields or "refund_amount" not in facts.money:
        return m.RefundsSection((), "no Refunds log with Vendor ID, Refund Amount and Currency")
    money = [f for f in ("refund_amount", "platform_fee_adjustment") if f in facts.money]
    # A vendor's code typed in another case or spacing (v01, "V01 ") is that vendor, as its case ID and the
    # Vendors-tab check take it: one row per vendor and currency, named by every spelling it has.
    totals: dict[tuple[str | None, str | None], _VendorTotal] = {}
    spellings: dict[str | None, set[str]] = {}  # per vendor, in every currency
    for group in context.groups(facts, context.period, ["vendor_id", "currency"], money=money):
        typed, currency = group.keys
        vendor = None if typed is None else fold(typed)
        spellings.setdefault(vendor, set()).update([typed] if typed is not None else [])
        total = totals.setdefault((vendor, currency), _VendorTotal())
        total.count += group.count
        total.gross += group.minor.get("refund_amount", 0)
        total.fees += group.minor.get("platform_fee_adjustment", 0)
        total.case_ids.update(group.case_ids)
    rows = []
    for (vendor, currency), total in totals.items():
        code = currency or context.request.rates.base
        rows.append(
            m.VendorRefunds(
                " / ".join(sorted(spellings[vendor])) or None,
                currency,
                total.count,
                amount_of(total.gross, code),
                amount_of(total.fees, code),
                amount_of(total.gross - total.fees, code),
                tuple(sorted(total.case_ids)),
            )
        )
    rows.sort(key=lambda r: (-r.gross, str(r.vendor), str(r.currency)))
    return m.RefundsSection(
        tuple(rows), "net deduction = gross refunds - platform fee adjustments (the commission given back)"
    )


# ---------------------------------------------------------------------- 5 pipeline


def _pipeline(context: _Context) -> m.PipelineSection:
    as_of = context.period.last_day
    statuses, flows, closes = [], [], []
    for facts in context.request.logs:
        open_cases = In(facts.status_field, facts.closed, negate=True)
        ages = context.groups(
            facts,
            None,
            [facts.status_field, AgeOf(as_of, AGE_EDGES)],
            open_cases,
        )
        for status in sorted({g.keys[0] for g in ages}, key=str):
            buckets = {g.keys[1]: g for g in ages if g.keys[0] == status}
            counts = tuple(
                m.AgeCount(label, buckets[i].count if i in buckets else 0, buckets[i].case_ids if i in buckets else ())
                for i, label in enumerate(AGE_LABELS)
            )
            statuses.append(m.StatusRow(facts.log, status, sum(c.count for c in counts), counts))
        done = context.one_pass(facts)
        opened = m.figure(_union(done.of(context.period)), _union(done.of(context.previous)))
        closed = None
        if facts.closed_on:
            both = Between(facts.closed_on, context.previous.start, context.period.end)
            closings = context.reads.closings(Scope(facts.log, (both,), context.request.source), facts.closed_on)
            now = [c for c in closings if c.closed >= context.period.start]
            closed = m.figure(
                tuple(c.case_id for c in now), tuple(c.case_id for c in closings if c.closed < context.period.start)
            )
            spans = [Span(c.case_id, c.opened, c.closed) for c in now if c.opened is not None]
            closes.append(_time_to_close(facts.log, spans))
        else:
            closes.append(m.TimeToClose(facts.log, 0, None, None, (), "the log keeps no closing date"))
        flows.append(m.LogFlow(facts.log, opened, closed))
    return m.PipelineSection(as_of, tuple(statuses), tuple(flows), tuple(closes))


def _ids(groups: Sequence[Group]) -> tuple[str, ...]:
    return tuple(sorted(i for g in groups for i in g.case_ids))


def _time_to_close(log: str, spans: Sequence[Span]) -> m.TimeToClose:
    """Median and 90th percentile of days to close; a case closed before its own date (an error its
    row is flagged with) is no time to close, and is named in the note instead of pulling the figures below 0."""
    kept = [s for s in spans if s.closed >= s.opened]
    days = sorted((s.closed - s.opened).days for s in kept)
    ids = tuple(s.case_id for s in kept)
    backwards = ", ".join(sorted(s.case_id for s in spans if s.closed < s.opened))
    left_out = f"; left out, closed before their own date: {backwards}" if backwards else ""
    if not days:
        note = f"no time to close: each case closed before its own date ({backwards})" if backwards else ""
        return m.TimeToClose(log, 0, None, None, ids, note or "no case closed in the period")
    n = len(days)
    median = Decimal(days[n // 2]) if n % 2 else (Decimal(days[n // 2 - 1] + days[n // 2]) / 2)
    p90 = days[max(0, -(-9 * n // 10) - 1)]  # nearest rank: the ceil(0.9 n)-th smallest
    note = "days from the case's date to closing" + left_out
    return m.TimeToClose(log, n, median.quantize(Decimal("0.1")), p90, ids, note)


# ---------------------------------------------------------------------- 6 trend


def _trend(context: _Context) -> m.TrendSection:
    periods = context.trend
    points = []
    for facts in context.request.logs:
        done = context.one_pass(facts)
        costs: dict[dt.date, dict[str, tuple[int, set[str]]]] = {}
        if done.money:
            costs = {start: _net_by_currency(groups, facts, 2) for start, groups in done.per_period.items()}
        for period in periods:
            groups = done.of(period)
            cases = m.Cases(sum(g.count for g in groups), _union(groups))  # IDs: the last two periods' only
            lines = _money_lines(costs.get(period.start, {}), costs.get(period.previous().start, {}))
            points.append(m.TrendPoint(period.label, period.start, facts.log, cases, lines))
    return m.TrendSection(tuple(p.label for p in periods), tuple(points))


# ---------------------------------------------------------------------- 7 repeats


def _repeats(context: _Context) -> m.RepeatsSection:
    rows = []
    three = context.period.back(3)
    for facts in context.request.logs:
        if facts.sku_field is None:
            continue
        periods = [Between(facts.date_field, p.start, p.end) for p in three]
        found = context.reads.repeats(
            context.scope(facts, None), [facts.sku_field, facts.reason_field], periods, REPEAT_MIN
        )
        for repeat in found:
            sku, reason = repeat.keys
            this = repeat.case_ids[-1]
            if len(this) >= REPEAT_MIN:
                why, ids = f"{REPEAT_MIN} or more in the period", this
            else:
                why, ids = "in 3 consecutive periods", tuple(sorted(i for p in repeat.case_ids for i in p))
            rows.append(m.RepeatRow(facts.log, sku, reason, len(this), why, ids))
    rows.sort(key=lambda r: (-r.count, r.log, r.sku, r.reason))
    worsened, note = worsened_parties(context.reads, context.request, context.previous)
    return m.RepeatsSection(tuple(rows), worsened, note)


# ---------------------------------------------------------------------- 8 quality


def _quality(context: _Context) -> m.QualitySection:
    rows, logs = [], []
    for facts in context.request.logs:
        by = [facts.logged_by] if facts.logged_by in facts.fields else []
        flags = (Flag("incomplete"), Flag("has_issues"))
        everyone = {g.keys: g for g in context.reads.groups(context.scope(facts, context.period), by, flagged=flags)}
        for keys in sorted(everyone, key=lambda k: tuple(str(x) for x in k)):
            group = everyone[keys]
            rows.append(
                m.QualityRow(
                    facts.log,
                    keys[0] if keys else None,
                    group.count,
                    m.cases(group.flagged[0]),
                    m.cases(group.flagged[1]),
                )
            )
        missing = context.reads.groups(Scope(facts.log, (), context.request.source, missing=True), [])
        undated = context.reads.groups(
            Scope(facts.log, (Flag(f"undated:{facts.date_field}"),), context.request.source), []
        )
        done = context.one_pass(facts)
        unsummed = _unsummed(done.of(context.period)) if done.money else set()
        logs.append(
            m.LogQuality(facts.log, m.cases(_ids(missing)), m.cases(_ids(undated)), m.cases(tuple(sorted(unsummed))))
        )
    return m.QualitySection(tuple(rows), tuple(logs))


# ---------------------------------------------------------------------- the period's cases


def _cases(context: _Context) -> tuple[m.CaseLine, ...]:
    lines = []
    last_day = context.period.last_day
    for facts in context.request.logs:
        party = facts.parties[0] if facts.parties else None
        kind_field = party.kind_field if party and party.kind_field in facts.fields else None
        logged_by = facts.logged_by if facts.logged_by in facts.fields else None
        money = _money_fields(facts) if "currency" in facts.fields else ()
        fields = [
            facts.date_field,
            facts.reason_field,
            *([party.field] if party else []),
            *([kind_field] if kind_field else []),
            facts.status_field,
            *(["currency"] if money else []),
            *([logged_by] if logged_by else []),
            "_incomplete",
            *(minor_column(f) for f in money),
        ]
        at = {name: i for i, name in enumerate(fields, start=1)}
        minors = [(at[minor_column(f)], -1 if f in facts.recovered else 1) for f in money]
        date_at, reason_at, status_at = at[facts.date_field], at[facts.reason_field], at[facts.status_field]
        party_at = at[party.field] if party else None
        kind_at = at.get(kind_field or "")
        currency_at, logged_at, incomplete_at = at.get("currency"), at.get(logged_by or ""), at["_incomplete"]
        for row in context.reads.rows(context.scope(facts, context.period), fields):
            currency = row[currency_at] if currency_at else None
            net = None
            if currency and any(row[i] is not None for i, _ in minors):
                net = amount_of(sum(sign * (row[i] or 0) for i, sign in minors), currency)
            day = _day(row[date_at])
            lines.append(
                m.CaseLine(
                    log=facts.log,
                    case_id=row[0],
                    date=day,
                    reason=row[reason_at],
                    party=row[party_at] if party_at else None,
                    party_kind=(party.kind or (row[kind_at] if kind_at else None)) if party else None,
                    status=row[status_at],
                    currency=currency,
                    net_cost=net,
                    age_days=(last_day - day).days,
                    logged_by=row[logged_at] if logged_at else None,
                    incomplete=bool(row[incomplete_at]),
                )
            )
    return tuple(lines)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
