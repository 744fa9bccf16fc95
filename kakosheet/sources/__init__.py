"""Sources: where the sheet lives. One interface (base.Source), an adapter per kind.

Adapters are imported when used, so a worker process that needs only the package reader
(xlsx_package) starts without numpy, pandas or python-calamine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kakosheet.errors import UsageError

if TYPE_CHECKING:
    from kakosheet.sources.base import Source
    from kakosheet.sources.gsheet_spec import GoogleAccess


def open_source(spec: str, *, base: Path | None = None, google: GoogleAccess | None = None) -> Source:
    """The source a SOURCE argument names: a workbook path (relative to ``base``) or a Google
    Sheet (``gsheet:KEY`` or its URL), opened with ``google``'s credentials."""
    from kakosheet.sources.gsheet_spec import GoogleAccess, is_google_sheet

    if is_google_sheet(spec):
        from kakosheet.sources.gsheet import GoogleSheetSource

        return GoogleSheetSource(spec, google or GoogleAccess.resolve(None, None))
    path = Path(spec).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    # What SOURCE names can never be read (exit 2: the command must change); a workbook
    # that is missing or damaged is exit 3 (the file must), from the adapter.
    if path.is_dir():
        raise UsageError(f"{spec}: is a folder; name the workbook in it (e.g. {Path(spec) / 'master.xlsx'})")
    if not path.suffix:
        raise UsageError(f"{spec!r} is not a workbook path (.xlsx or .xlsm) nor a Google Sheet (gsheet:KEY)")
    from kakosheet.sources.xlsx import EXTENSIONS, XlsxSource

    if path.suffix.lower() not in EXTENSIONS:
        raise UsageError(
            f"{path.name}: kakosheet reads .xlsx and .xlsm workbooks; open it in Excel and save it as .xlsx"
        )

    return XlsxSource(path)
