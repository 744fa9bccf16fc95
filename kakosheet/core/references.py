"""The reference tabs (Vendors, Products, Orders...) as lookups for the logs' checks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from kakosheet.core.table import Table


class ReferenceIndex:
    """Keys and per-key values of the reference tabs that hold data. Keys compare upper-cased."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self._tables = {name: table for name, table in tables.items() if len(table)}
        self.keys = cache(self._keys)  # type: ignore[method-assign]
        self.lookup = cache(self._lookup)  # type: ignore[method-assign]
        self.totals = cache(self._totals)  # type: ignore[method-assign]

    def holds_data(self, name: str) -> bool:
        return name in self._tables

    def title(self, name: str) -> str:
        return self._tables[name].sheet

    def _key_values(self, name: str) -> list[str | None]:
        table = self._tables[name]
        assert table.schema.key is not None
        values: Any = table.columns[table.schema.key].row_values() if table.schema.key in table.columns else []
        return [str(v).upper() if v is not None else None for v in values]

    def _keys(self, name: str) -> frozenset[str]:
        """The key values, plus the values of ``match_also`` fields (e.g. vendor names)."""
        table = self._tables[name]
        keys: set[str] = set()
        for field in (table.schema.key, *table.schema.match_also):
            typed = table.columns.get(field) if field else None
            if typed is not None:
                keys.update(str(v).upper() for _, v in typed.valid_uniques())
        return frozenset(keys)

    def _lookup(self, name: str, field: str) -> dict[str, Any]:
        """Key -> the field's value on the key's first row (only rows where the value is valid)."""
        table = self._tables.get(name)
        if table is None or field not in table.columns:
            return {}
        typed = table.columns[field]
        valid = typed.mask_where([p is None for p in typed.problems])
        found: dict[str, Any] = {}
        for key, value, ok in zip(self._key_values(name), typed.row_values(), valid, strict=True):
            if key is not None and ok and value is not None:
                found.setdefault(key, value)
        return found

    def _totals(self, name: str, field: str) -> dict[str, tuple[Decimal, str | None]]:
        """Key -> (sum of the field over the key's rows, their currency); mixed currencies are left out."""
        table = self._tables.get(name)
        if table is None or field not in table.columns:
            return {}
        amounts = table.columns[field].row_values()
        currencies = table.columns["currency"].row_values() if "currency" in table.columns else [None] * len(table)
        totals: dict[str, tuple[Decimal, str | None]] = {}
        mixed: set[str] = set()
        for key, amount, currency in zip(self._key_values(name), amounts, currencies, strict=True):
            if key is None or not isinstance(amount, Decimal):
                continue
            total, seen = totals.get(key, (Decimal(0), currency))
            if seen != currency:
                mixed.add(key)
            totals[key] = (total + amount, seen)
        return {key: value for key, value in totals.items() if key not in mixed}
