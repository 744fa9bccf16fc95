"""`kakosheet setup [SOURCE]`: the team's live master (a workbook or a Google Sheet) brought up
to its schemas. Only kakosheet's parts are added or corrected; a second run changes nothing."""

from __future__ import annotations

from kakosheet.config import Config
from kakosheet.core.setup_result import SetupResult
from kakosheet.errors import UsageError
from kakosheet.sources import open_source
from kakosheet.sources.gsheet_spec import is_google_sheet


def upgrade_source(config: Config, spec: str | None = None) -> SetupResult:
    """Set up SOURCE (else the config's `source`): a Google Sheet through the Sheets API, a workbook
    by patching its package."""
    chosen = spec or config.source
    if not chosen:
        raise UsageError(
            "no source given: pass a workbook (kakosheet setup master.xlsx) or a Google Sheet (gsheet:KEY), "
            "or set `source` in kakosheet.toml (run it in the team's folder, or pass --config)"
        )
    if is_google_sheet(chosen):
        from kakosheet.app.gsheet_setup import setup_google_sheet

        return setup_google_sheet(config, chosen)
    from kakosheet.sources.xlsx import XlsxSource
    from kakosheet.sources.xlsx_setup import setup_workbook

    schemas = config.load_schemas()
    opened = open_source(chosen, base=config.root if spec is None else None)  # a folder or a .csv: exit 2
    assert isinstance(opened, XlsxSource)
    return setup_workbook(opened.path, schemas, config.logs)
