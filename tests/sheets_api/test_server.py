"""The test server's behaviour where the recorded cassettes do not reach: auth, atomic batchUpdate, row
insertion, input parsing, render options, faults, hooks, and gspread's real client end to end."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gspread
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from tests.sheets_api import Formula, Request, SheetsApiServer
from tests.sheets_api.a1 import Span, format_range, parse_span, quote_title, split_sheet

SA = "sync@team.iam.gserviceaccount.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


@pytest.fixture(scope="module")
def api() -> Iterator[SheetsApiServer]:
    with SheetsApiServer() as server:
        yield server


@pytest.fixture(autouse=True)
def clean(api: SheetsApiServer) -> Iterator[None]:
    """Faults, hooks and the request log are per test."""
    api.clear_faults()
    api.before(None)
    api.reset_requests()
    yield
    api.clear_faults()
    api.before(None)


@pytest.fixture(scope="module")
def keyfile(api: SheetsApiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api.service_account_file(tmp_path_factory.mktemp("keys"), email=SA)


def sa_credentials(api: SheetsApiServer, path: Path, scopes: list[str] = SCOPES) -> service_account.Credentials:
    creds = service_account.Credentials.from_service_account_file(str(path), scopes=scopes)
    return creds.with_token_uri(api.token_uri)


class Client:
    """Raw HTTP against the server, for asserting exact reply shapes."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, key: str, suffix: str = "", body: Any = None, **params: Any) -> requests.Response:
        return self.session.request(method, f"{self.url}/v4/spreadsheets/{key}{suffix}", json=body, params=params)

    def get(self, key: str, suffix: str = "", **params: Any) -> requests.Response:
        return self.call("GET", key, suffix, **params)

    def values(self, key: str, a1: str, **params: Any) -> dict[str, Any]:
        reply = self.get(key, f"/values/{quote(a1, safe='')}", **params)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def write(self, key: str, a1: str, rows: list[list[Any]], option: str = "RAW") -> requests.Response:
        return self.call("PUT", key, f"/values/{quote(a1, safe='')}", {"values": rows}, valueInputOption=option)

    def batch(self, key: str, *requests_: dict[str, Any]) -> requests.Response:
        return self.call("POST", key, ":batchUpdate", {"requests": list(requests_)})


@pytest.fixture(scope="module")
def client(api: SheetsApiServer, keyfile: Path) -> Client:
    creds = sa_credentials(api, keyfile)
    creds.refresh(AuthRequest())
    return Client(api.url, creds.token)


def error_of(reply: requests.Response) -> tuple[int, str, str]:
    body = reply.json()["error"]
    return body["code"], body["status"], body["message"]


# -- auth ----------------------------------------------------------------------------------------------------------


def _assertion(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256()))


def test_jwt_signed_by_another_key_is_refused(api: SheetsApiServer, keyfile: Path) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": SA, "aud": api.token_uri, "iat": now, "exp": now + 3600, "scope": SCOPES[0]}
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    reply = requests.post(api.token_uri, data={"grant_type": grant, "assertion": _assertion(stranger, claims)})
    assert reply.status_code == 400
    assert reply.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    info = json.loads(keyfile.read_text())
    own = serialization.load_pem_private_key(info["private_key"].encode(), None)
    expired = dict(claims, iat=now - 7200, exp=now - 3600)
    reply = requests.post(api.token_uri, data={"grant_type": grant, "assertion": _assertion(own, expired)})  # type: ignore[arg-type]
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
    no_scope = dict(claims, scope="https://www.googleapis.com/auth/drive")
    reply = requests.post(api.token_uri, data={"grant_type": grant, "assertion": _assertion(own, no_scope)})  # type: ignore[arg-type]
    assert reply.status_code == 400


def test_google_auth_fails_with_a_tampered_key_file(api: SheetsApiServer, keyfile: Path, tmp_path: Path) -> None:
    info = json.loads(keyfile.read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(info))
    with pytest.raises(RefreshError, match="invalid_grant"):
        sa_credentials(api, tampered).refresh(AuthRequest())


def test_revoked_principal_gets_no_token_and_loses_its_token(api: SheetsApiServer, tmp_path: Path) -> None:
    path = api.service_account_file(tmp_path, email="leaver@team.iam.gserviceaccount.com")
    creds = sa_credentials(api, path)
    creds.refresh(AuthRequest())
    book = api.create_spreadsheet(share_with=["leaver@team.iam.gserviceaccount.com"])
    assert Client(api.url, creds.token).get(book.key).status_code == 200
    api.revoke("leaver@team.iam.gserviceaccount.com")
    assert Client(api.url, creds.token).get(book.key).status_code == 401
    with pytest.raises(RefreshError, match="invalid_grant"):
        sa_credentials(api, path).refresh(AuthRequest())


