"""The XML of an owned tab's native charts: one drawing part per tab, one chart part per chart.

Element order and the children each element needs follow what Excel itself writes (the
Excel-made reference files of XlsxWriter's test suite) and ECMA-376's CT_ChartSpace,
CT_BarChart, CT_LineChart, CT_BarSer, CT_LineSer, CT_CatAx and CT_ValAx: Excel refuses a
chart whose elements are out of order. Every reference carries a cache of the values it
covers, so Excel and LibreOffice draw the chart before they recalculate anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from kakosheet.core.owned_tab import Chart, ChartKind, OwnedTab, Span, TabCell

CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
DRAWINGML_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
SPREADSHEET_DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_AXIS_IDS = (500000001, 500000002)  # any two numbers, unique within one chart part

# How a cell's value is written as a number (None: it is not one); the caller knows the date system.
NumberText = Callable[[TabCell], str | None]


@dataclass(frozen=True)
class PlacedChart:
    """A chart and the relationship of the tab's drawing that leads to its part."""

    chart: Chart
    rel_id: str


def sheet_reference(title: str, span: Span) -> str:
    """A formula's reference to cells of a tab: 'Report 2026-W47'!$B$5:$B$12."""
    return f"'{title.replace(chr(39), chr(39) * 2)}'!{span.a1(absolute=True)}"


def drawing_xml(charts: list[PlacedChart]) -> bytes:
    """The tab's drawing: a two-cell anchor per chart, over the cells its anchor and size name."""
    anchors = []
    for number, placed in enumerate(charts, start=1):
        chart = placed.chart
        top, left = chart.anchor_row - 1, chart.anchor_column  # the drawing counts rows from 0
        anchors.append(
            "<xdr:twoCellAnchor>"
            f"<xdr:from><xdr:col>{left}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{top}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{left + chart.width_columns}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{top + chart.height_rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
            '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
            # The name is the chart's slot: a re-run finds the chart it replaces by it.
            f'<xdr:cNvPr id="{number + 1}" name={quoteattr(chart.slot)} descr={quoteattr(chart.title)}/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{CHART_NS}">'
            f'<c:chart xmlns:c="{CHART_NS}" xmlns:r="{RELATIONSHIPS_NS}" r:id="{placed.rel_id}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
        )
    return (
        f'{_XML_HEAD}<xdr:wsDr xmlns:xdr="{SPREADSHEET_DRAWING_NS}" xmlns:a="{DRAWINGML_NS}">'
        f"{''.join(anchors)}</xdr:wsDr>"
    ).encode()


def chart_xml(chart: Chart, tab: OwnedTab, title: str, number_text: NumberText, *, date1904: bool = False) -> bytes:
    """One chart part: a bar, column or line chart of ranges of the tab titled ``title`` (dates in its
    caches counted in the workbook's date system)."""
    horizontal = chart.kind is ChartKind.BAR
    categories = _reference(chart.categories, tab, title, number_text)
    series = "".join(
        _series(k, s.name, categories, _number_reference(s.values, tab, title, number_text), chart.kind)
        for k, s in enumerate(chart.series)
    )
    axes = f'<c:axId val="{_AXIS_IDS[0]}"/><c:axId val="{_AXIS_IDS[1]}"/>'
    if chart.kind is ChartKind.LINE:
        plot = (
            f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{series}'
            f'<c:marker val="1"/>{axes}</c:lineChart>'
        )
    else:
        plot = (
            f'<c:barChart><c:barDir val="{"bar" if horizontal else "col"}"/><c:grouping val="clustered"/>'
            f'<c:varyColors val="0"/>{series}<c:gapWidth val="150"/>{axes}</c:barChart>'
        )
    # Horizontal bars list the categories from the top, as the tab does: the category axis runs
    # from its maximum, and the value axis crosses it there (at the bottom).
    orientation = "maxMin" if horizontal else "minMax"
    category_axis = (
        f'<c:catAx><c:axId val="{_AXIS_IDS[0]}"/><c:scaling><c:orientation val="{orientation}"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{"l" if horizontal else "b"}"/>'
        '<c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
        f'<c:tickLblPos val="nextTo"/><c:crossAx val="{_AXIS_IDS[1]}"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
    )
    value_axis = (
        f'<c:valAx><c:axId val="{_AXIS_IDS[1]}"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{"b" if horizontal else "l"}"/><c:majorGridlines/>'
        '<c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
        f'<c:tickLblPos val="nextTo"/><c:crossAx val="{_AXIS_IDS[0]}"/>'
        f'<c:crosses val="{"max" if horizontal else "autoZero"}"/><c:crossBetween val="between"/></c:valAx>'
    )
    heading = (
        f"<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr/></a:pPr>"
        f'<a:r><a:rPr lang="en-US"/><a:t>{escape(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>'
        '<c:layout/><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
        if chart.title
        else '<c:autoTitleDeleted val="1"/>'
    )
    legend = '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>' if len(chart.series) > 1 else ""
    return (
        f'{_XML_HEAD}<c:chartSpace xmlns:c="{CHART_NS}" xmlns:a="{DRAWINGML_NS}" xmlns:r="{RELATIONSHIPS_NS}">'
        # Without roundedCorners LibreOffice takes the schema's default and rounds them.
        f'<c:date1904 val="{int(date1904)}"/><c:lang val="en-US"/><c:roundedCorners val="0"/><c:chart>{heading}'
        f"<c:plotArea><c:layout/>{plot}{category_axis}{value_axis}</c:plotArea>{legend}"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    ).encode()


