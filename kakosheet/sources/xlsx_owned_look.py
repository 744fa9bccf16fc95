"""Whether an owned tab needs rewriting: what it shows, read from its parts, compared by value.

Excel and LibreOffice save kakosheet's inline text as shared strings, renumber styles and spell a
chart's series names their own way, so a tab is compared by its cells' values, its links and what
its charts draw, never by its bytes. What a tab shows is looked at ahead, by the read's scan
(ShownTabs); what it would show is worked out from the tab (xlsx_owned_sheet.tab_look).
"""

from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_charts import CHART_NS, DRAWINGML_NS

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Look",
    "SharedStrings",
    "ShownTab",
    "ShownTabs",
    "Value",
    "attributes_of",
    "cell_value",
    "look_of",
    "no_shared",
    "parse_part",
    "same_look",
    "sheet_look",
    "with_charts",
]

Value = tuple[str, str | float]  # ("s", text) | ("n", number) | ("b", "1") | ("e", "#N/A")


@dataclass(frozen=True)
class Look:
    """What a tab shows: its cells' values, its links, and what each chart draws."""

    cells: dict[str, Value]
    links: frozenset[tuple[str, str]]
    charts: tuple[tuple[object, ...], ...] = ()


@dataclass(frozen=True)
class ShownTab:
    """What a tab showed when the workbook was read: the text of its A1 (None: no text there) and,
    when that is the mark of a tab kakosheet owns and the part is not as kakosheet wrote it, its
    cells and links (its charts are read when it is compared: they are small)."""

    mark: str | None
    look: Look | None


@dataclass(frozen=True)
class ShownTabs:
    """The tabs by sheet part as the read found them, in the package of this digest (xlsx_package's
    package_digest): of another version, they say nothing."""

    digest: str
    tabs: Mapping[str, ShownTab]


def same_look(before: Look, after: Look) -> bool:
    """Whether an owned tab needs no rewrite: the same values (numbers to the precision Excel keeps),
    links and charts."""
    if before.links != after.links or before.charts != after.charts or before.cells.keys() != after.cells.keys():
        return False
    if before.cells == after.cells:  # compared in C; only a tab with some other value needs the loop
        return True
    for ref, (kind, value) in after.cells.items():
        was_kind, was = before.cells[ref]
        if was_kind != kind or not (
            was == value or (kind == "n" and math.isclose(float(was), float(value), rel_tol=1e-12, abs_tol=1e-9))
        ):
            return False
    return True


def look_of(sheet: bytes, charts: list[bytes], shared: Callable[[int], str | None]) -> Look:
    """What a tab's parts show: its sheet part's cells and links, what each of its charts draws."""
    return with_charts(sheet_look(sheet, shared), charts)


def with_charts(look: Look, charts: list[bytes]) -> Look:
    """A sheet part's look with what its charts draw."""
    return replace(look, charts=tuple(_chart_look(chart) for chart in charts))


def sheet_look(sheet: bytes, shared: Callable[[int], str | None]) -> Look:
    """The cells and links of a sheet part (no charts)."""
    cells = {}
    for ref, cell_type, content in _CELL_PARTS.findall(sheet):  # one C pass over the cells
        kind, value = _value_of(cell_type or b"n", content, shared)
        if value is not None and value != "":
            cells[ref.decode()] = (kind, value)
    links = set()
    for match in _HYPERLINK.finditer(sheet):
        attributes = attributes_of(match.group(1))
        links.add((attributes.get("ref", ""), attributes.get("location", "")))
    return Look(cells, frozenset(links))


def cell_value(
    attributes: bytes, content: bytes, shared: Callable[[int], str | None]
) -> tuple[str, str | float | None]:
    """A cell's value as (kind, value): text (inline, shared or a formula's), number, boolean or error."""
    kind = _TYPE.search(attributes)
    return _value_of(kind.group(1) if kind else b"n", content, shared)


def _value_of(cell_type: bytes, content: bytes, shared: Callable[[int], str | None]) -> tuple[str, str | float | None]:
    if cell_type == b"inlineStr":
        return "s", _runs_text(content)
    value = _V.search(content)
    if value is None:
        return "s", None
    text = value.group(1)
    if cell_type == b"s":
        return "s", shared(int(text)) if text.strip().isdigit() else None
    if cell_type in (b"str", b"e", b"b"):
        return ("s" if cell_type == b"str" else cell_type.decode()), html.unescape(text.decode("utf-8", "replace"))
    try:
        return "n", float(text)
    except ValueError:
        return "s", None


def _runs_text(item: bytes) -> str:
    """The text of an inline or shared string: its runs joined, phonetic guides left out."""
    if b"rPh" in item:
        item = _PHONETIC.sub(b"", item)
    return html.unescape(b"".join(_TEXT_RUN.findall(item)).decode("utf-8", "replace"))


def _chart_look(xml: bytes) -> tuple[object, ...]:
    """What a chart draws: its kinds, its title, and each series' name and the ranges it reads."""
    root = parse_part(xml, "a chart")
    c = f"{{{CHART_NS}}}"
    plot = root.find(f"{c}chart/{c}plotArea")
    charts = [child for child in (plot if plot is not None else []) if child.tag.endswith("Chart")]
    kinds = tuple(
        (chart.tag.rsplit("}", 1)[-1], "" if (bar := chart.find(f"{c}barDir")) is None else bar.get("val", ""))
        for chart in charts
    )
    title = root.find(f"{c}chart/{c}title")
    heading = "".join(t.text or "" for t in title.iter(f"{{{DRAWINGML_NS}}}t")) if title is not None else ""
    series = tuple(
        (_series_name(ser.find(f"{c}tx")), _formula(ser.find(f"{c}cat")), _formula(ser.find(f"{c}val")))
        for chart in charts
        for ser in chart.iter(f"{c}ser")
    )
    return kinds, heading, series


