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
