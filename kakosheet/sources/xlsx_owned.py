"""kakosheet's own tabs (core/owned_tab.py) drawn into a workbook package as parts, every other part left alone.

An owned tab is found by its mark, the text of its A1: inline as kakosheet writes it, a shared
string once Excel or LibreOffice saved the workbook. A re-run replaces the tab's sheet part and
its drawing and chart parts in place, under the same names; the tab keeps its place, its sheetId
and its title (one the team renamed keeps the team's). What only the old tab used (a chart no
longer wanted, the style and colour parts Excel adds to a chart it saves) goes, with its
relationships and content types: no orphan part and no dangling relationship is left. A tab that
would show what it shows is not written at all (compared by value: sources/xlsx_owned_look.py).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.sax.saxutils import quoteattr

from kakosheet.core.owned_tab import MARK_PREFIX, TITLE_CHARS, OwnedTab, TabCell, fallback_title
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_charts import CHART_NS, PlacedChart, chart_xml, drawing_xml
from kakosheet.sources.xlsx_owned_look import (
    SharedStrings,
    ShownTab,
    attributes_of,
    cell_value,
    look_of,
    parse_part,
    same_look,
    sheet_look,
    with_charts,
)
from kakosheet.sources.xlsx_owned_sheet import (
    MAIN_NS,
    OWN_HEAD,
    REL_NS,
    XML_HEAD,
    CellStyles,
    number_text,
    sheet_xml,
    tab_look,
)

__all__ = ["MAIN_NS", "TabParts", "owned_tab_parts", "tabs_shown"]

PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET_TYPE = f"{REL_NS}/worksheet"
DRAWING_TYPE = f"{REL_NS}/drawing"
CHART_TYPE = f"{REL_NS}/chart"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DRAWING_CONTENT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CONTENT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
CONTENT_TYPES = "[Content_Types].xml"
_HEAD_BYTES = 16384  # of a sheet part, enough to hold its first cell
_NOT_IN_TITLES = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a tab's title


@dataclass
class TabParts:
    """What drawing the owned tabs does to the package: parts written (added or replaced), parts
    removed, and the title each tab is under, by its mark (also when it needed no rewrite)."""

    written: dict[str, bytes] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    titles: dict[str, str] = field(default_factory=dict)


def owned_tab_parts(
    archive: zipfile.ZipFile,
    members: list[str],
    parts: dict[str, bytes],
    tabs: list[OwnedTab],
    styles: CellStyles,
    *,
    shown: Mapping[str, ShownTab] | None = None,
) -> TabParts:
    """The parts that draw ``tabs`` into the package; ``parts`` holds the current bytes of the
    workbook part, its relationships and the content types. ``shown`` is what tabs_shown found
    in this very package, by sheet part (the read's scan looks ahead); a part it does not name
    is read now."""
    if not tabs:
        return TabParts()
    package = _Package(archive, members, parts, shown or {})
    try:
        found = package.find_owned(tabs)
        for tab in tabs:
            sheet = found.get(tab.mark)
            if sheet is not None or tab.create:
                package.draw(tab, sheet, styles)
        return package.result()
    finally:
        package.close()


def tabs_shown(archive: zipfile.ZipFile) -> dict[str, ShownTab]:
    """What each tab shows, by sheet part: the text of its A1 and, when that is an owned tab's mark,
    its cells and links (unless kakosheet wrote the part as it is: that is compared byte for byte).
    What drawing the owned tabs reads of the package, read by the same code ahead of time: the
    read's scan does it in its child process, off the sync's path (once Excel saved a big log,
    reaching the Issues tab's text takes the whole shared-strings table)."""
    members = archive.namelist()
    parts = {name: archive.read(name) for name in (WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES) if name in members}
    if WORKBOOK not in parts or CONTENT_TYPES not in parts:
        return {}  # not a package the write-back draws into: it says why itself
    package = _Package(archive, members, parts, {})
    try:
        shown = {}
        for sheet in package.sheets:
            if sheet.part is None or sheet.part in shown:
                continue
            mark, look = package.first_text(sheet.part), None
            if mark is not None and mark.startswith(MARK_PREFIX):
                xml = archive.read(sheet.part)
                if not xml.startswith(OWN_HEAD):  # as kakosheet wrote it, it is compared byte for byte
                    look = sheet_look(xml, package.shared_text)
            shown[sheet.part] = ShownTab(mark, look)
        return shown
    finally:
        package.close()


# --------------------------------------------------------------------------- the package


@dataclass
class _Sheet:
    """A tab as the workbook part lists it."""

    name: str
    sheet_id: int
    rel_id: str
    part: str | None  # None: its relationship leads nowhere, or not to a worksheet


@dataclass
class _Layout:
    """The parts an owned tab is drawn into, and the parts its previous version used."""

    sheet: str
    drawing: str | None
    charts: list[str]
    previous: set[str] = field(default_factory=set)  # parts only the previous version used, its own rels aside
    previous_charts: list[str] = field(default_factory=list)  # in the previous drawing's order


class _Package:
    """The workbook's list of tabs and the package's relationships, as one write changes them."""

    def __init__(
        self, archive: zipfile.ZipFile, members: list[str], parts: dict[str, bytes], shown: Mapping[str, ShownTab]
    ) -> None:
        self.archive = archive
        self.shown = shown  # by sheet part, what the tabs of this package show as the read found
        self.members = {name.lower(): name for name in members}
        self.taken = set(self.members)  # part names in use or handed out, lower case
        self.workbook = parts[WORKBOOK]
        self.workbook_rels = parts.get(WORKBOOK_RELS, b"")
        self.types = parts[CONTENT_TYPES]
        self.changed: set[str] = set()  # of the three above
        self.written: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.titles: dict[str, str] = {}
        self.book_rels = _relationships(self.workbook_rels, WORKBOOK, WORKBOOK_RELS)
        self.sheets = self._sheets()
        self._graph: dict[str, list[str]] = {}  # relationships part -> the parts it leads to (lower case)
        self._shared: SharedStrings | None = None

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()

    def result(self) -> TabParts:
        written = dict(self.written)
        for name, data in ((WORKBOOK, self.workbook), (WORKBOOK_RELS, self.workbook_rels), (CONTENT_TYPES, self.types)):
            if name in self.changed:
                written[name] = data
        return TabParts(written, self.removed, self.titles)

    def member(self, name: str) -> str | None:
        return self.members.get(name.lower())

    def _sheets(self) -> list[_Sheet]:
        sheets = []
        for match in _SHEET.finditer(self.workbook):
            attributes = attributes_of(match.group(1))
            rel_id = next((value for key, value in attributes.items() if key.endswith(":id")), "")
            relationship = self.book_rels.get(rel_id)
            part = None
            if relationship is not None and relationship.type == WORKSHEET_TYPE and not relationship.external:
                part = self.member(relationship.target)
            sheet_id = attributes.get("sheetId", "0")
            sheets.append(_Sheet(attributes.get("name", ""), int(sheet_id) if sheet_id.isdigit() else 0, rel_id, part))
        return sheets

    # ----------------------------------------------------------------- finding

    def find_owned(self, tabs: list[OwnedTab]) -> dict[str, _Sheet]:
        """Each tab's previous version, known by its mark; of two copies, the one with the tab's title."""
        titles = {tab.mark: tab.title for tab in tabs}
        found: dict[str, _Sheet] = {}
        for sheet in self.sheets:
            if sheet.part is None:
                continue
            mark = self.first_text(sheet.part)
            if mark in titles and (mark not in found or (sheet.name == titles[mark] != found[mark].name)):
                found[mark] = sheet
        return found

    def first_text(self, part: str) -> str | None:
        """The text of a sheet part's A1 (only its head is read), or None."""
        known = self.shown.get(part)
        if known is not None:
            return known.mark
        with self.archive.open(part) as handle:
            head = handle.read(_HEAD_BYTES)
        cell = _A1.search(head)
        if cell is None:
            return None
        kind, value = cell_value(cell.group(1), cell.group(2) or b"", self.shared_text)
        return value if kind == "s" and isinstance(value, str) else None

    def shared_text(self, index: int) -> str | None:
        if self._shared is None:
            relationship = next((r for r in self.book_rels.values() if r.type.endswith("/sharedStrings")), None)
            part = self.member(relationship.target) if relationship is not None else None
            self._shared = SharedStrings(self.archive.open(part) if part else None)
        return self._shared.text(index)

    # ----------------------------------------------------------------- drawing

    def draw(self, tab: OwnedTab, sheet: _Sheet | None, styles: CellStyles) -> None:
        """Add the tab, or replace its previous version (unless it would show the same) under the
        title it has: a team that renamed kakosheet's tab keeps its title (as in a Google Sheet)."""
        title = self.titles[tab.mark] = sheet.name if sheet is not None else self._title_for(tab.title)
        layout = self._layout(tab, sheet)
        saved = styles.snapshot()
        charts = _chart_parts(tab, title, layout, styles)
        drawn = None  # the sheet part, drawn when it is compared or written
        if sheet is not None and sheet.part is not None:
            same, drawn = self._shows_the_same(tab, sheet.part, layout, charts, styles)
            if same:
                styles.restore(saved)  # a format added for a tab that is not written is not added either
                return
        parts = {layout.sheet: drawn if drawn is not None else _sheet_part(tab, layout, styles), **charts}
        own_rels = {rels_of(name) for name in (*layout.previous, layout.sheet)}
        gone = {name for name in layout.previous | own_rels if self.member(name)} - parts.keys()
        self.written.update(parts)
        self.removed |= {self.members[name.lower()] for name in gone}
        self._set_content_types(parts, gone)
        if sheet is None:
            self._add_sheet(title, layout.sheet)

    def _title_for(self, wanted: str) -> str:
        """A new tab's title, or a fallback when the team has a tab of its own with it (Excel compares
        titles ignoring case)."""
        taken = {other.name.casefold() for other in self.sheets}
        title = _NOT_IN_TITLES.sub("-", wanted).strip("'") or "kakosheet"
        if title.casefold() not in taken:
            return title
        candidate, number = fallback_title(title), 2
        while candidate.casefold() in taken:
            suffix = f" ({number})"
            candidate, number = fallback_title(title)[: TITLE_CHARS - len(suffix)] + suffix, number + 1
        return candidate

    def _layout(self, tab: OwnedTab, sheet: _Sheet | None) -> _Layout:
        """The part names: the previous version's, each chart in its slot's part, new ones for the rest."""
        if sheet is None or sheet.part is None:
            return _Layout(
                sheet=self._new_name("xl/worksheets/sheet{}.xml"),
                drawing=self._new_name("xl/drawings/drawing{}.xml") if tab.charts else None,
                charts=[self._new_name("xl/charts/chart{}.xml") for _ in tab.charts],
            )
        previous = self._only_used_by(sheet.part)
        drawing = next(
            (r.target for r in self._rels_of(sheet.part) if r.type == DRAWING_TYPE and r.target in previous), None
        )
        frames = self._frames(drawing) if drawing is not None else []
        slots = {name: part for name, part in reversed(frames) if part in previous}
        wanted = {chart.slot for chart in tab.charts}
        spare = [part for name, part in frames if name not in wanted and part in previous]
        charts: list[str] = []
        for chart in tab.charts:
            part = slots.pop(chart.slot, None)
            if part is None or part in charts:
                part = spare.pop(0) if spare else self._new_name("xl/charts/chart{}.xml")
            charts.append(part)
        if tab.charts and drawing is None:
            drawing = self._new_name("xl/drawings/drawing{}.xml")
        return _Layout(
            sheet=sheet.part,
            drawing=drawing if tab.charts else None,
            charts=charts,
            previous=previous,
            previous_charts=[part for _, part in frames],
        )

    def _new_name(self, pattern: str) -> str:
        number = 1
        while pattern.format(number).lower() in self.taken:
            number += 1
        name = pattern.format(number)
        self.taken.add(name.lower())
        return name

    def _frames(self, drawing: str) -> list[tuple[str, str]]:
        """(name, chart part) of each chart a drawing holds, in its order."""
        targets = {r.id: r.target for r in self._rels_of(drawing) if r.type == CHART_TYPE}
        frames = []
        root = parse_part(self.archive.read(self.members[drawing.lower()]), drawing)
        for frame in root.iter(f"{{{_XDR_NS}}}graphicFrame"):
            properties = frame.find(f"{{{_XDR_NS}}}nvGraphicFramePr/{{{_XDR_NS}}}cNvPr")
            chart = frame.find(f".//{{{CHART_NS}}}chart")
            target = targets.get(chart.get(f"{{{REL_NS}}}id", "")) if chart is not None else None
            if target is not None and self.member(target):
                frames.append((properties.get("name", "") if properties is not None else "", target))
        return frames

    def _shows_the_same(
        self, tab: OwnedTab, part: str, layout: _Layout, charts: dict[str, bytes], styles: CellStyles
    ) -> tuple[bool, bytes | None]:
        """Whether the previous version (sheet part ``part``) shows what ``tab`` drawn would, and the
        tab's sheet part when it was drawn to tell. A part as kakosheet wrote it is compared with it
        byte for byte: other bytes are other values. Any other by value, since Excel saves inline
        text as shared strings and renumbers styles: what it shows as the read found it (or read
        now), what ``tab`` would show worked out from the tab, without drawing it."""
        before = self.archive.read(part)
        wanted_charts = [charts[name] for name in layout.charts]
        present = [name for name in layout.previous_charts if self.member(name)]
        charts_before = [self.archive.read(self.members[name.lower()]) for name in present]
        if before.startswith(OWN_HEAD):
            drawn = _sheet_part(tab, layout, styles)
            return before == drawn and charts_before == wanted_charts, drawn
        known = self.shown.get(part)
        if known is not None and known.look is not None:
            was = with_charts(known.look, charts_before)
        else:
            was = look_of(before, charts_before, self.shared_text)
        return same_look(was, with_charts(tab_look(tab, styles.epoch), wanted_charts)), None

    # ----------------------------------------------------------------- relationships

    def _rels_of(self, part: str) -> list[_Relationship]:
        name = self.member(rels_of(part))
        if name is None:
            return []
        return list(_relationships(self.archive.read(name), part, name).values())

    def _only_used_by(self, part: str) -> set[str]:
        """The parts a sheet part leads to, directly or not, that nothing else leads to."""
        own_part = part.lower()
        reached: set[str] = set()
        stack = [own_part]
        while stack:
            rels = self.member(rels_of(stack.pop()))
            for target in self._targets(rels) if rels is not None else ():
                if target not in reached and target != own_part:
                    reached.add(target)
                    stack.append(target)
        if not reached:  # the Issues tab: no drawing, nothing to look for
            return set()
        referrers: dict[str, set[str]] = {}
        for source, targets in self._graph_towards(reached).items():
            for target in targets:
                referrers.setdefault(target, set()).add(source)
        own = reached | {own_part}
        changed = True
        while changed:  # a part something else leads to stays, and so does all it leads to
            kept = {name for name in reached if not referrers.get(name, set()) <= own}
            changed = bool(kept)
            reached -= kept
            own -= kept
        return {self.members[name] for name in reached}

    def _graph_towards(self, parts: set[str]) -> dict[str, list[str]]:
        """Part (lower case) -> the package's parts its relationships lead to, for every part whose
        relationships may lead to one of ``parts``: a relationships part that names none of their
        files (a big log tab's, with a hyperlink per row) is not parsed."""
        names = [posixpath.basename(name).encode() for name in parts]
        graph = {}
        for name in self.members.values():
            source = source_of(name)
            if source is None:
                continue
            xml = self.archive.read(name).lower()
            if b"%" in xml or any(file in xml for file in names):  # an escaped name is parsed to be sure
                graph[source.lower()] = self._targets(name)
        return graph

    def _targets(self, rels: str) -> list[str]:
        """The package's parts (lower case) a relationships part leads to."""
        targets = self._graph.get(rels)
        if targets is None:
            source = source_of(rels) or ""
            found = _relationships(_without_external(self.archive.read(rels)), source, rels).values()
            targets = self._graph[rels] = [
                r.target.lower() for r in found if not r.external and r.target.lower() in self.members
            ]
        return targets

    # ----------------------------------------------------------------- the workbook's entries

    def _set_content_types(self, parts: dict[str, bytes], gone: set[str]) -> None:
        overrides = {m.group(1).decode().lstrip("/").lower(): m for m in _OVERRIDE.finditer(self.types)}
        cut = sorted((overrides[name.lower()].span() for name in gone if name.lower() in overrides), reverse=True)
        types = self.types
        for start, end in cut:
            types = types[:start] + types[end:]
        added = "".join(
            f'<Override PartName="/{name}" ContentType="{content}"/>'
            for name in parts
            if (content := _content_type(name)) is not None and name.lower() not in overrides
        )
        if added:
            end = types.rfind(b"</Types>")
            types = types[:end] + added.encode() + types[end:]
        if types != self.types:
            self.types = types
            self.changed.add(CONTENT_TYPES)

    def _add_sheet(self, title: str, part: str) -> None:
        ids = {int(m) for m in re.findall(rb'\bId="rId(\d+)"', self.workbook_rels)}
        rel_id = f"rId{max(ids, default=0) + 1}"
        sheet_id = max((sheet.sheet_id for sheet in self.sheets), default=0) + 1
        entry = (f'<sheet name={quoteattr(title)} sheetId="{sheet_id}" r:id="{rel_id}" xmlns:r="{REL_NS}"/>').encode()
        end = self.workbook.find(b"</sheets>")
        rels_end = self.workbook_rels.rfind(b"</Relationships>")
        if end == -1 or rels_end == -1:
            raise SourceError("the workbook part has no list of sheets; open the file in Excel and save it again")
        target = posixpath.relpath(part, "xl")
        relationship = f'<Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="{target}"/>'.encode()
        self.workbook = self.workbook[:end] + entry + self.workbook[end:]
        self.workbook_rels = self.workbook_rels[:rels_end] + relationship + self.workbook_rels[rels_end:]
        self.changed |= {WORKBOOK, WORKBOOK_RELS}
        self.sheets.append(_Sheet(title, sheet_id, rel_id, part))


_XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*?)/?>")
_OVERRIDE = re.compile(rb"""<Override\b[^>]*?\bPartName\s*=\s*["']([^"']*)["'][^>]*>""")
_A1 = re.compile(rb'<(?:\w+:)?c\b(?=[^>]*\br="A1")([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)


def _content_type(name: str) -> str | None:
    if name.startswith("xl/worksheets/sheet"):
        return WORKSHEET_CONTENT
    if name.startswith("xl/drawings/drawing"):
        return DRAWING_CONTENT
    if name.startswith("xl/charts/chart"):
        return CHART_CONTENT
    return None  # a relationships part: the package's default for .rels


@dataclass(frozen=True)
class _Relationship:
    id: str
    type: str
    target: str  # the part it leads to (a package path), or the address of an external one
    external: bool


def rels_of(part: str) -> str:
    """The relationships part of a part: xl/worksheets/_rels/sheet3.xml.rels."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def source_of(rels: str) -> str | None:
    """The part a relationships part belongs to ("" for the package's own), None for another part."""
    folder, name = posixpath.split(rels)
    if not name.endswith(".rels") or posixpath.basename(folder) != "_rels":
        return None
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])


def _relationships(xml: bytes, source: str, name: str) -> dict[str, _Relationship]:
    """A relationships part's entries by Id, targets resolved against the folder of ``source``."""
    if not xml:
        return {}
    found = {}
    for element in parse_part(xml, name):
        target = unquote(element.get("Target", "")).replace("\\", "/")
        external = element.get("TargetMode", "") == "External"
        if not external:
            base = posixpath.dirname(source)
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        found[element.get("Id", "")] = _Relationship(element.get("Id", ""), element.get("Type", ""), target, external)
    return found


# An external relationship (a typed URL's hyperlink: a big log tab has one per row) leads to no part.
_EXTERNAL = re.compile(
    rb"""<(?:\w+:)?Relationship\b[^>]*?\bTargetMode\s*=\s*["']External["'][^>]*?(?:/>|>\s*</(?:\w+:)?Relationship>)"""
)


def _without_external(xml: bytes) -> bytes:
    """A relationships part without its external entries (removed in C rather than parsed): what
    leads to the package's own parts. A match never leaves its element, so only external entries
    go; should an odd spelling defeat the removal, the part is returned as it was, and parsed whole."""
    if xml.count(b"External") < 16:
        return xml
    stripped = _EXTERNAL.sub(b"", xml)
    return stripped if b"External" not in stripped else xml


def _rels_xml(source: str, relationships: list[tuple[str, str, str]]) -> bytes:
    """A relationships part: (Id, Type, target part) each, targets written relative to ``source``."""
    folder = posixpath.dirname(source)
    entries = "".join(
        f'<Relationship Id="{rel_id}" Type="{kind}" Target={quoteattr(posixpath.relpath(target, folder))}/>'
        for rel_id, kind, target in relationships
    )
    return f'{XML_HEAD}<Relationships xmlns="{PACKAGE_REL_NS}">{entries}</Relationships>'.encode()


# --------------------------------------------------------------------------- the parts of a tab


def _sheet_part(tab: OwnedTab, layout: _Layout, styles: CellStyles) -> bytes:
    """The tab's sheet part (leading to its drawing, when it has charts)."""
    return sheet_xml(tab, styles, drawing_rel="rId1" if layout.drawing else None)


def _chart_parts(tab: OwnedTab, title: str, layout: _Layout, styles: CellStyles) -> dict[str, bytes]:
    """The tab's parts besides its sheet: with charts, its drawing, the charts and their relationships."""
    parts: dict[str, bytes] = {}
    if layout.drawing is None:
        return parts
    placed = [PlacedChart(chart, f"rId{k}") for k, chart in enumerate(tab.charts, start=1)]
    parts[rels_of(layout.sheet)] = _rels_xml(layout.sheet, [("rId1", DRAWING_TYPE, layout.drawing)])
    parts[layout.drawing] = drawing_xml(placed)
    parts[rels_of(layout.drawing)] = _rels_xml(
        layout.drawing, [(p.rel_id, CHART_TYPE, part) for p, part in zip(placed, layout.charts, strict=True)]
    )
    epoch = styles.epoch

    def cell_number(cell: TabCell) -> str | None:
        return number_text(cell.value, epoch)

    for chart, part in zip(tab.charts, layout.charts, strict=True):
        parts[part] = chart_xml(chart, tab, title, cell_number, date1904=styles.date1904)
    return parts