def _series_name(tx: ElementTree.Element | None) -> str:
    """A series' name: kakosheet and Excel write it as a value, LibreOffice as a quoted formula."""
    if tx is None:
        return ""
    value = tx.find(f"{{{CHART_NS}}}v")
    if value is not None:
        return value.text or ""
    formula = _formula(tx)
    if len(formula) > 1 and formula[0] == formula[-1] == '"':
        return formula[1:-1].replace('""', '"')
    cached = [v.text or "" for v in tx.iter(f"{{{CHART_NS}}}v")]
    return "".join(cached) or formula


def _formula(element: ElementTree.Element | None) -> str:
    found = element.find(f".//{{{CHART_NS}}}f") if element is not None else None
    return (found.text or "") if found is not None else ""


def no_shared(index: int) -> str | None:
    return None


# A cell with a reference: (ref, its t= or b"", its content), the attributes in any order.
_CELL_PARTS = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*?\br="([A-Z]{1,3}[0-9]+)")(?=(?:[^>]*?\bt="(\w+)")?)[^>]*?(?:/>|>(.*?)</(?:\w+:)?c>)', re.S
)
_TYPE = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_TEXT_RUN = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_HYPERLINK = re.compile(rb"<(?:\w+:)?hyperlink\b([^>]*?)/?>")
_SHARED_ITEM = re.compile(rb"<(?:\w+:)?si(?:\s*/>|>(.*?)</(?:\w+:)?si>)", re.S)


class SharedStrings:
    """The shared-string table, read only as far as the strings asked for (a log tab's header is
    near its start; the whole table of a big workbook is megabytes).

    The table is kept as read, in segments that end where an item ends, with where each item
    ends; an item is decoded only when asked for. An owned tab's check asks for a few thousand
    items of a table that, once Excel saved a big log, holds hundreds of thousands."""

    BLOCK = 1 << 20

    def __init__(self, handle: IO[bytes] | None) -> None:
        self.handle = handle
        self.segments: list[tuple[bytes, np.ndarray]] = []  # (XML, where each of its items ends)
        self.firsts: list[int] = []  # the index of each segment's first item
        self.count = 0
        self.texts: dict[int, str] = {}
        self.pending = b""

    def text(self, index: int) -> str | None:
        while index >= self.count and self.handle is not None:
            self._read()
        if not 0 <= index < self.count:
            return None
        text = self.texts.get(index)
        if text is None:
            segment = bisect.bisect_right(self.firsts, index) - 1
            xml, ends = self.segments[segment]
            local = index - self.firsts[segment]
            item = _SHARED_ITEM.search(xml, int(ends[local - 1]) if local else 0, int(ends[local]))
            text = self.texts[index] = _runs_text((item.group(1) if item else None) or b"")
        return text

    def _read(self) -> None:
        assert self.handle is not None
        block = self.handle.read(self.BLOCK)
        buffer = self.pending + block
        ends = _item_ends(buffer)
        cut = int(ends[-1]) if len(ends) else (len(buffer) if not block else 0)
        if len(ends):
            self.segments.append((buffer[:cut], ends))
            self.firsts.append(self.count)
            self.count += len(ends)
        self.pending = buffer[cut:]
        if not block:
            self.close()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


_ITEM_END = re.compile(rb"</(?:\w+:)?si>|<(?:\w+:)?si\s*/>")
_CLOSE = b"</si>"


def _item_ends(xml: bytes) -> np.ndarray:
    """Where each complete item of some shared-string XML ends. Excel and LibreOffice write every
    item as ``<si>…</si>``: those closing tags are found by numpy, several times faster than a
    regex; any other spelling (a prefix, ``<si/>``) by the regex."""
    import numpy as np  # once a shared-string table is read: opening a workbook (an unchanged re-sync) needs none

    if b":si" in xml or b"si/>" in xml or b"si />" in xml:
        return np.array([match.end() for match in _ITEM_END.finditer(xml)], dtype=np.int64)
    data = np.frombuffer(xml, dtype=np.uint8)
    if len(data) < len(_CLOSE):
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(data[: len(data) - len(_CLOSE) + 1] == _CLOSE[0])
    for offset in range(1, len(_CLOSE)):
        starts = starts[data[starts + offset] == _CLOSE[offset]]
    return starts.astype(np.int64) + len(_CLOSE)


_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def attributes_of(raw: bytes) -> dict[str, str]:
    """An element's attributes (either quote), their entities resolved."""
    return {
        key.decode(): html.unescape((double if double is not None else single).decode("utf-8", "replace"))
        for key, double, single in _ATTRIBUTE.findall(raw)
    }


def parse_part(xml: bytes, name: str) -> ElementTree.Element:
    """A small part as a tree; one that is not XML says so in a sentence."""
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise SourceError(
            f"the part {name} is not valid XML ({exc}); open the file in Excel and save it again"
        ) from exc