def test_refresh_token_grant_for_an_authorized_user(api: SheetsApiServer, tmp_path: Path) -> None:
    path = api.authorized_user_file(tmp_path, email="ana@team.example")
    info = json.loads(path.read_text())
    assert info["type"] == "authorized_user" and info["token_uri"] == api.token_uri
    # google-auth always points authorized-user credentials at Google's endpoint; tests must re-point them.
    creds = user_credentials.Credentials.from_authorized_user_file(str(path)).with_token_uri(api.token_uri)
    creds.refresh(AuthRequest())
    book = api.create_spreadsheet(tabs={"QC Log": [["Case ID"]]}, share_with=["ana@team.example"])
    assert Client(api.url, creds.token).values(book.key, "QC Log")["values"] == [["Case ID"]]
    wrong = dict(info, client_secret="nope")
    reply = requests.post(api.token_uri, data={"grant_type": "refresh_token", **wrong})
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
    api.revoke("ana@team.example")
    with pytest.raises(RefreshError, match="invalid_grant"):
        user_credentials.Credentials.from_authorized_user_file(str(path)).with_token_uri(api.token_uri).refresh(
            AuthRequest()
        )


def test_missing_or_unknown_bearer_is_401(api: SheetsApiServer) -> None:
    book = api.create_spreadsheet()
    for token in (None, "ya29.not-a-token"):
        reply = Client(api.url, token).get(book.key)
        code, status, message = error_of(reply)
        assert (code, status) == (401, "UNAUTHENTICATED")
        assert message.startswith("Request had invalid authentication credentials.")


def test_sharing_decides_between_403_and_200(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(share_with=[])
    assert error_of(client.get(book.key)) == (403, "PERMISSION_DENIED", "The caller does not have permission")
    book.share(SA)
    assert client.get(book.key).status_code == 200
    book.unshare(SA)
    assert client.get(book.key).status_code == 403
    assert error_of(client.get("1" + "x" * 43)) == (404, "NOT_FOUND", "Requested entity was not found.")


def test_read_only_scope_cannot_write(api: SheetsApiServer, keyfile: Path) -> None:
    creds = sa_credentials(api, keyfile, ["https://www.googleapis.com/auth/spreadsheets.readonly"])
    creds.refresh(AuthRequest())
    reader = Client(api.url, creds.token)
    book = api.create_spreadsheet()
    assert reader.get(book.key).status_code == 200
    assert reader.write(book.key, "Sheet1!A1", [["x"]]).status_code == 403


# -- A1 notation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "quoted"),
    [("Sheet1", "Sheet1"), ("QC Log", "'QC Log'"), ("It's", "'It''s'"), ("A1", "'A1'"), ("Überblick", "'Überblick'")],
)
def test_titles_are_quoted_only_when_needed(title: str, quoted: str) -> None:
    assert quote_title(title) == quoted
    assert split_sheet(f"{quoted}!A1") == (title, "A1")


def test_a1_spans() -> None:
    assert parse_span("B3") == Span(2, 3, 1, 2, single=True)
    assert parse_span("A1:D") == Span(0, None, 0, 4)
    assert parse_span("A:A") == Span(0, None, 0, 1)
    assert parse_span("2:2") == Span(1, 2, 0, None)
    assert parse_span("D4:A1") == Span(0, 4, 0, 4)
    assert parse_span("A0") is None and parse_span("Tab") is None
    assert format_range("QC Log", 0, 1000, 0, 26) == "'QC Log'!A1:Z1000"
    assert format_range("Sheet1", 1, 2, 27, 28) == "Sheet1!AB2"


# -- values --------------------------------------------------------------------------------------------------------


