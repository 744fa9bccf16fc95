"""Published figures don't silently change: a report's figures as recorded when it was written,
and what changed in them since, with the cases that changed them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kakosheet.core.plural import counted
from kakosheet.reports import model as m
from kakosheet.store.orders import fold


@dataclass(frozen=True)
class Recorded:
    """One figure as published: its value (a count or an amount as text) and its cases."""

    value: str
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class FigureChange:
    figure: str  # e.g. "reasons/qc/Damaged/cases", "costs/USD/net"
    published: str | None  # None: the figure was not in the published report
    now: str | None  # None: it is gone
    added: tuple[str, ...]  # cases in it now, not then (new, back-dated into the period, edited into it)
    removed: tuple[str, ...]  # cases in it then, not now (deleted, back-dated out, edited out)
    edited: tuple[str, ...]  # cases in it both times, changed since publication


@dataclass(frozen=True)
class PublicationCheck:
    published_at: dt.datetime
    published_as: str  # the format it was written in
    changes: tuple[FigureChange, ...]
    note: str


def figures(report: m.Report) -> dict[str, Recorded]:
    """The report's headline figures by a stable name, with the cases behind each."""
    found: dict[str, Recorded] = {}

    def put(name: str, value: object, ids: Iterable[str]) -> None:
        found[name] = Recorded(str(value), tuple(sorted(ids)))

    for row in report.reasons.rows:
        put(f"reasons/{row.log}/{row.reason}/cases", row.figure.count, row.figure.case_ids)
        for line in row.cost:
            put(f"reasons/{row.log}/{row.reason}/cost {line.currency}", line.amount, line.case_ids)
    for party in report.parties.rows:
        put(f"parties/{party.kind}/{party.party}/cases", party.figure.count, party.figure.case_ids)
    for cost in report.costs.currencies:
        for cost_line in cost.lines:
            money = cost_line.money
            put(f"costs/{cost.currency}/{cost_line.log}/{cost_line.category}", money.amount, money.case_ids)
        put(f"costs/{cost.currency}/net", cost.net.amount, cost.net.case_ids)
    for refund in report.refunds.rows:
        for label, value in (("gross", refund.gross), ("fees", refund.fee_adjustments), ("net", refund.net_deduction)):
            put(f"refunds/{refund.vendor}/{refund.currency}/{label}", value, refund.case_ids)
    for flow in report.pipeline.flow:
        put(f"pipeline/{flow.log}/opened", flow.opened.count, flow.opened.case_ids)
        if flow.closed is not None:
            put(f"pipeline/{flow.log}/closed", flow.closed.count, flow.closed.case_ids)
    return {name: found[name] for name in found if found[name].value not in ("0", "0.00") or found[name].case_ids}


def compare(
    published: Mapping[str, Recorded],
    now: Mapping[str, Recorded],
    changed_since: frozenset[str],
    *,
    published_at: dt.datetime,
    published_as: str,
) -> PublicationCheck:
    """What changed in the figures since they were published; ``changed_since`` are the cases
    with a new version (or gone missing) after the publication."""
    changes = []
    then_names = {_figure_key(name): name for name in published}
    now_names = {_figure_key(name): name for name in now}
    for key in sorted(then_names.keys() | now_names.keys()):
        name = now_names.get(key) or then_names[key]
        before, after = published.get(then_names.get(key, "")), now.get(now_names.get(key, ""))
        then_ids = set(before.case_ids) if before else set()
        now_ids = set(after.case_ids) if after else set()
        value_then = before.value if before else None
        value_now = after.value if after else None
        edited = tuple(sorted((then_ids & now_ids) & changed_since))
        if value_then == value_now and then_ids == now_ids:
            continue
        changes.append(
            FigureChange(
                name,
                value_then,
                value_now,
                tuple(sorted(now_ids - then_ids)),
                tuple(sorted(then_ids - now_ids)),
                edited,
            )
        )
    note = (
        "no figure changed since publication"
        if not changes
        else f"{counted(len(changes), 'figure')} changed since this report was published"
    )
    return PublicationCheck(published_at, published_as, tuple(changes), note)


def _figure_key(name: str) -> str:
    """A figure's name with its party or vendor as its spellings folded: a party first published as
    "ACME / Acme" is the same figure once a case spells it "acme" ("ACME / Acme / acme"), not one
    figure gone and another new. The label is read as the report joins a party's spellings (" / ")."""
    if name.startswith("parties/"):
        kind, _, rest = name.removeprefix("parties/").partition("/")
        label, _, what = rest.rpartition("/")
        return f"parties/{kind}/{_spellings(label)}/{what}"
    if name.startswith("refunds/") and name.count("/") >= 3:
        label, currency, what = name.removeprefix("refunds/").rsplit("/", 2)
        return f"refunds/{_spellings(label)}/{currency}/{what}"
    return name


def _spellings(label: str) -> str:
    return " / ".join(sorted({fold(spelling) for spelling in label.split(" / ")}))
