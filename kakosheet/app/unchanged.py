"""Re-syncing a workbook that has not changed since its last sync: nothing to read.

The scheduled job syncs every few minutes, and most of the time nobody has touched the
workbook. A completed sync records a digest of everything that judged the sheet — the
package's content (from the zip directory: every part's name, size and CRC, nothing
decompressed), the schemas, the settings, kakosheet's version and code, and the day (rules such as
"not in the future" depend on it) — with the outcome: the counts and the open issues. The
next sync of the same file that finds the same digest reports that outcome without reading a
cell: no version is stored, nothing is written. One cell, one schema line or the date
different, and the sync runs in full.

The outcome is only recorded when the sheet ends the sync as it was judged: a write-back of
IDs and notes (kakosheet's own columns, which no rule reads) keeps it; filling a blank date
does not (rules compare dates), so the next sync runs in full and records then.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kakosheet
from kakosheet.core.derived import derived_fields
from kakosheet.core.issues import Issue, Report

if TYPE_CHECKING:  # what a sync that read the workbook hands over; the shortcut itself reads nothing
    from kakosheet.config import Config
    from kakosheet.core.plan import LogPlan
    from kakosheet.core.table import Table
    from kakosheet.core.writeback import WriteBack


def judged_digest(config: Config, source: str, content: str | None, today: dt.date) -> str | None:
    """Everything a sync's outcome depends on, as one digest; None when the source has no digest."""
    if content is None:
        return None
    digest = hashlib.sha256()
    settings = {
        "source": source,
        "content": content,
        "version": kakosheet.__version__,
        "code": _code_digest(),
        "today": today.isoformat(),
        "logs": list(config.logs),
        "archives": {log: list(tabs) for log, tabs in sorted(config.archives.items())},
        "timezone": config.timezone,
        "base_currency": config.base_currency,
        "date_order": config.date_order,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for schema_file in sorted(config.schemas_dir.glob("*.yaml")):
        digest.update(schema_file.name.encode() + b"\0" + schema_file.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _code_digest() -> str:
    """kakosheet's own code: a changed rule without a new version number still judges anew."""
    digest = hashlib.sha256()
    package = Path(kakosheet.__file__).parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def keeps_judgement(changes: WriteBack, tables: list[Table]) -> bool:
    """Whether the sheet, after this write-back, is what validation judged: only the ID and
    Issues columns (which no rule reads) were written, no blank was filled."""
    filled: dict[str, set[int]] = {}
    for table in tables:
        columns = table.header.columns
        filled[table.sheet] = {columns[f] for f in derived_fields(table.schema) if f in columns}
    return not any(cell.column in filled.get(sheet.sheet, set()) for sheet in changes.sheets for cell in sheet.cells)


def outcome(report: Report, plans: dict[str, LogPlan], new_ids: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a re-sync of the unchanged sheet would report: every case unchanged, the same
    conflicts, the same issues (the new rows with their IDs)."""
    return {
        "logs": {
            name: {
                "sheet": plan.sheet,
                "unchanged": len(new_ids.get(name, {})) + plan.stored_rows,
                "conflicts": len(plan.conflicts),
            }
            for name, plan in plans.items()
        },
        "issues": [issue.to_json() for issue in report.issues],
        "rows_read": dict(report.rows_read),
        "sheets_read": dict(report.sheets_read),
    }


def recorded_report(recorded: dict[str, Any]) -> Report:
    report = Report()
    report.extend(Issue(**issue) for issue in recorded["issues"])
    report.rows_read.update(recorded["rows_read"])
    report.sheets_read.update(recorded["sheets_read"])
    return report


def recorded_counts(recorded: dict[str, Any]) -> dict[str, dict[str, int]]:
    empty = dict.fromkeys(("new", "restored", "changed", "returned", "unchanged", "gone", "conflicts"), 0)
    return {
        name: {**empty, "unchanged": log["unchanged"], "conflicts": log["conflicts"]}
        for name, log in recorded["logs"].items()
    }
