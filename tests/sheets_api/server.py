"""SheetsApiServer: a local HTTP server speaking the Sheets API v4, a little of Drive v3 and Google's token
endpoint, so gspread and google-auth run their real code against it.

Requests are recorded in order; scripted faults and a before-hook let a test fail or change things at an exact
moment. One re-entrant lock guards the state; hooks run outside it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import cells
from .auth import Auth
from .book import Book
from .defaults import DEFAULT_COLUMNS, DEFAULT_ROWS
from .errors import ApiError, invalid
from .routes import Call, Router
from .state import Spreadsheet, new_spreadsheet_id


@dataclass(frozen=True)
class Request:
    """A recorded call: path is percent-decoded, query keeps repeated keys, body is parsed JSON or form."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    principal: str | None = None


@dataclass
class Fault:
    """A scripted failure: after `skip` matching requests pass, the next `times` get an error of `status`."""

    method: str | None
    path_contains: str
    status: int
    times: int
    apply_first: bool
    skip: int = 0
    message: str | None = None

    def matches(self, request: Request) -> bool:
        method_ok = self.method is None or self.method.upper() == request.method
        return method_ok and self.path_contains in request.path and self.times > 0


class SheetsApiServer:
    """The test server. Use as a context manager; see the package docstring for the whole API."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.RLock()
        self._books: dict[str, Spreadsheet] = {}
        self._auth = Auth("")
        self._router = Router(self._books, lambda: self._auth.known(), self.create_spreadsheet)
        self._faults: list[Fault] = []
        self._hook: Callable[[Request], Any] | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> SheetsApiServer:
        httpd = _HTTPServer((self._host, 0), _Handler)
        httpd.api = self
        self._httpd = httpd
        self._auth.token_uri = self.token_uri
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="sheets-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SheetsApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # -- principals --------------------------------------------------------------------------------------------

    def service_account_file(self, directory: str | Path, email: str = "sync@team.iam.gserviceaccount.com") -> Path:
        """Write a service-account key file for a new principal (a fresh RSA key) and return its path."""
        with self._lock:
            info = self._auth.service_account(email)
        return _write_json(Path(directory) / f"service-account-{_slug(email)}.json", info)

    def authorized_user_file(self, directory: str | Path, email: str = "ana@team.example") -> Path:
        """Write an authorized_user file (client id/secret, refresh token, token_uri) and return its path."""
        with self._lock:
            info = self._auth.authorized_user(email)
        return _write_json(Path(directory) / f"authorized-user-{_slug(email)}.json", info)

    def revoke(self, email: str) -> None:
        """Token requests for this principal now fail with invalid_grant; tokens it holds stop working (401)."""
        with self._lock:
            self._auth.revoke(email)

    # -- spreadsheets ------------------------------------------------------------------------------------------

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        tabs: Mapping[str, Iterable[Iterable[Any]]] | None = None,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        share_with: Iterable[str] | None = None,
    ) -> Book:
        """A new spreadsheet with tabs of Python values (row 1 first); share_with=None shares it with everyone."""
        with self._lock:
            key = new_spreadsheet_id()
            book = Spreadsheet(key, title, locale, time_zone)
            for index, (tab, rows) in enumerate((tabs or {"Sheet1": []}).items()):
                _add_tab(book, tab, [list(row) for row in rows], 0 if index == 0 else book.new_sheet_id())
            book.shared_with = None if share_with is None else set(share_with)
            self._books[key] = book
            return Book(self, key)

    def spreadsheet(self, key: str) -> Book:
        """The handle of a spreadsheet made through the API (Drive create or spreadsheets.create)."""
        with self._lock:
            if key not in self._books:
                raise KeyError(key)
        return Book(self, key)

    # -- scripting ---------------------------------------------------------------------------------------------

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def fail(
        self,
        method: str | None = "POST",
        path_contains: str = ":batchUpdate",
        status: int = 429,
        times: int = 1,
        apply_first: bool = False,
        skip: int = 0,
        message: str | None = None,
    ) -> None:
        """Queue a fault: the next `times` matching requests (after `skip` pass untouched) get Google's error.

        With apply_first the request is applied and then answered with the error (the reply was lost).
        """
        with self._lock:
            self._faults.append(Fault(method, path_contains, status, times, apply_first, skip, message))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def before(self, hook: Callable[[Request], Any] | None) -> None:
        """Call hook(request) before each /v4 request is handled (None removes it)."""
        self._hook = hook

    # -- request handling --------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, Any]:
        """One HTTP request to (status, JSON body or None)."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = unquote(parts.path)
        try:
            body = _parse_body(parts.path, raw)
        except ApiError as error:
            return error.code, error.body()
        with self._lock:
            grant = self._auth.grant_for(headers.get("Authorization"))
            request = Request(method, path, query, body, grant.email if grant else None)
            self.requests.append(request)
        hook = self._hook
        if hook is not None and path.startswith("/v4/"):
            hook(request)
        with self._lock:
            fault = self._take_fault(request)
            if fault is not None and not fault.apply_first:
                return _fault_reply(fault)
            reply = self._route(method, parts.path, query, body, headers)
            if fault is not None:
                return _fault_reply(fault)
            return reply

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self._faults:
            if fault.matches(request):
                if fault.skip:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    def _route(self, method: str, raw_path: str, query: dict, body: Any, headers: Mapping[str, str]) -> tuple[int, Any]:
        try:
            if raw_path == "/token" and method == "POST":
                return Router.token(self._auth, body if isinstance(body, dict) else {})
            call = Call(method, raw_path, query, body, self._auth.grant_for(headers.get("Authorization")))
            if raw_path.startswith("/v4/"):
                return self._router.sheets(call)
            if raw_path.startswith("/drive/v3/files"):
                return self._router.drive(call)
            raise ApiError(404)
        except ApiError as error:
            return error.code, error.body()


