"""Writing kakosheet's cells into a workbook by patching its XML, leaving everything else alone.

openpyxl drops what it does not understand (pivot caches, some charts, macros' signatures)
and takes ~30 s to save 100k rows, so a write-back edits only:
- the rows of the log tabs that receive a value, as inline strings (the shared-string table
  is never touched); cells keep their style, new cells take their column's;
- styles.xml, only to append a date-time format and the highlight fill when missing
  (sources/xlsx_writeback_styles.py);
- a conditional format on each log tab that highlights the cells an Issues note names;
- kakosheet's own tabs, the Issues tab and the report tab (sources/xlsx_owned.py), each
  written whole as its own parts (and, the first time, the workbook, relationship and
  content-type entries that add it).
Every other part is copied unchanged; a cell holding a formula is never replaced. The file
is replaced atomically, after a backup (kakosheet/sources/xlsx_file.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from kakosheet.core.grid import column_index, column_letters
from kakosheet.core.looks import highlight_rule_formula
from kakosheet.core.writeback import CellUpdate, CellValue, SheetWrite, WriteBack
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_file import (
    FileStamp,
    changed_or_damaged,
    check_unchanged,
    new_version_beside,
    swap_in,
    write_failure,
)
from kakosheet.sources.xlsx_identity import identity_parts
from kakosheet.sources.xlsx_order import elements_after
from kakosheet.sources.xlsx_owned import MAIN_NS, WORKSHEET_CONTENT, WORKSHEET_TYPE, owned_tab_parts
from kakosheet.sources.xlsx_owned_look import ShownTabs
from kakosheet.sources.xlsx_owned_sheet import xml_text
from kakosheet.sources.xlsx_package import has_highlight, package_digest, row_segments, segments_of
from kakosheet.sources.xlsx_writeback_styles import WriteBackStyles
from kakosheet.sources.xlsx_zip import DeflatedPart, copy_compressed, inflated, write_part

__all__ = ["MAIN_NS", "WORKSHEET_CONTENT", "WORKSHEET_TYPE", "FileStamp", "Patched", "check_patchable", "write_back"]

STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"

_ROW = re.compile(rb"<row\b([^>]*?)(/>|>(.*?)</row>)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_ROW_HEAD = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*>')
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3})\d')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_COL = re.compile(rb"<col\b([^>]*)/?>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_FORMULA = re.compile(rb"<f[\s>/]")  # a formula, a shared formula's anchor or one of its cells
# Elements that follow <conditionalFormatting> in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_CF = elements_after("conditionalFormatting")


@dataclass(frozen=True)
class Patched:
    """What a write-back did: the new package's digest (None: nothing had to change), the cells
    it left as they were because they hold a formula, as (tab, sheet row, column index), and the
    stamp of the file it wrote (a later write in the same run checks the file against it), and the
    title each owned tab is under, by its mark."""

    digest: str | None
    formulas_kept: frozenset[tuple[str, int, int]] = frozenset()
    stamp: FileStamp | None = None
    tab_titles: dict[str, str] = field(default_factory=dict)


def check_patchable(path: Path) -> None:
    """Refuse a package kakosheet cannot patch safely; it is left exactly as it is."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if any("\\" in name for name in names):
            raise SourceError(
                f"{path.name}: its parts are named with backslashes, which kakosheet does not rewrite; "
                "open it in Excel and save it again"
            )
        workbook = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
    if STRICT_NS.encode() in workbook[:2000]:
        raise SourceError(
            f"{path.name}: it is saved as Strict Open XML, which kakosheet does not rewrite; save it as "
            "an ordinary Excel Workbook (.xlsx)"
        )


@dataclass
class _SheetPatch:
    """What a write-back does to one log tab's part: its cells, row by row, and the highlight."""

    write: SheetWrite
    by_row: dict[int, list[CellUpdate]]
    kept: list[tuple[int, int]] = field(default_factory=list)  # (row, column) left: they hold a formula


