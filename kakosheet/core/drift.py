"""Whether a workbook is behind its schemas: a dropdown list of kakosheet's Lists tab missing a
value the schema has, a column missing from a tab. `kakosheet setup` brings it up to date."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kakosheet.core.looks import LISTS_TAB, dropdown_lists, is_kakosheets_lists_header
from kakosheet.core.schema import SchemaSet
from kakosheet.core.table import Table


def schema_drift(lists_rows: list[list[Any]] | None, tables: Iterable[Table], schemas: SchemaSet) -> list[str]:
    """What the workbook lacks, one phrase each; none for a workbook without kakosheet's Lists tab
    (its dropdowns, if any, are the team's)."""
    behind = [
        f"{table.sheet} has no column {table.schema.column(field).label!r}"
        for table in tables
        for field in table.missing_fields
    ]
    if lists_rows is None:
        return behind
    header = ["" if value is None else str(value) for value in lists_rows[0]] if lists_rows else []
    lists = dropdown_lists(schemas)
    if not is_kakosheets_lists_header(header, lists):  # setup refuses to write over it: say so
        return [*behind, f"the tab {LISTS_TAB!r} is the team's own, where kakosheet keeps its dropdowns; rename it"]
    for name, values in lists.items():
        if name not in header:
            behind.append(f"the Lists tab has no {name} list")
            continue
        col = header.index(name)
        present = {str(row[col]) for row in lists_rows[1:] if col < len(row)}
        missing = [value for value in values if value not in present]
        if missing:
            shown = ", ".join(repr(v) for v in missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            )
            behind.append(f"the {name} dropdown lacks {shown}")
    return behind
