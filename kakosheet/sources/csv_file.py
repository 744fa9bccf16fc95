"""Reading a CSV file into a grid, as a workbook tab is read: text cells, sheet row numbers kept.

The file is UTF-8 (a byte-order mark, as Excel writes "CSV UTF-8", is dropped); the delimiter
is a semicolon (Excel in locales with a decimal comma), a comma or a tab (what shops' and ERPs'
"tab-separated" exports use), told from the header line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kakosheet.core.grid import Grid
from kakosheet.errors import SourceError

DELIMITERS = ";,\t"


def read_csv_grid(path: Path) -> Grid:
    """Every row of the file, padded to the widest; a SourceError (exit 3) when it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"{path.name}: no such file; check the path") from exc
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f'{path.name}: is not UTF-8 text (byte {exc.start + 1} is not); save it as "CSV UTF-8" and import again'
        ) from exc
    if not content.strip():
        raise SourceError(f"{path.name}: the file is empty; export the orders again, a header row first")
    if "\x00" in content:
        raise SourceError(f"{path.name}: holds binary data, not CSV text; export the orders as CSV UTF-8 or .xlsx")
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter_of(content), strict=True))
    except csv.Error as exc:
        raise SourceError(f"{path.name}: is not well-formed CSV ({exc}); export it again as CSV UTF-8") from exc
    width = max((len(row) for row in rows), default=0)
    return Grid(sheet=path.name, rows=[row + [""] * (width - len(row)) for row in rows])


def delimiter_of(content: str) -> str:
    """The delimiter of the first non-blank line: whichever of ; , and tab it holds more of, outside quotes."""
    first = next((line for line in content.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return max(DELIMITERS, key=first.count)
