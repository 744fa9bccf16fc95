"""Talking to the Google Sheets API v4: credentials, the API root, bounded retries, plain errors.

gspread's ``HTTPClient`` does the HTTP (through google-auth's ``AuthorizedSession``, which
fetches and refreshes the token from the credential's own ``token_uri``). kakosheet adds:
- a configurable API root (gspread hard-codes https://sheets.googleapis.com);
- its own retry of 429 and 5xx answers, bounded, exponential, with jitter (gspread's
  ``BackOffHTTPClient`` can recurse without end);
- one message per failure a user can act on, naming the sheet, never a credential.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth.exceptions
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from kakosheet.errors import SourceChangedError, SourceError
from kakosheet.sources.gsheet_spec import CREDENTIALS_ENV, GOOGLE_ROOT, GoogleAccess

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
RETRY_SECONDS_ENV = "KAKOSHEET_SHEETS_RETRY_SECONDS"
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# Google's answer to a range that names no tab of the sheet.
_NO_SUCH_TAB = "Unable to parse range"
CONVERGE_ATTEMPTS = 4  # looks at the sheet before each re-send of a non-idempotent change


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff with jitter: at most ``attempts`` tries in all."""

    attempts: int = 6
    first: float = 1.0
    cap: float = 32.0

    @classmethod
    def from_env(cls) -> Backoff:
        try:
            first = float(os.environ.get(RETRY_SECONDS_ENV, "1"))
        except ValueError:
            first = 1.0
        return cls(first=max(first, 0.0))

    def delays(self) -> Iterator[float]:
        """The waits before each retry: half the exponential step, plus a random other half."""
        for retry in range(self.attempts - 1):
            step = min(self.cap, self.first * 2**retry)
            yield step / 2 + random.uniform(0, step / 2)


def load_credentials(path: Path | None) -> tuple[Any, str]:
    """The credentials in a service-account or authorized-user JSON key, and who they sign in as."""
    if path is None:
        raise SourceError(
            "no Google credentials: set `credentials` in kakosheet.toml to a service-account JSON key, "
            f"or set {CREDENTIALS_ENV}; the README shows how to make one"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(f"{path.name}: the Google credentials file does not exist; check `credentials`") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{path.name}: not a Google credentials JSON file; download the key again") from exc
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            account = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            return account, str(info.get("client_email", "the service account"))
        if kind == "authorized_user":
            from google.oauth2 import credentials

            user = credentials.Credentials.from_authorized_user_info(info, scopes=SCOPES)
            if info.get("token_uri"):  # google-auth would otherwise always ask Google's endpoint
                user = user.with_token_uri(info["token_uri"])
            return user, "the signed-in Google user"
    except (ValueError, KeyError) as exc:
        raise SourceError(f"{path.name}: the {kind} key is incomplete or damaged; download it again") from exc
    raise SourceError(
        f"{path.name}: a Google credentials file of type {kind!r}; kakosheet signs in with a service-account "
        "key (type service_account) or an authorized-user file (type authorized_user)"
    )


class SheetsServerError(SourceError):
    """The API kept failing on its side (5xx): the request may or may not have been applied."""


class SheetsRefusedError(SourceError):
    """Google refused a change (400 or 403): it was not applied; ``reason`` is Google's own words."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class SheetsHTTPClient(HTTPClient):
    """gspread's client, rooted at the configured API and retrying 429 and 5xx within bounds."""

    def __init__(self, auth: Any, api_root: str, backoff: Backoff) -> None:
        super().__init__(auth)
        self.api_root = api_root.rstrip("/")
        self.backoff = backoff
        self.resend_on_server_error = True
        self.set_timeout((15, 180))

    def request(  # type: ignore[override]
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: Any = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        url = self.api_root + endpoint[len(GOOGLE_ROOT) :] if endpoint.startswith(GOOGLE_ROOT) else endpoint
        waits = self.backoff.delays()
        while True:
            try:
                response = self.session.request(
                    method=method,
                    url=url,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout):
                # A read is safe to send again; a write may have landed, so its caller decides.
                wait = next(waits, None) if method.upper() == "GET" else None
                if wait is None:
                    raise
                time.sleep(wait)
                continue
            if response.ok:
                return response
            retry = response.status_code == 429 or (response.status_code in RETRYABLE and self.resend_on_server_error)
            wait = next(waits, None) if retry else None
            if wait is None:
                raise APIError(response)
            time.sleep(_retry_after(response) or wait)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), Backoff.cap)
    except ValueError:
        return None


