"""Where a section kakosheet adds to a workbook's styles part goes: the order Excel checks
(CT_Stylesheet), whichever sections the writer left out."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from kakosheet.sources.xlsx_order import STYLESHEET_ORDER, styles_insertion_point

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<styleSheet xmlns="{MAIN}">'
FONTS = '<fonts count="1"><font><sz val="11"/></font></fonts>'
FILLS = '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
BORDERS = '<borders count="1"><border/></borders>'
CELL_XFS = '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs>'
# A cell style with an extension list of its own, as Excel 2010 and later write some.
CELL_STYLES = (
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"><extLst>'
    '<ext uri="{EBA26FCA-9A8E-44DC-9A9F-6C4E4B6A4B1D}"/></extLst></cellStyle></cellStyles>'
)
TABLE_STYLES = '<tableStyles count="0" defaultTableStyle="TableStyleMedium2"/>'
EXT_LST = '<extLst><ext uri="{9260A510-F301-46a8-8635-F512D64BE5F5}"/></extLst>'


def _with(xml: str, section: str, block: str) -> list[str]:
    """The styles part's sections, in order, once ``block`` is inserted where ``section`` goes."""
    data = xml.encode()
    at = styles_insertion_point(data, section)
    assert at != -1
    root = ElementTree.fromstring(data[:at] + block.encode() + data[at:])
    return [child.tag.removeprefix(f"{{{MAIN}}}") for child in root]


def _in_order(sections: list[str]) -> bool:
    return sections == sorted(sections, key=STYLESHEET_ORDER.index)


@pytest.mark.parametrize(
    ("parts", "section", "block"),
    [
        # LibreOffice: no dxfs, no tableStyles; a cell style holds an extension list.
        ([FONTS, FILLS, BORDERS, CELL_XFS, CELL_STYLES], "dxfs", '<dxfs count="1"><dxf/></dxfs>'),
        ([FONTS, FILLS, BORDERS, CELL_XFS, CELL_STYLES, EXT_LST], "dxfs", '<dxfs count="1"><dxf/></dxfs>'),
        ([FONTS, FILLS, BORDERS, CELL_XFS, CELL_STYLES, TABLE_STYLES], "dxfs", '<dxfs count="1"><dxf/></dxfs>'),
        (
            [FONTS, FILLS, BORDERS, CELL_XFS],
            "numFmts",
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="@"/></numFmts>',
        ),
        ([FONTS, BORDERS, CELL_XFS, CELL_STYLES], "fills", FILLS),
        ([], "numFmts", '<numFmts count="0"/>'),
    ],
    ids=["libreoffice", "extension-list-at-the-end", "table-styles", "number-formats", "fills", "empty"],
)
def test_an_added_section_goes_where_the_order_puts_it(parts: list[str], section: str, block: str) -> None:
    sections = _with(HEAD + "".join(parts) + "</styleSheet>", section, block)
    assert section in sections and _in_order(sections), sections


def test_a_prefixed_styles_part_has_no_place_to_guess() -> None:
    prefixed = f'<x:styleSheet xmlns:x="{MAIN}"><x:fonts count="0"/></x:styleSheet>'.encode()
    assert styles_insertion_point(prefixed, "dxfs") == -1
