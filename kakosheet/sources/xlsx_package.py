"""What python-calamine does not tell: the package's shape, which cells hold formulas or errors,
and which are merged.

python-calamine returns a formula error (``#N/A``, ``#REF!``) as an empty string, the same
as a blank cell, and says nothing of merged cells. The sheet XML says what each cell really
is, so the parts of the log tabs are scanned for formula (``<f>``) and error (``t="e"``)
cells, and for the ``<mergeCells>`` and kakosheet's highlight rule after the rows, streaming,
without building a tree. The scan's child also looks at what the tabs show (their A1, and the
cells of kakosheet's own tabs) for the write-back, which then need not read it again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import posixpath
import re
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

from kakosheet.core.grid import MergedArea, column_index
from kakosheet.core.looks import HIGHLIGHT_MARK
from kakosheet.errors import SourceError

if TYPE_CHECKING:
    from kakosheet.sources.xlsx_owned_look import ShownTabs

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK"
_CHUNK = 1 << 20
SHEET_ROWS = 1_048_576
_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')
_ANY_ROW_NUMBER = re.compile(rb'row [^>]*?\br="(\d+)"')
_WIDE_COLUMN = re.compile(rb' r="([A-Z]{2,3})\d')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?\bref="\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)"')
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
# In the formula of kakosheet's highlight rule (the conditional format of a log tab that marks the
# cells its Issues note names), as sheet XML spells it: Excel escapes the ampersands, LibreOffice
# the quotes too. Either is the same rule, not a reason to add another.
_AMPERSANDS_ESCAPED = HIGHLIGHT_MARK.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
HIGHLIGHT_MARKS = (_AMPERSANDS_ESCAPED.encode(), _AMPERSANDS_ESCAPED.replace('"', "&quot;").encode())


@dataclass(frozen=True)
class Package:
    """The workbook's parts that kakosheet needs to know about."""

    sheet_parts: dict[str, str]  # sheet name -> zip member of its XML
    date1904: bool
    digest: str  # of every part's name, size and CRC: equal digests, equal content


def package_digest(infos: Iterable[zipfile.ZipInfo]) -> str:
    """What the package holds, from its central directory alone (no part is decompressed)."""
    entries = sorted(f"{info.filename}\0{info.file_size}\0{info.CRC:08x}" for info in infos)
    return hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def check_container(path: Path) -> None:
    """Refuse what is not an OOXML zip, with a message saying what the file is instead."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot open it ({exc.strerror or exc})") from exc
    if not head:
        raise SourceError(f"{path.name}: the file is empty (0 bytes); it is not a workbook")
    if head.startswith(CFB_MAGIC):
        raise SourceError(
            f"{path.name}: the workbook is encrypted with a password (or is an old .xls file); "
            "open it in Excel and save a copy as .xlsx without a password"
        )
    if not head.startswith(ZIP_MAGIC):
        raise SourceError(f"{path.name}: not an Excel workbook (.xlsx/.xlsm); open it in Excel and save it as .xlsx")


def inspect_package(path: Path) -> Package:
    """Read the workbook part and its relationships; refuse a package whose parts are ambiguous."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            digest = package_digest(archive.infolist())
            doubled = [name for name, count in Counter(names).items() if count > 1]
            if doubled:
                raise SourceError(
                    f"{path.name}: the package holds two parts named {doubled[0]!r}, and readers "
                    "disagree on which is real; open the file in Excel and save it again"
                )
            members = {name.replace("\\", "/").lstrip("/"): name for name in names}
            workbook_part = _workbook_part(archive, members)
            if workbook_part is None:
                raise SourceError(
                    f"{path.name}: the package has no workbook part; the file is damaged or not a workbook"
                )
            workbook = _parse(archive, members[workbook_part], path)
            rels_part = posixpath.join(
                posixpath.dirname(workbook_part), "_rels", posixpath.basename(workbook_part) + ".rels"
            )
            targets = _relationship_targets(archive, members, rels_part, posixpath.dirname(workbook_part), path)
    except zipfile.BadZipFile as exc:
        raise SourceError(
            f"{path.name}: the file is damaged or truncated ({exc}); restore it from a backup or save it again"
        ) from exc
    sheet_parts: dict[str, str] = {}
    date1904 = False
    for element in workbook.iter():
        tag = _local(element.tag)
        if tag == "workbookPr":
            date1904 = element.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            rel_id = element.get(f"{{{_REL_NS}}}id") or element.get(f"{{{_STRICT_REL_NS}}}id")
            name = element.get("name")
            target = targets.get(rel_id or "")
            if name and target and target in members:
                sheet_parts[name] = members[target]
    return Package(sheet_parts=sheet_parts, date1904=date1904, digest=digest)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(archive: zipfile.ZipFile, member: str, path: Path) -> ElementTree.Element:
    try:
        with archive.open(member) as handle:
            return ElementTree.parse(handle).getroot()
    except ElementTree.ParseError as exc:
        raise SourceError(f"{path.name}: the part {member} is not valid XML ({exc}); the file is damaged") from exc