@dataclass
class SheetsClient:
    """The few Sheets API calls kakosheet makes, on one spreadsheet, with failures in plain words."""

    key: str
    http: SheetsHTTPClient
    principal: str
    title: str = ""

    @classmethod
    def connect(cls, key: str, access: GoogleAccess) -> SheetsClient:
        auth, principal = load_credentials(access.credentials)
        return cls(key, SheetsHTTPClient(auth, access.api_url or GOOGLE_ROOT, Backoff.from_env()), principal)

    @property
    def label(self) -> str:
        return f"Google Sheet {self.title!r}" if self.title else f"Google Sheet {self.key}"

    def metadata(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("read", self.http.fetch_sheet_metadata, self.key, params=params or {})

    def batch_get(self, ranges: list[str], render: str, *, by_columns: bool = False) -> list[dict[str, Any]]:
        """Values of several ranges in one request; dates as serial numbers, whatever the locale."""
        params = {
            "valueRenderOption": render,
            "dateTimeRenderOption": "SERIAL_NUMBER",
            "majorDimension": "COLUMNS" if by_columns else "ROWS",
        }
        reply = self._call("read", self.http.values_batch_get, self.key, ranges, params=params)
        return reply.get("valueRanges", [])

    def write_values(self, data: list[dict[str, Any]], *, formulas: bool = False) -> dict[str, Any]:
        """Values written as they are (RAW): a text starting with = is never evaluated. With
        ``formulas`` as a person types them (USER_ENTERED): only to put back a formula."""
        body = {"valueInputOption": "USER_ENTERED" if formulas else "RAW", "data": data}
        return self._call("write", self.http.values_batch_update, self.key, body)

    def batch_update(self, requests_: list[dict[str, Any]], *, resend_on_server_error: bool = True) -> dict[str, Any]:
        """Several changes in one atomic request. Without ``resend_on_server_error`` a 5xx answer
        raises SheetsServerError at once: the caller looks at the sheet before trying again."""
        self.http.resend_on_server_error = resend_on_server_error
        try:
            return self._call("write", self.http.batch_update, self.key, {"requests": requests_})
        finally:
            self.http.resend_on_server_error = True

    def send_missing(self, plan: Callable[[int], list[dict[str, Any]]]) -> int:
        """Send, in one atomic batchUpdate, what ``plan(attempt)`` says the sheet still lacks.

        Adding a tab, a rule or a protected range is not idempotent, and a 5xx answer may come
        after the change was applied: so it is never re-sent as it was. ``plan`` looks at the
        sheet again (from the second attempt on) and names only what is still missing.
        Returns how many batchUpdates were sent.
        """
        sent = 0
        for attempt in range(CONVERGE_ATTEMPTS):
            requests_ = plan(attempt)
            if not requests_:
                return sent
            sent += 1
            try:
                self.batch_update(requests_, resend_on_server_error=False)
                return sent
            except SheetsServerError:
                if attempt == CONVERGE_ATTEMPTS - 1:
                    raise
                time.sleep(next(self.http.backoff.delays(), 1.0) * (attempt + 1))
        return sent

    def _call(self, purpose: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except APIError as exc:
            raise self._explain(exc, purpose) from None
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):  # the sign-in service failed on its side (5xx, 429)
                raise SourceError(
                    f"{self.label}: Google's sign-in service kept failing for {self.principal} "
                    f"({_refresh_reason(exc)}); run the command again later (the next run finishes the job)"
                ) from None
            raise SourceError(
                f"{self.label}: Google refused the credentials of {self.principal} ({_refresh_reason(exc)}); "
                "check the key file, or make a new key if this one was deleted or revoked"
            ) from None
        except (google.auth.exceptions.TransportError, requests.RequestException) as exc:
            raise SourceError(
                f"{self.label}: cannot reach the Sheets API at {self.http.api_root} ({type(exc).__name__}); "
                "check the network and run again"
            ) from None

    def _explain(self, exc: APIError, purpose: str) -> SourceError | SourceChangedError:
        status = exc.response.status_code
        message = _api_message(exc)
        if status == 400 and message.startswith(_NO_SUCH_TAB):
            # The tabs were named from the metadata read at the start: staff renamed or deleted one since.
            return SourceChangedError(
                f"{self.label}: a tab was renamed or deleted while kakosheet was at work ({message}); "
                "run the command again (the next run finishes the job)"
            )
        if status == 404:
            return SourceError(f"{self.label}: no such spreadsheet; check the key or URL ({message})")
        if status == 403 and purpose == "read":
            return SourceError(
                f"{self.label}: the sheet is not shared with {self.principal}; in the sheet, Share it with "
                "that address as Editor"
            )
        if status == 403:
            return SheetsRefusedError(
                f"{self.label}: {self.principal} may read the sheet but not edit it ({message}); share it as "
                "Editor (or edit the protected ranges)",
                status=status,
                reason=message,
            )
        if status == 401:
            return SourceError(f"{self.label}: Google did not accept the credentials of {self.principal}: {message}")
        if status in RETRYABLE:
            return (SheetsServerError if status != 429 else SourceError)(
                f"{self.label}: the Sheets API kept answering {status} ({message}) after "
                f"{self.http.backoff.attempts} tries; run the command again later (the next run finishes the job)"
            )
        if status == 400 and purpose == "write":
            return SheetsRefusedError(
                f"{self.label}: the Sheets API refused the {purpose} ({status}: {message})",
                status=status,
                reason=message,
            )
        return SourceError(f"{self.label}: the Sheets API refused the {purpose} ({status}: {message})")


def _api_message(exc: APIError) -> str:
    try:
        return str(exc.response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return exc.response.reason or "no details"


def _refresh_reason(exc: google.auth.exceptions.RefreshError) -> str:
    """The OAuth error code only: the rest of google-auth's message may quote the request."""
    text = str(exc)
    match = re.search(r"\b(invalid_grant|invalid_client|unauthorized_client|invalid_scope|access_denied)\b", text)
    return match.group(1) if match else "the token request failed"


def quote_sheet(title: str) -> str:
    """A tab's name as A1 notation needs it: 'QC Log', 'It''s'."""
    return "'" + title.replace("'", "''") + "'"
