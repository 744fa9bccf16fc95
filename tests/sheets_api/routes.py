"""URL routing for /v4/spreadsheets, /drive/v3/files and /token: one function per endpoint.

Paths arrive still percent-encoded so that ":append" / ":clear" (literal colons) can be told apart from a colon
inside an encoded range; the range is decoded afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from . import metadata, values
from .auth import SHEETS_SCOPE, Grant, TokenError
from .batch import apply_batch
from .dimensions import ROWS, insert
from .errors import ApiError, invalid
from .state import Spreadsheet

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"


@dataclass
class Call:
    """One HTTP request as the routes see it."""

    method: str
    raw_path: str
    query: dict[str, list[str]]
    body: Any
    grant: Grant | None

    def param(self, name: str) -> str | None:
        found = self.query.get(name)
        return found[-1] if found else None

    def params(self) -> dict[str, Any]:
        """Single-valued query parameters (the last one wins, as in Google's frontends)."""
        return {name: items[-1] for name, items in self.query.items() if items}


Reply = tuple[int, Any]  # (status, JSON body or None)


class Router:
    """Finds the handler for a call and runs it against the server's state (the caller holds the lock)."""

    def __init__(self, books: dict[str, Spreadsheet], known: Callable[[], set[str]], new_book: Callable[..., Any]):
        self.books = books
        self.known = known
        self.new_book = new_book

    # -- sheets ------------------------------------------------------------------------------------------------

    def sheets(self, call: Call) -> Reply:
        if call.grant is None:
            raise ApiError(401)
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", call.raw_path)
        if not match:
            if call.raw_path == "/v4/spreadsheets" and call.method == "POST":
                return 200, self._create(call)
            raise ApiError(404)
        book = self._book(call, unquote(match.group(1)))
        rest = match.group(2)
        if call.method != "GET" and SHEETS_SCOPE not in call.grant.scopes:
            raise ApiError(403, "Request had insufficient authentication scopes.")
        book.principal = call.grant.email
        try:
            return 200, self._sheets_route(call, book, rest)
        finally:
            book.principal = None

    def _book(self, call: Call, key: str) -> Spreadsheet:
        book = self.books.get(key)
        if book is None:
            raise ApiError(404)
        if call.grant is None or not book.can_read(call.grant.email, self.known()):
            raise ApiError(403)
        return book

    def _sheets_route(self, call: Call, book: Spreadsheet, rest: str) -> Any:
        method, body = call.method, call.body if isinstance(call.body, dict) else {}
        simple = {
            ("GET", ""): lambda: self._get(call, book),
            ("POST", ":batchUpdate"): lambda: apply_batch(book, body),
            ("GET", "/values:batchGet"): lambda: values.batch_get(book, call.params(), call.query.get("ranges", [])),
            ("POST", "/values:batchUpdate"): lambda: values.batch_update(book, body),
            ("POST", "/values:batchClear"): lambda: values.batch_clear(book, body),
        }
        if (method, rest) in simple:
            return simple[(method, rest)]()
        if not rest.startswith("/values/"):
            raise ApiError(404)
        raw_range, action = rest[len("/values/") :], ""
        for suffix in (":append", ":clear"):
            if raw_range.endswith(suffix):
                raw_range, action = raw_range[: -len(suffix)], suffix
        text = unquote(raw_range)
        if (method, action) == ("GET", ""):
            return values.value_range(book, text, call.params())
        if (method, action) == ("PUT", ""):
            return values.update(book, text, body, call.params())
        if (method, action) == ("POST", ":clear"):
            return values.clear(book, text)
        if (method, action) == ("POST", ":append"):
            return values.append(book, text, body, call.params(), lambda sheet, at, n: insert(sheet, ROWS, at, at + n))
        raise ApiError(404)

    def _get(self, call: Call, book: Spreadsheet) -> dict[str, Any]:
        include = (call.param("includeGridData") or "false").lower() == "true"
        ranges = call.query.get("ranges", [])
        if ranges:
            grid: dict[int, list[tuple[int, int, int, int]]] = {}
            for text in ranges:
                sheet, block = values.read_block(book, text)
                grid.setdefault(sheet.id, []).append(block)
            reply = metadata.spreadsheet_json(book, grid if include else None, set(grid))
        else:
            whole = {s.id: [(0, s.row_count, 0, s.col_count)] for s in book.sheets} if include else None
            reply = metadata.spreadsheet_json(book, whole)
        return metadata.filtered(reply, call.param("fields"))

    def _create(self, call: Call) -> dict[str, Any]:
        """spreadsheets.create: a new file owned by the caller, with the given properties and tabs."""
        body = call.body if isinstance(call.body, dict) else {}
        props = body.get("properties") or {}
        given = [s.get("properties") or {} for s in body.get("sheets") or []]
        tabs = [p.get("title") or f"Sheet{i + 1}" for i, p in enumerate(given)]
        book = self.new_book(
            title=props.get("title") or "Untitled spreadsheet",
            tabs={title: [] for title in tabs or ["Sheet1"]},
            locale=props.get("locale") or "en_US",
            time_zone=props.get("timeZone") or "Etc/GMT",
            share_with=[call.grant.email] if call.grant else [],
        )
        return metadata.spreadsheet_json(self.books[book.key])

    # -- drive -------------------------------------------------------------------------------------------------

    def drive(self, call: Call) -> Reply:
        if call.grant is None:
            raise ApiError(401)
        match = re.fullmatch(r"/drive/v3/files(?:/([^/]+))?", call.raw_path)
        if not match:
            raise ApiError(404)
        key = unquote(match.group(1)) if match.group(1) else None
        if key is None:
            return self._drive_collection(call)
        book = self.books.get(key)
        if book is None or not book.can_read(call.grant.email, self.known()):
            raise _file_not_found(key)
        if call.method == "GET":
            return 200, metadata.filtered(_file_json(book), call.param("fields") or "kind,id,name,mimeType")
        if call.method == "DELETE":
            del self.books[key]
            return 204, None
        raise ApiError(404)

    def _drive_collection(self, call: Call) -> Reply:
        assert call.grant is not None
        if call.method == "POST":
            body = call.body if isinstance(call.body, dict) else {}
            if body.get("mimeType", SPREADSHEET_MIME) != SPREADSHEET_MIME:
                raise invalid("This test server only creates spreadsheets.")
            book = self.new_book(title=body.get("name") or "Untitled spreadsheet", share_with=[call.grant.email])
            return 200, metadata.filtered(_file_json(self.books[book.key]), "kind,id,name,mimeType")
        if call.method == "GET":
            name = re.search(r"name\s*=\s*'((?:[^'\\]|\\.)*)'", call.param("q") or "")
            found = [
                _file_json(b)
                for b in self.books.values()
                if b.can_read(call.grant.email, self.known()) and (name is None or b.props["title"] == name.group(1))
            ]
            files = [metadata.filtered(f, "kind,id,name,mimeType,createdTime,modifiedTime") for f in found]
            return 200, {"kind": "drive#fileList", "incompleteSearch": False, "files": files}
        raise ApiError(404)

    # -- token -------------------------------------------------------------------------------------------------

    @staticmethod
    def token(auth: Any, form: dict[str, str]) -> Reply:
        try:
            return 200, auth.token(form)
        except TokenError as error:
            return (401 if error.error == "invalid_client" else 400), error.body()


def _file_json(book: Spreadsheet) -> dict[str, Any]:
    return {
        "kind": "drive#file",
        "id": book.id,
        "name": book.props["title"],
        "mimeType": SPREADSHEET_MIME,
        "createdTime": book.created,
        "modifiedTime": book.modified,
    }


class DriveError(ApiError):
    """Drive v3 errors carry an errors[] list and no status name."""

    def body(self) -> dict[str, Any]:
        detail = {"message": self.message, "domain": "global", "reason": "notFound"}
        detail.update(location="fileId", locationType="parameter")
        return {"error": {"code": self.code, "message": self.message, "errors": [detail]}}


def _file_not_found(key: str) -> ApiError:
    return DriveError(404, f"File not found: {key}.")