def test_raw_keeps_text_and_user_entered_parses_it(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    typed = [["=1+1", "+1", "-5", "@x", "'007", "2024-03-01", "TRUE", "12%"]]
    assert client.write(book.key, "Log!A1", typed, "RAW").json()["updatedRange"] == "Log!A1:H1"
    assert client.write(book.key, "Log!A2", typed, "USER_ENTERED").status_code == 200
    raw, entered = book.values("Log")
    assert raw == typed[0]
    assert entered == [2, 1, -5, "@x", "007", 45352, True, 0.12]
    assert book.formula("Log", "A1") is None and book.formula("Log", "A2") == "=1+1"
    assert book.format("Log", "F2") == {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
    formula = client.values(book.key, "Log!A1:B2", valueRenderOption="FORMULA")["values"]
    assert formula == [["=1+1", "+1"], ["=1+1", 1]]
    formatted = client.values(book.key, "Log!A2:H2")["values"]
    assert formatted == [["2", "1", "-5", "@x", "007", "2024-03-01", "TRUE", "12%"]]


def test_locale_decides_how_numbers_are_typed_and_shown(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []}, locale="de_DE", time_zone="Europe/Berlin")
    client.write(book.key, "Log!A1", [["1,5", "1.234,5", 2.25, "01.03.2024"]], "USER_ENTERED")
    assert book.values("Log") == [[1.5, 1234.5, 2.25, 45352]]
    assert client.values(book.key, "Log")["values"] == [["1,5", "1234,5", "2,25", "01.03.2024"]]
    assert client.values(book.key, "Log", valueRenderOption="UNFORMATTED_VALUE")["values"] == [
        [1.5, 1234.5, 2.25, 45352]
    ]
    us = api.create_spreadsheet(tabs={"Log": []})
    client.write(us.key, "Log!A1", [["1,234.5", "1,5", "3/1/2024"]], "USER_ENTERED")
    assert us.values("Log") == [[1234.5, "1,5", 45352]]


def test_render_options_for_formulas_errors_and_dates(api: SheetsApiServer, client: Client) -> None:
    rows = [
        ["Case", "Cost", "Double", "Lookup", "Logged"],
        ["QC-1", 25.5, Formula("=B2*2", 51), Formula("=VLOOKUP(A2,Vendors!A:B,2,0)", "#N/A"), dt.date(2026, 3, 2)],
        ["QC-2", 0, Formula("=1/B3", "#DIV/0!"), None, dt.datetime(2026, 3, 2, 10, 30)],
    ]
    book = api.create_spreadsheet(tabs={"Log": rows})
    formatted = client.values(book.key, "Log!A2:E3")["values"]
    assert formatted == [
        ["QC-1", "25.5", "51", "#N/A", "2026-03-02"],
        ["QC-2", "0", "#DIV/0!", "", "2026-03-02 10:30:00"],
    ]
    unformatted = client.values(book.key, "Log!A2:E3", valueRenderOption="UNFORMATTED_VALUE")["values"]
    assert unformatted == [["QC-1", 25.5, 51, "#N/A", 46083], ["QC-2", 0, "#DIV/0!", "", 46083.4375]]
    as_strings = client.values(
        book.key, "Log!E2:E3", valueRenderOption="UNFORMATTED_VALUE", dateTimeRenderOption="FORMATTED_STRING"
    )
    assert as_strings["values"] == [["2026-03-02"], ["2026-03-02 10:30:00"]]
    formulas = client.values(book.key, "Log!A2:E3", valueRenderOption="FORMULA")["values"]
    assert formulas == [
        ["QC-1", 25.5, "=B2*2", "=VLOOKUP(A2,Vendors!A:B,2,0)", 46083],
        ["QC-2", 0, "=1/B3", "", 46083.4375],
    ]
    assert book.values("Log")[2][2] == "#DIV/0!"
    grid = client.get(book.key, includeGridData="true", ranges="Log!C3").json()
    cell = grid["sheets"][0]["data"][0]["rowData"][0]["values"][0]
    assert cell["userEnteredValue"] == {"formulaValue": "=1/B3"}
    assert cell["effectiveValue"]["errorValue"]["type"] == "DIVIDE_BY_ZERO"
    assert cell["formattedValue"] == "#DIV/0!"


def test_ragged_rows_are_trimmed_like_google(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["a", None, "c"], [], [None, "b"], ["d"]]})
    reply = client.values(book.key, "Log")
    assert reply == {
        "range": "Log!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["a", "", "c"], [], ["", "b"], ["d"]],
    }
    columns = client.values(book.key, "Log!A1:C4", majorDimension="COLUMNS")["values"]
    assert columns == [["a", "", "", "d"], ["", "", "b"], ["c"]]
    assert "values" not in client.values(book.key, "Log!E5:F6")
    assert book.values("Log") == [["a", None, "c"], [None, None, None], [None, "b", None], ["d", None, None]]


def test_ranges_are_echoed_normalised(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"QC Log": [["x"]], "It's": [["y"]], "Vendors": []})
    echoes = {
        "'QC Log'!A1:D": "'QC Log'!A1:D1000",
        "QC Log!A:A": "'QC Log'!A1:A1000",
        "'QC Log'!A2:2": "'QC Log'!A2:Z2",
        "'It''s'!A1": "'It''s'!A1",
        "Vendors": "Vendors!A1:Z1000",
        "Vendors!B2:ZZ5000": "Vendors!B2:Z1000",
        "A1:B2": "'QC Log'!A1:B2",
    }
    reply = client.get(book.key, "/values:batchGet", ranges=list(echoes)).json()
    assert [r["range"] for r in reply["valueRanges"]] == list(echoes.values())
    assert error_of(client.get(book.key, "/values/Nope!A1")) == (
        400,
        "INVALID_ARGUMENT",
        "Unable to parse range: Nope!A1",
    )
    code, _, message = error_of(client.get(book.key, "/values/Vendors!A1001"))
    assert code == 400 and "exceeds grid limits. Max rows: 1000, max columns: 26" in message


def test_values_writes_grow_the_grid_and_bounded_writes_must_fit(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    assert client.write(book.key, "Log!AB1200", [["far"]]).json()["updatedRange"] == "Log!AB1200"
    assert book.sheet("Log")["properties"]["gridProperties"] == {"rowCount": 1200, "columnCount": 28}
    code, _, message = error_of(client.write(book.key, "Log!A1:B1", [["a", "b", "c"]]))
    assert code == 400 and message == "Requested writing within range [Log!A1:B1], but tried writing to column [C]"
    code, _, message = error_of(client.write(book.key, "Log!A1:B2", [["a"], ["b"], ["c"]]))
    assert message == "Requested writing within range [Log!A1:B2], but tried writing to row [3]"
    repeat = {"range": {"sheetId": 0, "startRowIndex": 1300, "endRowIndex": 1301}, "cell": {}, "fields": "note"}
    assert client.batch(book.key, {"repeatCell": repeat}).status_code == 400  # only values writes grow the grid


def test_nulls_skip_cells_and_empty_strings_clear_them(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["a", "b", "c"]]})
    client.write(book.key, "Log!A1", [[None, "", "C"]])
    assert book.values("Log") == [["a", None, "C"]]