def _series(index: int, name: str, categories: str, values: str, kind: ChartKind) -> str:
    """A c:ser of CT_BarSer or CT_LineSer: idx, order, tx, (invertIfNegative | marker), cat, val, (smooth)."""
    middle = (
        '<c:marker><c:symbol val="circle"/></c:marker>' if kind is ChartKind.LINE else '<c:invertIfNegative val="0"/>'
    )
    tail = '<c:smooth val="0"/>' if kind is ChartKind.LINE else ""
    return (
        f'<c:ser><c:idx val="{index}"/><c:order val="{index}"/><c:tx><c:v>{escape(name)}</c:v></c:tx>{middle}'
        f"<c:cat>{categories}</c:cat><c:val>{values}</c:val>{tail}</c:ser>"
    )


def _cells(span: Span, tab: OwnedTab) -> list[TabCell | None]:
    cells: list[TabCell | None] = []
    for row in range(span.first_row, span.last_row + 1):
        values = tab.rows[row - 1] if 0 < row <= len(tab.rows) else ()
        cells.append(values[span.column] if span.column < len(values) else None)
    return cells


def _reference(span: Span, tab: OwnedTab, title: str, number_text: NumberText) -> str:
    """Categories: numbers and dates as a c:numRef (with their format), anything else as a c:strRef."""
    cells = _cells(span, tab)
    present = [cell for cell in cells if cell is not None and cell.value is not None and cell.value != ""]
    if present and all(number_text(cell) is not None for cell in present):
        return _number_reference(span, tab, title, number_text)
    points = "".join(
        f'<c:pt idx="{k}"><c:v>{escape(_text(cell))}</c:v></c:pt>'
        for k, cell in enumerate(cells)
        if cell is not None and _text(cell)
    )
    return (
        f"<c:strRef><c:f>{escape(sheet_reference(title, span))}</c:f>"
        f'<c:strCache><c:ptCount val="{len(cells)}"/>{points}</c:strCache></c:strRef>'
    )


def _number_reference(span: Span, tab: OwnedTab, title: str, number_text: NumberText) -> str:
    cells = _cells(span, tab)
    points, formats = [], []
    for k, cell in enumerate(cells):
        text = number_text(cell) if cell is not None else None
        if cell is not None and text is not None:
            points.append(f'<c:pt idx="{k}"><c:v>{text}</c:v></c:pt>')
            formats.append(cell.number_format or _default_format(cell))
    code = formats[0] if formats else "General"  # an axis shows its points as the first one is shown
    return (
        f"<c:numRef><c:f>{escape(sheet_reference(title, span))}</c:f><c:numCache>"
        f'<c:formatCode>{escape(code)}</c:formatCode><c:ptCount val="{len(cells)}"/>{"".join(points)}'
        "</c:numCache></c:numRef>"
    )


def _default_format(cell: TabCell) -> str:
    if isinstance(cell.value, dt.datetime):
        return "yyyy-mm-dd hh:mm"
    return "yyyy-mm-dd" if isinstance(cell.value, dt.date) else "General"


def _text(cell: TabCell) -> str:
    """A category's label as the cache holds it."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return format(value, "f") if isinstance(value, Decimal) and value.is_finite() else str(value)
