"""Helpers for tests: real workbooks written with openpyxl, kakosheet run as a process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

TODAY = dt.date(2026, 6, 30)
PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpus"

QC_LABELS = [
    "Case ID",
    "Original Order ID",
    "Date Identified",
    "Date Logged",
    "Exception Type",
    "Description",
    "Media Links",
    "Responsible Party",
    "Source Type",
    "Disposition",
    "Reshipment Order ID",
    "Replacement Cost",
    "Shipping Cost",
    "Penalty",
    "Currency",
    "Status",
    "Recovered Amount",
    "Owner",
    "Closure Date",
    "Reopen Reason",
    "Logged By",
    "Issues",
]


def qc_row(**values: Any) -> dict[str, Any]:
    """A valid QC Log row, by label, with some cells replaced (keyword: label with _ for spaces)."""
    row: dict[str, Any] = {
        "Original Order ID": "0001234",
        "Date Identified": dt.datetime(2026, 3, 2, 10, 30),
        "Date Logged": dt.datetime(2026, 3, 2, 11, 0),
        "Exception Type": "Damaged",
        "Description": "Carton crushed, item scratched.",
        "Media Links": "https://media.example.com/qc/1.jpg",
        "Responsible Party": "Acme Trading",
        "Source Type": "Supplier",
        "Replacement Cost": 25.5,
        "Currency": "USD",
        "Status": "Open",
        "Owner": "ana@example.com",
    }
    for key, value in values.items():
        row[key.replace("_", " ")] = value
    return row


def write_workbook(path: Path, tabs: dict[str, Sequence[Sequence[Any]]], *, date1904: bool = False) -> Path:
    """A real .xlsx with these tabs, each a list of rows (the first usually the header)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    if date1904:
        workbook.epoch = CALENDAR_MAC_1904
    for name, rows in tabs.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def qc_tab(rows: Sequence[dict[str, Any]], labels: Sequence[str] = QC_LABELS) -> list[list[Any]]:
    """A header row and the rows under it; labels match the rows' keys ignoring case and spacing."""
    keys = [" ".join(label.split()).casefold() for label in labels]
    table: list[list[Any]] = [list(labels)]
    for row in rows:
        by_key = {key.casefold(): value for key, value in row.items()}
        table.append([by_key.get(key) for key in keys])
    return table


def run_kakosheet(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run kakosheet as a separate process, as a user or a scheduled job would."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "kakosheet", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def add_tab(source: Path, target: Path, tab: str, rows: Sequence[Sequence[Any]]) -> Path:
    """Copy a workbook, adding a tab of plain values, by editing its package as Excel would.

    Leaves every existing part as it is, so workbooks openpyxl cannot load (pivot tables)
    can still receive a log tab for a test.
    """
    import re
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    from kakosheet.core.grid import column_letters

    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    number = 1
    while f"xl/worksheets/sheet{number}.xml" in parts:
        number += 1
    body = []
    for r, values in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(values):
            if value is None:
                continue
            ref = f"{column_letters(c)}{r}"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts[f"xl/worksheets/sheet{number}.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"]
    rel_numbers = [int(i) for i in re.findall(rb'Id="rId(\d+)"', rels)]
    rel_id = f"rId{max(rel_numbers, default=0) + 100}"
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        b"</Relationships>",
        (
            f'<Relationship Id="{rel_id}" Target="worksheets/sheet{number}.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>'
        ).encode(),
    )
    workbook = parts["xl/workbook.xml"]
    sheet_id = max(int(i) for i in re.findall(rb'sheetId="(\d+)"', workbook)) + 1
    prefix = re.search(rb'xmlns:(\w+)="http://schemas.openxmlformats.org/officeDocument/2006/relationships"', workbook)
    attribute = (prefix.group(1).decode() if prefix else "r") + ":id"
    entry = f'<sheet name={quoteattr(tab)} sheetId="{sheet_id}" {attribute}="{rel_id}"/>'
    parts["xl/workbook.xml"] = workbook.replace(b"</sheets>", entry.encode() + b"</sheets>")
    types = parts["[Content_Types].xml"]
    parts["[Content_Types].xml"] = types.replace(
        b"</Types>",
        (
            f'<Override PartName="/xl/worksheets/sheet{number}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ).encode(),
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return target


def make_macro_enabled(source: Path, target: Path, macro: bytes) -> Path:
    """The workbook as an .xlsm carrying a VBA project part (its bytes are ours, not real VBA)."""
    import zipfile

    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    parts["xl/vbaProject.bin"] = macro
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        .replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        b'Target="vbaProject.bin"/></Relationships>',
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return target
