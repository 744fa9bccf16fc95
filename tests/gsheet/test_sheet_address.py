"""Every form in which people paste a Google Sheet's address names the sheet."""

from __future__ import annotations

import pytest

from kakosheet.config import Config
from kakosheet.errors import UsageError
from kakosheet.sources.gsheet_spec import is_google_sheet, sheet_key
from tests.gsheet.sheets import GoogleSheet
from tests.helpers import qc_row, qc_tab, run_kakosheet

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg"
FORMS = [
    f"gsheet:{KEY}",
    f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
    f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit",  # a browser signed in to several accounts
    f"https://docs.google.com/a/after-sales.example/spreadsheets/d/{KEY}/edit",  # a Google Workspace link
    f"http://docs.google.com/spreadsheets/d/{KEY}/edit",
    f"docs.google.com/spreadsheets/d/{KEY}/edit?usp=sharing",
    f"  https://docs.google.com/spreadsheets/d/{KEY}  ",
    f"gsheet:https://docs.google.com/spreadsheets/d/{KEY}/edit",
    f"GSheet: {KEY}",
    f"HTTPS://DOCS.GOOGLE.COM/spreadsheets/d/{KEY}",
]


@pytest.mark.parametrize("spec", FORMS)
def test_every_form_of_the_address_gives_the_key(spec: str) -> None:
    assert is_google_sheet(spec) and sheet_key(spec) == KEY


@pytest.mark.parametrize("spec", ["https://docs.google.com/spreadsheets/u/1/", "gsheet:", "gsheet:short"])
def test_an_address_without_a_key_is_one_clear_message(spec: str) -> None:
    with pytest.raises(UsageError, match="does not name a Google Sheet"):
        sheet_key(spec)


@pytest.mark.parametrize("command", ["validate", "sync", "setup"])
def test_an_address_without_a_key_is_a_command_to_fix_exit_2(command: str, team: Config) -> None:
    """Running it again as it is fails again, as for a SOURCE that is no workbook path (exit 2);
    it was exit 3, the code of a sheet that cannot be reached for now (a scheduled job backs off)."""
    for spec in ("gsheet:", "https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pubhtml"):
        result = run_kakosheet(command, spec, cwd=team.root)
        assert result.returncode == 2, result.stderr
        assert "does not name a Google Sheet" in result.stderr


def test_a_multi_account_url_with_spaces_syncs(google_sheet: GoogleSheet, team: Config) -> None:
    google_sheet.create({"QC Log": qc_tab([qc_row()])})
    url = f" https://docs.google.com/spreadsheets/u/1/d/{google_sheet.book.key}/edit#gid=0 "
    result = run_kakosheet("validate", url, cwd=team.root)
    assert result.returncode == 0, result.stderr
