"""Fixtures for the Google Sheets tests: the local Sheets API server and a sheet of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kakosheet.app.setup import init_team
from kakosheet.config import Config, load_config
from tests.gsheet.sheets import GoogleSheet, SheetUnderTest, XlsxSheet
from tests.sheets_api import SheetsApiServer


@pytest.fixture(scope="session")
def sheets_api() -> Iterator[SheetsApiServer]:
    with SheetsApiServer() as api:
        yield api


@pytest.fixture
def api(sheets_api: SheetsApiServer) -> Iterator[SheetsApiServer]:
    """The server, with the request log emptied and no fault or hook left from another test."""
    sheets_api.reset_requests()
    yield sheets_api
    sheets_api.reset_requests()
    sheets_api.clear_faults()
    sheets_api.before(None)


@pytest.fixture
def google_sheet(api: SheetsApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GoogleSheet:
    sheet = GoogleSheet(api, tmp_path)
    for name, value in sheet.environment().items():
        monkeypatch.setenv(name, value)
    return sheet


@pytest.fixture(params=["xlsx", "gsheet"])
def any_sheet(request: pytest.FixtureRequest, tmp_path: Path) -> SheetUnderTest:
    """The same test against a workbook file and against a Google Sheet."""
    if request.param == "xlsx":
        return XlsxSheet(tmp_path)
    return request.getfixturevalue("google_sheet")


@pytest.fixture
def team(tmp_path: Path) -> Config:
    """A team that keeps a QC log; its store is a SQLite file in its folder."""
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")
