"""What a Google Sheet write-back must keep (tools/mutation.py plants the bugs these catch):
values go in as they are (RAW), never parsed as if a person had typed them."""

from __future__ import annotations

import datetime as dt

from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from tests.gsheet.sheets import GoogleSheet
from tests.helpers import QC_LABELS, qc_row, qc_tab

NOW = dt.datetime(2026, 6, 30, 9, 0)
ID = QC_LABELS.index("Case ID")


def test_an_id_that_looks_like_a_number_is_written_as_text(google_sheet: GoogleSheet, team: Config) -> None:
    """A team whose case numbers are digits only: 20260001 typed by the Sheets UI would become a number."""
    schema = team.schemas_dir / "qc.yaml"
    schema.write_text(
        schema.read_text().replace('template: "QC-{year}-{number:04d}"', 'template: "{year}{number:04d}"')
    )
    team = load_config(team.path)
    google_sheet.create({"QC Log": qc_tab([qc_row(Description="first"), qc_row(Description="second")])})

    sync_source(team, google_sheet.spec, now=NOW)

    written = [row[ID] for row in google_sheet.book.values("QC Log")[1:]]
    assert written == ["20260001", "20260002"]  # text, as kakosheet wrote it
    again = sync_source(team, google_sheet.spec, now=NOW + dt.timedelta(hours=1))
    assert again.counts["qc"]["unchanged"] == 2 and again.counts["qc"]["conflicts"] == 0