def _workbook_part(archive: zipfile.ZipFile, members: dict[str, str]) -> str | None:
    if "_rels/.rels" in members:
        root = _parse(archive, members["_rels/.rels"], Path(archive.filename or "workbook"))
        for rel in root:
            if rel.get("Type", "").endswith("/officeDocument"):
                target = rel.get("Target", "").replace("\\", "/").lstrip("/")
                if target in members:
                    return target
    return "xl/workbook.xml" if "xl/workbook.xml" in members else None


def _relationship_targets(
    archive: zipfile.ZipFile, members: dict[str, str], rels_part: str, base: str, path: Path
) -> dict[str, str]:
    if rels_part not in members:
        return {}
    targets = {}
    for rel in _parse(archive, members[rels_part], path):
        target = rel.get("Target", "").replace("\\", "/")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        targets[rel.get("Id", "")] = resolved
    return targets


def _segments(path: Path, member: str) -> Iterator[bytes]:
    """The decompressed part in chunks of about a megabyte, each ending at a row's end."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        yield from row_segments(handle)


def row_segments(handle: IO[bytes]) -> Iterator[bytes]:
    """A sheet part read from ``handle`` in chunks of about a megabyte, each ending at a row's
    end (the last one holds everything after the last row): a row is never split."""
    return segments_of(iter(functools.partial(handle.read, _CHUNK), b""))


def segments_of(chunks: Iterable[bytes]) -> Generator[bytes, None, None]:
    """A sheet part given in chunks, cut again to end at a row's end (as row_segments)."""
    pending = b""
    for chunk in chunks:
        buffer = pending + chunk
        cut = _last_row_end(buffer)
        if cut is None:
            pending = buffer
            continue
        yield buffer[:cut]
        pending = buffer[cut:]
    if pending:
        yield pending


def claimed_cells(path: Path, member: str) -> tuple[int | None, int]:
    """Cells in the rectangle the sheet's ``<dimension>`` claims (None when it claims nothing), and
    the part's decompressed size (from the central directory).

    Writers keep the claim honest, but it can be far too large (A1:XFD1048576 over two rows), or
    too small (a writer that leaves "A1").
    """
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        size = archive.getinfo(member).file_size
        head = handle.read(4096)
    match = _DIMENSION.search(head)
    if match is None:
        return None, size
    rows = int(match.group(4) or match.group(2))
    return rows * (column_index(match.group(3) or match.group(1)) + 1), size


def measure_extent(path: Path, member: str) -> tuple[int, int]:
    """An upper bound of the last row number and the farthest column index that hold a cell.

    Columns past Z are measured exactly; within A..Z the answer is 25 (Z). Rows are counted
    only for sheets reaching past Z: a sheet within A..Z cannot be too large, so for those
    the answer is the sheet's row limit. Only patterns that start with a literal are
    searched, which is fast.
    """
    rows: list[bytes] = []
    max_column = -1
    for segment in _segments(path, member):
        wide = set(_WIDE_COLUMN.findall(segment))
        if wide:
            max_column = max(max_column, column_index(max(wide, key=lambda c: (len(c), c))))
        elif max_column < 25 and b' r="' in segment:
            max_column = 25
        if max_column > 25:
            rows.extend(_ANY_ROW_NUMBER.findall(segment))
    if max_column <= 25:
        return (SHEET_ROWS, max_column) if max_column >= 0 else (0, -1)
    return max(map(int, rows), default=0), max_column


def has_highlight(tail: bytes) -> bool:
    """Whether kakosheet's highlight rule is in a sheet part's tail (all that follows its last row)."""
    return any(mark in tail for mark in HIGHLIGHT_MARKS)


