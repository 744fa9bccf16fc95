"""The report laid out as tables of typed cells: what md, html and xlsx draw, so they cannot
disagree with each other or with the JSON they all come from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kakosheet.core.plural import counted
from kakosheet.reports import model as m


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"  # a whole number
    CHANGE = "change"  # a signed whole number
    MONEY = "money"  # an amount of the cell's currency
    SHARE = "share"  # 0..1, shown as a percentage
    DAYS = "days"
    DATE = "date"


@dataclass(frozen=True)
class Cell:
    kind: Kind
    value: str | int | Decimal | dt.date | None
    currency: str | None = None  # for money

    def text(self) -> str:
        """The cell as a person reads it in md or html."""
        value = self.value
        if value is None:
            return "" if self.kind is not Kind.TEXT else "(blank)"
        if self.kind is Kind.SHARE:
            assert isinstance(value, Decimal)
            return f"{(value * 100).quantize(Decimal('0.1'))}%"
        if self.kind is Kind.CHANGE:
            return f"{value:+}" if isinstance(value, int | Decimal) and value else str(value)
        if self.kind is Kind.MONEY:
            return f"{value} {self.currency}" if self.currency else str(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)


def text(value: str | None) -> Cell:
    return Cell(Kind.TEXT, value)


def count(value: int) -> Cell:
    return Cell(Kind.COUNT, value)


def change(value: int | Decimal) -> Cell:
    return Cell(Kind.CHANGE, value)


def money(value: Decimal | None, currency: str | None) -> Cell:
    return Cell(Kind.MONEY, value, currency)


@dataclass(frozen=True)
class Table:
    """One table of a section: a header, rows of cells, and the cases behind each row."""

    key: str  # a stable name: reasons, parties, costs, ...
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    case_ids: tuple[tuple[str, ...], ...]  # per row
    note: str = ""
    chart: str | None = None  # "bar" or "line", for renderers that draw one


@dataclass(frozen=True)
class Layout:
    title: str
    subtitle: str
    tables: tuple[Table, ...] = field(default_factory=tuple)


def layout(report: m.Report) -> Layout:
    """Every section of the report as tables, in the report's order."""
    kind = "Weekly" if report.kind == "weekly" else "Monthly"
    return Layout(
        title=f"{kind} report {report.period}",
        subtitle=(
            f"{report.start.isoformat()} to {report.end.isoformat()} ({report.timezone}), "
            f"beside {report.previous}; logs: {', '.join(report.logs)}"
        ),
        tables=(
            _reasons(report),
            _parties(report),
            _costs(report),
            _refunds(report),
            _open(report),
            _flow(report),
            _trend(report),
            _repeats(report),
            _quality(report),
            _quality_logs(report),
            _placeholders(report),
            *((_since(report),) if report.since_publication is not None else ()),
        ),
    )


def _money_text(lines: tuple[m.MoneyLine, ...]) -> Cell:
    """The period's amounts, one per currency (a currency only in the previous period is left out)."""
    return text("; ".join(f"{line.amount} {line.currency}" for line in lines if line.amount))


def _reasons(report: m.Report) -> Table:
    rows = []
    ids = []
    for r in report.reasons.rows:
        rows.append(
            (
                text(r.log),
                text(r.reason),
                count(r.figure.count),
                count(r.figure.previous),
                change(r.figure.change),
                Cell(Kind.SHARE, r.share),
                _money_text(r.cost),
            )
        )
        ids.append(r.figure.case_ids)
    return Table(
        "reasons",
        "1. Top failure reasons",
        ("Log", "Reason", "Cases", "Previous", "Change", "Share", "Cost"),
        tuple(rows),
        tuple(ids),
        "share of the log's cases in the period; cost = costs less recovered, per currency",
        chart="bar",
    )


