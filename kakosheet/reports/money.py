"""Money in a report: exact sums per currency (minor units), converted only with a rate table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kakosheet.core.codes import CURRENCIES, minor_units
from kakosheet.core.money import round_money
from kakosheet.errors import UsageError


def amount_of(minor: int, currency: str) -> Decimal:
    """Minor units as the amount a person reads: 1250 USD -> 12.50."""
    places = minor_units(currency)
    return (Decimal(minor).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def money_text(minor: int, currency: str) -> str:
    return str(amount_of(minor, currency))


def add(totals: dict[str, int], currency: str, minor: int) -> None:
    totals[currency] = totals.get(currency, 0) + minor


@dataclass(frozen=True)
class Rate:
    """One unit of ``currency`` is worth ``rate`` of the base currency, from ``valid_from`` on."""

    currency: str
    rate: Decimal
    valid_from: dt.date


@dataclass(frozen=True)
class Rates:
    """A rate table: totals in several currencies become one in the base currency only through it."""

    base: str
    rates: tuple[Rate, ...] = ()

    def rate_on(self, currency: str, day: dt.date) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        valid = [r for r in self.rates if r.currency == currency and r.valid_from <= day]
        return max(valid, key=lambda r: r.valid_from).rate if valid else None

    def convert(self, totals: Mapping[str, int], day: dt.date) -> tuple[Decimal | None, list[str]]:
        """The base-currency total of per-currency totals on ``day``, and the currencies without a rate
        (then no total: two currencies are never added without one)."""
        missing = sorted(c for c in totals if self.rate_on(c, day) is None)
        if missing or not totals:
            return (None if missing else Decimal(0).quantize(Decimal(1).scaleb(-minor_units(self.base)))), missing
        total = sum((amount_of(minor, c) * self.rate_on(c, day) for c, minor in totals.items()), Decimal(0))  # type: ignore[operator]
        return round_money(total, self.base), []


def parse_rates(base: str, rows: Iterable[tuple[int, Mapping[str, str]]], *, where: str) -> Rates:
    """Rates from CSV rows (currency, rate, valid_from); a bad row is named by its line and how to fix it."""
    rates = []
    for line, row in rows:
        currency = (row.get("currency") or "").strip().upper()
        text, since = (row.get("rate") or "").strip(), (row.get("valid_from") or "").strip()
        if currency not in CURRENCIES:
            raise UsageError(f"{where}, line {line}: {currency!r} is not an ISO 4217 currency code (e.g. EUR)")
        try:
            rate = Decimal(text)
            valid_from = dt.date.fromisoformat(since) if since else dt.date.min
        except (InvalidOperation, ValueError) as exc:
            raise UsageError(
                f"{where}, line {line}: rate {text!r} valid from {since!r}: write the rate as a number "
                "(1 unit of the currency in the base currency) and the date as 2026-01-31"
            ) from exc
        if not rate.is_finite() or rate <= 0:
            raise UsageError(f"{where}, line {line}: rate {text!r} should be a positive number")
        rates.append(Rate(currency, rate, valid_from))
    return Rates(base, tuple(rates))
