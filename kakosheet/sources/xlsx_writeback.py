"""Writing kakosheet's cells into a workbook by patching its XML, leaving everything else alone.

openpyxl drops what it does not understand (pivot caches, some charts, macros' signatures)
and takes ~30 s to save 100k rows, so a write-back edits only:
- the rows of the log tabs that receive a value, as inline strings (the shared-string table
  is never touched); cells keep their style, new cells take their column's;
- styles.xml, only to append a date-time format and the highlight fill when missing;
- a conditional format on each log tab that highlights the cells an Issues note names;
- kakosheet's own Issues tab (and, the first time, the workbook, relationship and
  content-type entries that add it).
Every other part is copied unchanged; a cell holding a formula is never replaced. The file
is replaced atomically, after a backup (kakosheet/sources/xlsx_file.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from kakosheet.core.grid import column_index, column_letters
from kakosheet.core.issues_tab import ISSUES_HEADER, ISSUES_MARK, ISSUES_TAB, ISSUES_WIDTHS, issue_lines
from kakosheet.core.writeback import CellUpdate, CellValue, SheetWrite, WriteBack
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_file import (
    FileStamp,
    changed_or_damaged,
    check_unchanged,
    real_file,
    swap_in,
    write_failure,
)
from kakosheet.sources.xlsx_identity import identity_parts
from kakosheet.sources.xlsx_order import elements_after
from kakosheet.sources.xlsx_package import package_digest, row_segments

__all__ = ["FileStamp", "Patched", "check_patchable", "write_back"]

HIGHLIGHT_MARK = '"; "&amp;'  # in the formula of kakosheet's highlight rule
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_1904_EPOCH = dt.datetime(1904, 1, 1)  # day 0 of a workbook with workbookPr date1904
WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"

_ROW = re.compile(rb"<row\b([^>]*?)(/>|>(.*?)</row>)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3})\d')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_COL = re.compile(rb"<col\b([^>]*)/?>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_FORMULA = re.compile(rb"<f[\s>/]")  # a formula, a shared formula's anchor or one of its cells
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_PLAIN_XML = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Elements that follow <conditionalFormatting> in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_CF = elements_after("conditionalFormatting")


@dataclass(frozen=True)
class Patched:
    """What a write-back did: the new package's digest (None: nothing had to change), and the cells
    it left as they were because they hold a formula, as (tab, sheet row, column index)."""

    digest: str | None
    formulas_kept: frozenset[tuple[str, int, int]] = frozenset()


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
    path: Path, sheet_parts: dict[str, str], changes: WriteBack, stamp: FileStamp, *, date1904: bool = False
) -> Patched:
    """Apply the write-back (dates counted in the workbook's date system).

    The log tabs' parts, the biggest by far, are never held whole: they are patched as they
    stream from the old package into the new one. Every other part is small.
    """
    try:
        return _write_back(path, sheet_parts, changes, stamp, date1904)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise changed_or_damaged(path, stamp, str(exc)) from exc


def _write_back(
    path: Path, sheet_parts: dict[str, str], changes: WriteBack, stamp: FileStamp, date1904: bool
) -> Patched:
    """write_back itself; a package that stops reading as a zip midway comes out of write_back."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        small = {name: archive.read(name) for name in _SMALL_PARTS if name in names}
        styles = _Styles(small.get("xl/styles.xml"), date1904=date1904)
        patches: dict[str, _SheetPatch] = {}
        for sheet in changes.sheets:
            member = sheet_parts.get(sheet.sheet)
            if member is None:
                raise SourceError(f"{path.name}: cannot find the part of the tab {sheet.sheet!r}")
            patch = _SheetPatch(sheet, _cells_by_row(sheet))
            if patch.by_row or (sheet.issues_column is not None and not _has_highlight(archive, member)):
                patches[member] = patch
        updated = _issues_tab(archive, names, small, changes)
        if changes.identity is not None:
            updated |= identity_parts(archive, small | updated, changes.identity)
    if not patches and not updated:
        return Patched(None)
    check_unchanged(path, stamp)  # before the work of building the new version; again before the swap
    digest = _replace_atomically(path, stamp, infos, patches, updated, styles)
    kept = frozenset((patch.write.sheet, row, column) for patch in patches.values() for row, column in patch.kept)
    return Patched(digest, kept)


# Parts read whole: the Issues tab and styles are appended to, the others name the Issues tab.
_SMALL_PARTS = ("xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml")


def _cells_by_row(write: SheetWrite) -> dict[int, list[CellUpdate]]:
    by_row: dict[int, list[CellUpdate]] = {}
    for update in write.cells:
        by_row.setdefault(update.row, []).append(update)
    return by_row


def _has_highlight(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether kakosheet's highlight rule is in a sheet part, streaming it (it comes after the data)."""
    mark = HIGHLIGHT_MARK.encode()
    overlap = b""  # the end of the previous block, for a mark split between two
    with archive.open(member) as handle:
        while block := handle.read(_SCAN_BLOCK):
            if mark in overlap + block[: len(mark)] or mark in block:
                return True
            overlap = block[-len(mark) :]
    return False


_SCAN_BLOCK = 8 << 20


# --------------------------------------------------------------------------- cells


def _cell_xml(ref: bytes, style: bytes | None, value: CellValue, styles: _Styles) -> bytes:
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
        + _xml_text(str(value)).encode("utf-8")
        + b"</t></is></c>"
    )


def _xml_text(text: str) -> str:
    """Text as XML character data: what saxutils.escape gives, without the characters XML forbids."""
    if _NOT_PLAIN_XML.search(text) is None:  # most IDs and notes: one search instead of four passes
        return text
    return _INVALID_XML.sub("", text).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


_LETTERS: dict[int, bytes] = {}
_COLUMNS: dict[bytes, int] = {}


def _column_at(letters: bytes) -> int:
    """column_index of a cell reference's letters, worked out once per column (asked twice a row)."""
    index = _COLUMNS.get(letters)
    if index is None:
        index = _COLUMNS[letters] = column_index(letters)
    return index


def _cell_ref(column: int, row: int) -> bytes:
    """A1 reference of a cell; column letters are worked out once per column."""
    letters = _LETTERS.get(column)
    if letters is None:
        letters = _LETTERS[column] = column_letters(column).encode()
    return letters + str(row).encode()


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


def _patch_row(
    row_xml: bytes,
    row: int,
    updates: list[CellUpdate],
    column_styles: dict[int, bytes],
    styles: _Styles,
    kept: list[tuple[int, int]],
    referenced: bool = False,
) -> bytes:
    """The row with its updated cells: found by their reference, replaced or inserted in column order.
    A cell holding a formula is left as it is and added to ``kept``.

    ``referenced`` says the caller knows every cell of the row starts with its reference.
    """
    head_end = row_xml.index(b">") + 1
    head, body = row_xml[:head_end], row_xml[head_end : -len(b"</row>")]
    if b"spans=" in head:
        head = _SPANS.sub(b"", head)
    if not referenced and body.count(b"<c ") != body.count(b'<c r="'):
        return head + _rebuild_cells(body, row, updates, column_styles, styles, kept) + b"</row>"
    for update in updates if len(updates) == 1 else sorted(updates, key=lambda u: u.column):
        ref = _cell_ref(update.column, row)
        start = body.find(b'<c r="' + ref + b'"')
        if start != -1:
            end = _cell_end(body, start)
            if _FORMULA.search(body, start, end):
                kept.append((row, update.column))
                continue
            style_match = _STYLE.search(body, start, body.index(b">", start))
            style = style_match.group(1) if style_match else column_styles.get(update.column)
            body = body[:start] + _cell_xml(ref, style, update.value, styles) + body[end:]
        else:
            at = _insert_at(body, update.column)
            body = body[:at] + _cell_xml(ref, column_styles.get(update.column), update.value, styles) + body[at:]
    return head + body + b"</row>"


def _cell_end(body: bytes, start: int) -> int:
    close = body.index(b">", start)
    return close + 1 if body[close - 1 : close] == b"/" else body.index(b"</c>", close) + 4


def _insert_at(body: bytes, column: int) -> int:
    """Where a new cell of a column goes among a row's cells (which are in column order).

    The commonest places, before the first cell (the ID) and after the last (the Issues
    note), are checked first.
    """
    first = _CELL_START.match(body)
    if first is None or _column_at(first.group(1)) > column:
        return 0 if first is not None else len(body)
    last = _CELL_START.match(body, body.rfind(b'<c r="'))
    if last is not None and _column_at(last.group(1)) < column:
        return len(body)
    for match in _CELL_START.finditer(body):
        if _column_at(match.group(1)) > column:
            return match.start()
    return len(body)


def _rebuild_cells(
    body: bytes,
    row: int,
    updates: list[CellUpdate],
    column_styles: dict[int, bytes],
    styles: _Styles,
    kept: list[tuple[int, int]],
) -> bytes:
    """The slow way, for rows whose cells do not start with their reference: parse every cell."""
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


def _stream_patched_sheet(source: IO[bytes], target: _Behind, patch: _SheetPatch, styles: _Styles) -> None:
    """Copy a sheet part from ``source`` to ``target`` a segment at a time, patching its rows."""
    remaining = set(patch.by_row)
    column_styles: dict[int, bytes] | None = None
    highlighted = False
    for segment in row_segments(source):
        if column_styles is None:
            column_styles = _column_styles(segment)  # <cols> comes before the first row
        if remaining:
            segment = _patch_rows(segment, patch, remaining, column_styles, styles)
        highlighted = highlighted or HIGHLIGHT_MARK.encode() in segment
        if patch.write.issues_column is not None and not highlighted and b"</worksheet>" in segment:
            segment = _add_highlight(segment, patch.write, styles)
        target.write(segment)
    if remaining:
        raise SourceError(f"row {min(remaining)} is missing from the sheet's XML; open the file in Excel and save it")


def _patch_rows(
    xml: bytes,
    patch: _SheetPatch,
    remaining: set[int],
    column_styles: dict[int, bytes],
    styles: _Styles,
) -> bytes:
    """Patch the rows of a segment that receive cells (removing them from ``remaining``);
    everything between them is copied as it is.

    Splitting at every row end and looking back for the row's start is done in C, so a
    100k-row sheet is walked in well under a second.
    """
    chunks = xml.split(b"</row>")
    # Cells found by their reference need every cell to start with it; else the row is parsed.
    referenced = xml.count(b"<c ") == xml.count(b'<c r="')
    for k in range(len(chunks) - 1):
        chunk = chunks[k]
        start = chunk.rfind(b"<row")
        number = _ROW_NUMBER.search(chunk, start, chunk.find(b">", start)) if start != -1 else None
        if number is None:
            raise SourceError("a row of the sheet has no number; open the file in Excel and save it again")
        row = int(number.group(1))
        if row in remaining:
            patched = _patch_row(
                chunk[start:] + b"</row>", row, patch.by_row[row], column_styles, styles, patch.kept, referenced
            )
            chunks[k] = chunk[:start] + patched[: -len(b"</row>")]
            remaining.discard(row)
            if not remaining:
                break
    return b"</row>".join(chunks)


def _add_highlight(tail: bytes, write: SheetWrite, styles: _Styles) -> bytes:
    """Add the conditional format that highlights the cells named in the Issues note to the
    part's tail (what follows its last row), where the elements after the data are."""
    assert write.issues_column is not None
    first, last = column_letters(write.first_column), column_letters(write.last_column)
    notes = column_letters(write.issues_column)
    top = write.header_row + 1
    formula = f'ISNUMBER(SEARCH("; "&amp;{first}${write.header_row}&amp;":","; "&amp;${notes}{top}))'
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


# --------------------------------------------------------------------------- styles


class _Styles:
    """How cells show values: styles.xml, appended to only when kakosheet needs a format it does not
    find, and the workbook's date system (the day its date numbers count from)."""

    def __init__(self, xml: bytes | None, *, date1904: bool = False) -> None:
        if xml is None:
            raise SourceError("the workbook has no styles part; open it in Excel and save it again")
        self.xml = xml
        self.epoch = EXCEL_1904_EPOCH if date1904 else EXCEL_EPOCH
        self.changed = False
        self._datetime: dict[bytes | None, int] = {}
        self._dxf: int | None = None

    def datetime_style(self, base: bytes | None) -> int:
        """A cell format showing date and time (a new one based on ``base`` when needed)."""
        if base in self._datetime:
            return self._datetime[base]
        numfmt = self._numfmt_id(DATETIME_FORMAT)
        xfs = self._section(b"cellXfs")
        entries = re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs, re.S)
        if base is not None and int(base) < len(entries):
            template = entries[int(base)]
            new = re.sub(rb'\bnumFmtId="\d+"', b'numFmtId="' + str(numfmt).encode() + b'"', template, count=1)
            if b"applyNumberFormat" not in new:
                new = new.replace(b"<xf ", b'<xf applyNumberFormat="1" ', 1)
        else:
            new = (
                b'<xf numFmtId="'
                + str(numfmt).encode()
                + b'" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            )
        for index, entry in enumerate(entries):
            if entry == new:
                self._datetime[base] = index
                return index
        self._append(b"cellXfs", new)
        self._datetime[base] = len(entries)
        return len(entries)

    def highlight_dxf(self) -> int:
        if self._dxf is None:
            dxf = b'<dxf><fill><patternFill patternType="solid"><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>'
            section = self._section(b"dxfs")
            entries = re.findall(rb"<dxf\b.*?</dxf>|<dxf/>", section, re.S)
            self._dxf = (
                entries.index(dxf) if dxf in entries else self._append(b"dxfs", dxf, create_before=b"<tableStyles")
            )
        return self._dxf

    def _numfmt_id(self, code: str) -> int:
        section = self._section(b"numFmts")
        for num_id, existing in re.findall(rb'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"', section):
            if existing.decode() == escape(code):
                return int(num_id)
        ids = [int(i) for i in re.findall(rb'numFmtId="(\d+)"', section)]
        new_id = max([163, *ids]) + 1
        self._append(
            b"numFmts", f'<numFmt numFmtId="{new_id}" formatCode={quoteattr(code)}/>'.encode(), create_before=b"<fonts"
        )
        return new_id

    def _section(self, name: bytes) -> bytes:
        match = re.search(rb"<" + name + rb"\b[^>]*?(?:/>|>(.*?)</" + name + rb">)", self.xml, re.S)
        return (match.group(1) or b"") if match else b""

    def _append(self, name: bytes, entry: bytes, create_before: bytes | None = None) -> int:
        """Append an entry to a section (creating it when missing), fixing its count; returns its index."""
        child = _SECTION_CHILD[name]
        match = re.search(rb"<" + name + rb"\b([^>]*?)(/>|>(.*?)</" + name + rb">)", self.xml, re.S)
        self.changed = True
        if match is None:
            anchor = self.xml.find(create_before) if create_before else -1
            if anchor == -1:
                raise SourceError("the workbook's styles part is unusual; open it in Excel and save it again")
            block = b"<" + name + b' count="1">' + entry + b"</" + name + b">"
            self.xml = self.xml[:anchor] + block + self.xml[anchor:]
            return 0
        body = match.group(3) or b""
        count = len(re.findall(rb"<" + child + rb"\b", body))
        attributes = re.sub(rb'\s*count="\d+"', b"", match.group(1))
        block = (
            b"<"
            + name
            + b' count="'
            + str(count + 1).encode()
            + b'"'
            + attributes
            + b">"
            + body
            + entry
            + b"</"
            + name
            + b">"
        )
        self.xml = self.xml[: match.start()] + block + self.xml[match.end() :]
        return count


_SECTION_CHILD = {b"cellXfs": b"xf", b"dxfs": b"dxf", b"numFmts": b"numFmt"}


# --------------------------------------------------------------------------- the Issues tab


def _issues_tab(
    archive: zipfile.ZipFile, members: list[str], parts: dict[str, bytes], changes: WriteBack
) -> dict[str, bytes]:
    """The parts to write for kakosheet's Issues tab (added the first time)."""
    workbook = parts["xl/workbook.xml"]
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = parts.get(rels_name, b"")
    existing = _find_issues_part(archive, members)
    sheet_xml = _issues_sheet_xml(changes)
    if existing is not None:
        return {} if archive.read(existing) == sheet_xml else {existing: sheet_xml}
    if not changes.issues:
        return {}
    names = set(re.findall(rb'<sheet\b[^>]*\bname="([^"]*)"', workbook))
    tab = ISSUES_TAB if ISSUES_TAB.encode() not in names else f"kakosheet {ISSUES_TAB}"
    number = 1
    while f"xl/worksheets/sheet{number}.xml" in members:
        number += 1
    member = f"xl/worksheets/sheet{number}.xml"
    rel_ids = {int(i) for i in re.findall(rb'Id="rId(\d+)"', rels)}
    rel_id = f"rId{max(rel_ids, default=0) + 1}"
    sheet_ids = [int(i) for i in re.findall(rb'<sheet\b[^>]*\bsheetId="(\d+)"', workbook)]
    sheet_entry = (
        f'<sheet name={quoteattr(tab)} sheetId="{max(sheet_ids, default=0) + 1}" '
        f'r:id="{rel_id}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
    )
    end = workbook.find(b"</sheets>")
    if end == -1:
        raise SourceError("the workbook part has no list of sheets; open the file in Excel and save it again")
    relationship = f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="worksheets/sheet{number}.xml"/>'
    rels_end = rels.rfind(b"</Relationships>")
    types = parts["[Content_Types].xml"]
    types_end = types.rfind(b"</Types>")
    override = f'<Override PartName="/{member}" ContentType="{WORKSHEET_CONTENT}"/>'
    return {
        member: sheet_xml,
        "xl/workbook.xml": workbook[:end] + sheet_entry.encode() + workbook[end:],
        rels_name: rels[:rels_end] + relationship.encode() + rels[rels_end:],
        "[Content_Types].xml": types[:types_end] + override.encode() + types[types_end:],
    }


def _find_issues_part(archive: zipfile.ZipFile, members: list[str]) -> str | None:
    """kakosheet's Issues tab, known by the mark in its first cell (only each part's head is read).

    kakosheet writes the mark inline; once Excel has saved the workbook, it is a shared string.
    """
    mark = escape(ISSUES_MARK).encode()
    shared: list[bytes] | None = None
    for name in members:
        if name.startswith("xl/worksheets/sheet"):
            with archive.open(name) as handle:
                head = handle.read(4096)
            if mark in head:
                return name
            first = _FIRST_SHARED_CELL.search(head)
            if first is not None and _SHARED_TYPE.search(first.group(1)):
                shared = _shared_texts(archive, members) if shared is None else shared
                index = int(first.group(2))
                if index < len(shared) and shared[index] == mark:
                    return name
    return None


_FIRST_SHARED_CELL = re.compile(rb'<c\b([^>]*\br="A1"[^>]*)>\s*<v>(\d+)</v>')
_SHARED_TYPE = re.compile(rb'\bt="s"')
_SHARED_ITEM = re.compile(rb"<si>(.*?)</si>", re.S)
_TEXT_RUN = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")


def _shared_texts(archive: zipfile.ZipFile, members: list[str]) -> list[bytes]:
    """The shared strings' texts (XML-escaped, runs joined), in table order; none without the part."""
    if "xl/sharedStrings.xml" not in members:
        return []
    xml = archive.read("xl/sharedStrings.xml")
    return [b"".join(_TEXT_RUN.findall(item)) for item in _SHARED_ITEM.findall(xml)]


def _issues_sheet_xml(changes: WriteBack) -> bytes:
    rows: list[list[str | int | None]] = [[ISSUES_MARK], list(ISSUES_HEADER)]
    links = []
    for line in issue_lines(changes):
        rows.append([value if value is None or isinstance(value, int) else str(value) for value in line.values])
        if line.target:
            target = line.target.reference
            links.append(f'<hyperlink ref="A{len(rows)}" location={quoteattr(target)} display={quoteattr(target)}/>')
    body = []
    for number, values in enumerate(rows, start=1):
        cells = []
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{column_letters(col)}{number}"
            if isinstance(value, int):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                text = escape(_INVALID_XML.sub("", str(value)))
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        body.append(f'<row r="{number}">{"".join(cells)}</row>')
    widths = ISSUES_WIDTHS
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1))
    last = len(rows)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>{''.join(body)}</sheetData>"
        + (f'<autoFilter ref="A2:H{last}"/>' if last > 2 else "")
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )
    return xml.encode("utf-8")