def write_back(
    path: Path,
    sheet_parts: dict[str, str],
    changes: WriteBack,
    stamp: FileStamp,
    *,
    date1904: bool = False,
    highlighted: Mapping[str, bool] | None = None,
    shown: ShownTabs | None = None,
) -> Patched:
    """Apply the write-back (dates counted in the workbook's date system).

    The log tabs' parts, the biggest by far, are never held whole: they are patched as they
    stream from the old package into the new one. Every other part is small. ``highlighted``
    says which parts hold kakosheet's highlight rule, as the read found (scan_cells); a part it
    does not name is streamed to find out. ``shown`` is what the tabs showed as the read found
    (xlsx_owned.tabs_shown); of a package other than this one, or for a tab it does not name,
    the owned tabs' parts are read to find out.
    """
    try:
        return _write_back(path, sheet_parts, changes, stamp, date1904, highlighted or {}, shown)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise changed_or_damaged(path, stamp, str(exc)) from exc


def _write_back(
    path: Path,
    sheet_parts: dict[str, str],
    changes: WriteBack,
    stamp: FileStamp,
    date1904: bool,
    highlighted: Mapping[str, bool],
    shown: ShownTabs | None,
) -> Patched:
    """write_back itself; a package that stops reading as a zip midway comes out of write_back."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        as_read = shown.tabs if shown is not None and shown.digest == package_digest(infos) else {}
        small = {name: archive.read(name) for name in _SMALL_PARTS if name in names}
        styles = WriteBackStyles(small.get("xl/styles.xml"), date1904=date1904)
        patches: dict[str, _SheetPatch] = {}
        for sheet in changes.sheets:
            member = sheet_parts.get(sheet.sheet)
            if member is None:
                raise SourceError(f"{path.name}: cannot find the part of the tab {sheet.sheet!r}")
            patch = _SheetPatch(sheet, _cells_by_row(sheet))
            if patch.by_row or (sheet.issues_column is not None and not _has_highlight(archive, member, highlighted)):
                patches[member] = patch
        tabs = owned_tab_parts(archive, names, small, changes.tabs, styles, shown=as_read)
        updated = dict(tabs.written)
        if changes.identity is not None:
            updated |= identity_parts(archive, small | updated, changes.identity)
    if not patches and not updated and not tabs.removed:
        return Patched(None, tab_titles=tabs.titles)
    check_unchanged(path, stamp)  # before the work of building the new version; again before the swap
    digest, written = _replace_atomically(path, stamp, infos, _NewParts(patches, updated, tabs.removed), styles)
    kept = frozenset((patch.write.sheet, row, column) for patch in patches.values() for row, column in patch.kept)
    return Patched(digest, kept, written, tabs.titles)


@dataclass(frozen=True)
class _NewParts:
    """How the new package differs from the old: log tabs patched as they stream, parts replaced or
    added whole, parts left out (an owned tab's chart no longer wanted)."""

    patches: dict[str, _SheetPatch]
    updated: dict[str, bytes]
    removed: set[str]


# Parts read whole: styles are appended to, the others list the tabs and parts owned tabs add.
_SMALL_PARTS = ("xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml")


def _cells_by_row(write: SheetWrite) -> dict[int, list[CellUpdate]]:
    by_row: dict[int, list[CellUpdate]] = {}
    for update in write.cells:
        by_row.setdefault(update.row, []).append(update)
    return by_row


def _has_highlight(archive: zipfile.ZipFile, member: str, highlighted: Mapping[str, bool]) -> bool:
    """Whether kakosheet's highlight rule is in a sheet part: as the read found, else streaming the
    part to its tail (the rule follows the rows), which a part of 100k rows takes a quarter second for."""
    if member in highlighted:
        return highlighted[member]
    with archive.open(member) as handle:
        last = deque(row_segments(handle), maxlen=1)  # the tail: all that follows the last row
    return bool(last) and has_highlight(last[0])


# --------------------------------------------------------------------------- cells


def _cell_xml(ref: bytes, style: bytes | None, value: CellValue, styles: WriteBackStyles) -> bytes:
    style_attr = b' s="' + style + b'"' if style else b""
    if value is None:
        return b'<c r="' + ref + b'"' + style_attr + b"/>"
    if isinstance(value, (dt.datetime, dt.date)):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment - styles.epoch).total_seconds() / 86400
        style_attr = b' s="' + str(styles.datetime_style(style)).encode() + b'"'
        return b'<c r="' + ref + b'"' + style_attr + b"><v>" + repr(round(serial, 8)).encode() + b"</v></c>"
    return (
        b'<c r="'
        + ref
        + b'"'
        + style_attr
        + b' t="inlineStr"><is><t xml:space="preserve">'
        + xml_text(str(value)).encode("utf-8")
        + b"</t></is></c>"
    )


