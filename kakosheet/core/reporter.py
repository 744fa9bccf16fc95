"""Turning row positions of a table into issues that name the sheet row, label, value and case."""

from __future__ import annotations

from kakosheet.core.cells import display
from kakosheet.core.issues import ERROR, Issue
from kakosheet.core.table import Table


class RowReporter:
    """Collects the issues of one table; ``add`` takes a row index of the table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.issues: list[Issue] = []
        id_field = table.schema.id.field if table.schema.id else None
        # Each issue's case ID looked up by its row: the column's rows as values are 100k objects to copy.
        self._ids = table.columns.get(id_field) if id_field is not None else None
        self._labels: dict[str, str] = {}

    def add(
        self, index: int, field: str | None, code: str, message: str, *, severity: str = ERROR, value: object = None
    ) -> None:
        ids = self._ids
        case_id = ids.values[ids.codes[index]] if ids is not None else None
        if field and field not in self._labels:
            self._labels[field] = self.table.label(field)
        self.issues.append(
            Issue(
                log=self.table.schema.name,
                sheet=self.table.sheet,
                row=int(self.table.rows[index]),
                column=self._labels[field] if field else None,
                code=code,
                severity=severity,
                message=message,
                value=None if value is None else display(value),
                case_id=case_id if isinstance(case_id, str) else None,
            )
        )

    def add_table(
        self, field: str | None, code: str, message: str, *, severity: str = ERROR, row: int | None = None
    ) -> None:
        self.issues.append(
            Issue(
                log=self.table.schema.name,
                sheet=self.table.sheet,
                row=row,
                column=self.table.label(field) if field else None,
                code=code,
                severity=severity,
                message=message,
            )
        )
