"""An owned tab's worksheet part as kakosheet draws it, and what that part shows, worked out from the tab.

Whether a tab needs rewriting is decided by what it would show (sources/xlsx_owned_look.py): by
definition, its drawn part read back. tab_look gives the same without drawing and parsing the part
again, which for an Issues tab of thousands of rows is most of the decision's time; the tests hold
the two equal for every kind of cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Protocol
from xml.sax.saxutils import quoteattr

from kakosheet.core.grid import column_letters
from kakosheet.core.owned_tab import OwnedTab, TabCell, fit_text
from kakosheet.sources.xlsx_owned_look import Look, Value

__all__ = [
    "DATETIME_FORMAT",
    "MAIN_NS",
    "OWN_HEAD",
    "REL_NS",
    "XML_HEAD",
    "CellStyles",
    "number_text",
    "sheet_xml",
    "tab_look",
    "xml_text",
]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
OWN_HEAD = f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension '.encode()  # how sheet_xml begins

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_PLAIN_XML = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text as XML character data: what saxutils.escape gives, without the characters XML forbids."""
    if _NOT_PLAIN_XML.search(text) is None:  # most IDs and notes: one search instead of four passes
        return text
    return _INVALID_XML.sub("", text).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


class CellStyles(Protocol):
    """The workbook's styles part as the owned tabs use it (xlsx_writeback_styles.WriteBackStyles)."""

    @property
    def epoch(self) -> dt.datetime: ...

    @property
    def date1904(self) -> bool: ...

    def cell_style(self, number_format: str | None, bold: bool) -> int: ...

    def snapshot(self) -> object: ...

    def restore(self, state: object) -> None: ...


def sheet_xml(tab: OwnedTab, styles: CellStyles, *, drawing_rel: str | None) -> bytes:
    """The tab's worksheet part, its elements in CT_Worksheet's order (sources/xlsx_order.py)."""
    letters = [column_letters(k) for k in range(max(tab.column_count, len(tab.widths), 1))]
    rows, links = [], []
    for number, cells in enumerate(tab.rows, start=1):
        written = []
        for column, cell in enumerate(cells):
            if cell is None:
                continue
            ref = f"{letters[column]}{number}"
            xml = _cell_xml(ref, cell, styles)
            if xml:
                written.append(xml)
            if cell.link is not None:
                target = quoteattr(cell.link.reference)
                links.append(f'<hyperlink ref="{ref}" location={target} display={target}/>')
        if written:
            rows.append(f'<row r="{number}">{"".join(written)}</row>')
    frozen = tab.frozen_rows
    view = (
        f'<sheetView workbookViewId="0"><pane ySplit="{frozen}" topLeftCell="A{frozen + 1}" activePane="bottomLeft" '
        f'state="frozen"/><selection pane="bottomLeft" activeCell="A{frozen + 1}" sqref="A{frozen + 1}"/></sheetView>'
        if frozen
        else '<sheetView workbookViewId="0"/>'
    )
    cols = "".join(
        f'<col min="{k}" max="{k}" width="{width:g}" customWidth="1"/>' for k, width in enumerate(tab.widths, start=1)
    )
    last = f"{letters[max(tab.column_count, 1) - 1]}{len(tab.rows)}"
    return (
        f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<dimension ref="{"A1" if last == "A1" else "A1:" + last}"/><sheetViews>{view}</sheetViews>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f"<sheetData>{''.join(rows)}</sheetData>"
        + (f'<autoFilter ref="{tab.filter.a1}"/>' if tab.filter is not None else "")
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        + (f'<drawing r:id="{drawing_rel}"/>' if drawing_rel else "")
        + "</worksheet>"
    ).encode("utf-8")


def _cell_xml(ref: str, cell: TabCell, styles: CellStyles) -> str:
    """A typed cell: text always inline (never a formula, even "=HYPERLINK(…)"), numbers as numbers,
    dates as serial numbers in the workbook's date system with their format."""
    value, number_format = cell.value, cell.number_format
    if type(value) is str and number_format is None and not cell.bold:  # most cells: no style to look up
        return (
            f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{xml_text(fit_text(value))}</t></is></c>'
            if value
            else ""
        )
    if number_format is None and isinstance(value, dt.date):
        number_format = DATETIME_FORMAT if isinstance(value, dt.datetime) else DATE_FORMAT
    style = styles.cell_style(number_format, cell.bold) if number_format or cell.bold else 0
    s = f' s="{style}"' if style else ""
    if value is None or (isinstance(value, str) and not value):
        return f'<c r="{ref}"{s}/>' if s else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    number = number_text(value, styles.epoch)
    if number is not None:
        return f'<c r="{ref}"{s}><v>{number}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{xml_text(fit_text(str(value)))}</t></is></c>'


def number_text(value: object, epoch: dt.datetime) -> str | None:
    """A value as a number cell's text (Decimals exact; dates counted from ``epoch``), None for the rest."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        delta = moment.replace(tzinfo=None) - epoch
        if not (delta.seconds or delta.microseconds):
            return str(delta.days)
        return repr(round(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400, 10))
    return None


def tab_look(tab: OwnedTab, epoch: dt.datetime) -> Look:
    """The cells and links sheet_xml's part shows when read back (look_of), from the tab itself.

    Each cell as sheet_xml writes it and look_of reads it: text fitted to a cell and stripped of
    what XML forbids (escaping comes back off), a number or date as the float of its text, a
    boolean as "1" or "0", a cell without text as no cell."""
    letters = [column_letters(k) for k in range(max(tab.column_count, 1))]
    cells: dict[str, Value] = {}
    links = set()
    for number, row in enumerate(tab.rows, start=1):
        for column, cell in enumerate(row):
            if cell is None:
                continue
            ref = f"{letters[column]}{number}"
            value = cell.value
            if type(value) is str:  # most cells
                text = _shown_text(value)
                if text:
                    cells[ref] = ("s", text)
            elif value is not None and not (isinstance(value, str) and not value):
                shown = _shown_value(value, epoch)
                if shown[1] != "":
                    cells[ref] = shown
            if cell.link is not None:
                links.add((ref, cell.link.reference))  # quoteattr's escaping comes back off
    return Look(cells, frozenset(links))


def _shown_text(text: str) -> str:
    """What a text cell shows: xml_text's part of it, its escaping undone."""
    return _INVALID_XML.sub("", fit_text(text))


def _shown_value(value: object, epoch: dt.datetime) -> Value:
    """What a cell of a value other than text shows: as _cell_xml writes it, read back."""
    if isinstance(value, bool):
        return "b", str(int(value))
    number = number_text(value, epoch)
    if number is not None:
        return "n", float(number)
    return "s", _shown_text(str(value))
