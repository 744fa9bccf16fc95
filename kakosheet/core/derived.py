"""Values kakosheet derives itself, named in the schema: one registry for every layer.

A column may name a derivation: ``fill: now`` fills a blank Date Logged with the sync's time
(later issues add ``compute:`` rules — responsible party, stage deadlines, warranty). Every
layer that meets such a value asks here, and nowhere else:

- matching and fingerprints ignore derived columns, so a row that lost them (a stale copy
  saved over the synced workbook) is still its case;
- a blank derived cell of a stored case holds the value the store kept for it; of a new
  case, the derivation's value (``resolved``);
- the write-back writes the derived value into blank derived cells, and never into a cell
  that holds a formula or a value a person typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kakosheet.core.clock import Clock

if TYPE_CHECKING:
    from kakosheet.core.schema import Column, LogSchema


@dataclass(frozen=True)
class Derivation:
    """One named way kakosheet derives a value."""

    name: str
    describe: str  # for header notes and docs: "the time of the sync"
    value: Callable[[Clock], Any]


def _now(clock: Clock) -> dt.datetime:
    return clock.local


# `fill:` rules of fill_when_blank columns. Settlement and returns add theirs.
FILLS: dict[str, Derivation] = {
    "now": Derivation("now", "the time of the sync", _now),
}


@dataclass(frozen=True)
class DerivedColumn:
    """A column of a log whose blank cells kakosheet derives."""

    field: str
    derivation: Derivation

    def value(self, clock: Clock) -> Any:
        """The derived value for a case that has none stored yet."""
        return self.derivation.value(clock)


def derived_columns(schema: LogSchema) -> tuple[DerivedColumn, ...]:
    """The log's columns whose values kakosheet derives (a fill_when_blank column without a
    rule is the staff's alone: kakosheet never writes it)."""
    return tuple(DerivedColumn(c.field, FILLS[rule]) for c in schema.columns if (rule := _rule(c)) is not None)


def derived_fields(schema: LogSchema) -> frozenset[str]:
    return frozenset(c.field for c in schema.columns if _rule(c) is not None)


def matched_fields(schema: LogSchema, fields: Iterable[str]) -> list[str]:
    """The fields a row is matched to its stored case by: all but the derived ones."""
    derived = derived_fields(schema)
    return [f for f in fields if f not in derived]


def _rule(column: Column) -> str | None:
    return column.fill if column.fill in FILLS else None
