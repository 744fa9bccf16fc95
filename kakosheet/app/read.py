"""Reading a source into typed tables: find the log tabs, their headers, their cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kakosheet.core.cells import CellContext
from kakosheet.core.header import SCAN_ROWS, header_score, locate_header
from kakosheet.core.issues import ERROR, WARNING, Issue
from kakosheet.core.looks import LISTS_TAB
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.core.table import Table, build_table
from kakosheet.core.tabs import TabMatch, find_tab
from kakosheet.errors import SourceError
from kakosheet.sources.base import Source

# A tab not named like a log is read as that log when this share of its labels match.
RECOGNISE_SHARE = 0.5


@dataclass
class ReadResult:
    """The typed tables of the logs and reference tabs found, and what went wrong finding them."""

    tables: dict[str, Table] = field(default_factory=dict)
    archives: dict[str, list[Table]] = field(default_factory=dict)  # log -> its archive tabs
    issues: list[Issue] = field(default_factory=list)
    lists: list[list[Any]] | None = None  # kakosheet's Lists tab, when the source has one

    def all_tables(self) -> list[Table]:
        return [*self.tables.values(), *(t for tables in self.archives.values() for t in tables)]


def tab_issue(log: str, sheet: str | None, code: str, message: str, *, severity: str = WARNING) -> Issue:
    """An issue about a whole tab (no row, no column)."""
    return Issue(log=log, sheet=sheet, row=None, column=None, code=code, severity=severity, message=message)


def match_tabs(sheet_names: list[str], schemas: list[LogSchema]) -> dict[str, TabMatch]:
    """Log name -> the tab named like it: the exact name wins, else case and spacing are ignored."""
    found = {}
    for schema in schemas:
        match = find_tab(sheet_names, (schema.tab, *schema.tab_aliases))
        if match is not None:
            found[schema.name] = match
    return found


def lookalike_issue(log: str, match: TabMatch, what: str) -> Issue:
    """One warning for tabs whose names read like the one read (only spacing or case differ)."""
    others = ", ".join(repr(tab) for tab in match.lookalikes)
    return tab_issue(
        log,
        match.tab,
        "lookalike-tab",
        f"{others} reads like {match.tab!r}: only {match.tab!r} is read as {what}; rename or delete the other "
        "tab, or move its rows into this one",
        severity=WARNING,
    )


def _recognise_by_header(source: Source, missing: list[LogSchema], unclaimed: list[str]) -> dict[str, str]:
    """Tabs that are not named like a log but whose header row is clearly one."""
    found: dict[str, str] = {}
    for schema in missing:
        best: tuple[float, str] | None = None
        for sheet in unclaimed:
            if sheet in found.values():
                continue
            try:
                score = header_score(source.read_head(sheet, SCAN_ROWS), schema)
            except SourceError:
                continue  # a damaged tab that is not a log is none of our business
            if score >= RECOGNISE_SHARE and (best is None or score > best[0]):
                best = (score, sheet)
        if best:
            found[schema.name] = best[1]
    return found


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
    result = ReadResult()
    sheet_names = source.sheet_names()
    wanted = [schemas[name] for name in logs]
    matches = match_tabs(sheet_names, wanted + list(schemas.references))
    found = {name: match.tab for name, match in matches.items()}
    for name, match in matches.items():
        if match.lookalikes:
            result.issues.append(lookalike_issue(name, match, f"the {schemas[name].title} log"))
    missing = [schema for schema in wanted if schema.name not in found]
    if missing:
        unclaimed = [name for name in sheet_names if name not in found.values()]
        for log_name, sheet in _recognise_by_header(source, missing, unclaimed).items():
            found[log_name] = sheet
            result.issues.append(
                tab_issue(
                    log_name,
                    sheet,
                    "tab-name",
                    f"read as the {schemas[log_name].title} log because its header matches; rename the tab "
                    f"to {schemas[log_name].tab!r}",
                    severity=WARNING,
                )
            )
    if not any(schema.name in found for schema in wanted):
        tabs = ", ".join(repr(name) for name in sheet_names) or "none"
        expected = ", ".join(repr(schema.tab) for schema in wanted)
        raise SourceError(
            f"{source.name}: none of the log tabs ({expected}) is in this workbook (its tabs: {tabs}); "
            "rename the tabs, or start from the master workbook (`kakosheet init`)"
        )
    for schema in wanted:
        if schema.name not in found:
            result.issues.append(
                tab_issue(
                    schema.name,
                    None,
                    "missing-tab",
                    f"the {schema.tab!r} tab is not in {source.name}; add it, or remove {schema.name!r} "
                    "from `logs` in kakosheet.toml",
                    severity=WARNING,
                )
            )
    archive_tabs: list[tuple[str, str]] = []
    for log_name, archive_names in (archives or {}).items():
        for tab in archive_names:
            archive = find_tab(sheet_names, (tab,))
            if archive is not None:
                archive_tabs.append((log_name, archive.tab))
                if archive.lookalikes:
                    result.issues.append(lookalike_issue(log_name, archive, f"an archive of the {log_name} log"))
            else:
                result.issues.append(
                    tab_issue(
                        log_name,
                        tab,
                        "missing-tab",
                        f"the archive tab {tab!r} named in kakosheet.toml is not in {source.name}",
                        severity=WARNING,
                    )
                )
    lists = [LISTS_TAB] if LISTS_TAB in sheet_names and LISTS_TAB not in found.values() else []
    grids = source.read_grids([*found.values(), *(sheet for _, sheet in archive_tabs), *lists])
    if lists:  # read along in the same pass (one request for a Google Sheet): sync says when it is behind
        result.lists = grids[LISTS_TAB].rows
    for log_name, sheet in [*found.items(), *archive_tabs]:
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
        if sheet == found.get(log_name):
            result.tables[log_name] = table
        else:
            result.archives.setdefault(log_name, []).append(table)
    return result
