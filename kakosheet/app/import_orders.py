"""`kakosheet import orders FILE`: order reference data from a CSV or .xlsx file into the store,
checked by the Orders schema exactly as the Orders tab of a workbook is.

The file becomes the same grid a workbook tab does and goes through the same header
location, normalization and validation (core/); a row with an error is refused with an issue
naming the file, row, column and value, the others are stored. The store keeps an order as
all the rows of its Order ID, so an order is stored whole or not at all. Sync stores a
workbook's Orders (and Vendors) tab through the same function, ``store_reference_tabs``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kakosheet.app.configured import open_store
from kakosheet.config import CONFIG_NAME, Config
from kakosheet.core.cells import CellContext
from kakosheet.core.clock import Clock
from kakosheet.core.columns import TypedColumn
from kakosheet.core.grid import Grid
from kakosheet.core.header import SCAN_ROWS, locate_header
from kakosheet.core.issues import ERROR, WARNING, Issue, Report
from kakosheet.core.schema import LogSchema
from kakosheet.core.table import Table, build_table
from kakosheet.core.tabs import find_tab
from kakosheet.core.validate import validate_table
from kakosheet.errors import ConfigError, SourceError, UsageError
from kakosheet.store.orders import ReferenceRow, Upserted, kept_schemas, upsert_rows
from kakosheet.store.store import Store

LOG = "orders"
CSV_EXTENSIONS = frozenset({".csv"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})


@dataclass(frozen=True)
class Refused:
    """An order not stored: the rows of its Order ID that have an error, and those held back with them."""

    key: str
    bad_rows: tuple[int, ...]
    held_rows: tuple[int, ...]  # valid rows of the same order: an order is stored whole


@dataclass
class StoredTab:
    """What storing one reference tab or file did."""

    upserted: Upserted = field(default_factory=Upserted)
    refused: list[Refused] = field(default_factory=list)
    rows_without_key: int = 0  # rows with an error and no valid key: refused, counted apart


@dataclass
class ImportResult:
    """The file's issues, and what the import stored."""

    file: str
    sheet: str
    store: str
    report: Report
    stored: StoredTab

    @property
    def refused(self) -> int:
        """Orders (and keyless rows) not imported because of an error."""
        return len(self.stored.refused) + self.stored.rows_without_key

    @property
    def has_errors(self) -> bool:
        return not self.report.valid


def import_orders(
    config: Config, path: Path, *, store_url: str | None = None, now: dt.datetime | None = None
) -> ImportResult:
    """Read, check and upsert the orders of one file (see the module docstring)."""
    if config.path is None and store_url is None:
        raise ConfigError(
            f"no {CONFIG_NAME} found in this folder or above; run `kakosheet import orders` in the team's "
            "folder, or pass --config kakosheet.toml (or --store URL)"
        )
    schemas = config.load_schemas()
    if LOG not in schemas.logs or schemas[LOG] not in kept_schemas(schemas):
        raise ConfigError(f"the team's schemas ({config.schemas_dir.name}/) have no orders.yaml with a key")
    schema = schemas[LOG]
    clock = Clock.at(now or dt.datetime.now(dt.UTC), config.timezone)
    grid, date1904 = _read_file(path, schema)
    ctx = CellContext(
        date_order=config.date_order, date1904=date1904, today=clock.today, timezone=ZoneInfo(config.timezone)
    )
    header = locate_header(grid, schema)
    if header is None or schema.key not in header.columns:
        labels = ", ".join(c.label for c in schema.columns)
        raise SourceError(
            f"{path.name}: no header row naming the columns {labels} in its first {SCAN_ROWS} rows "
            f"(Order ID at least); put the column names in the first row and import it again"
        )
    table = build_table(grid, header, schema, ctx)
    report = Report()
    report.extend(_one_missing_columns_issue(validate_table(table, today=clock.today), table))
    report.rows_read[LOG] = len(table)
    report.sheets_read[LOG] = table.sheet
    store = open_store(config, schemas, store_url)
    try:
        store.prepare()
        stored = store_reference_tab(store, table, report.issues, source=_file_source(path), at=clock.utc)
    finally:
        store.close()
    return ImportResult(path.name, table.sheet, store.display_url, report, stored)


def _one_missing_columns_issue(issues: list[Issue], table: Table) -> list[Issue]:
    """The optional columns a file lacks in one warning (an export often has only some of them)."""
    missing = [i for i in issues if i.code == "missing-column" and i.severity == WARNING and i.row is None]
    if len(missing) < 2:
        return issues
    labels = ", ".join(str(i.column) for i in missing)
    merged = Issue(
        log=LOG,
        sheet=table.sheet,
        row=None,
        column=None,
        code="missing-column",
        severity=WARNING,
        message=f"the columns {labels} are not in the header row (row {table.header_row}); the store keeps "
        "what it holds for them",
    )
    return [merged, *(i for i in issues if i not in missing)]


