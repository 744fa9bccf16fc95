"""Rendering results for people (text) and programs (JSON)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from json.encoder import encode_basestring as _json_string  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, TextIO

from kakosheet.core.cells import shortened
from kakosheet.core.issues import Report

if TYPE_CHECKING:
    from kakosheet.app.history import CaseHistory
    from kakosheet.app.sync import SyncResult


def render_text(report: Report, out: TextIO) -> None:
    """One line per issue, grouped by tab, in sheet order."""
    current = None
    for issue in report.sorted():
        sheet = issue.sheet or issue.log
        if sheet != current:
            if current is not None:
                out.write("\n")
            out.write(f"{sheet}\n")
            current = sheet
        where = []
        if issue.row is not None:
            where.append(f"row {issue.row}")
        if issue.column:
            where.append(issue.column)
        location = ", ".join(where) or "tab"
        case = f" [{shortened(issue.case_id)}]" if issue.case_id else ""
        out.write(f"  {location}{case}: {issue.severity} {issue.code}: {issue.message}\n")


def summary(report: Report) -> str:
    counts = ", ".join(f"{report.sheets_read[name]} {count}" for name, count in report.rows_read.items())
    bad_rows = sum(report.rows_with_errors().values())
    verdict = "no errors" if report.valid else f"{report.errors} error(s) in {bad_rows} row(s)"
    return f"Rows read: {counts or 'none'}. {verdict.capitalize()}, {report.warnings} warning(s)."


def render_json(report: Report, out: TextIO) -> None:
    """The report as indented JSON; issues are encoded value by value, the same text json.dump writes.

    json.dump with an indent runs the pure-Python encoder: 14k issues took about a second. The
    issues are flat records of text, numbers and None, so each value goes through the C string
    encoder and the indentation is written here.
    """
    document = report.to_json()
    issues = document.pop("issues")
    head = json.dumps({**document, "issues": []}, ensure_ascii=False, indent=1, default=str)
    if issues:
        tail = ' "issues": []\n}'
        if not head.endswith(tail):  # kept last by Report.to_json; the slow path if that ever changes
            json.dump({**document, "issues": issues}, out, ensure_ascii=False, indent=1, default=str)
            out.write("\n")
            return
        out.write(head[: -len(tail)])
        out.write(' "issues": [\n')
        out.write(",\n".join(_issue_json(issue) for issue in issues))
        out.write("\n ]\n}")
    else:
        out.write(head)
    out.write("\n")


def _issue_json(issue: dict[str, Any]) -> str:
    """One issue as json.dump(..., indent=1) writes it two levels deep."""
    if not issue:
        return "  {}"
    lines = []
    for key, value in issue.items():
        encode = _SCALARS.get(type(value))
        lines.append(f"   {_json_string(key)}: {encode(value) if encode else _json_other(value)}")
    return "  {\n" + ",\n".join(lines) + "\n  }"


def _json_other(value: Any) -> str:
    """Anything but text, whole numbers and None, as json.dump writes it three levels deep (default=str)."""
    return json.dumps(value, ensure_ascii=False, indent=1, default=str).replace("\n", "\n   ")


_SCALARS: dict[type, Callable[[Any], str]] = {str: _json_string, int: int.__repr__, type(None): lambda _: "null"}


def render_sync(result: SyncResult, out: TextIO, *, as_json: bool) -> None:
    """What a sync did, per log; issues go to the sheet, so only their count is printed."""
    if as_json:
        document = {
            "source": result.source,
            "store": result.store,
            "dry_run": result.dry_run,
            "run": result.run_id,
            "written": result.written,
            "moved_from": result.moved_from,
            "rows_left_for_next_sync": result.rows_left,
            "write_warnings": result.write_warnings,
            "unchanged_since_run": result.unchanged_since,
            "logs": result.counts,
            "new_ids": {log: sorted(ids) for log, ids in result.new_ids.items()},
            "errors": result.report.errors,
            "warnings": result.report.warnings,
            "behind_schemas": result.behind,
        }
        json.dump(document, out, indent=1)
        out.write("\n")
        return
    if result.behind:
        shown = "; ".join(result.behind[:5]) + ("; ..." if len(result.behind) > 5 else "")
        print(
            f"Note: {result.source} is behind its schemas ({shown}); run `kakosheet setup` to bring it up to date.",
            file=sys.stderr,
        )
    verb = "would" if result.dry_run else "did"
    out.write(f"{'Dry run: ' if result.dry_run else ''}{result.source} -> {result.store}\n")
    if result.moved_from:
        out.write(f"  The workbook was last seen at {result.moved_from}; its cases follow it here.\n")
    if result.unchanged_since is not None:
        for name, counts in result.counts.items():
            out.write(f"  {result.recorded_sheets.get(name, name)}: {_count_line(counts)}\n")
        out.write(
            f"The workbook has not changed since sync run {result.unchanged_since}: nothing was read or "
            f"written. {result.report.errors} error(s) and {result.report.warnings} warning(s) open.\n"
        )
        return
    for plan in result.plans.values():
        out.write(f"  {plan.sheet}: {_count_line(plan.counts)}\n")
        for case_id in plan.gone[:10]:
            out.write(f"    {case_id} is no longer in the sheet (kept in the store)\n")
        if len(plan.gone) > 10:
            out.write(f"    ... and {len(plan.gone) - 10} more\n")
    if not result.dry_run:
        out.write(
            f"Sheet {'updated' if result.written else 'unchanged'}; {result.report.errors} error(s) and "
            f"{result.report.warnings} warning(s) open (see the Issues column and tab).\n"
        )
        for warning in result.write_warnings:
            out.write(f"Warning: {warning}.\n")
        if result.rows_left:
            out.write(
                f"{result.rows_left} new row(s) moved or changed in the sheet while it synced, or their ID cell "
                "could not be written (see above); they get their ID at the next sync.\n"
            )
    else:
        out.write(f"Nothing was changed; a sync {verb} store the cases above.\n")


def _count_line(counts: dict[str, int]) -> str:
    keys = ("new", "restored", "changed", "returned", "unchanged", "gone", "conflicts")
    return ", ".join(f"{counts[key]} {key}" for key in keys if counts[key] or key in ("new", "unchanged"))


def render_history(history: CaseHistory, out: TextIO, *, as_json: bool) -> None:
    """Each version with what changed, by the column labels staff see, in readable values."""
    if as_json:
        json.dump(
            {
                "case_id": history.case_id,
                "log": history.log,
                "events": [
                    {
                        **event.__dict__,
                        "recorded_at": event.recorded_at.isoformat(),
                        "location": history.locations.get(event.source),
                    }
                    for event in history.events
                ],
            },
            out,
            indent=1,
            default=str,
        )
        out.write("\n")
        return
    out.write(f"{history.case_id} ({history.title or history.log})\n")
    for event in history.events:
        out.write(
            f"  v{event.version} {event.event} {event.recorded_at:%Y-%m-%d %H:%M} UTC, sync run {event.run_id}, "
            f"from {history.locations.get(event.source, event.source)}\n"
        )
        for field_name, (before, after) in event.changes.items():
            label = _label(history.labels, field_name)
            if event.event == "created":
                if after is not None:
                    out.write(f"      {label}: {readable(after)}\n")
            else:
                out.write(f"      {label}: {readable(before)} -> {readable(after)}\n")
    missing = history.current.get("_missing_since")
    if missing is not None:
        out.write(f"  Not in the sheet since sync run {missing}; the case is kept in the store.\n")


def _label(labels: dict[str, str], field_name: str) -> str:
    """A field's column label; a cell's text kept as typed is "Label (as typed)"."""
    suffix = " (as typed)"
    if field_name.endswith(suffix):
        base = field_name.removesuffix(suffix)
        return f"{labels.get(base, base)}{suffix}"
    return labels.get(field_name, field_name)


_MIDNIGHT_SECONDS = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}):00(?:\.0+)?$")


def readable(value: Any) -> str:
    """A stored value as a person reads it: blank, yes/no, dates as YYYY-MM-DD HH:MM, text unquoted."""
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    text = str(value)
    matched = _MIDNIGHT_SECONDS.match(text)
    return f"{matched.group(1)} {matched.group(2)}" if matched else text