@dataclass(frozen=True)
class CellMarks:
    """What a sheet part says of its cells beyond their values: error cells ((sheet row,
    column) -> "#N/A"), formula cells, merged areas, and whether kakosheet's highlight rule
    is there (a write-back then need not look for it)."""

    errors: dict[tuple[int, int], str]
    formulas: set[tuple[int, int]]
    merges: list[MergedArea]
    highlighted: bool = False


def scan_cells(path: Path, member: str) -> CellMarks:
    """The error, formula and merged cells of one sheet part, and whether it has the highlight rule.

    Streams the part and parses the cells of a chunk only when the chunk holds a formula or
    an error at all. Merges and the rule are looked for in the last chunk alone: ``<mergeCells>``
    and ``<conditionalFormatting>`` follow the rows, and the last chunk holds all that comes after
    the last row (row_segments). Cells without an ``r`` reference are skipped.
    """
    return _marks_of(_segments(path, member))


def scan_part(xml: bytes) -> CellMarks:
    """scan_cells of a sheet part already read."""
    return _marks_of(segments_of(xml[at : at + _CHUNK] for at in range(0, len(xml), _CHUNK)))


def _marks_of(segments: Iterable[bytes]) -> CellMarks:
    errors: dict[tuple[int, int], str] = {}
    formulas: set[tuple[int, int]] = set()
    tail = b""
    for segment in segments:
        if b"f>" in segment or b"<f " in segment or b":f " in segment or b't="e"' in segment:
            _scan_segment(segment, errors, formulas)
        tail = segment
    merges = merged_areas(tail) if b"mergeCell" in tail else []
    return CellMarks(errors, formulas, merges, highlighted=has_highlight(tail))


def merged_areas(xml: bytes) -> list[MergedArea]:
    """The ``<mergeCell ref="A12:A14"/>`` areas in some sheet XML (a one-cell "merge" hides nothing)."""
    areas = []
    for first_letters, first_row, last_letters, last_row in _MERGE.findall(xml):
        rows = sorted((int(first_row), int(last_row)))
        columns = sorted((column_index(first_letters), column_index(last_letters)))
        if rows[0] != rows[1] or columns[0] != columns[1]:
            areas.append(MergedArea(rows[0], rows[1], columns[0], columns[1]))
    return areas


def _last_row_end(buffer: bytes) -> int | None:
    position = buffer.rfind(b"row>")
    while position != -1:
        start = buffer.rfind(b"</", 0, position)
        if start != -1 and _ROW_END.match(buffer, start):
            return position + 4
        position = buffer.rfind(b"row>", 0, position)
    return None


def _scan_segment(segment: bytes, errors: dict[tuple[int, int], str], formulas: set[tuple[int, int]]) -> None:
    for match in _CELL.finditer(segment):
        attributes, content = match.group(1), match.group(2) or b""
        is_formula = _FORMULA.search(content) is not None
        is_error = _ERROR_TYPE.search(attributes) is not None
        if not (is_formula or is_error):
            continue
        ref = _REF.search(attributes)
        if ref is None:
            continue
        key = (int(ref.group(2)), column_index(ref.group(1)))
        if is_formula:
            formulas.add(key)
        if is_error:
            value = _VALUE.search(content)
            errors[key] = value.group(1).decode("utf-8", "replace") if value else "#ERROR"


@dataclass(frozen=True)
class SentLook:
    """What the child's look found (ShownTabs), as it sent it: unpickled only when the write-back
    takes it. Its tens of thousands of cells, made while the sync builds its tables, would set off
    full collections over the rows just read; the write-back runs with the collector off."""

    data: bytes

    def shown(self) -> ShownTabs | None:
        from kakosheet.sources.xlsx_owned_look import ShownTabs  # the children that send it need not load it

        found = pickle.loads(self.data)
        return found if isinstance(found, ShownTabs) else None


def lower_priority(process: subprocess.Popen[bytes]) -> None:
    """A child whose work is wanted only later runs behind the sync's own (and behind a child the
    sync waits for): the sync's cores are theirs first."""
    # The child ended already, or the system says no: it only runs at the same priority.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, process.pid, 10)