_LETTERS: dict[int, bytes] = {}
_COLUMNS: dict[bytes, int] = {}


def _column_at(letters: bytes) -> int:
    """column_index of a cell reference's letters, worked out once per column (asked twice a row)."""
    index = _COLUMNS.get(letters)
    if index is None:
        index = _COLUMNS[letters] = column_index(letters)
    return index


def _letters(column: int) -> bytes:
    """A column's letters in a cell reference, worked out once per column."""
    letters = _LETTERS.get(column)
    if letters is None:
        letters = _LETTERS[column] = column_letters(column).encode()
    return letters


def _column_styles(xml: bytes) -> dict[int, bytes]:
    """Column index -> the default style of the column (from <cols>)."""
    styles: dict[int, bytes] = {}
    start, end = xml.find(b"<cols>"), xml.find(b"</cols>")
    if start == -1 or end == -1:
        return styles
    for match in _COL.finditer(xml, start, end):
        attrs = dict(_ATTR.findall(match.group(1)))
        if b"style" in attrs:
            for col in range(int(attrs[b"min"]) - 1, min(int(attrs[b"max"]), 16384)):
                styles[col] = attrs[b"style"]
    return styles


def _patch_rows(
    xml: bytes,
    patch: _SheetPatch,
    pending: dict[int, list[CellUpdate]],
    column_styles: dict[int, bytes],
    styles: WriteBackStyles,
) -> bytes:
    """Patch the rows of a segment that receive cells (taking them out of ``pending``);
    everything between them is copied as it is.

    Rows and cells are found in C (a regex, bytes.find); the new segment is made of pieces, the
    old one's copied between the places where cells change, joined once. A first sync patches
    every row, so the loop is written out in one function (each call and look-up counts 100k
    times), and the commonest case is tried first: the new cell goes where the next cell is, a
    new ID before the row's first cell.
    """
    kept = patch.kept
    pieces: list[bytes] = []
    append = pieces.append
    find, index = xml.find, xml.index
    copied = 0  # xml[:copied] is in the pieces already
    for match in _ROW_HEAD.finditer(xml):
        row = int(match[1])
        updates = pending.pop(row, None)
        if updates is None:
            continue
        head_end = match.end()
        spans = find(b' spans="', match.start(), head_end)  # the columns the row spans change: the hint goes
        if spans != -1:
            append(xml[copied:spans])
            copied = index(b'"', spans + 8) + 1
        elif find(b"spans=", match.start(), head_end) != -1:  # perhaps after another blank than a space
            found = _SPANS.search(xml, match.start(), head_end)
            if found is not None:
                append(xml[copied : found.start()])
                copied = found.end()
        if xml[head_end - 2] == _SLASH:  # <row r="7" ht="20"/>: a row of no cells gets a body
            append(xml[copied : head_end - 2])
            append(b">" + _rebuild_cells(b"", row, updates, column_styles, styles, kept) + b"</row>")
            copied = head_end
            continue
        number = match[1]
        body_end = -1  # found when needed
        if len(updates) > 1:
            updates = sorted(updates, key=_COLUMN)
        for k, update in enumerate(updates):
            column = update.column
            ref = (_LETTERS.get(column) or _letters(column)) + number
            at = head_end if head_end > copied else copied
            following = _CELL_START.match(xml, at)  # the next cell, when it starts with its reference
            if following is not None and (_COLUMNS.get(following[1]) or _column_at(following[1])) > column:
                start = end = at  # a new cell, before the next (a new ID: before the first)
                style = column_styles.get(column)
            else:
                if body_end == -1:
                    body_end = index(b"</row>", head_end)
                if xml.count(b"<c ", at, body_end) != xml.count(b'<c r="', at, body_end):
                    # Cells found by their reference need every cell to start with it; else the row is parsed.
                    append(xml[copied:at])
                    append(_rebuild_cells(xml[at:body_end], row, updates[k:], column_styles, styles, kept))
                    copied = body_end
                    break
                start = find(b'<c r="' + ref + b'"', at, body_end)
                if start == -1:
                    start = end = _insert_at(xml, at, body_end, column)
                    style = column_styles.get(column)
                else:
                    end = _cell_end(xml, start)
                    if _FORMULA.search(xml, start, end):
                        kept.append((row, column))
                        continue
                    style_match = _STYLE.search(xml, start, index(b">", start))
                    style = style_match[1] if style_match else column_styles.get(column)
            append(xml[copied:start])
            value = update.value
            if value.__class__ is str:  # most cells: the other kinds' XML is built by _cell_xml
                append(
                    b'<c r="'
                    + ref
                    + (b'" s="' + style if style else b"")
                    + _INLINE_TEXT
                    + xml_text(value).encode()
                    + _INLINE_TEXT_END
                )
            else:
                append(_cell_xml(ref, style, value, styles))
            copied = end
        if not pending:
            break
    if not pieces:
        return xml
    append(xml[copied:])
    return b"".join(pieces)


