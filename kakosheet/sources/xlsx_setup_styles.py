"""styles.xml for setup: the formats kakosheet's headers, new columns and highlight rules need,
found among the workbook's own or appended (sources/xlsx_styles.py)."""

from __future__ import annotations

import re

from kakosheet.sources.xlsx_styles import StylesPart, attribute, is_bold_font


class StyleBook(StylesPart):
    """The styles part as setup reads and extends it: header and column formats, and their colours."""

    # ----------------------------------------------------------------- reading

    def cell_colour(self, xf: int) -> str | None:
        """The solid fill colour (RRGGBB) a cell format shows, None for none or a theme colour."""
        xfs = self.entries(b"cellXfs")
        if xf >= len(xfs):
            return None
        fill_id = attribute(xfs[xf], b"fillId")
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
        font_id = attribute(xfs[xf], b"fontId")
        fonts = self.entries(b"fonts")
        return font_id is not None and int(font_id) < len(fonts) and is_bold_font(fonts[int(font_id)])

    # ----------------------------------------------------------------- what kakosheet needs

    def header_xf(self, base: int, colour: str) -> int:
        """A header's format: the cell's own (``base``) with kakosheet's colour, bold, wrapped;
        ``base`` itself when it already shows them."""
        if self.cell_colour(base) == colour and self.is_bold(base):
            return base
        xfs = self.entries(b"cellXfs")
        template = xfs[base] if base < len(xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        font = self.bold_font(int(attribute(template, b"fontId") or 0))
        new = _set_attr(template, b"fillId", str(self._fill(colour)).encode())
        new = _set_attr(new, b"fontId", str(font).encode())
        new = _set_attr(_set_attr(new, b"applyFill", b"1"), b"applyFont", b"1")
        new = _set_attr(new, b"applyAlignment", b"1")
        alignment = b'<alignment vertical="center" wrapText="1"/>'
        if new.endswith(b"/>"):
            new = new[:-2] + b">" + alignment + b"</xf>"
        elif b"<alignment" not in new:
            new = new.replace(b">", b">" + alignment, 1)
        return self.find_or_append(b"cellXfs", new)

    def column_xf(self, number_format: str | None, colour: str | None) -> int:
        """The default format of a column setup adds: its number format, and kakosheet's shading."""
        num_id = self.number_format(number_format) if number_format else 0
        fill_id = self._fill(colour) if colour else 0
        new = (
            f'<xf numFmtId="{num_id}" fontId="0" fillId="{fill_id}" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if num_id else "")
            + (' applyFill="1"' if fill_id else "")
            + "/>"
        ).encode()
        return self.find_or_append(b"cellXfs", new)

    def fill_dxf(self, colour: str) -> int:
        """A rule's format that fills the cell with ``colour``: any plain fill of that colour will do."""
        dxf = (
            f'<dxf><fill><patternFill patternType="solid"><fgColor rgb="FF{colour}"/><bgColor rgb="FF{colour}"/>'
            "</patternFill></fill></dxf>"
        ).encode()
        for index, existing in enumerate(self.entries(b"dxfs")):
            if existing == dxf or _dxf_colour(existing) == colour:
                return index
        return self.append(b"dxfs", dxf)

    def _fill(self, colour: str) -> int:
        for index, fill in enumerate(self.entries(b"fills")):
            if b'patternType="solid"' in fill and re.search(rb'<fgColor\b[^>]*rgb="(?:FF)?' + colour.encode(), fill):
                return index
        solid = f'<patternFill patternType="solid"><fgColor rgb="FF{colour}"/><bgColor indexed="64"/></patternFill>'
        return self.append(b"fills", f"<fill>{solid}</fill>".encode())


def _dxf_colour(dxf: bytes) -> str | None:
    """The solid colour of a plain fill-only dxf (as kakosheet's blank-mandatory highlight is)."""
    if b"<font" in dxf or b"<border" in dxf or b"<numFmt" in dxf:
        return None
    match = re.search(rb'<bgColor\b[^>]*rgb="(?:FF)?([0-9A-Fa-f]{6})"', dxf)
    return match.group(1).decode().upper() if match else None


def _set_attr(element: bytes, name: bytes, value: bytes) -> bytes:
    """The element with an attribute of its start tag set (added at its end when missing)."""
    end = element.find(b">")
    head = element[: end + 1]
    pattern = re.compile(rb"(\s" + name + rb'=")[^"]*(")')
    if pattern.search(head):
        head = pattern.sub(rb"\g<1>" + value + rb"\g<2>", head, count=1)
    else:
        cut = len(head) - (2 if head.endswith(b"/>") else 1)
        head = head[:cut] + b" " + name + b'="' + value + b'"' + head[cut:]
    return head + element[end + 1 :]
