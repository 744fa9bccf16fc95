"""styles.xml for setup: the formats kakosheet's headers, new columns and highlight rules need,
found among the workbook's own or appended (never changing or reordering an existing one)."""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_order import styles_insertion_point

HIGHLIGHT_DXF = b'<dxf><fill><patternFill patternType="solid"><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>'
_CHILD = {b"cellXfs": b"xf", b"dxfs": b"dxf", b"numFmts": b"numFmt", b"fonts": b"font", b"fills": b"fill"}
# Where a missing section goes (the order of CT_Stylesheet).
# The sections setup may create when the styles part lacks them.
_CREATED = {b"numFmts", b"dxfs", b"fills"}
_BOLD = re.compile(rb"<b\s*/>|<b\s+val=\"(?:1|true)\"\s*/>")
_BUILTIN_FORMATS = {"@": 49, "0": 1, "0.00%": 10, "#,##0.00": 4}


class StyleBook:
    """The workbook's styles part; ``changed`` once something was appended."""

    def __init__(self, xml: bytes | None) -> None:
        if xml is None:
            raise SourceError("the workbook has no styles part; open it in Excel and save it again")
        self.xml = xml
        self.changed = False

    # ----------------------------------------------------------------- reading

    def entries(self, name: bytes) -> list[bytes]:
        section = self._section(name)
        child = _CHILD[name]
        return re.findall(rb"<" + child + rb"\b[^>]*?(?:/>|>.*?</" + child + rb">)", section, re.S)

    def _section(self, name: bytes) -> bytes:
        match = re.search(rb"<" + name + rb"\b[^>]*?(?:/>|>(.*?)</" + name + rb">)", self.xml, re.S)
        return (match.group(1) or b"") if match else b""

    def cell_colour(self, xf: int) -> str | None:
        """The solid fill colour (RRGGBB) a cell format shows, None for none or a theme colour."""
        xfs = self.entries(b"cellXfs")
        if xf >= len(xfs):
            return None
        fill_id = _attr(xfs[xf], b"fillId")
        fills = self.entries(b"fills")
        if fill_id is None or int(fill_id) >= len(fills):
            return None
        fill = fills[int(fill_id)]
        if b'patternType="solid"' not in fill:
            return None
        rgb = re.search(rb'<fgColor\b[^>]*\brgb="([0-9A-Fa-f]{6,8})"', fill)
        return rgb.group(1).decode()[-6:].upper() if rgb else None

    def is_bold(self, xf: int) -> bool:
        xfs = self.entries(b"cellXfs")
        if xf >= len(xfs):
            return False
        font_id = _attr(xfs[xf], b"fontId")
        fonts = self.entries(b"fonts")
        return font_id is not None and int(font_id) < len(fonts) and bool(_BOLD.search(fonts[int(font_id)]))

    # ----------------------------------------------------------------- what kakosheet needs

    def header_xf(self, base: int, colour: str) -> int:
        """A header's format: the cell's own (``base``) with kakosheet's colour, bold, wrapped;
        ``base`` itself when it already shows them."""
        if self.cell_colour(base) == colour and self.is_bold(base):
            return base
        xfs = self.entries(b"cellXfs")
        template = xfs[base] if base < len(xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        font = self._bold_font(int(_attr(template, b"fontId") or 0))
        new = _set_attr(template, b"fillId", str(self._fill(colour)).encode())
        new = _set_attr(new, b"fontId", str(font).encode())
        new = _set_attr(_set_attr(new, b"applyFill", b"1"), b"applyFont", b"1")
        new = _set_attr(new, b"applyAlignment", b"1")
        alignment = b'<alignment vertical="center" wrapText="1"/>'
        if new.endswith(b"/>"):
            new = new[:-2] + b">" + alignment + b"</xf>"
        elif b"<alignment" not in new:
            new = new.replace(b">", b">" + alignment, 1)
        return self._find_or_append(b"cellXfs", new)

    def column_xf(self, number_format: str | None, colour: str | None) -> int:
        """The default format of a column setup adds: its number format, and kakosheet's shading."""
        num_id = self._numfmt(number_format) if number_format else 0
        fill_id = self._fill(colour) if colour else 0
        new = (
            f'<xf numFmtId="{num_id}" fontId="0" fillId="{fill_id}" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if num_id else "")
            + (' applyFill="1"' if fill_id else "")
            + "/>"
        ).encode()
        return self._find_or_append(b"cellXfs", new)

    def fill_dxf(self, colour: str) -> int:
        dxf = (
            f'<dxf><fill><patternFill patternType="solid"><fgColor rgb="FF{colour}"/><bgColor rgb="FF{colour}"/>'
            "</patternFill></fill></dxf>"
        ).encode()
        return self._find_or_append(b"dxfs", dxf, same_fill=colour)

    def highlight_dxf(self) -> int:
        """The issue highlight's format, the one sync's write-back uses (sources/xlsx_writeback.py)."""
        return self._find_or_append(b"dxfs", HIGHLIGHT_DXF)

    # ----------------------------------------------------------------- appending

    def _fill(self, colour: str) -> int:
        for index, fill in enumerate(self.entries(b"fills")):
            if b'patternType="solid"' in fill and re.search(rb'<fgColor\b[^>]*rgb="(?:FF)?' + colour.encode(), fill):
                return index
        solid = f'<patternFill patternType="solid"><fgColor rgb="FF{colour}"/><bgColor indexed="64"/></patternFill>'
        return self._append(b"fills", f"<fill>{solid}</fill>".encode())

    def _bold_font(self, font_id: int) -> int:
        fonts = self.entries(b"fonts")
        if font_id < len(fonts) and _BOLD.search(fonts[font_id]):
            return font_id
        base = fonts[font_id] if font_id < len(fonts) else b"<font/>"
        bold = b"<font><b/></font>" if base.endswith(b"/>") else re.sub(rb"^<font\b([^>]*)>", rb"<font\1><b/>", base)
        return self._find_or_append(b"fonts", bold)

    def _numfmt(self, code: str) -> int:
        builtin = _BUILTIN_FORMATS.get(code)
        if builtin is not None:
            return builtin
        escaped = quoteattr(code).encode()
        for entry in self.entries(b"numFmts"):
            if b"formatCode=" + escaped in entry:
                return int(_attr(entry, b"numFmtId") or 0)
        ids = [int(_attr(e, b"numFmtId") or 0) for e in self.entries(b"numFmts")]
        new_id = max([163, *ids]) + 1
        self._append(b"numFmts", f'<numFmt numFmtId="{new_id}" formatCode={quoteattr(code)}/>'.encode())
        return new_id

    def _find_or_append(self, name: bytes, entry: bytes, same_fill: str | None = None) -> int:
        for index, existing in enumerate(self.entries(name)):
            if existing == entry or (same_fill and _dxf_colour(existing) == same_fill):
                return index
        return self._append(name, entry)

    def _append(self, name: bytes, entry: bytes) -> int:
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
        attributes = re.sub(rb'\s*count="\d+"', b"", match.group(1))
        block = b"<" + name + b' count="' + str(count + 1).encode() + b'"' + attributes + b">" + body + entry
        self.xml = self.xml[: match.start()] + block + b"</" + name + b">" + self.xml[match.end() :]
        return count


def _dxf_colour(dxf: bytes) -> str | None:
    """The solid colour of a plain fill-only dxf (as kakosheet's blank-mandatory highlight is)."""
    if b"<font" in dxf or b"<border" in dxf or b"<numFmt" in dxf:
        return None
    match = re.search(rb'<bgColor\b[^>]*rgb="(?:FF)?([0-9A-Fa-f]{6})"', dxf)
    return match.group(1).decode().upper() if match else None


def _attr(element: bytes, name: bytes) -> bytes | None:
    match = re.search(rb"\s" + name + rb'="([^"]*)"', element[: element.find(b">") + 1])
    return match.group(1) if match else None


def _set_attr(element: bytes, name: bytes, value: bytes) -> bytes:
    end = element.find(b">")
    head = element[: end + 1]
    pattern = re.compile(rb"(\s" + name + rb'=")[^"]*(")')
    if pattern.search(head):
        head = pattern.sub(rb"\g<1>" + value + rb"\g<2>", head, count=1)
    else:
        cut = len(head) - (2 if head.endswith(b"/>") else 1)
        head = head[:cut] + b" " + name + b'="' + value + b'"' + head[cut:]
    return head + element[end + 1 :]