_SLASH = ord("/")
_INLINE_TEXT = b'" t="inlineStr"><is><t xml:space="preserve">'
_INLINE_TEXT_END = b"</t></is></c>"
_COLUMN = attrgetter("column")


def _cell_end(xml: bytes, start: int) -> int:
    close = xml.index(b">", start)
    return close + 1 if xml[close - 1] == _SLASH else xml.index(b"</c>", close) + 4


def _insert_at(xml: bytes, start: int, end: int, column: int) -> int:
    """Where a new cell of a column goes among the cells of a row's body xml[start:end] (which are
    in column order).

    The commonest places, before the first cell (the ID) and after the last (the Issues
    note), are checked first.
    """
    if column == 0:  # no cell of column A is there: every other comes after
        return start
    first = _CELL_START.search(xml, start, end)
    if first is None:
        return end
    if _column_at(first[1]) > column:
        return first.start()
    last = _CELL_START.match(xml, xml.rfind(b'<c r="', start, end))
    if last is not None and _column_at(last[1]) < column:
        return end
    for cell in _CELL_START.finditer(xml, start, end):
        if _column_at(cell[1]) > column:
            return cell.start()
    return end


def _rebuild_cells(
    body: bytes,
    row: int,
    updates: list[CellUpdate],
    column_styles: dict[int, bytes],
    styles: WriteBackStyles,
    kept: list[tuple[int, int]],
) -> bytes:
    """The slow way, for rows whose cells do not start with their reference (and rows of no cells):
    parse every cell."""
    cells: dict[int, bytes] = {}
    for cell in _CELL.finditer(body):
        ref = _CELL_REF.search(cell.group(1))
        if ref is None:
            raise SourceError(
                "a row of the sheet has cells without references; open the file in Excel and save it again"
            )
        cells[column_index(ref.group(1))] = cell.group(0)
    for update in updates:
        existing = cells.get(update.column)
        if existing is not None and _FORMULA.search(existing):
            kept.append((row, update.column))
            continue
        style_match = _STYLE.search(existing) if existing else None
        style = style_match.group(1) if style_match else column_styles.get(update.column)
        cells[update.column] = _cell_xml(
            (column_letters(update.column) + str(row)).encode(), style, update.value, styles
        )
    return b"".join(cells[c] for c in sorted(cells))


