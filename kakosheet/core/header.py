"""Finding a log's header row in a grid, and which column holds which field.

Title rows above the header are common, staff reorder columns and add their own, and
labels drift in case and spacing: the header is the row among the first few that holds
the most of the log's labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kakosheet.core.grid import Grid
from kakosheet.core.schema import LogSchema, normalize_label

SCAN_ROWS = 30
SCAN_COLUMNS = 500


@dataclass
class Header:
    """Where the header is and what it maps."""

    row_index: int  # index into grid.rows
    columns: dict[str, int]  # field -> column index
    labels: dict[str, str]  # field -> label as typed in the sheet
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # field -> further columns
    extra: list[str] = field(default_factory=list)  # staff's own columns, left alone


def _label_index(schema: LogSchema) -> dict[str, str]:
    index: dict[str, str] = {}
    for column in schema.columns:
        for label in (column.label, *column.aliases):
            index[normalize_label(label)] = column.field
    return index


def locate_header(grid: Grid, schema: LogSchema) -> Header | None:
    """The best header row among the first rows, or None when no row looks like one."""
    index = _label_index(schema)
    needed = min(2, len(schema.columns))
    best: Header | None = None
    for row_index, row in enumerate(grid.rows[:SCAN_ROWS]):
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        duplicates: dict[str, list[int]] = {}
        extra: list[str] = []
        for col, value in enumerate(row[:SCAN_COLUMNS]):
            if not isinstance(value, str) or not value.strip():
                continue
            field_name = index.get(normalize_label(value))
            if field_name is None:
                extra.append(value.strip())
            elif field_name in columns:
                duplicates.setdefault(field_name, []).append(col)
            else:
                columns[field_name] = col
                labels[field_name] = value.strip()
        if len(columns) >= needed and (best is None or len(columns) > len(best.columns)):
            best = Header(row_index, columns, labels, duplicates, extra)
    return best


def header_score(grid: Grid, schema: LogSchema) -> float:
    """Share of the log's labels found in the best header row (0 when none)."""
    header = locate_header(grid, schema)
    return len(header.columns) / len(schema.columns) if header else 0.0
