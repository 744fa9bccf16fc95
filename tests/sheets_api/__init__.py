"""A local Google Sheets API v4 server for tests (plus Google's OAuth2 token endpoint and a little Drive v3).

from tests.sheets_api import SheetsApiServer, Formula

with SheetsApiServer() as api:
    path = api.service_account_file(tmp_path)
    book = api.create_spreadsheet(title="After-sales", tabs={"QC Log": [["Case ID"], ["QC-1"]]})
    ...  # point gspread / google-auth at api.url and api.token_uri
"""

from .book import Book
from .cells import CellError, Formula
from .server import Fault, Request, SheetsApiServer

__all__ = ["Book", "CellError", "Fault", "Formula", "Request", "SheetsApiServer"]