# --------------------------------------------------------------------------- saving


def _replace_atomically(
    path: Path,
    stamp: FileStamp,
    infos: list[zipfile.ZipInfo],
    patches: dict[str, _SheetPatch],
    updated: dict[str, bytes],
    styles: _Styles,
) -> str:
    """Write the new package beside the real file (through a symlink), then swap it in (swap_in).
    Returns the digest of what was written (taken before the swap: a later save by someone else
    differs). Whatever fails, the workbook is untouched and no temporary file is left."""
    handle, temporary = tempfile.mkstemp(dir=real_file(path).parent, prefix=".~kakosheet-", suffix=path.suffix)
    try:
        digest = _write_package(path, handle, infos, patches, updated, styles)
        swap_in(path, Path(temporary), stamp)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return digest


def _write_package(
    path: Path,
    handle: int,
    infos: list[zipfile.ZipInfo],
    patches: dict[str, _SheetPatch],
    updated: dict[str, bytes],
    styles: _Styles,
) -> str:
    """The new package, into the open temporary file; returns its digest. A full disk says so in a sentence."""
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive, zipfile.ZipFile(path) as source:
            for info in _in_writing_order(infos, patches):
                if info.filename in patches:
                    _copy_patched(source, archive, info, patches[info.filename], styles)
                elif info.filename == "xl/styles.xml" and styles.changed:
                    _write_part(archive, info, styles.xml)
                else:
                    data = updated[info.filename] if info.filename in updated else source.read(info)
                    _write_part(archive, info, data)
            for name in updated.keys() - {info.filename for info in infos}:
                _write_part(archive, zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6]), updated[name])
            archive.close()  # the central directory, written before the file is flushed to disk
            raw.flush()
            os.fsync(raw.fileno())
            return package_digest(archive.infolist())
    except OSError as exc:
        raise SourceError(write_failure(path, exc)) from exc


