"""Which rows of a workbook's log tabs changed since the last sync, told in a child process.

The child digests every row of the tabs asked for (sources/xlsx_row_digests.py) and compares them
with the digests the last sync recorded. When few rows changed it writes a copy of the workbook
holding only those (sources/xlsx_reduced.py), which the sync then reads instead of the whole tab;
when too many did, or a tab cannot be reduced, it says so and the sync reads the tab whole.

The child runs on the other core while the sync loads what it needs (pandas, the store's cases).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kakosheet.sources.base import KnownRows
from kakosheet.sources.xlsx_package import (
    CellMarks,
    _message,
    _send,
    has_highlight,
    lower_priority,
    package_digest,
    scan_part,
)
from kakosheet.sources.xlsx_reduced import ReducedTab, reduced_part, write_reduced
from kakosheet.sources.xlsx_zip import read_part

_SHARED = "xl/sharedStrings.xml"
# A tab is reduced when at most this share of its rows changed: past it, writing and reading the
# copy saves too little over reading the tab whole.
MOST_CHANGED = 0.25


@dataclass
class ChangedRows:
    """What the child found: each part's row digests (None: not digestible), the reduced copy (None
    when no tab was reduced), and what it holds of each reduced tab."""

    digests: dict[str, dict[int, bytes] | None] = field(default_factory=dict)
    reduced: Path | None = None
    tabs: dict[str, ReducedTab] = field(default_factory=dict)  # part -> what the copy holds of it
    highlighted: dict[str, bool] = field(default_factory=dict)  # part -> whether it holds the highlight rule
    package: str = ""  # the digest of the package read (xlsx_package.package_digest): which version it was
    marks: dict[str, CellMarks] = field(default_factory=dict)  # part -> its marks in the copy (scan_cells)


def changed_rows(
    path: Path, parts: list[str], folder: Path, known_of: Callable[[], dict[str, KnownRows | None]]
) -> ChangedRows:
    """Digest the parts, compare them with the rows known of them (asked for once the digests are
    done: ``known_of``), and write the reduced copy into ``folder`` when it pays (a part known as
    None is only digested)."""
    # numpy is the child's: the sync that starts it may not read a cell at all.
    from kakosheet.sources.xlsx_row_digests import row_digests, shared_string_digests

    found = ChangedRows()
    with path.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        found.package = package_digest(archive.infolist())
        infos = {info.filename: info for info in archive.infolist()}
        shared_xml = read_part(handle, infos[_SHARED]) if _SHARED in infos else b""
        shared = shared_string_digests(shared_xml) if shared_xml else None
        if shared_xml and shared is None:
            return ChangedRows(dict.fromkeys(parts), package=found.package)
        read = {part: read_part(handle, infos[part]) for part in parts}
    digested = {part: row_digests(sheet, shared) for part, sheet in read.items()}
    known = known_of()
    reduced: dict[str, bytes] = {}
    for part, sheet in read.items():
        before, digests = known.get(part), digested[part]
        found.digests[part] = digests.digests if digests is not None else None
        tail = sheet[sheet.rfind(b"</sheetData>") :]
        found.highlighted[part] = has_highlight(tail)
        if before is None or digests is None or b"mergeCell" in tail:
            continue
        rows = digests.digests
        header = [row for row in rows if row <= before.header_rows]
        if any(rows[row] != before.digests.get(row) for row in header):
            continue  # the header's rows changed: the tab is read whole
        wanted = sorted(
            row for row, digest in rows.items() if row > before.header_rows and before.digests.get(row) != digest
        )
        if len(wanted) > MOST_CHANGED * max(len(rows), 1):
            continue
        xml, held = reduced_part(sheet, digests.spans, before.header_rows, wanted)
        reduced[part] = xml
        found.tabs[part] = ReducedTab(part, held)
    if reduced:
        found.reduced = folder / "reduced.xlsx"
        write_reduced(path, found.reduced, reduced)
        # The copy's marks of the parts at hand, so that reading it takes no scan of its own.
        found.marks = {part: scan_part(reduced.get(part, sheet)) for part, sheet in read.items()}
    return found


class ChangedRowsScan:
    """changed_rows in a child process, started at once on the parts given; what is known of their
    rows is told when the caller knows it (``tell``); ``result`` waits for what the child found."""

    def __init__(self, path: Path, parts: list[str]) -> None:
        self.parts = parts
        self.folder = tempfile.TemporaryDirectory(prefix="kakosheet-")
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by close(), with the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kakosheet.sources.xlsx_changed_rows", str(path), self.folder.name, *parts],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
        )
        self._feeding: threading.Thread | None = None
        self._result: ChangedRows | None = None

    def tell(self, known: dict[str, KnownRows | None]) -> None:
        """What the last sync recorded of the parts' rows (None: nothing, they are only digested).
        It is written while the child digests (the child reads it only then): a megabyte at 100k
        rows, which would otherwise hold the caller until the child got to it."""
        if self._feeding is None:
            data = pickle.dumps(known, protocol=pickle.HIGHEST_PROTOCOL)
            self._feeding = threading.Thread(target=self._feed, args=(data,), name="kakosheet-known", daemon=True)
            self._feeding.start()

    def lower_priority(self) -> None:
        """The digests are only recorded, for the next sync: the caller's own work comes first."""
        lower_priority(self.process)

    def _feed(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(data)
            stdin.close()
        except (OSError, ValueError):
            pass  # a child that ended early: result() says so

    def result(self) -> ChangedRows | None:
        """What the child found; None when it failed (the sync then reads every row, and says
        what is wrong with the file if anything is)."""
        self.tell(dict.fromkeys(self.parts))  # nothing known, if nothing was told
        if self._result is None and self.process.stdout is not None:
            found = _message(self.process.stdout)
            self._result = found if isinstance(found, ChangedRows) else ChangedRows()
        return self._result if self._result is not None and self._result.digests else None

    def close(self) -> None:
        """The child ended and waited for, its copy removed."""
        if self.process.poll() is None:
            self.process.kill()
        if self._feeding is not None:
            self._feeding.join()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stdin is not None and self._feeding is None:
            self.process.stdin.close()
        self.process.wait()
        self.errors.close()
        self.folder.cleanup()


def _main(arguments: list[str]) -> None:
    path, folder, parts = Path(arguments[0]), Path(arguments[1]), arguments[2:]

    def known_of() -> dict[str, KnownRows | None]:
        return pickle.loads(sys.stdin.buffer.read())  # type: ignore[no-any-return]

    try:
        found = changed_rows(path, parts, folder, known_of)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, pickle.UnpicklingError) as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        found = ChangedRows()
    _send(found)


if __name__ == "__main__":
    # Through the module's own name, so the pickled results name kakosheet's classes, not __main__'s.
    from kakosheet.sources.xlsx_changed_rows import _main as main

    main(sys.argv[1:])
