"""Which tabs of a source hold the configured logs, their archives and the reference tabs.

Finding them reads no cells but a few header rows (a log's tab not named like it is
recognised by its header), and loads nothing that types cells: a sync names the tabs to its
source before it loads pandas, so the workbook is being read meanwhile (Source.read_ahead).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kakosheet.core.header import SCAN_ROWS, header_score
from kakosheet.core.issues import WARNING, Issue
from kakosheet.core.looks import LISTS_TAB
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.core.tabs import TabMatch, find_tab
from kakosheet.errors import SourceError
from kakosheet.sources.base import Source

# A tab not named like a log is read as that log when this share of its labels match.
RECOGNISE_SHARE = 0.5


@dataclass
class FoundTabs:
    """The tabs to read, and what was odd about finding them."""

    logs: dict[str, str] = field(default_factory=dict)  # log or reference tab's name -> its tab
    archives: list[tuple[str, str]] = field(default_factory=list)  # (log, archive tab)
    lists: list[str] = field(default_factory=list)  # kakosheet's Lists tab, when the source has one
    issues: list[Issue] = field(default_factory=list)
    any_log: bool = False  # whether any configured log's tab is among them
    tabs: list[str] = field(default_factory=list)  # every worksheet of the source

    @property
    def sheets(self) -> list[str]:
        """Every tab to read, in the order they are read."""
        return [*self.logs.values(), *(sheet for _, sheet in self.archives), *self.lists]


def find_tabs(
    source: Source,
    schemas: SchemaSet,
    logs: tuple[str, ...],
    archives: dict[str, tuple[str, ...]] | None = None,
    *,
    by_header: bool = True,
) -> FoundTabs:
    """The tabs of the configured logs (by name, else with ``by_header`` by their header row),
    of their archives, of every reference tab present, and the Lists tab."""
    sheet_names = source.sheet_names()
    found = FoundTabs(tabs=sheet_names)
    wanted = [schemas[name] for name in logs]
    matches = match_tabs(sheet_names, wanted + list(schemas.references))
    found.logs = {name: match.tab for name, match in matches.items()}
    for name, match in matches.items():
        if match.lookalikes:
            found.issues.append(lookalike_issue(name, match, f"the {schemas[name].title} log"))
    missing = [schema for schema in wanted if schema.name not in found.logs]
    if missing and by_header:
        unclaimed = [name for name in sheet_names if name not in found.logs.values()]
        for log_name, sheet in _recognise_by_header(source, missing, unclaimed).items():
            found.logs[log_name] = sheet
            found.issues.append(
                tab_issue(
                    log_name,
                    sheet,
                    "tab-name",
                    f"read as the {schemas[log_name].title} log because its header matches; rename the tab "
                    f"to {schemas[log_name].tab!r}",
                )
            )
    found.any_log = any(schema.name in found.logs for schema in wanted)
    for schema in wanted:
        if schema.name not in found.logs and found.any_log:  # with none at all, reading refuses the source
            found.issues.append(
                tab_issue(
                    schema.name,
                    None,
                    "missing-tab",
                    f"the {schema.tab!r} tab is not in {source.name}; add it, or remove {schema.name!r} "
                    "from `logs` in kakosheet.toml",
                )
            )
    for log_name, archive_names in (archives or {}).items():
        for tab in archive_names:
            archive = find_tab(sheet_names, (tab,))
            if archive is not None:
                found.archives.append((log_name, archive.tab))
                if archive.lookalikes:
                    found.issues.append(lookalike_issue(log_name, archive, f"an archive of the {log_name} log"))
            else:
                found.issues.append(
                    tab_issue(
                        log_name,
                        tab,
                        "missing-tab",
                        f"the archive tab {tab!r} named in kakosheet.toml is not in {source.name}",
                    )
                )
    if LISTS_TAB in sheet_names and LISTS_TAB not in found.logs.values():
        found.lists = [LISTS_TAB]
    return found


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