def test_values_batch_update_counts_and_fails_as_a_whole(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [], "Other": []})
    data = [
        {"range": "Log!A1:B1", "values": [["a", "b"]]},
        {"range": "Log!A2", "values": [["c", "d", "e"]]},
        {"range": "Other!B1", "values": [["x"], ["y"]], "majorDimension": "ROWS"},
    ]
    body = {"valueInputOption": "RAW", "data": data, "includeValuesInResponse": True}
    reply = client.call("POST", book.key, "/values:batchUpdate", body).json()
    assert {k: reply[k] for k in reply if k.startswith("total")} == {
        "totalUpdatedRows": 4,
        "totalUpdatedColumns": 4,
        "totalUpdatedCells": 7,
        "totalUpdatedSheets": 2,
    }
    assert reply["responses"][1]["updatedData"] == {
        "range": "Log!A2:C2",
        "majorDimension": "ROWS",
        "values": [["c", "d", "e"]],
    }
    bad = {
        "valueInputOption": "RAW",
        "data": [{"range": "Log!D1", "values": [["z"]]}, {"range": "Nope!A1", "values": [[1]]}],
    }
    assert client.call("POST", book.key, "/values:batchUpdate", bad).status_code == 400
    assert book.values("Log") == [["a", "b", None], ["c", "d", "e"]]
    missing = client.call("POST", book.key, "/values:batchUpdate", {"data": data})
    assert error_of(missing)[2] == "'valueInputOption' is required but not specified"


def test_clear_and_append(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["Case", "Status"], ["QC-1", "Open"], ["QC-2", "Open"]]})
    book.set_note("Log", "A3", "keep me")
    reply = client.call("POST", book.key, "/values/Log!A3:B3:clear").json()
    assert reply == {"spreadsheetId": book.key, "clearedRange": "Log!A3:B3"}
    assert book.note("Log", "A3") == "keep me"
    appended = client.call(
        "POST", book.key, "/values/Log!A1:append", {"values": [["QC-3", "New"]]}, valueInputOption="RAW"
    ).json()
    assert appended["tableRange"] == "Log!A1:B2" and appended["updates"]["updatedRange"] == "Log!A3:B3"
    batch = {"ranges": ["Log!B1:B3", "Log!A3"]}
    cleared = client.call("POST", book.key, "/values:batchClear", batch).json()
    assert cleared["clearedRanges"] == ["Log!B1:B3", "Log!A3"]
    assert book.values("Log") == [["Case"], ["QC-1"]]


def test_append_insert_rows_pushes_what_is_below(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["h"], ["1"], [None], ["footer"]]})
    params = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}
    client.call("POST", book.key, "/values/Log!A1:append", {"values": [["2"]]}, **params)
    assert book.values("Log") == [["h"], ["1"], ["2"], [None], ["footer"]]


# -- batchUpdate ---------------------------------------------------------------------------------------------------


def _note_cell(sheet_id: int, row: int, col: int, note: str) -> dict[str, Any]:
    return {
        "updateCells": {
            "rows": [{"values": [{"note": note}]}],
            "fields": "note",
            "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
        }
    }


def test_batch_update_is_atomic(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["a"]]})
    reply = client.batch(book.key, _note_cell(0, 0, 0, "first"), {"addSheet": {"properties": {"title": "Log"}}})
    code, status, message = error_of(reply)
    assert (code, status) == (400, "INVALID_ARGUMENT")
    assert message.startswith('Invalid requests[1].addSheet: A sheet with the name "Log" already exists.')
    assert book.note("Log", "A1") is None
    unknown = client.batch(book.key, _note_cell(0, 0, 0, "first"), {"explodeSheet": {}})
    assert unknown.status_code == 400 and book.note("Log", "A1") is None
    ok = client.batch(
        book.key, _note_cell(0, 0, 0, "first"), {"addSheet": {"properties": {"title": "New", "index": 0}}}
    )
    replies = ok.json()["replies"]
    assert replies[0] == {} and replies[1]["addSheet"]["properties"]["index"] == 0
    assert book.note("Log", "A1") == "first" and book.tabs() == ["New", "Log"]