def _stream_patched_sheet(
    segments: Iterable[bytes], target: _Behind, patch: _SheetPatch, styles: WriteBackStyles
) -> None:
    """Copy a sheet part's ``segments`` (row_segments) to ``target`` one at a time, patching its rows."""
    pending = dict(patch.by_row)
    column_styles: dict[int, bytes] | None = None
    for segment in segments:
        if column_styles is None:
            column_styles = _column_styles(segment)  # <cols> comes before the first row
        if pending:
            segment = _patch_rows(segment, patch, pending, column_styles, styles)
        tail = b"</worksheet>" in segment  # the last segment: all that follows the last row
        if tail and patch.write.issues_column is not None and not has_highlight(segment):
            segment = _add_highlight(segment, patch.write, styles)
        target.write(segment)
    if pending:
        raise SourceError(f"row {min(pending)} is missing from the sheet's XML; open the file in Excel and save it")


def _add_highlight(tail: bytes, write: SheetWrite, styles: WriteBackStyles) -> bytes:
    """Add the conditional format that highlights the cells named in the Issues note to the
    part's tail (what follows its last row), where the elements after the data are."""
    assert write.issues_column is not None
    first, last = column_letters(write.first_column), column_letters(write.last_column)
    notes = column_letters(write.issues_column)
    top = write.header_row + 1
    formula = escape(highlight_rule_formula(first, write.header_row, notes, top))
    data_end = max(tail.rfind(b"</sheetData>"), 0)  # the elements that follow come after the data
    priorities = [int(p) for p in re.findall(rb'priority="(\d+)"', tail[data_end:])]
    rule = (
        f'<conditionalFormatting sqref="{first}{top}:{last}1048576"><cfRule type="expression" '
        f'dxfId="{styles.highlight_dxf()}" priority="{max(priorities, default=0) + 1}"><formula>{formula}'
        f"</formula></cfRule></conditionalFormatting>"
    ).encode()
    for name in _AFTER_CF:
        found = re.compile(rb"<" + name.encode() + rb"[\s>/]").search(tail, data_end)
        if found:
            return tail[: found.start()] + rule + tail[found.start() :]
    end = tail.rfind(b"</worksheet>")
    return tail[:end] + rule + tail[end:]


# --------------------------------------------------------------------------- saving


def _replace_atomically(
    path: Path, stamp: FileStamp, infos: list[zipfile.ZipInfo], new: _NewParts, styles: WriteBackStyles
) -> tuple[str, FileStamp]:
    """Write the new package beside the real file (through a symlink), then swap it in (swap_in).
    Returns the digest of what was written (taken before the swap: a later save by someone else
    differs) and the file's new stamp. Whatever fails, the workbook is untouched and no temporary
    file is left."""
    with new_version_beside(path) as (handle, temporary):
        digest = _write_package(path, handle, infos, new, styles)
        written = swap_in(path, temporary, stamp)
    return digest, written


def _write_package(
    path: Path, handle: int, infos: list[zipfile.ZipInfo], new: _NewParts, styles: WriteBackStyles
) -> str:
    """The new package, into the open temporary file; returns its digest. A full disk says so in a sentence."""
    patches, updated = new.patches, new.updated
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            zipfile.ZipFile(raw, "w") as archive,
            path.open("rb") as old,
            zipfile.ZipFile(old) as source,
        ):
            for info in _in_writing_order(infos, patches):
                if info.filename in new.removed:
                    continue
                if info.filename in patches:
                    _copy_patched(old, source, archive, info, patches[info.filename], styles)
                elif info.filename == "xl/styles.xml" and styles.changed:
                    write_part(archive, _new_info(info), styles.xml)
                elif info.filename in updated:
                    write_part(archive, _new_info(info), updated[info.filename])
                else:
                    copy_compressed(old, archive, info)
            present = {info.filename for info in infos}
            for name in (name for name in updated if name not in present):
                write_part(archive, zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6]), updated[name])
            archive.close()  # the central directory, written before the file is flushed to disk
            raw.flush()
            os.fsync(raw.fileno())
            return package_digest(archive.infolist())
    except OSError as exc:
        raise SourceError(write_failure(path, exc)) from exc


