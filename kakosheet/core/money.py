"""Money is Decimal, rounded half-up to the currency's minor unit, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from kakosheet.core.codes import minor_units


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """The decimal a person typed: a float read from a cell becomes its shortest repr (12.1, not 12.0999...)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    """Round half-up to the currency's minor unit (2 places when the currency is unknown)."""
    places = minor_units(currency) if currency else 2
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