def test_protected_range_id_collision(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    protect = {
        "protectedRange": {"protectedRangeId": 77, "range": {"sheetId": 0, "endRowIndex": 1}, "warningOnly": True}
    }
    reply = client.batch(book.key, {"addProtectedRange": protect}).json()
    added = reply["replies"][0]["addProtectedRange"]["protectedRange"]
    assert added == {
        "protectedRangeId": 77,
        "range": {"endRowIndex": 1},
        "warningOnly": True,
        "requestingUserCanEdit": True,
    }
    again = client.batch(book.key, {"addProtectedRange": protect})
    assert "already exists" in error_of(again)[2] and error_of(again)[2].startswith(
        "Invalid requests[0].addProtectedRange"
    )
    assert len(book.sheet("Log")["protectedRanges"]) == 1


def test_a_range_protected_against_the_caller_refuses_its_cells(api: SheetsApiServer, client: Client) -> None:
    """Only the listed editors change a protected range's cells; the rest of the tab stays writable."""
    book = api.create_spreadsheet(tabs={"Log": [["a"], ["b"]]})
    only_owner = {"range": {"sheetId": 0, "endRowIndex": 1}, "editors": {"users": ["owner@team.example"]}}
    book.batch_update([{"addProtectedRange": {"protectedRange": only_owner}}])
    (shown,) = client.get(book.key).json()["sheets"][0]["protectedRanges"]
    assert shown["requestingUserCanEdit"] is False and book.sheet("Log")["protectedRanges"][0]["requestingUserCanEdit"]
    refused = client.write(book.key, "Log!A1", [["x"]])
    assert error_of(refused)[:2] == (400, "INVALID_ARGUMENT") and "protected cell or object" in error_of(refused)[2]
    cells = {"updateCells": {"range": _rows(0, 1), "rows": [{"values": [{"userEnteredValue": {"stringValue": "y"}}]}],
                             "fields": "userEnteredValue"}}  # fmt: skip
    assert client.batch(book.key, _note_cell(0, 1, 0, "kept out"), cells).status_code == 400
    assert book.note("Log", "A2") is None  # the batch is refused whole
    assert client.write(book.key, "Log!A2", [["c"]]).status_code == 200
    book.set_values("Log", "A1", [["typed by the owner"]])
    assert book.values("Log") == [["typed by the owner"], ["c"]]


def _rows(first: int, last: int, **cols: int) -> dict[str, Any]:
    """A GridRange on sheet 0 over rows [first, last) (and columns if given)."""
    return {"sheetId": 0, "startRowIndex": first, "endRowIndex": last, **cols}


def _setup_row_extras(client: Client, key: str, rule: dict[str, Any]) -> None:
    """A note on A3, validation on B2:B3, bold row 3, a CF rule on rows 2-3, row 3 protected."""
    bold = {"userEnteredFormat": {"textFormat": {"bold": True}}}
    condition = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": '=$B2="Open"'}]}
    conditional = {"ranges": [_rows(1, 3)], "booleanRule": {"condition": condition, "format": {}}}
    client.batch(
        key,
        _note_cell(0, 2, 0, "check"),
        {"setDataValidation": {"range": _rows(1, 3, startColumnIndex=1, endColumnIndex=2), "rule": rule}},
        {"repeatCell": {"range": _rows(2, 3), "cell": bold, "fields": "userEnteredFormat.textFormat.bold"}},
        {"addConditionalFormatRule": {"index": 0, "rule": conditional}},
        {"addProtectedRange": {"protectedRange": {"range": _rows(2, 3)}}},
    )


def test_insert_dimension_moves_everything_below(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["Case", "Status"], ["QC-1", "Open"], ["QC-2", "Closed"]]})
    rule = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "Open"}]}}
    _setup_row_extras(client, book.key, rule)
    insert = {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 2, "endIndex": 4}, "inheritFromBefore": True}
    assert client.batch(book.key, {"insertDimension": insert}).status_code == 200
    assert book.values("Log") == [["Case", "Status"], ["QC-1", "Open"], [None, None], [None, None], ["QC-2", "Closed"]]
    assert book.note("Log", "A5") == "check" and book.note("Log", "A3") is None
    assert book.validation("Log", "B5") == rule and book.validation("Log", "B3") == rule  # inherited from row 2
    assert book.format("Log", "A5") == {"textFormat": {"bold": True}} and book.format("Log", "A3") is None
    sheet = book.sheet("Log")
    assert sheet["conditionalFormats"][0]["ranges"] == [{"startRowIndex": 1, "endRowIndex": 5}]
    assert sheet["protectedRanges"][0]["range"] == {"startRowIndex": 4, "endRowIndex": 5}
    assert sheet["properties"]["gridProperties"]["rowCount"] == 1002
    delete = {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 2, "endIndex": 5}}
    client.batch(book.key, {"deleteDimension": delete})
    sheet = book.sheet("Log")
    assert "protectedRanges" not in sheet
    assert sheet["conditionalFormats"][0]["ranges"] == [{"startRowIndex": 1, "endRowIndex": 2}]
    assert book.values("Log") == [["Case", "Status"], ["QC-1", "Open"]]


def test_person_inserting_rows_shifts_the_same_way(api: SheetsApiServer) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["h"], ["a"], ["b"]]})
    book.set_note("Log", "A3", "on b")
    book.insert_rows("Log", before_row=2, count=2)
    assert book.values("Log") == [["h"], [None], [None], ["a"], ["b"]] and book.note("Log", "A5") == "on b"
    book.delete_rows("Log", 2, count=2)
    assert book.values("Log") == [["h"], ["a"], ["b"]]


