"""`kakosheet setup` for a workbook: the team's live master brought up to its schemas by
patching the package, never by loading and saving it with openpyxl (which drops shapes,
drawings and the validations and rules kept in ``extLst``: PITFALLS.md).

What it adds or corrects is kakosheet's only: the hidden Lists tab the dropdowns read (known as
kakosheet's by its first row, which holds nothing but list names), a tab for a configured log
or reference table that is missing, and on every log tab the parts sources/xlsx_setup_sheet.py
lists (header labels, colours and notes, the ``<col>`` of a column it adds, validations,
highlight rules). Missing columns go to the right of every cell in use; no staff cell is
cleared or moved. Every other part is copied byte for byte. When nothing differs the file is
not written at all; otherwise it is replaced atomically, the previous version kept beside it
(sources/xlsx_file.py), and a workbook someone has open or saved meanwhile is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from kakosheet.core.grid import Grid, column_index, column_letters
from kakosheet.core.header import SCAN_ROWS, locate_header
from kakosheet.core.looks import LISTS_TAB, dropdown_lists, is_kakosheets_lists_header, lists_over, wanted_schemas
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.core.setup_result import SetupResult
from kakosheet.core.tabs import find_tab
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx import XlsxSource
from kakosheet.sources.xlsx_checks import list_formula
from kakosheet.sources.xlsx_file import FileStamp, check_not_open, new_version_beside, swap_in, write_failure
from kakosheet.sources.xlsx_notes import NoteParts, upgrade_notes
from kakosheet.sources.xlsx_package import inspect_package
from kakosheet.sources.xlsx_setup_sheet import TabLayout, upgrade_sheet
from kakosheet.sources.xlsx_setup_styles import StyleBook
from kakosheet.sources.xlsx_writeback import MAIN_NS, WORKSHEET_CONTENT, WORKSHEET_TYPE, check_patchable

_SMALL = ("xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml")
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d')
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def setup_workbook(path: Path, schemas: SchemaSet, logs: tuple[str, ...]) -> SetupResult:
    """Bring the workbook at ``path`` up to the schemas; a second run finds nothing to change."""
    stamp = FileStamp.of(path) if path.is_file() else None
    source = XlsxSource(path)  # missing, damaged, encrypted: refused here with its message
    assert stamp is not None
    check_patchable(path)
    check_not_open(path)
    result = SetupResult(path.name)
    package = inspect_package(path)
    tabs = source.sheet_names()
    wanted = dropdown_lists(schemas)
    present: list[list[str]] = []
    if LISTS_TAB in tabs:
        lists_tab = source.read_head(LISTS_TAB, 1_048_576)
        _check_lists_tab(lists_tab, list(wanted))
        present = _grid_values(lists_tab)
    lists = lists_over(wanted, present)  # each list where the dropdowns read it
    ranges = {name: list_formula(column_letters(i), len(values)) for i, (name, values) in enumerate(lists.items())}
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        parts = {name: archive.read(name) for name in _SMALL if name in names}
        styles = StyleBook(parts.get("xl/styles.xml"))
        book = _Book(parts, names)
        lists_xml = _lists_sheet(lists)
        if LISTS_TAB in tabs:
            if present != _wanted_values(lists):
                book.updated[package.sheet_parts[LISTS_TAB]] = lists_xml
                result.counts["dropdown list"] += 1
        else:
            book.add_sheet(LISTS_TAB, lists_xml, hidden=True)
            result.added_tabs.append(f"{LISTS_TAB} (hidden)")
        for schema in wanted_schemas(schemas, logs):
            match = find_tab(tabs, (schema.tab, *schema.tab_aliases))  # as sync finds it
            tab = match.tab if match else None
            if tab is None:
                member = book.add_sheet(schema.tab, _empty_sheet())
                result.added_tabs.append(schema.tab)
                xml, head = book.updated[member], Grid(schema.tab, [])
            else:
                member = package.sheet_parts[tab]
                xml, head = archive.read(member), source.read_head(tab, SCAN_ROWS)
            layout = _layout(tab or schema.tab, schema, head, xml)
            if tab is not None and layout.added:
                result.added_columns[tab] = [schema.column(f).label for f in layout.added]
            patched, changes = upgrade_sheet(xml, layout, schemas, ranges, styles)
            patched = upgrade_notes(NoteParts(archive, book, member), patched, layout, changes)
            if tab is not None:
                result.counts.update(changes.counts)
            result.kept += changes.kept
            if patched != xml:
                book.updated[member] = patched
    if styles.changed:
        book.updated["xl/styles.xml"] = styles.xml
    if book.updated:
        _write(path, stamp, book.updated)
    return result


def _layout(tab: str, schema: LogSchema, head: Grid, xml: bytes) -> TabLayout:
    """Where the log's columns are, and where the missing ones go: right of every cell in use."""
    header = locate_header(head, schema)
    if header is None and any(str(value).strip() for row in head.rows for value in row):
        raise SourceError(
            f"tab {tab!r} holds data but no {schema.title} header row kakosheet recognises; add the header "
            f"({', '.join(c.label for c in schema.columns[:3])}, ...) above the data, or rename the tab; "
            "nothing was written"
        )
    columns = dict(header.columns) if header else {}
    used = {letters for letters in _CELL_COLUMN.findall(xml)}
    next_free = max((column_index(letters) for letters in used), default=-1) + 1
    added = [column.field for column in schema.columns if column.field not in columns]
    for offset, field_name in enumerate(added):
        columns[field_name] = next_free + offset
    last = max([*columns.values(), next_free - 1], default=0)
    return TabLayout(tab, schema, (header.row_index if header else 0) + 1, columns, added, last)


