"""Replays real Google Sheets API exchanges (gspread's recorded cassettes) against the test server.

Each cassette is a sequence of requests a real client made and the replies Google gave. Every request is sent
to the test server in order, and each reply must have Google's status and the same JSON: the same keys at every
level, list elements alike, and equal values wherever they are deterministic. IDs (spreadsheet, sheet, file) are
random on both sides, so they are mapped: a recorded ID learnt from a Drive create or an addSheet reply stands
for the one the server returned. Timestamps are only checked for their format.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import service_account

from tests.helpers import CORPUS
from tests.sheets_api import SheetsApiServer

CASSETTES_DIR = CORPUS / "sheets-api"
CASSETTES = sorted(CASSETTES_DIR.glob("*.json"))
ROOTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
TIMESTAMP_KEYS = {"createdTime", "modifiedTime"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ID_IN_PATH = re.compile(r"/(?:spreadsheets|files)/([^/?:]+)")


@pytest.fixture(scope="module")
def api() -> Iterator[SheetsApiServer]:
    with SheetsApiServer() as server:
        yield server


@pytest.fixture(scope="module")
def token(api: SheetsApiServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An access token got the way gspread gets one: google-auth's service-account flow against /token."""
    path = api.service_account_file(tmp_path_factory.mktemp("keys"), email="replay@gspread.iam.gserviceaccount.com")
    credentials = service_account.Credentials.from_service_account_file(str(path), scopes=gspread.auth.DEFAULT_SCOPES)
    credentials = credentials.with_token_uri(api.token_uri)
    credentials.refresh(AuthRequest())
    return str(credentials.token)


