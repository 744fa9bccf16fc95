"""`kakosheet gsheet setup`: make a team's Google Sheet its master workbook, safely repeatable."""

from __future__ import annotations

from kakosheet.config import Config
from kakosheet.errors import UsageError
from kakosheet.sources.gsheet_client import SheetsClient
from kakosheet.sources.gsheet_setup import SetupResult, plan_setup, read_sheet, wanted_schemas
from kakosheet.sources.gsheet_spec import GoogleAccess, is_google_sheet, sheet_key


def setup_google_sheet(config: Config, spec: str | None = None) -> SetupResult:
    """Bring the Google Sheet (SOURCE, else the config's `source`) to the master workbook's shape:
    one batchUpdate with only the differences, none when it is already set up."""
    spec = spec or config.source
    if not spec or not is_google_sheet(spec):
        raise UsageError(
            "kakosheet gsheet setup needs a Google Sheet: pass gsheet:KEY or the sheet's URL, or set `source` "
            "in kakosheet.toml to one"
        )
    schemas = config.load_schemas()
    wanted = wanted_schemas(schemas, config.logs)
    client = SheetsClient.connect(sheet_key(spec), GoogleAccess.resolve(config.credentials, config.sheets_api_url))
    results: list[SetupResult] = []

    def plan(attempt: int) -> list[dict[str, object]]:
        found = read_sheet(client, wanted)
        client.title = found.title
        planned = plan_setup(found, wanted, schemas)
        if not results:
            results.append(SetupResult(client.label, planned.added_tabs, planned.added_columns, planned.counts))
        return planned.requests

    sent = client.send_missing(plan)
    results[0].resent = max(sent - 1, 0)
    return results[0]