def _parties(report: m.Report) -> Table:
    section = report.parties
    rows = []
    for r in section.rows:
        rows.append(
            (
                text(r.kind),
                text(r.party),
                count(r.figure.count),
                count(r.figure.previous),
                change(r.figure.change),
                Cell(Kind.COUNT, r.orders),
                Cell(Kind.SHARE, r.rate),
                Cell(Kind.SHARE, r.alarm[1] if r.alarm else None),
                Cell(Kind.TEXT, r.flag or ""),  # no flag is no word, not a blank value
            )
        )
    return Table(
        "parties",
        "2. Sources of failure",
        ("Kind", "Party", "Cases", "Previous", "Change", "Orders", "Rate", "Alarm limit", "Flag"),
        tuple(rows),
        tuple(r.figure.case_ids for r in section.rows),
        section.note,
        chart="bar",
    )


def _costs(report: m.Report) -> Table:
    rows, ids = [], []
    for cost in report.costs.currencies:
        for line in cost.lines:
            money_line = line.money
            rows.append(
                (
                    text(cost.currency),
                    text(line.category),
                    text(line.log),
                    money(money_line.amount, cost.currency),
                    money(money_line.previous, cost.currency),
                    money(money_line.change, cost.currency),
                )
            )
            ids.append(money_line.case_ids)
        net = cost.net
        rows.append(
            (
                text(cost.currency),
                text("net"),
                text("all"),
                money(net.amount, cost.currency),
                money(net.previous, cost.currency),
                money(net.change, cost.currency),
            )
        )
        ids.append(net.case_ids)
    base = report.costs.base
    if base is not None:
        difference = None if base.net is None or base.previous is None else base.net - base.previous
        rows.append(
            (
                text(base.currency),
                text("net, converted"),
                text("all"),
                money(base.net, base.currency),
                money(base.previous, base.currency),
                money(difference, base.currency),
            )
        )
        ids.append(tuple(sorted({i for c in report.costs.currencies for i in c.net.case_ids})))
    note = report.costs.note
    if report.costs.unsummed.count:
        unsummed = report.costs.unsummed.count
        are = "is" if unsummed == 1 else "are"
        note += f"; {counted(unsummed, 'amount')} without a usable currency {are} in no total"
    return Table(
        "costs",
        "3. Cost of exceptions",
        ("Currency", "Category", "Log", "Amount", "Previous", "Change"),
        tuple(rows),
        tuple(ids),
        note,
    )


def _refunds(report: m.Report) -> Table:
    rows = tuple(
        (
            text(r.vendor),
            text(r.currency),
            count(r.refunds),
            money(r.gross, r.currency),
            money(r.fee_adjustments, r.currency),
            money(r.net_deduction, r.currency),
        )
        for r in report.refunds.rows
    )
    return Table(
        "refunds",
        "4. Refunds by vendor",
        ("Vendor", "Currency", "Refunds", "Gross", "Fee adjustments", "Net deduction"),
        rows,
        tuple(r.case_ids for r in report.refunds.rows),
        report.refunds.note,
    )


def _open(report: m.Report) -> Table:
    pipeline = report.pipeline
    labels = tuple(a.bucket for a in pipeline.open_by_status[0].ages) if pipeline.open_by_status else ()
    rows = tuple(
        (text(r.log), text(r.status), count(r.open), *(count(a.count) for a in r.ages)) for r in pipeline.open_by_status
    )
    ids = tuple(tuple(i for a in r.ages for i in a.case_ids) for r in pipeline.open_by_status)
    return Table(
        "open",
        "5. Pipeline: open cases by status and age",
        ("Log", "Status", "Open", *labels),
        rows,
        ids,
        f"age in days on {pipeline.as_of.isoformat()}, from the case's date",
    )


