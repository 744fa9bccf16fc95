"""The order of a worksheet's elements (ECMA-376 CT_Worksheet) and of the styles part's sections
(CT_Stylesheet): a part kakosheet adds goes before the first element that must follow it, or Excel
calls the file damaged."""

from __future__ import annotations

import re

WORKSHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


def elements_after(element: str) -> tuple[str, ...]:
    """The worksheet elements that come after ``element``."""
    return WORKSHEET_ORDER[WORKSHEET_ORDER.index(element) + 1 :]


STYLESHEET_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)


def styles_insertion_point(xml: bytes, section: str) -> int:
    """Where a missing section of the styles part goes: right after the last section before it that
    the part has, else right after the ``<styleSheet>`` tag; -1 when the part has neither (a prefixed
    part). Closing tags are looked for, not the next section's opening: ``<extLst>`` also occurs
    inside a cell style, and LibreOffice writes no dxfs and no tableStyles."""
    for earlier in reversed(STYLESHEET_ORDER[: STYLESHEET_ORDER.index(section)]):
        name = earlier.encode()
        ends = [m.end() for m in re.finditer(rb"</" + name + rb">|<" + name + rb"\b[^>]*/>", xml)]
        if ends:
            return ends[-1]
    opening = re.search(rb"<styleSheet\b[^>]*>", xml)
    return opening.end() if opening else -1
