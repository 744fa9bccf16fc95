"""What a setup run changed in a workbook or a Google Sheet, counted by kind, for one line of output."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SetupResult:
    """What a setup run changed, counted by kind; ``kept`` names the team's own parts it left alone
    where kakosheet would have put its own (a dropdown of theirs on a column, a note on a header)."""

    sheet: str
    added_tabs: list[str] = field(default_factory=list)
    added_columns: dict[str, list[str]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    resent: int = 0  # batchUpdates re-planned after a 5xx answer
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added_tabs or self.added_columns or self.counts)

    def describe(self) -> str:
        kept = "".join(f"\n  kept yours: {what}" for what in self.kept)
        if not self.changed:
            return f"{self.sheet}: already set up; nothing changed{kept}"
        parts = []
        if self.added_tabs:
            parts.append(f"added tab{'s' if len(self.added_tabs) > 1 else ''} {', '.join(self.added_tabs)}")
        for tab, labels in self.added_columns.items():
            parts.append(f"added to {tab}: {', '.join(labels)}")
        parts += [_counted(kind, number) for kind, number in self.counts.items()]
        return f"{self.sheet}: " + "; ".join(parts) + kept


def _counted(kind: str, number: int) -> str:
    """ "1 dropdown", "3 dropdowns", "2 stale highlight rules removed"."""
    noun, removed, _ = kind.partition(" removed")
    return f"{number} {kind}" if number == 1 else f"{number} {noun}s{removed}"