def _add_tab(book: Spreadsheet, title: str, rows: list[list[Any]], sheet_id: int) -> None:
    width = max((len(row) for row in rows), default=0)
    props = {
        "sheetId": sheet_id,
        "title": title,
        "index": len(book.sheets),
        "sheetType": "GRID",
        "gridProperties": {"rowCount": max(DEFAULT_ROWS, len(rows)), "columnCount": max(DEFAULT_COLUMNS, width)},
    }
    sheet = book.add_sheet(props)
    for r, row in enumerate(rows):
        if row:
            sheet.put_row(r, 0, [cells.from_python(value) for value in row])
    sheet.rows = [row if any(v is not None for v in row) else [] for row in sheet.rows]


def _parse_body(raw_path: str, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8")
    if raw_path == "/token":
        return {key: items[-1] for key, items in parse_qs(text, keep_blank_values=True).items()}
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid(f"Invalid JSON payload received. {error.msg}.") from None


def _fault_reply(fault: Fault) -> tuple[int, Any]:
    error = ApiError(fault.status, fault.message)
    return error.code, error.body()


def _write_json(path: Path, info: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return path


def _slug(email: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in email.split("@", 1)[0])


class _HTTPServer(ThreadingHTTPServer):
    """A thread per connection, and a listen backlog deep enough for a burst of parallel clients."""

    daemon_threads = True
    request_queue_size = 128
    api: SheetsApiServer


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: every reply has a Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    # Headers and body go out in one buffered write with Nagle off: otherwise every keep-alive reply waits
    # out a delayed ACK (~40 ms), which would dominate a test suite making thousands of calls.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        api = self.server.api  # type: ignore[attr-defined]
        try:
            status, body = api.handle(self.command, self.path, self.headers, raw)
        except Exception as error:  # a bug in the server must not hang the client: answer 500
            status, body = 500, ApiError(500, f"test server error: {error!r}").body()
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: pytest output stays readable."""
