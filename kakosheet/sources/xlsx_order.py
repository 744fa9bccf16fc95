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
    """Where a missing section of the styles part goes: before the first section that follows it, else
    before ``</styleSheet>`` (LibreOffice writes no dxfs and no tableStyles); -1 when neither is there."""
    for later in STYLESHEET_ORDER[STYLESHEET_ORDER.index(section) + 1 :]:
        found = re.search(rb"<" + later.encode() + rb"[\s/>]", xml)
        if found:
            return found.start()
    return xml.rfind(b"</styleSheet>")