def _new_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The entry of a part written anew: the old one's name, time and attributes."""
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.external_attr, new.create_system, new.comment = info.external_attr, info.create_system, info.comment
    return new


def _in_writing_order(infos: list[zipfile.ZipInfo], patches: dict[str, _SheetPatch]) -> list[zipfile.ZipInfo]:
    """The parts in their order, except styles.xml, which goes after the patched sheets: a
    patched date cell may add a format to it."""
    last_patched = max((k for k, info in enumerate(infos) if info.filename in patches), default=-1)
    styles = next((k for k, info in enumerate(infos) if info.filename == "xl/styles.xml"), None)
    if styles is None or styles > last_patched:
        return list(infos)
    return [*infos[:styles], *infos[styles + 1 : last_patched + 1], infos[styles], *infos[last_patched + 1 :]]


def _copy_patched(
    old: IO[bytes],
    source: zipfile.ZipFile,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    patch: _SheetPatch,
    styles: WriteBackStyles,
) -> None:
    """A log tab's part, patched while it streams from the old package (``old``, the file) into
    the new one: read and inflated a few segments ahead on one thread, deflated a few behind on another."""
    target_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    target_info.external_attr, target_info.create_system = info.external_attr, info.create_system
    large = info.file_size > 1 << 30  # the patched part could pass the 2 GiB of a plain zip entry
    part = DeflatedPart(archive, target_info, zip64=large)
    with _Ahead(segments_of(_part_data(old, source, info))) as segments, _Behind(part.write) as behind:
        _stream_patched_sheet(segments, behind, patch, styles)
    part.close()


def _part_data(old: IO[bytes], source: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's data, decompressed: by ISA-L when it is deflated (as every writer's are), else by zipfile."""
    if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x01:  # 0x01: encrypted
        yield from inflated(old, info)
        return
    with source.open(info) as handle:
        yield from iter(functools.partial(handle.read, 1 << 20), b"")


class _Ahead:
    """Reads a part's segments on a thread, a few ahead of the caller: inflating releases the
    GIL, so the segments before are patched on the other core meanwhile."""

    AHEAD = 3  # segments (about a megabyte each) read at most before they are asked for

    def __init__(self, segments: Generator[bytes, None, None]) -> None:
        self.segments = segments
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kakosheet-write-back-read")
        # One worker: the iterator is advanced by one call at a time, in order.
        self.pending: deque[Future[bytes | None]] = deque(self._next() for _ in range(self.AHEAD))

    def _next(self) -> Future[bytes | None]:
        return self.pool.submit(next, self.segments, None)

    def __iter__(self) -> Iterator[bytes]:
        while (segment := self.pending.popleft().result()) is not None:  # a failed read raises here
            self.pending.append(self._next())
            yield segment

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.segments.close()  # on the caller's thread, once no read is under way: the part is closed


class _Behind:
    """Writes to a zip entry on a thread, a few segments behind the caller: compressing
    releases the GIL, so the next segment is patched on the other core meanwhile."""

    AHEAD = 4  # segments (about a megabyte each) waiting at most

    def __init__(self, write: Callable[[bytes], int]) -> None:
        self.target = write
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kakosheet-write-back")
        self.pending: deque[Future[int]] = deque()

    def write(self, data: bytes) -> int:
        if len(self.pending) >= self.AHEAD:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self.target, data))
        return len(data)

    def __enter__(self) -> _Behind:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()  # a failed write raises here
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def iter_sheet_rows(xml: bytes) -> Iterator[tuple[int, bytes]]:
    """(row number, row XML) of a sheet part; used by tests and checks."""
    for match in _ROW.finditer(xml):
        number = _ROW_NUMBER.search(match.group(1))
        if number:
            yield int(number.group(1)), match.group(0)