class Replay:
    """Sends a cassette's requests and compares each reply with the recorded one."""

    def __init__(self, api: SheetsApiServer, token: str) -> None:
        self.api = api
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.ids: dict[str, str] = {}
        self.sheet_ids: dict[int, int] = {}
        self.problems: list[str] = []

    def prepare(self, interactions: list[dict[str, Any]]) -> None:
        """IDs used but never created in the cassette: a 403 needs a file the caller cannot see."""
        created = {_json(i["response"]).get("id") for i in interactions if _is_drive_create(i["request"])}
        for interaction in interactions:
            match = ID_IN_PATH.search(interaction["request"]["uri"])
            if match and match.group(1) not in created and interaction["response"]["status"]["code"] == 403:
                self.ids[match.group(1)] = self.api.create_spreadsheet(title="Private", share_with=[]).key

    def run(self, index: int, interaction: dict[str, Any]) -> None:
        recorded_request, recorded = interaction["request"], interaction["response"]
        method, url, body = self._request(recorded_request)
        response = self.session.request(method, url, data=body, headers={"Content-Type": "application/json"})
        where = f"[{index}] {method} {recorded_request['uri']}"
        expected_status = recorded["status"]["code"]
        if response.status_code != expected_status:
            self.problems.append(f"{where}: status {response.status_code}, Google said {expected_status}")
            return
        expected_text = recorded["body"]["string"]
        if not expected_text.strip():
            if response.content:
                self.problems.append(f"{where}: body {response.text[:200]!r}, Google sent none")
            return
        expected, actual = json.loads(expected_text), response.json()
        self._learn(recorded_request, expected, actual)
        self.problems.extend(f"{where}: {problem}" for problem in self.compare(expected, actual, "$"))

    def _request(self, recorded: dict[str, Any]) -> tuple[str, str, bytes | None]:
        url = recorded["uri"]
        for root in ROOTS:
            url = url.replace(root, self.api.url)
        for old, new in self.ids.items():
            url = url.replace(old, new)
        body = recorded.get("body")
        if not body:
            return recorded["method"], url, None
        data = self._map_sheet_ids(json.loads(body))
        return recorded["method"], url, json.dumps(data).encode()

    def _map_sheet_ids(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: self.sheet_ids.get(v, v) if k == "sheetId" and isinstance(v, int) else self._map_sheet_ids(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._map_sheet_ids(item) for item in value]
        return value

    def _learn(self, request: dict[str, Any], expected: Any, actual: Any) -> None:
        """Map the IDs a reply introduces (a created file, an added sheet) to the server's."""
        if _is_drive_create(request) and "id" in expected and "id" in actual:
            self.ids[expected["id"]] = actual["id"]
        for old, new in zip(expected.get("replies", []), actual.get("replies", []), strict=False):
            if "addSheet" in old and "addSheet" in new:
                self.sheet_ids[old["addSheet"]["properties"]["sheetId"]] = new["addSheet"]["properties"]["sheetId"]

    def compare(self, expected: Any, actual: Any, path: str, key: str = "") -> Iterator[str]:
        """Differences between a recorded value and the server's, as readable lines."""
        if isinstance(expected, dict):
            yield from self._compare_dicts(expected, actual, path)
        elif isinstance(expected, list):
            if not isinstance(actual, list) or len(actual) != len(expected):
                yield f"{path}: {_short(actual)} where Google has {_short(expected)}"
                return
            for index, (old, new) in enumerate(zip(expected, actual, strict=True)):
                yield from self.compare(old, new, f"{path}[{index}]", key)
        elif _kind(expected) != _kind(actual) or not self._same_scalar(key, expected, actual):
            yield f"{path}: {actual!r} where Google has {expected!r}"

    def _compare_dicts(self, expected: dict[str, Any], actual: Any, path: str) -> Iterator[str]:
        if not isinstance(actual, dict):
            yield f"{path}: {_short(actual)} where Google has an object"
            return
        for missing in expected.keys() - actual.keys():
            yield f"{path}.{missing}: missing (Google has {_short(expected[missing])})"
        for extra in actual.keys() - expected.keys():
            yield f"{path}.{extra}: present ({_short(actual[extra])}) but Google has no such key"
        for name in expected.keys() & actual.keys():
            yield from self.compare(expected[name], actual[name], f"{path}.{name}", name)

    def _same_scalar(self, key: str, expected: Any, actual: Any) -> bool:
        if key in TIMESTAMP_KEYS:
            return bool(TIMESTAMP.match(str(actual)))
        if key == "sheetId":
            return self.sheet_ids.get(expected, expected) == actual
        if isinstance(expected, str):
            for old, new in self.ids.items():
                expected = expected.replace(old, new)
        return bool(expected == actual)


def _is_drive_create(request: dict[str, Any]) -> bool:
    return request["method"] == "POST" and request["uri"].split("?")[0].endswith("/drive/v3/files")


def _json(response: dict[str, Any]) -> dict[str, Any]:
    text = response["body"]["string"]
    return json.loads(text) if text.strip() else {}


def _kind(value: Any) -> str:
    """JSON's types: Google's 2 and the server's 2.0 are both numbers, but True is not 1."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 160 else text[:157] + "..."


def _require_corpus() -> None:
    """Skipped on a machine without the shared corpus; in CI its absence is a failure."""
    if CASSETTES and (CASSETTES_DIR / "MANIFEST.tsv").exists():
        return
    message = "the shared Sheets API corpus is not present"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must check the test server against Google's recorded answers")
    pytest.skip(message)


@pytest.mark.parametrize("cassette", CASSETTES or [None], ids=[path.stem for path in CASSETTES] or ["no-corpus"])
def test_replay_matches_google(api: SheetsApiServer, token: str, cassette: Path | None) -> None:
    _require_corpus()
    assert cassette is not None
    interactions = json.loads(cassette.read_text(encoding="utf-8"))["interactions"]
    replay = Replay(api, token)
    replay.prepare(interactions)
    for index, interaction in enumerate(interactions):
        replay.run(index, interaction)
    assert not replay.problems, f"{cassette.name}:\n" + "\n".join(replay.problems)


def test_every_cassette_is_in_the_manifest() -> None:
    """The manifest says what each cassette is for; a cassette without a line would be replayed blind."""
    _require_corpus()
    manifest = CASSETTES_DIR / "MANIFEST.tsv"
    listed = {line.split("\t", 1)[0] for line in manifest.read_text(encoding="utf-8").splitlines()[1:] if line}
    assert {path.name for path in CASSETTES} == listed


def test_comparison_catches_differences(api: SheetsApiServer) -> None:
    """The comparison itself: a replay that passes must be able to fail."""
    replay = Replay(api, "unused")
    replay.ids["recorded-id"] = "server-id"
    expected = {"spreadsheetId": "recorded-id", "range": "Sheet1!A1:D2", "values": [["1"], []], "updatedRows": 2}
    assert not list(replay.compare(expected, dict(expected, spreadsheetId="server-id"), "$"))
    wrong = {"spreadsheetId": "server-id", "range": "Sheet1!A1:D3", "values": [["1"]], "updatedRows": True, "x": 1}
    problems = list(replay.compare(expected, wrong, "$"))
    assert len(problems) == 4, problems
    assert any("$.range" in p for p in problems) and any("$.x" in p for p in problems)
    assert any("$.values" in p for p in problems) and any("$.updatedRows" in p for p in problems)
