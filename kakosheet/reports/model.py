"""The report as typed records: every section, every figure with the case IDs behind it.

The JSON document is these records as they are; md, html and xlsx are drawn from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Figure:
    """A count in the period beside the previous period's, with the cases behind each."""

    count: int
    previous: int
    change: int
    case_ids: tuple[str, ...]
    previous_case_ids: tuple[str, ...] = ()


def figure(case_ids: tuple[str, ...], previous_ids: tuple[str, ...]) -> Figure:
    return Figure(len(case_ids), len(previous_ids), len(case_ids) - len(previous_ids), case_ids, previous_ids)


@dataclass(frozen=True)
class MoneyLine:
    """An exact amount of one currency in the period, the previous period's, and the change."""

    currency: str
    amount: Decimal
    previous: Decimal
    change: Decimal
    case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cases:
    """A count with its cases (no comparison)."""

    count: int
    case_ids: tuple[str, ...]


def cases(case_ids: tuple[str, ...]) -> Cases:
    return Cases(len(case_ids), case_ids)


# 1 ------------------------------------------------------------------ top failure reasons


@dataclass(frozen=True)
class ReasonRow:
    log: str  # "all" for every log together
    reason: str | None  # None: not given
    figure: Figure
    share: Decimal  # of the log's cases in the period, 0..1 (3 places)
    cost: tuple[MoneyLine, ...]


@dataclass(frozen=True)
class ReasonsSection:
    rows: tuple[ReasonRow, ...]
    reason_fields: dict[str, str]  # log -> the field its reasons come from


# 2 ------------------------------------------------------------------ sources of failure


@dataclass(frozen=True)
class PartyRow:
    kind: str
    party: str | None
    figure: Figure
    logs: tuple[str, ...]
    orders: int | None = None
    rate: Decimal | None = None  # cases / orders
    watch: tuple[Decimal, Decimal] | None = None  # 95% control limits around the overall rate
    alarm: tuple[Decimal, Decimal] | None = None  # 99.8%
    flag: str | None = None  # "watch", "alarm", or None


@dataclass(frozen=True)
class PartiesSection:
    rows: tuple[PartyRow, ...]
    ranked_by: str  # "count" (no order data) or "rate"
    note: str
    overall_rate: Decimal | None = None


# 3 ------------------------------------------------------------------ cost of exceptions


@dataclass(frozen=True)
class CostLine:
    category: str  # replacement, shipping, penalty, refunds, credits, after-sales cost, recovered
    log: str
    money: MoneyLine


@dataclass(frozen=True)
class CurrencyCost:
    currency: str
    lines: tuple[CostLine, ...]
    net: MoneyLine  # costs minus what was recovered


@dataclass(frozen=True)
class BaseTotal:
    currency: str
    net: Decimal | None  # None when a currency has no rate
    previous: Decimal | None
    missing_rates: tuple[str, ...]
    rates_on: dt.date


@dataclass(frozen=True)
class CostSection:
    currencies: tuple[CurrencyCost, ...]
    base: BaseTotal | None  # only with a rate table
    note: str
    unsummed: Cases  # amounts with no usable currency: not in any total


# 4 ------------------------------------------------------------------ refunds by vendor


@dataclass(frozen=True)
class VendorRefunds:
    vendor: str | None
    currency: str | None
    refunds: int
    gross: Decimal
    fee_adjustments: Decimal
    net_deduction: Decimal  # gross refunds less the platform fee given back
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class RefundsSection:
    rows: tuple[VendorRefunds, ...]
    note: str


# 5 ------------------------------------------------------------------ pipeline


@dataclass(frozen=True)
class AgeCount:
    bucket: str
    count: int
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class StatusRow:
    log: str
    status: str | None
    open: int
    ages: tuple[AgeCount, ...]


@dataclass(frozen=True)
class TimeToClose:
    log: str
    closed: int
    median_days: Decimal | None
    p90_days: int | None  # nearest rank
    case_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class LogFlow:
    log: str
    opened: Figure
    closed: Figure | None  # None: the log keeps no closing date


@dataclass(frozen=True)
class PipelineSection:
    as_of: dt.date
    open_by_status: tuple[StatusRow, ...]
    flow: tuple[LogFlow, ...]
    time_to_close: tuple[TimeToClose, ...]


# 6 ------------------------------------------------------------------ trend


@dataclass(frozen=True)
class TrendPoint:
    period: str
    start: dt.date
    log: str
    cases: Cases
    cost: tuple[MoneyLine, ...]  # the net cost; `previous` and `change` against the period before


@dataclass(frozen=True)
class TrendSection:
    periods: tuple[str, ...]
    points: tuple[TrendPoint, ...]


# 7 ------------------------------------------------------------------ repeat problems


@dataclass(frozen=True)
class RepeatRow:
    log: str
    sku: str
    reason: str
    count: int  # in the period
    why: str  # "3 or more in the period" / "in 3 consecutive periods"
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class RepeatsSection:
    rows: tuple[RepeatRow, ...]
    worsened: tuple[PartyRow, ...]
    note: str


# 8 ------------------------------------------------------------------ data quality


@dataclass(frozen=True)
class QualityRow:
    log: str
    logged_by: str | None
    cases: int
    incomplete: Cases
    with_issues: Cases


@dataclass(frozen=True)
class LogQuality:
    log: str
    missing_from_sheet: Cases  # of all time: a case deleted from the sheet stays in the store
    undated: Cases  # no date: in no period at all
    unsummed_amounts: Cases


@dataclass(frozen=True)
class QualitySection:
    by_logger: tuple[QualityRow, ...]
    logs: tuple[LogQuality, ...]


# 9 ------------------------------------------------------------------ placeholders


@dataclass(frozen=True)
class Placeholder:
    name: str
    note: str


@dataclass(frozen=True)
class CaseLine:
    """One case of the period with the keys the figures group it by, so a reader can filter to them."""

    log: str
    case_id: str
    date: dt.date
    reason: str | None
    party: str | None
    party_kind: str | None
    status: str | None
    currency: str | None
    net_cost: Decimal | None  # costs less recovered, in the case's currency
    age_days: int  # on the period's last day
    logged_by: str | None
    incomplete: bool


@dataclass(frozen=True)
class Report:
    kind: str
    period: str
    start: dt.date
    end: dt.date  # the last day
    previous: str
    timezone: str
    base_currency: str
    source: str | None
    logs: tuple[str, ...]
    reasons: ReasonsSection
    parties: PartiesSection
    costs: CostSection
    refunds: RefundsSection
    pipeline: PipelineSection
    trend: TrendSection
    repeats: RepeatsSection
    quality: QualitySection
    placeholders: tuple[Placeholder, ...] = field(default_factory=tuple)
    cases: tuple[CaseLine, ...] = field(default_factory=tuple)  # the period's cases
    since_publication: Any = None  # a reports.publication.PublicationCheck once the period was published
