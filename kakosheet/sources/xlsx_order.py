"""The order of a worksheet's elements (ECMA-376 CT_Worksheet): a part kakosheet adds to a sheet
goes before the first element that must follow it, or Excel calls the file damaged."""

from __future__ import annotations

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
