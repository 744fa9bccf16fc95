"""One face for the two kinds of source, so a contract test runs against both.

``XlsxSheet`` is a real .xlsx file; ``GoogleSheet`` is a spreadsheet on the local Sheets
API server, reached by kakosheet through gspread over HTTP with a real service-account
sign-in. Both take tabs as lists of rows (the first usually the header).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import python_calamine

from tests.helpers import write_workbook
from tests.sheets_api import SheetsApiServer

EMAIL = "sync@after-sales.iam.gserviceaccount.com"
EPOCH = dt.datetime(1899, 12, 30)


class SheetUnderTest(Protocol):
    kind: str

    @property
    def spec(self) -> str: ...

    def create(self, tabs: dict[str, Sequence[Sequence[Any]]]) -> None: ...

    def values(self, tab: str) -> list[list[Any]]: ...

    def set_values(self, tab: str, cell: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def tabs(self) -> list[str]: ...

    def rename_tab(self, title: str, new_title: str) -> None: ...

    def add_tab(self, title: str, rows: Sequence[Sequence[Any]]) -> None: ...


def plain(value: Any) -> Any:
    """A cell as both kinds can be compared: blanks as None, whole numbers as int."""
    if value in ("", None):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return round((value - EPOCH).total_seconds() / 86400, 6)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    return value


class XlsxSheet:
    kind = "xlsx"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "master.xlsx"

    @property
    def spec(self) -> str:
        return str(self.path)

    def create(self, tabs: dict[str, Sequence[Sequence[Any]]]) -> None:
        """Text is written as text (a person typing '=1+1 in Excel), as the Google side stores it."""
        write_workbook(self.path, tabs)
        from openpyxl import load_workbook

        workbook = load_workbook(self.path)
        for name, rows in tabs.items():
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if isinstance(value, str) and value.startswith("="):
                        cell = workbook[name].cell(row=r, column=c, value=value)
                        cell.data_type = "s"
        workbook.save(self.path)

    def values(self, tab: str) -> list[list[Any]]:
        workbook = python_calamine.CalamineWorkbook.from_path(str(self.path))
        return [[plain(v) for v in row] for row in workbook.get_sheet_by_name(tab).to_python()]

    def set_values(self, tab: str, cell: str, rows: Sequence[Sequence[Any]]) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        letters, first_row = coordinate_from_string(cell)
        workbook = load_workbook(self.path)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                workbook[tab].cell(row=first_row + r, column=column_index_from_string(letters) + c, value=value)
        workbook.save(self.path)

    def tabs(self) -> list[str]:
        return python_calamine.CalamineWorkbook.from_path(str(self.path)).sheet_names

    def rename_tab(self, title: str, new_title: str) -> None:
        from openpyxl import load_workbook

        workbook = load_workbook(self.path)
        workbook[title].title = new_title
        workbook.save(self.path)

    def add_tab(self, title: str, rows: Sequence[Sequence[Any]]) -> None:
        from openpyxl import load_workbook

        workbook = load_workbook(self.path)
        tab = workbook.create_sheet(title)
        for row in rows:
            tab.append(list(row))
        workbook.save(self.path)


class GoogleSheet:
    kind = "gsheet"

    def __init__(self, api: SheetsApiServer, folder: Path, *, locale: str = "en_US") -> None:
        self.api = api
        self.locale = locale
        self.credentials = api.service_account_file(folder, email=EMAIL)
        self.book: Any = None

    @property
    def spec(self) -> str:
        return f"gsheet:{self.book.key}"

    def create(self, tabs: dict[str, Sequence[Sequence[Any]]]) -> None:
        self.book = self.api.create_spreadsheet(
            title="After-sales",
            tabs={name: [list(r) for r in rows] for name, rows in tabs.items()},
            locale=self.locale,
            share_with=[EMAIL],
        )

    def values(self, tab: str) -> list[list[Any]]:
        return [[plain(v) for v in row] for row in self.book.values(tab)]

    def set_values(self, tab: str, cell: str, rows: Sequence[Sequence[Any]]) -> None:
        self.book.set_values(tab, cell, [list(r) for r in rows])

    def tabs(self) -> list[str]:
        return self.book.tabs()

    def rename_tab(self, title: str, new_title: str) -> None:
        properties = {"sheetId": self.book.sheet_id(title), "title": new_title}
        self.book.batch_update([{"updateSheetProperties": {"properties": properties, "fields": "title"}}])

    def add_tab(self, title: str, rows: Sequence[Sequence[Any]]) -> None:
        self.book.batch_update([{"addSheet": {"properties": {"title": title}}}])
        self.book.set_values(title, "A1", [list(r) for r in rows])

    def environment(self) -> dict[str, str]:
        return {
            "KAKOSHEET_SHEETS_API_URL": self.api.url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.credentials),
            "KAKOSHEET_SHEETS_RETRY_SECONDS": "0.01",
        }
