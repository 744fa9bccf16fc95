"""Issues: what is wrong with the data, as records (never exceptions).

Each issue names the log, the sheet, the row a person sees, the column label, the value
and a message that says how to fix it. A report is the list of them with a few counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding. ``row`` is the sheet row number; None for a whole tab or column."""

    log: str
    sheet: str | None
    row: int | None
    column: str | None
    code: str
    severity: str
    message: str
    value: str | None = None
    case_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Every field is a plain value, so asdict's recursive deep copy is only slower (14k issues: 0.15 s).
        return dict(zip(ISSUE_FIELDS, _issue_values(self), strict=True))

    @property
    def where(self) -> str:
        parts = [self.sheet or self.log]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(self.column)
        return ", ".join(parts)


ISSUE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Issue))
_issue_values = attrgetter(*ISSUE_FIELDS)


@dataclass
class Report:
    """Every issue found in one run, and what was read."""

    issues: list[Issue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    sheets_read: dict[str, str] = field(default_factory=dict)

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    @property
    def errors(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def rows_with_errors(self) -> dict[str, int]:
        rows = {(i.log, i.row) for i in self.issues if i.severity == ERROR and i.row is not None}
        return dict(Counter(log for log, _ in rows))

    def sorted(self) -> list[Issue]:
        return sorted(
            self.issues,
            key=lambda i: (i.log, i.sheet or "", i.row if i.row is not None else -1, i.column or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "rows": self.rows_read,
            "sheets": self.sheets_read,
            "issues": [issue.to_json() for issue in self.sorted()],
        }
