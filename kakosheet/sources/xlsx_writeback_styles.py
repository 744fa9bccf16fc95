"""styles.xml for the write-back: the date-time format of the cells a sync writes, the cell formats
of kakosheet's own tabs, found among the workbook's own or appended (sources/xlsx_styles.py), and
the workbook's date system (the day its date numbers count from)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_owned_sheet import DATETIME_FORMAT
from kakosheet.sources.xlsx_styles import StylesPart

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_1904_EPOCH = dt.datetime(1904, 1, 1)  # day 0 of a workbook with workbookPr date1904


class WriteBackStyles(StylesPart):
    """How the cells the write-back writes show their values; a format once found is remembered."""

    def __init__(self, xml: bytes | None, *, date1904: bool = False) -> None:
        super().__init__(xml)
        self.epoch = EXCEL_1904_EPOCH if date1904 else EXCEL_EPOCH
        self._datetime: dict[bytes | None, int] = {}
        self._cells: dict[tuple[str | None, bool], int] = {}

    @property
    def date1904(self) -> bool:
        return self.epoch == EXCEL_1904_EPOCH

    def datetime_style(self, base: bytes | None) -> int:
        """A cell format showing date and time (a new one based on ``base`` when needed)."""
        if base in self._datetime:
            return self._datetime[base]
        numfmt = self.number_format(DATETIME_FORMAT)
        entries = self.entries(b"cellXfs")
        if base is not None and int(base) < len(entries):
            template = entries[int(base)]
            new = re.sub(rb'\bnumFmtId="\d+"', b'numFmtId="' + str(numfmt).encode() + b'"', template, count=1)
            if b"applyNumberFormat" not in new:
                new = new.replace(b"<xf ", b'<xf applyNumberFormat="1" ', 1)
        else:
            new = (
                b'<xf numFmtId="'
                + str(numfmt).encode()
                + b'" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            )
        self._datetime[base] = self.find_or_append(b"cellXfs", new)
        return self._datetime[base]

    def cell_style(self, number_format: str | None, bold: bool) -> int:
        """A cell format of an owned tab's cell: a number format (None: General), bold or not."""
        key = (number_format, bold)
        if key not in self._cells:
            numfmt = 0 if number_format is None else self.number_format(number_format)
            font = self._bold_font() if bold else 0
            new = (
                f'<xf numFmtId="{numfmt}" fontId="{font}" fillId="0" borderId="0" xfId="0"'
                + (' applyNumberFormat="1"' if numfmt else "")
                + (' applyFont="1"' if bold else "")
                + "/>"
            )
            self._cells[key] = self.find_or_append(b"cellXfs", new.encode())
        return self._cells[key]

    def snapshot(self) -> object:
        """The styles as they are, to go back to when what needed a new format is not written after all."""
        return _StylesState(self.xml, self.changed, dict(self._datetime), dict(self._cells))

    def restore(self, state: object) -> None:
        assert isinstance(state, _StylesState)
        self.xml, self.changed = state.xml, state.changed
        self._datetime, self._cells = dict(state.datetime), dict(state.cells)

    def _bold_font(self) -> int:
        """The workbook's default font in bold (appended when missing)."""
        if not self.entries(b"fonts"):
            raise SourceError("the workbook's styles part has no fonts; open it in Excel and save it again")
        return self.bold_font(0)


@dataclass(frozen=True)
class _StylesState:
    xml: bytes
    changed: bool
    datetime: dict[bytes | None, int]
    cells: dict[tuple[str | None, bool], int]
