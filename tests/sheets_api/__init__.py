"""A local Google Sheets API v4 server for tests (plus Google's OAuth2 token endpoint and a little Drive v3).

    from tests.sheets_api import SheetsApiServer, Formula

    with SheetsApiServer() as api:                     # 127.0.0.1, a free port, HTTP/1.1 keep-alive
        key_file = api.service_account_file(tmp_path)  # a real RSA key; google-auth signs in against api.token_uri
        book = api.create_spreadsheet(title="After-sales", tabs={"QC Log": [["Case ID"], ["QC-1"]]})
        ...  # point gspread at api.url (it replaces https://sheets.googleapis.com)

Test-side handles: Book (book.values / formula / note / validation / format / sheet / set_values / insert_rows /
delete_rows / insert_columns / delete_columns / batch_update ...), api.requests (Request records), api.fail(...)
(scripted Google errors, with skip= to hit exactly the Nth matching request), api.before(hook) (runs before each
/v4 request, outside the lock). Protected ranges with an editors list refuse other principals' cell writes
(Google's 400) and show requestingUserCanEdit accordingly. Charts (addChart, updateChartSpec,
updateEmbeddedObjectPosition, deleteEmbeddedObject) are kept per sheet and listed under sheets[].charts.
Error cells are CellError: a str ("#N/A") that reads render as their text, except FORMULA, which gives the formula.
"""

from .book import Book
from .cells import CellError, Formula
from .server import Fault, Request, SheetsApiServer

__all__ = ["Book", "CellError", "Fault", "Formula", "Request", "SheetsApiServer"]