def _flow(report: m.Report) -> Table:
    pipeline = report.pipeline
    closes = {t.log: t for t in pipeline.time_to_close}
    rows, ids = [], []
    for flow in pipeline.flow:
        close = closes[flow.log]
        rows.append(
            (
                text(flow.log),
                count(flow.opened.count),
                count(flow.opened.previous),
                Cell(Kind.COUNT, flow.closed.count if flow.closed else None),
                Cell(Kind.COUNT, flow.closed.previous if flow.closed else None),
                Cell(Kind.DAYS, close.median_days),
                Cell(Kind.DAYS, close.p90_days),
                text(close.note),
            )
        )
        ids.append(tuple(sorted({*flow.opened.case_ids, *(flow.closed.case_ids if flow.closed else ())})))
    return Table(
        "flow",
        "5. Pipeline: opened and closed",
        (
            "Log",
            "Opened",
            "Opened before",
            "Closed",
            "Closed before",
            "Median days to close",
            "90th percentile",
            "Note",
        ),
        tuple(rows),
        tuple(ids),
        "90th percentile by nearest rank",
    )


def _trend(report: m.Report) -> Table:
    rows, ids = [], []
    for point in report.trend.points:
        rows.append(
            (
                text(point.period),
                Cell(Kind.DATE, point.start),
                text(point.log),
                count(point.cases.count),
                _money_text(point.cost),
            )
        )
        ids.append(point.cases.case_ids)
    return Table(
        "trend",
        f"6. Trend: the last {len(report.trend.periods)} periods",
        ("Period", "Starts", "Log", "Cases", "Net cost"),
        tuple(rows),
        tuple(ids),
        "every period is listed, empty ones too",
        chart="line",
    )


def _repeats(report: m.Report) -> Table:
    rows = tuple((text(r.log), text(r.sku), text(r.reason), count(r.count), text(r.why)) for r in report.repeats.rows)
    return Table(
        "repeats",
        "7. Repeat problems",
        ("Log", "SKU", "Reason", "Cases", "Why"),
        rows,
        tuple(r.case_ids for r in report.repeats.rows),
        report.repeats.note,
    )


def _quality(report: m.Report) -> Table:
    rows = tuple(
        (
            text(r.log),
            text(r.logged_by),
            count(r.cases),
            count(r.incomplete.count),
            count(r.with_issues.count),
        )
        for r in report.quality.by_logger
    )
    ids = tuple(tuple(sorted({*r.incomplete.case_ids, *r.with_issues.case_ids})) for r in report.quality.by_logger)
    return Table(
        "quality",
        "8. Data quality by who logged",
        ("Log", "Logged by", "Cases", "Incomplete", "With open issues"),
        rows,
        ids,
        "cases of the period; the cases listed are the incomplete ones and those with open issues",
    )


def _quality_logs(report: m.Report) -> Table:
    rows = tuple(
        (
            text(q.log),
            count(q.missing_from_sheet.count),
            count(q.undated.count),
            count(q.unsummed_amounts.count),
        )
        for q in report.quality.logs
    )
    ids = tuple(
        tuple(sorted({*q.missing_from_sheet.case_ids, *q.undated.case_ids, *q.unsummed_amounts.case_ids}))
        for q in report.quality.logs
    )
    return Table(
        "quality_logs",
        "8. Data quality per log",
        ("Log", "Missing from the sheet", "Without a date", "Amounts without a currency"),
        rows,
        ids,
        "missing and undated cases of all time: they are in no period's figures",
    )


def _placeholders(report: m.Report) -> Table:
    return Table(
        "placeholders",
        "9. SLA and responsibility",
        ("Section", "Status"),
        tuple((text(p.name), text(p.note)) for p in report.placeholders),
        tuple(() for _ in report.placeholders),
    )


def _since(report: m.Report) -> Table:
    check = report.since_publication
    rows = tuple(
        (
            text(c.figure),
            text(c.published),
            text(c.now),
            text(", ".join(c.added)),
            text(", ".join(c.removed)),
            text(", ".join(c.edited)),
        )
        for c in check.changes
    )
    return Table(
        "since_publication",
        f"Changed since publication ({check.published_at.isoformat(sep=' ')} UTC, as {check.published_as})",
        ("Figure", "Published", "Now", "Cases added", "Cases removed", "Cases edited"),
        rows,
        tuple(tuple(sorted({*c.added, *c.removed, *c.edited})) for c in check.changes),
        check.note,
    )