# --------------------------------------------------------------------------- the Lists tab


def _wanted_values(lists: dict[str, tuple[str, ...]]) -> list[list[str]]:
    height = max(len(values) for values in lists.values()) + 1
    columns = [[name, *values, *[""] * (height - 1 - len(values))] for name, values in lists.items()]
    return [list(row) for row in zip(*columns, strict=True)]


def _grid_values(grid: Grid) -> list[list[str]]:
    rows = [["" if value is None else str(value) for value in row] for row in grid.rows]
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((len(row) for row in rows), default=0)
    return [row + [""] * (width - len(row)) for row in rows]


def _check_lists_tab(head: Grid, names: list[str]) -> None:
    """A Lists tab of the team's own is never overwritten."""
    first_row = [str(value) for value in head.rows[0]] if head.rows else []
    if not is_kakosheets_lists_header(first_row, names):
        raise SourceError(
            f"the tab {LISTS_TAB!r} is not kakosheet's (its first row holds {first_row[:3]!r}); kakosheet keeps its "
            "dropdown lists there: rename your tab and run setup again; nothing was written"
        )


def _lists_sheet(lists: dict[str, tuple[str, ...]]) -> bytes:
    wanted = _wanted_values(lists)
    rows = []
    for number, values in enumerate(wanted, start=1):
        cells = "".join(
            f'<c r="{column_letters(col)}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            for col, value in enumerate(values)
            if value
        )
        rows.append(f'<row r="{number}">{cells}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}">'
        f'<dimension ref="A1:{column_letters(len(lists) - 1)}{len(wanted)}"/>'  # as Excel writes: readers size by it
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    ).encode()


def _empty_sheet() -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" '
        f'xmlns:r="{_REL_NS}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode()


# --------------------------------------------------------------------------- the package


class _Book:
    """The small parts that name the sheets, and every part this run writes (name -> bytes)."""

    def __init__(self, parts: dict[str, bytes], names: list[str]) -> None:
        self.parts = parts
        self.names = set(names)
        self.updated: dict[str, bytes] = {}

    def part(self, name: str) -> bytes | None:
        return self.updated.get(name, self.parts.get(name))

    def new_member(self, pattern: str) -> str:
        number = 1
        while (name := pattern.format(number)) in self.names or name in self.updated:
            number += 1
        return name

    def add_content_type(self, part: str, content_type: str) -> None:
        types = self.part("[Content_Types].xml") or b""
        end = types.rfind(b"</Types>")
        override = f'<Override PartName="/{part}" ContentType="{content_type}"/>'.encode()
        self.updated["[Content_Types].xml"] = types[:end] + override + types[end:]

    def add_sheet(self, title: str, xml: bytes, *, hidden: bool = False) -> str:
        """A new tab at the end of the workbook (after every other, so no tab's index moves)."""
        workbook = self.part("xl/workbook.xml") or b""
        rels_name = "xl/_rels/workbook.xml.rels"
        rels = self.part(rels_name) or b""
        member = self.new_member("xl/worksheets/sheet{}.xml")
        rel_ids = {int(i) for i in re.findall(rb'Id="rId(\d+)"', rels)}
        rel_id = f"rId{max(rel_ids, default=0) + 1}"
        sheet_ids = [int(i) for i in re.findall(rb'<sheet\b[^>]*\bsheetId="(\d+)"', workbook)]
        state = ' state="hidden"' if hidden else ""
        entry = (
            f'<sheet name={quoteattr(title)} sheetId="{max(sheet_ids, default=0) + 1}"{state} '
            f'r:id="{rel_id}" xmlns:r="{_REL_NS}"/>'
        ).encode()
        end = workbook.find(b"</sheets>")
        if end == -1:
            raise SourceError("the workbook part has no list of sheets; open the file in Excel and save it again")
        self.updated["xl/workbook.xml"] = workbook[:end] + entry + workbook[end:]
        target = member.removeprefix("xl/")
        relationship = f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="{target}"/>'.encode()
        rels_end = rels.rfind(b"</Relationships>")
        self.updated[rels_name] = rels[:rels_end] + relationship + rels[rels_end:]
        self.add_content_type(member, WORKSHEET_CONTENT)
        self.updated[member] = xml
        return member


def _write(path: Path, stamp: FileStamp, updated: dict[str, bytes]) -> None:
    """The new package beside the real file, swapped in (refused if the file changed since it was read)."""
    with new_version_beside(path) as (handle, temporary):
        try:
            with os.fdopen(handle, "wb") as raw:
                with zipfile.ZipFile(raw, "w") as target, zipfile.ZipFile(path) as source:
                    infos = source.infolist()
                    for info in infos:
                        data = updated[info.filename] if info.filename in updated else source.read(info)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        target.writestr(info, data, compresslevel=6)
                    now = dt.datetime.now().timetuple()[:6]
                    for name in sorted(updated.keys() - {info.filename for info in infos}):
                        target.writestr(zipfile.ZipInfo(name, date_time=now), updated[name], zipfile.ZIP_DEFLATED)
                raw.flush()
                os.fsync(raw.fileno())
        except OSError as exc:
            raise SourceError(write_failure(path, exc)) from exc
        swap_in(path, temporary, stamp)
