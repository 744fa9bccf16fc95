"""Finding a log's tab by name: the exact name first, then one that reads the same (case, spacing).

Two tabs can read the same (`QC Log` and `QC  Log`, or one with a no-break space): the exact
name wins, else the first in the workbook's order; the others are named, so a warning can say
which tab was not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kakosheet.core.schema import normalize_label


@dataclass(frozen=True)
class TabMatch:
    """The tab read for a name, and the other tabs whose name reads the same."""

    tab: str
    lookalikes: tuple[str, ...] = ()


def find_tab(sheet_names: Sequence[str], names: Sequence[str]) -> TabMatch | None:
    """The tab for ``names`` (a log's tab, then its aliases): exactly named if one is, else read the same."""
    exact = next((name for name in names if name in sheet_names), None)
    if exact is not None:
        return TabMatch(exact, _lookalikes(sheet_names, exact))
    for name in names:
        label = normalize_label(name)
        same = next((sheet for sheet in sheet_names if normalize_label(sheet) == label), None)
        if same is not None:
            return TabMatch(same, _lookalikes(sheet_names, same))
    return None


def _lookalikes(sheet_names: Sequence[str], chosen: str) -> tuple[str, ...]:
    label = normalize_label(chosen)
    return tuple(sheet for sheet in sheet_names if sheet != chosen and normalize_label(sheet) == label)
