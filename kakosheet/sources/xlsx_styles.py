"""The workbook's styles part (xl/styles.xml) as kakosheet edits it: a section's entries listed, and
an entry found or appended (never an existing one changed or reordered), so that what kakosheet
writes can name the format it needs. Setup (xlsx_setup_styles.py) and the write-back
(xlsx_writeback_styles.py) build on it."""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import escape

from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_order import styles_insertion_point

# The format of the rule that highlights the cells an Issues note names: setup's rules and the write-back's.
HIGHLIGHT_DXF = b'<dxf><fill><patternFill patternType="solid"><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>'
# Number formats every workbook has without listing them (ECMA-376 18.8.30); dates' vary by locale.
BUILTIN_NUMBER_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "@": 49}
_LAST_BUILTIN_ID = 163  # a workbook's own number formats are numbered from 164
_CHILD = {b"cellXfs": b"xf", b"dxfs": b"dxf", b"numFmts": b"numFmt", b"fonts": b"font", b"fills": b"fill"}
# The sections a part may lack, created where the format's order puts them; one without cell formats
# or fonts is refused instead.
_CREATED = {b"numFmts", b"dxfs", b"fills"}
_BOLD = re.compile(rb"<b\s*/>|<b\s+val=\"(?:1|true)\"\s*/>")


_COUNT = re.compile(rb"""\s*count\s*=\s*(?:"[^"]*"|'[^']*')""")  # a section's count, in either quotes


class StylesPart:
    """The styles part's XML, appended to as formats are asked for; ``changed`` once something was."""

    def __init__(self, xml: bytes | None) -> None:
        if xml is None:
            raise SourceError("the workbook has no styles part; open it in Excel and save it again")
        self.xml = xml
        self.changed = False

    def entries(self, name: bytes) -> list[bytes]:
        """A section's entries, in order: an entry's index is the id cells and rules name it by."""
        child = _CHILD[name]
        return re.findall(rb"<" + child + rb"\b[^>]*?(?:/>|>.*?</" + child + rb">)", self._section(name), re.S)

    def find_or_append(self, name: bytes, entry: bytes) -> int:
        """The index of the first entry of a section that is ``entry``, appended when there is none."""
        entries = self.entries(name)
        return entries.index(entry) if entry in entries else self.append(name, entry)

    def append(self, name: bytes, entry: bytes) -> int:
        """Append an entry to a section (creating it when missing), fixing its count; returns its index."""
        child = _CHILD[name]
        match = re.search(rb"<" + name + rb"\b([^>]*?)(/>|>(.*?)</" + name + rb">)", self.xml, re.S)
        self.changed = True
        if match is None:
            anchor = styles_insertion_point(self.xml, name.decode()) if name in _CREATED else -1
            if anchor == -1:
                raise SourceError("the workbook's styles part is unusual; open it in Excel and save it again")
            block = b"<" + name + b' count="1">' + entry + b"</" + name + b">"
            self.xml = self.xml[:anchor] + block + self.xml[anchor:]
            return 0
        body = match.group(3) or b""
        count = len(re.findall(rb"<" + child + rb"\b", body))
        attributes = _COUNT.sub(b"", match.group(1))
        block = b"<" + name + b' count="' + str(count + 1).encode() + b'"' + attributes + b">" + body + entry
        self.xml = self.xml[: match.start()] + block + b"</" + name + b">" + self.xml[match.end() :]
        return count

    def number_format(self, code: str) -> int:
        """The id of a number format: a built-in one's, else the workbook's own, appended when missing."""
        builtin = BUILTIN_NUMBER_FORMATS.get(code)
        if builtin is not None:
            return builtin
        ids = []
        for entry in self.entries(b"numFmts"):
            number = attribute(entry, b"numFmtId")
            if number is None or not number.isdigit():
                continue
            ids.append(int(number))
            if html.unescape((attribute(entry, b"formatCode") or b"").decode("utf-8", "replace")) == code:
                return ids[-1]
        new_id = max([_LAST_BUILTIN_ID, *ids]) + 1
        code_attribute = escape(code, {'"': "&quot;"})
        self.append(b"numFmts", f'<numFmt numFmtId="{new_id}" formatCode="{code_attribute}"/>'.encode())
        return new_id

    def bold_font(self, font_id: int) -> int:
        """The index of a font like ``font_id`` but bold: itself when it is, else found or appended."""
        fonts = self.entries(b"fonts")
        if font_id < len(fonts) and is_bold_font(fonts[font_id]):
            return font_id
        base = fonts[font_id] if font_id < len(fonts) else b"<font/>"
        bold = b"<font><b/></font>" if base.endswith(b"/>") else re.sub(rb"^<font\b([^>]*)>", rb"<font\1><b/>", base)
        return self.find_or_append(b"fonts", bold)

    def highlight_dxf(self) -> int:
        """The index of the issue highlight's format."""
        return self.find_or_append(b"dxfs", HIGHLIGHT_DXF)

    def _section(self, name: bytes) -> bytes:
        match = re.search(rb"<" + name + rb"\b[^>]*?(?:/>|>(.*?)</" + name + rb">)", self.xml, re.S)
        return (match.group(1) or b"") if match else b""


def is_bold_font(font: bytes) -> bool:
    """Whether a font entry is bold."""
    return _BOLD.search(font) is not None


def attribute(element: bytes, name: bytes) -> bytes | None:
    """An attribute's value (as written: entities not resolved) in an element's start tag."""
    match = re.search(rb"\s" + name + rb"""\s*=\s*(?:"([^"]*)"|'([^']*)')""", element[: element.find(b">") + 1])
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)
