"""Which sources are Google Sheets, their keys, and where kakosheet finds credentials and the API.

Kept free of gspread and google-auth, so opening a workbook file does not import them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from kakosheet.errors import UsageError

GOOGLE_ROOT = "https://sheets.googleapis.com"
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
API_URL_ENV = "KAKOSHEET_SHEETS_API_URL"

# A sheet's address as people paste it: with or without the scheme, http or https, with the
# /a/DOMAIN/ of a Google Workspace link or the /u/N/ of a browser signed in to several accounts,
# whatever follows the key.
_SHEET_URL = re.compile(r"^(?:https?://)?docs\.google\.com/(?:a/[^/\s]+/)?spreadsheets/(?:u/[0-9]+/)?", re.IGNORECASE)
_KEY_IN_URL = re.compile(r"d/([A-Za-z0-9_-]+)")
_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_PREFIX = "gsheet:"


def _address(spec: str) -> str:
    """The spec without surrounding spaces or a ``gsheet:`` prefix (also before a URL)."""
    text = spec.strip()
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX) :].strip()
    return text


def is_google_sheet(spec: str) -> bool:
    text = spec.strip()
    return text[: len(_PREFIX)].lower() == _PREFIX or _SHEET_URL.match(text) is not None


def sheet_key(spec: str) -> str:
    """The spreadsheet key of ``gsheet:KEY`` or of a sheet's URL, in any form it is pasted."""
    text = _address(spec)
    url = _SHEET_URL.match(text)
    if url is not None:
        match = _KEY_IN_URL.match(text, url.end())
        key = match.group(1) if match else ""
    else:
        key = text
    if not _KEY.match(key):  # the command names no sheet: fixing the address is the user's, as for `notes`
        raise UsageError(
            f"{spec!r} does not name a Google Sheet; use gsheet:KEY (the long code in the sheet's address "
            "between /d/ and /edit) or paste the sheet's URL"
        )
    return key


@dataclass(frozen=True)
class GoogleAccess:
    """Where the credentials and the API are: the config's settings, else the environment."""

    credentials: Path | None = None
    api_url: str | None = None

    @classmethod
    def resolve(cls, credentials: Path | None, api_url: str | None) -> GoogleAccess:
        from_env = os.environ.get(CREDENTIALS_ENV)
        return cls(
            credentials=credentials or (Path(from_env).expanduser() if from_env else None),
            api_url=os.environ.get(API_URL_ENV) or api_url or GOOGLE_ROOT,
        )