def _in_writing_order(infos: list[zipfile.ZipInfo], patches: dict[str, _SheetPatch]) -> list[zipfile.ZipInfo]:
    """The parts in their order, except styles.xml, which goes after the patched sheets: a
    patched date cell may add a format to it."""
    last_patched = max((k for k, info in enumerate(infos) if info.filename in patches), default=-1)
    styles = next((k for k, info in enumerate(infos) if info.filename == "xl/styles.xml"), None)
    if styles is None or styles > last_patched:
        return list(infos)
    return [*infos[:styles], *infos[styles + 1 : last_patched + 1], infos[styles], *infos[last_patched + 1 :]]


def _write_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data, compresslevel=_level(len(data)))


def _copy_patched(
    source: zipfile.ZipFile, archive: zipfile.ZipFile, info: zipfile.ZipInfo, patch: _SheetPatch, styles: _Styles
) -> None:
    """A log tab's part, patched while it streams from the old package into the new one."""
    target_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    target_info.external_attr, target_info.create_system = info.external_attr, info.create_system
    target_info.compress_type = zipfile.ZIP_DEFLATED
    target_info._compresslevel = _level(info.file_size)  # type: ignore[attr-defined]  # what ZipFile.open("w") uses
    large = info.file_size > 1 << 30  # the patched part could pass the 2 GiB of a plain zip entry
    with (
        source.open(info) as reading,
        archive.open(target_info, "w", force_zip64=large) as writing,
        _Behind(writing) as behind,
    ):
        _stream_patched_sheet(reading, behind, patch, styles)


class _Behind:
    """Writes to a zip entry on a thread, a few segments behind the caller: compressing
    releases the GIL, so the next segment is patched on the other core meanwhile."""

    AHEAD = 4  # segments (about a megabyte each) waiting at most

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kakosheet-write-back")
        self.pending: deque[Future[int]] = deque()

    def write(self, data: bytes) -> int:
        if len(self.pending) >= self.AHEAD:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self.target.write, data))
        return len(data)

    def __enter__(self) -> _Behind:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()  # a failed write raises here
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _level(size: int) -> int:
    """Big sheet parts are compressed fast; small parts well."""
    return 1 if size > 4 << 20 else 6


def iter_sheet_rows(xml: bytes) -> Iterator[tuple[int, bytes]]:
    """(row number, row XML) of a sheet part; used by tests and checks."""
    for match in _ROW.finditer(xml):
        number = _ROW_NUMBER.search(match.group(1))
        if number:
            yield int(number.group(1)), match.group(0)
