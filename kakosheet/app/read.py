"""Reading a source into typed tables: find the log tabs, their headers, their cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kakosheet.app.find_tabs import find_tabs, tab_issue
from kakosheet.core.cells import CellContext
from kakosheet.core.header import SCAN_ROWS, locate_header
from kakosheet.core.issues import ERROR, WARNING, Issue
from kakosheet.core.looks import LISTS_TAB
from kakosheet.core.schema import SchemaSet
from kakosheet.core.table import Table, build_table
from kakosheet.errors import SourceError
from kakosheet.sources.base import Source


@dataclass
class ReadResult:
    """The typed tables of the logs and reference tabs found, and what went wrong finding them."""

    tables: dict[str, Table] = field(default_factory=dict)
    archives: dict[str, list[Table]] = field(default_factory=dict)  # log -> its archive tabs
    issues: list[Issue] = field(default_factory=list)
    lists: list[list[Any]] | None = None  # kakosheet's Lists tab, when the source has one
    partial: dict[str, list[int]] = field(default_factory=dict)  # tab read in part -> the sheet rows read

    def all_tables(self) -> list[Table]:
        return [*self.tables.values(), *(t for tables in self.archives.values() for t in tables)]


def read_source(
    source: Source,
    schemas: SchemaSet,
    logs: tuple[str, ...],
    ctx: CellContext,
    archives: dict[str, tuple[str, ...]] | None = None,
) -> ReadResult:
    """Read the configured logs and every reference tab present.

    A configured log whose tab is missing is one warning; a source with none of them is
    a SourceError (exit 3).
    """
    tabs = find_tabs(source, schemas, logs, archives)
    if not tabs.any_log:
        names = ", ".join(repr(name) for name in tabs.tabs) or "none"
        expected = ", ".join(repr(schemas[name].tab) for name in logs)
        raise SourceError(
            f"{source.name}: none of the log tabs ({expected}) is in this workbook (its tabs: {names}); "
            "rename the tabs, or start from the master workbook (`kakosheet init`)"
        )
    result = ReadResult(issues=tabs.issues)
    grids = source.read_grids(tabs.sheets)
    if tabs.lists:  # read along in the same pass (one request for a Google Sheet): sync says when it is behind
        result.lists = grids[LISTS_TAB].rows
    found = tabs.logs
    for log_name, sheet in [*found.items(), *tabs.archives]:
        schema = schemas[log_name]
        header = locate_header(grids[sheet], schema)
        if header is None:
            labels = ", ".join(c.label for c in schema.columns[:6])
            result.issues.append(
                tab_issue(
                    log_name,
                    sheet,
                    "no-header",
                    f"no header row found in the first {SCAN_ROWS} rows; the header names the columns: {labels}, ...",
                    severity=ERROR if schema.kind == "log" else WARNING,
                )
            )
            continue
        table = build_table(grids[sheet], header, schema, ctx)
        numbers = grids[sheet].row_numbers
        if numbers is not None:
            result.partial[sheet] = [row for row in numbers if row > table.header_row]
        if sheet == found.get(log_name):
            result.tables[log_name] = table
        else:
            result.archives.setdefault(log_name, []).append(table)
    return result