class CellScan:
    """scan_cells for some parts, run in a child process while the caller reads the workbook; with
    ``look``, the child then looks at what the tabs show, for the write-back (xlsx_owned.tabs_shown).

    A plain child process, not a pool: it inherits no open file (so no lock of the sync),
    writes its results to a pipe and exits, also when the sync that started it was killed.
    The marks come first: the read waits for them. The child looks only once told to (look):
    when the caller's parse is done, so the look takes the core the parse used, not the parse's
    time, and goes on during the sync's next steps (the write-back, which wants it, comes seconds
    later).
    """

    def __init__(self, path: Path, members: list[str], *, look: bool = False) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        # What the child says on failure goes to a file: read from a pipe, it could fill the pipe
        # while the caller waits for the marks.
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by __exit__, with the child
        if members or look:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kakosheet.sources.xlsx_package", str(path), _LOOK if look else "", *members],
                stdin=subprocess.PIPE if look else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self.errors,
            )

    def __enter__(self) -> CellScan:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self._end()
        self.errors.close()

    def _end(self) -> None:
        """The child's output read to its end and closed, and the child waited for."""
        assert self.process is not None and self.process.stdout is not None
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()  # a child not told to look ends without looking
        if not self.process.stdout.closed:
            self.process.stdout.read()
            self.process.stdout.close()
        self.process.wait()

    def marks(self) -> dict[str, CellMarks]:
        """Part -> its marks; what stopped the scan is raised here."""
        if self.process is None:
            return {}
        assert self.process.stdout is not None
        marks = _message(self.process.stdout)
        if not isinstance(marks, dict):
            self._end()
            self.errors.seek(0)
            reason = self.errors.read().decode("utf-8", "replace").strip().splitlines()
            raise OSError(reason[-1] if reason else f"the cell scan ended with code {self.process.returncode}")
        return marks

    def look(self) -> SentLook | None:
        """What the tabs show: the child is told to look now, after the marks, and waited for; None
        when it was not asked to, or could not (the write-back then looks itself)."""
        process = self.process
        if process is None or process.stdin is None or process.stdout is None or process.stdout.closed:
            return None  # not asked to look, or ended at the marks
        try:
            process.stdin.write(_GO)
            process.stdin.close()
            data = _message_data(process.stdout)
        except OSError:  # a child that ended early: a broken pipe
            data = None
        self._end()
        return SentLook(data) if data is not None else None


_LOOK = "look"  # the child's second argument when it is to look at the tabs too
_GO = b"1"  # written to the child when it is to look now
_SIZE = 8  # bytes of the length before each message the child writes


def _message(pipe: IO[bytes]) -> object:
    """The next message from the child, unpickled; None when its output ends first."""
    data = _message_data(pipe)
    return pickle.loads(data) if data is not None else None


def _message_data(pipe: IO[bytes]) -> bytes | None:
    """The next message from the child as sent (a pickle after its length); None when its output ends first."""
    size = pipe.read(_SIZE)
    if len(size) < _SIZE:
        return None
    length = int.from_bytes(size, "big")
    data = pipe.read(length)
    return data if len(data) == length else None


def _send(message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.write(len(data).to_bytes(_SIZE, "big") + data)
    sys.stdout.buffer.flush()


def _main(arguments: list[str]) -> None:
    """The child's side of CellScan: scan the parts, send the marks; then, asked to, look at the tabs."""
    path, look, members = Path(arguments[0]), arguments[1] == _LOOK, arguments[2:]
    try:
        marks = {member: scan_cells(path, member) for member in members}
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.exit(1)
    _send(marks)
    if look and sys.stdin.buffer.read(len(_GO)) == _GO:  # told to look (else its caller no longer wants it)
        _send(_tabs_shown(path))


def _tabs_shown(path: Path) -> ShownTabs | None:
    """What the tabs show, looked at by the write-back's own code (only the child loads it), with
    the digest of the package it looked at (a save since the scan is then told apart)."""
    from kakosheet.sources.xlsx_owned import tabs_shown
    from kakosheet.sources.xlsx_owned_look import ShownTabs

    try:
        with zipfile.ZipFile(path) as archive:
            return ShownTabs(package_digest(archive.infolist()), tabs_shown(archive))
    except Exception:  # whatever stops the look stops nothing: the write-back looks itself, and says what is wrong
        return None


if __name__ == "__main__":
    # Through the module's own name, so the pickled marks name kakosheet's class, not __main__'s.
    from kakosheet.sources.xlsx_package import _main as main

    main(sys.argv[1:])