def test_sheet_properties_and_masks(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["a", "b"], ["c", "d"], ["e", "f"]]})
    props = {"sheetId": 0, "title": "QC Log", "hidden": False, "gridProperties": {"frozenRowCount": 1, "rowCount": 2}}
    mask = "title,gridProperties.frozenRowCount,gridProperties/rowCount"
    client.batch(book.key, {"updateSheetProperties": {"properties": props, "fields": mask}})
    meta = book.sheet("QC Log")["properties"]
    assert meta == {
        "sheetId": 0,
        "title": "QC Log",
        "index": 0,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 2, "columnCount": 26, "frozenRowCount": 1},
    }
    assert book.values("QC Log") == [["a", "b"], ["c", "d"]]  # the grid shrank: row 3 is gone
    fmt = {"backgroundColor": {"red": 1}, "textFormat": {"bold": True}}
    whole = {"range": {"sheetId": 0}, "cell": {"userEnteredFormat": fmt}, "fields": "userEnteredFormat"}
    client.batch(book.key, {"repeatCell": whole})
    five = {"userEnteredValue": {"numberValue": 5}, "userEnteredFormat": {"backgroundColor": {"blue": 1}}}
    cells = {
        "rows": [{"values": [five]}],
        "fields": "userEnteredValue,userEnteredFormat.backgroundColor",
        "range": _rows(0, 1, startColumnIndex=0, endColumnIndex=2),
    }
    client.batch(book.key, {"updateCells": cells})
    assert book.values("QC Log") == [[5, None], ["c", "d"]]  # B1 is in the range but not in rows: cleared
    blue = {"backgroundColor": {"blue": 1}, "backgroundColorStyle": {"rgbColor": {"blue": 1}}}
    assert book.format("QC Log", "A1") == {**blue, "textFormat": {"bold": True}}  # Google echoes both colour forms
    assert book.format("QC Log", "B1") == {"textFormat": {"bold": True}}


def test_spreadsheet_get_grid_data_and_fields(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["Case", 1.5]], "Other": [["x"]]}, time_zone="Europe/Berlin")
    book.set_note("Log", "A1", "header")
    data = client.get(book.key, includeGridData="true", ranges="Log!A1:B1").json()
    assert [s["properties"]["title"] for s in data["sheets"]] == ["Log"]
    grid = data["sheets"][0]["data"][0]
    first, second = grid["rowData"][0]["values"]
    assert first["userEnteredValue"] == {"stringValue": "Case"} and first["note"] == "header"
    assert second["effectiveValue"] == {"numberValue": 1.5} and second["formattedValue"] == "1.5"
    assert grid["rowMetadata"] == [{"pixelSize": 21}] and len(grid["columnMetadata"]) == 2
    only = client.get(book.key, fields="properties.timeZone,sheets.properties(title,index)").json()
    assert only == {
        "properties": {"timeZone": "Europe/Berlin"},
        "sheets": [{"properties": {"title": "Log", "index": 0}}, {"properties": {"title": "Other", "index": 1}}],
    }


# -- charts --------------------------------------------------------------------------------------------------------


def _column(sheet_id: int, column: int, first: int, last: int) -> dict[str, Any]:
    """A GridRange over rows [first, last) of one column."""
    return {"sheetId": sheet_id, "startRowIndex": first, "endRowIndex": last,
            "startColumnIndex": column, "endColumnIndex": column + 1}  # fmt: skip


def _chart(sheet_id: int, title: str, chart_id: int | None = None, **series: dict[str, Any]) -> dict[str, Any]:
    """An addChart request: a column chart of B2:B4 by A2:A4 over sheet_id, anchored at D2."""
    values = series.get("values", _column(sheet_id, 1, 1, 4))
    spec = {
        "title": title,
        "basicChart": {
            "chartType": "COLUMN",
            "headerCount": 0,
            "domains": [{"domain": {"sourceRange": {"sources": [_column(sheet_id, 0, 1, 4)]}}}],
            "series": [{"series": {"sourceRange": {"sources": [values]}}, "targetAxis": "LEFT_AXIS"}],
        },
    }
    anchor = {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 3}
    chart: dict[str, Any] = {"spec": spec, "position": {"overlayPosition": {"anchorCell": anchor, "widthPixels": 600}}}
    if chart_id is not None:
        chart["chartId"] = chart_id
    return {"addChart": {"chart": chart}}


def test_add_chart_keeps_its_id_and_refuses_it_twice(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Report": [["Reason", "Cases"], ["Scratch", 3], ["Dent", 2], ["Other", 1]]})
    reply = client.batch(book.key, _chart(0, "Reasons", 4242))
    assert reply.status_code == 200, reply.text
    added = reply.json()["replies"][0]["addChart"]["chart"]
    assert added["chartId"] == 4242 and added["spec"]["title"] == "Reasons"
    assert added["position"]["overlayPosition"]["anchorCell"] == {"sheetId": 0, "rowIndex": 1, "columnIndex": 3}
    (listed,) = book.sheet("Report")["charts"]
    assert listed == added
    again = client.batch(book.key, _note_cell(0, 0, 0, "not applied"), _chart(0, "Twice", 4242))
    code, status, message = error_of(again)
    assert (code, status) == (400, "INVALID_ARGUMENT") and message.startswith("Invalid requests[1].addChart: ")
    assert "4242" in message
    assert book.note("Report", "A1") is None and len(book.sheet("Report")["charts"]) == 1  # refused whole
    assigned = client.batch(book.key, _chart(0, "No ID given")).json()["replies"][0]["addChart"]["chart"]
    assert isinstance(assigned["chartId"], int) and assigned["chartId"] > 0 and assigned["chartId"] != 4242


def test_charts_are_listed_under_the_fields_mask(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [], "Report": [["Reason", "Cases"], ["Scratch", 3]]})
    report = book.sheet_id("Report")
    client.batch(book.key, _chart(report, "Reasons", 7))
    only = client.get(book.key, fields="sheets(properties(title),charts(chartId,spec(title)))").json()
    assert only == {
        "sheets": [
            {"properties": {"title": "Log"}},
            {"properties": {"title": "Report"}, "charts": [{"chartId": 7, "spec": {"title": "Reasons"}}]},
        ]
    }
    assert "charts" not in client.get(book.key).json()["sheets"][0]  # Google leaves out an empty list