def _file_source(path: Path) -> str:
    """How the store names a file the orders came from."""
    return f"file:{path.resolve()}"[:512]


def _read_file(path: Path, schema: LogSchema) -> tuple[Grid, bool]:
    """The file's grid (the Orders tab of a workbook, or its only tab) and its date system."""
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; name the orders file in it (e.g. {path / 'orders.csv'})")
    if not path.exists():  # said here, as for a CSV: the workbook's own message points at `source`
        raise SourceError(f"{path.name}: no such file; check the path")
    suffix = path.suffix.lower()
    if suffix in CSV_EXTENSIONS:
        from kakosheet.sources.csv_file import read_csv_grid

        return read_csv_grid(path), False
    if suffix not in XLSX_EXTENSIONS:
        raise UsageError(
            f"{path.name}: import orders reads .csv (UTF-8) and .xlsx files; export the orders as one of them"
        )
    from kakosheet.sources.xlsx import XlsxSource

    workbook = XlsxSource(path)
    tabs = workbook.sheet_names()
    match = find_tab(tabs, (schema.tab, *schema.tab_aliases))
    if match is None and len(tabs) != 1:
        listed = ", ".join(repr(t) for t in tabs) or "none"
        raise SourceError(
            f"{path.name}: no {schema.tab!r} tab among its tabs ({listed}); name the orders tab {schema.tab!r}, "
            "or save the orders alone in a workbook of one tab"
        )
    tab = match.tab if match is not None else tabs[0]
    return workbook.read_grids([tab])[tab], workbook.date1904


def store_reference_tabs(
    store: Store, tables: Mapping[str, Table], issues: list[Issue], *, source: str, at: dt.datetime
) -> dict[str, StoredTab]:
    """Store the valid rows of each reference tab the store keeps (Orders, Vendors) that was read."""
    return {
        schema.name: store_reference_tab(store, tables[schema.name], issues, source=source, at=at)
        for schema in kept_schemas(store.schemas)
        if schema.name in tables
    }


def store_reference_tab(store: Store, table: Table, issues: list[Issue], *, source: str, at: dt.datetime) -> StoredTab:
    """Upsert the rows of one reference tab by key; a key with an error on any of its rows is refused."""
    rows, refused, keyless = reference_rows(table, issues)
    stored = StoredTab(refused=refused, rows_without_key=keyless)
    if rows:
        stored.upserted = upsert_rows(store, table.schema, rows, source=source, at=at, fields=list(table.columns))
    return stored


def reference_rows(table: Table, issues: list[Issue]) -> tuple[list[ReferenceRow], list[Refused], int]:
    """The rows to store (valid values only), the keys refused, and how many bad rows had no key."""
    schema = table.schema
    assert schema.key is not None
    bad = {i.row for i in issues if i.severity == ERROR and i.log == schema.name and i.sheet == table.sheet}
    bad.discard(None)
    if not len(table) or schema.key not in table.columns:
        return [], [], 0
    fields = list(table.columns)
    columns = [_valid_values(typed) for typed in table.columns.values()]
    keys = columns[fields.index(schema.key)]
    sheet_rows = table.rows.tolist()
    rows_of: dict[str, list[int]] = {}
    keyless = 0
    for index, key in enumerate(keys):
        if key is None:
            keyless += sheet_rows[index] in bad
            continue
        rows_of.setdefault(str(key), []).append(index)
    by_row = list(zip(*columns, strict=True))
    rows: list[ReferenceRow] = []
    refused: list[Refused] = []
    for key, indexes in rows_of.items():
        if bad and any(sheet_rows[i] in bad for i in indexes):
            bad_rows = tuple(sheet_rows[i] for i in indexes if sheet_rows[i] in bad)
            held = tuple(sheet_rows[i] for i in indexes if sheet_rows[i] not in bad)
            refused.append(Refused(key, bad_rows, held))
            continue
        rows.extend(ReferenceRow(key, dict(zip(fields, by_row[i], strict=True)), sheet_rows[i]) for i in indexes)
    return rows, refused, keyless


def _valid_values(typed: TypedColumn) -> list[Any]:
    """A column's row values, None where the cell has a problem, as a Python list (one pass in numpy)."""
    values = typed.row_values()  # a new array: indexing by the codes copies
    values[~typed.mask_where([p is None for p in typed.problems])] = None
    return values.tolist()  # type: ignore[no-any-return]


def refusal_issues(result: ImportResult) -> list[Issue]:
    """One warning per order held back only because another row of it has an error."""
    return [
        Issue(
            log=LOG,
            sheet=result.sheet,
            row=row,
            column=None,
            code="order-held-back",
            severity=WARNING,
            message=(
                f"not imported either: order {refused.key!r} is also on row "
                f"{', '.join(str(r) for r in refused.bad_rows)}, which has an error, and an order is imported whole"
            ),
            value=refused.key,
        )
        for refused in result.stored.refused
        for row in refused.held_rows
    ]