def test_update_chart_spec_and_position_and_delete(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Report": [["Reason", "Cases", "Refunds"], ["Scratch", 3, 1]]})
    client.batch(book.key, _chart(0, "Reasons", 11))
    spec = _chart(0, "Reasons, refunded", values=_column(0, 2, 1, 4))["addChart"]["chart"]["spec"]
    assert client.batch(book.key, {"updateChartSpec": {"chartId": 11, "spec": spec}}).status_code == 200
    (chart,) = book.sheet("Report")["charts"]
    assert chart["spec"] == spec
    move = {"objectId": 11, "newPosition": {"overlayPosition": {"anchorCell": {"sheetId": 0, "rowIndex": 9}}},
            "fields": "anchorCell"}  # fmt: skip
    moved = client.batch(book.key, {"updateEmbeddedObjectPosition": move}).json()["replies"][0]
    overlay = moved["updateEmbeddedObjectPosition"]["position"]["overlayPosition"]
    assert overlay == {"anchorCell": {"sheetId": 0, "rowIndex": 9, "columnIndex": 0}, "widthPixels": 600}
    for kind, params, words in [
        ("updateChartSpec", {"chartId": 12, "spec": spec}, "No chart with id: 12"),
        ("deleteEmbeddedObject", {"objectId": 12}, "No object with id: 12"),
        ("updateEmbeddedObjectPosition", dict(move, objectId=12), "No object with id: 12"),
    ]:
        code, status, message = error_of(client.batch(book.key, {kind: params}))
        assert (code, status, message) == (400, "INVALID_ARGUMENT", f"Invalid requests[0].{kind}: {words}")
    assert client.batch(book.key, {"deleteEmbeddedObject": {"objectId": 11}}).status_code == 200
    assert "charts" not in book.sheet("Report")


def test_a_charts_sources_must_be_lines_inside_an_existing_grid(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Report": [["Reason", "Cases"], ["Scratch", 3]]})
    client.batch(book.key, {"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"rowCount": 10}},
                                                      "fields": "gridProperties.rowCount"}})  # fmt: skip
    square = {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 1, "endColumnIndex": 3}
    for values, words in [
        (_column(99, 1, 1, 4), "No grid with id: 99"),
        (_column(0, 1, 1, 11), "exceeds grid limits"),
        (square, "ChartSourceRange ranges require all rows or all columns to have length of 1"),
    ]:
        code, status, message = error_of(client.batch(book.key, _chart(0, "Bad", values=values)))
        assert (code, status) == (400, "INVALID_ARGUMENT") and message.startswith("Invalid requests[0].addChart: ")
        assert words in message
        spec = _chart(0, "Bad", values=values)["addChart"]["chart"]["spec"]
        client.batch(book.key, _chart(0, "Good", 5))
        refused = client.batch(book.key, {"updateChartSpec": {"chartId": 5, "spec": spec}})
        assert words in error_of(refused)[2]
        client.batch(book.key, {"deleteEmbeddedObject": {"objectId": 5}})
    assert "charts" not in book.sheet("Report")


def test_deleting_a_sheet_deletes_its_charts(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [], "Report": [["Reason", "Cases"], ["Scratch", 3]]})
    report = book.sheet_id("Report")
    client.batch(book.key, _chart(report, "Reasons", 21))
    assert client.batch(book.key, {"deleteSheet": {"sheetId": report}}).status_code == 200
    assert client.batch(book.key, {"deleteEmbeddedObject": {"objectId": 21}}).status_code == 400
    client.batch(book.key, {"addSheet": {"properties": {"title": "Report", "sheetId": report}}})
    assert client.batch(book.key, _chart(report, "Reasons", 21)).status_code == 200  # the ID is free again


# -- faults, hooks, the request log --------------------------------------------------------------------------------


def test_scripted_faults_are_consumed_in_order(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    api.fail(method="PUT", path_contains="/values/", status=429, times=2)
    api.fail(method="PUT", path_contains="/values/", status=503, times=1)
    statuses = [client.write(book.key, "Log!A1", [["x"]]) for _ in range(4)]
    assert [r.status_code for r in statuses] == [429, 429, 503, 200]
    assert error_of(statuses[0])[1] == "RESOURCE_EXHAUSTED" and error_of(statuses[2])[1] == "UNAVAILABLE"
    assert [r.method for r in api.requests] == ["PUT"] * 4


def test_apply_first_writes_then_answers_the_error(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    api.fail(path_contains=":batchUpdate", status=500, apply_first=True)
    reply = client.batch(book.key, _note_cell(0, 0, 0, "landed"))
    assert error_of(reply) == (500, "INTERNAL", "Internal error encountered.")
    assert book.note("Log", "A1") == "landed"


def test_skip_makes_a_fault_hit_exactly_the_nth_request(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    api.fail(method="GET", path_contains="/values/", status=500, skip=2, times=1)
    assert [client.get(book.key, "/values/Log").status_code for _ in range(4)] == [200, 200, 500, 200]


def test_before_hook_changes_the_sheet_at_the_exact_moment(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": [["Case"], ["QC-1"], ["QC-2"]]})
    seen: list[Request] = []

    def person_inserts_a_row(request: Request) -> None:
        seen.append(request)
        if request.path.endswith("values:batchUpdate"):
            book.insert_rows("Log", before_row=2)

    api.before(person_inserts_a_row)
    client.get(book.key, "/values/Log")
    body = {"valueInputOption": "RAW", "data": [{"range": "Log!B3", "values": [["checked"]]}]}
    client.call("POST", book.key, "/values:batchUpdate", body)
    assert book.values("Log") == [["Case", None], [None, None], ["QC-1", "checked"], ["QC-2", None]]
    assert [r.path.rsplit("/", 1)[-1] for r in seen] == ["Log", "values:batchUpdate"]


def test_requests_are_recorded_decoded(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"QC Log": []})
    client.write(book.key, "'QC Log'!A1", [["x"]], "USER_ENTERED")
    request = api.requests[-1]
    assert request.method == "PUT" and request.path == f"/v4/spreadsheets/{book.key}/values/'QC Log'!A1"
    assert request.query == {"valueInputOption": ["USER_ENTERED"]} and request.body == {"values": [["x"]]}
    assert request.principal == SA


def test_concurrent_writers_do_not_lose_cells(api: SheetsApiServer, client: Client) -> None:
    book = api.create_spreadsheet(tabs={"Log": []})
    token = client.session.headers["Authorization"].split()[1]

    def write(row: int) -> None:
        Client(api.url, token).write(book.key, f"Log!A{row}", [[f"r{row}"]])

    threads = [threading.Thread(target=write, args=(row,)) for row in range(1, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [row[0] for row in book.values("Log")] == [f"r{row}" for row in range(1, 41)]


# -- gspread -------------------------------------------------------------------------------------------------------


def gspread_client(api: SheetsApiServer, keyfile: Path) -> gspread.Client:
    class LocalHTTPClient(gspread.http_client.HTTPClient):
        def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
            return super().request(method, endpoint.replace("https://sheets.googleapis.com", api.url), *args, **kwargs)

    return gspread.Client(sa_credentials(api, keyfile, gspread.auth.DEFAULT_SCOPES), http_client=LocalHTTPClient)


def test_gspread_reads_and_writes_through_the_server(api: SheetsApiServer, keyfile: Path) -> None:
    rows = [["Case ID", "Logged", "Cost"], ["QC-1", dt.date(2026, 3, 2), 25.5], ["QC-2", dt.date(2026, 3, 3), 4]]
    book = api.create_spreadsheet(title="After-sales", tabs={"QC Log": rows, "Vendors": [["Name"]]}, share_with=[SA])
    spreadsheet = gspread_client(api, keyfile).open_by_key(book.key)
    assert spreadsheet.title == "After-sales" and [w.title for w in spreadsheet.worksheets()] == ["QC Log", "Vendors"]
    got = spreadsheet.values_batch_get(["'QC Log'!A1:C", "Vendors"], params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert got["valueRanges"][0]["values"] == [["Case ID", "Logged", "Cost"], ["QC-1", 46083, 25.5], ["QC-2", 46084, 4]]
    worksheet = spreadsheet.worksheet("QC Log")
    worksheet.batch_update([{"range": "C2", "values": [[30]]}], value_input_option="RAW")
    spreadsheet.batch_update({"requests": [_note_cell(worksheet.id, 1, 0, "re-weighed")]})
    assert book.values("QC Log")[1] == ["QC-1", 46083, 30] and book.note("QC Log", "A2") == "re-weighed"
    assert worksheet.get_all_records()[0] == {"Case ID": "QC-1", "Logged": "2026-03-02", "Cost": 30}
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gspread_client(api, keyfile).open_by_key("1" + "z" * 43)


def test_a_big_tab_round_trips(api: SheetsApiServer, client: Client) -> None:
    """The benchmark's size: 50,000 rows x 20 columns read and rewritten in one call each."""
    rows = [[f"r{r}c{c}" if c % 2 else r + c / 4 for c in range(20)] for r in range(50_000)]
    book = api.create_spreadsheet(tabs={"Big": rows})
    read = client.values(book.key, "Big", valueRenderOption="UNFORMATTED_VALUE")["values"]
    assert len(read) == 50_000 and read[-1][:2] == [49999, "r49999c1"]
    body = {"valueInputOption": "RAW", "data": [{"range": "Big!A1", "values": read}]}
    assert client.call("POST", book.key, "/values:batchUpdate", body).json()["totalUpdatedCells"] == 1_000_000
