"""The styles part as setup and the write-back extend it (sources/xlsx_styles.py): an entry the
workbook already has is found however it is written, and one appended never takes another's id."""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from kakosheet.app.sync import sync_source
from kakosheet.app.upgrade import upgrade_source
from kakosheet.config import Config
from kakosheet.sources.xlsx_styles import HIGHLIGHT_DXF
from tests.helpers import QC_LABELS, qc_row, qc_tab, write_workbook
from tests.sources.test_owned_tabs import report, write
from tests.sources.test_writeback import team_for
from tests.sources.test_writeback_highlight import replace_part

NOW = dt.datetime(2026, 6, 30, 9)
QC_PART = "xl/worksheets/sheet1.xml"


def styled_team(tmp_path: Path, labels: list[str], edit: Callable[[bytes], bytes]) -> tuple[Path, Config]:
    """A team whose workbook (a QC Log of two cases, one with a bad status, under ``labels``) has its
    styles part edited as another program might have written it."""
    (tmp_path / "team").mkdir()
    rows = qc_tab([qc_row(), qc_row(Status="Bogus")], labels)
    workbook = write_workbook(tmp_path / "team" / "log.xlsx", {"QC Log": rows})
    replace_part(workbook, "xl/styles.xml", edit(part(workbook, "xl/styles.xml")))
    return workbook, team_for(tmp_path / "team", workbook)


def part(workbook: Path, member: str) -> bytes:
    with zipfile.ZipFile(workbook) as archive:
        return archive.read(member)


def test_the_write_back_highlight_names_the_workbook_s_own_past_a_self_closed_dxf(tmp_path: Path) -> None:
    """A rule format written ``<dxf/>`` is one entry: the highlight after it is found at its index."""
    dxfs = b'<dxfs count="3"><dxf/><dxf><font><b/></font></dxf>' + HIGHLIGHT_DXF + b"</dxfs>"
    workbook, config = styled_team(
        tmp_path, QC_LABELS, lambda xml: xml.replace(b"<tableStyles", dxfs + b"<tableStyles")
    )
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert re.findall(rb'<cfRule type="expression" dxfId="(\d+)"', part(workbook, QC_PART)) == [b"2"]
    assert dxfs in part(workbook, "xl/styles.xml")  # nothing appended


# Columns setup adds to this QC Log: among them Date Identified and Date Logged, shown as date and time.
WITHOUT_DATES = [label for label in QC_LABELS if not label.startswith("Date")]


@pytest.mark.parametrize(
    "own",
    [
        b'<numFmt numFmtId="170" formatCode="yyyy&#45;mm&#45;dd hh:mm"/>',  # the format kakosheet wants, escaped
        b"<numFmt numFmtId='164' formatCode='0.0'/>",  # another, in single quotes, at the first free id
    ],
)
def test_setup_finds_a_number_format_however_written_and_adds_one_at_a_free_id(tmp_path: Path, own: bytes) -> None:
    workbook, config = styled_team(
        tmp_path,
        WITHOUT_DATES,
        lambda xml: re.sub(
            rb"<numFmts\b[^>]*?(?:/>|>.*?</numFmts>)", b'<numFmts count="1">' + own + b"</numFmts>", xml, flags=re.S
        ),
    )
    upgrade_source(config)
    assert own in part(workbook, "xl/styles.xml")
    formats = re.findall(
        rb"""<numFmt numFmtId=["'](\d+)["'] formatCode=["']([^"']*)""", part(workbook, "xl/styles.xml")
    )
    ids = [number for number, _ in formats]
    assert len(ids) == len(set(ids)), formats
    assert [html.unescape(code.decode()) for _, code in formats].count("yyyy-mm-dd hh:mm") == 1, formats


def test_a_bold_cell_of_an_owned_tab_takes_a_default_font_that_is_bold_already(tmp_path: Path) -> None:
    """A default font bold as ``<b val="1"/>`` (openpyxl's spelling) is bold: no font is added."""
    workbook, _ = styled_team(tmp_path, QC_LABELS, lambda xml: xml.replace(b"<font>", b'<font><b val="1"/>', 1))
    fonts = re.search(rb"<fonts\b.*?</fonts>", part(workbook, "xl/styles.xml"), re.S)
    assert fonts is not None
    assert write(workbook, report(()))
    assert fonts.group(0) in part(workbook, "xl/styles.xml")


def test_a_section_whose_count_is_in_single_quotes_gets_one_count(tmp_path: Path) -> None:
    """``<dxfs count='1'>`` (another writer's quotes) is recounted, not given a second count: an
    element with two is no XML at all."""
    dxfs = b"<dxfs count='1'><dxf><font><b/></font></dxf></dxfs>"
    workbook, config = styled_team(
        tmp_path, QC_LABELS, lambda xml: xml.replace(b"<tableStyles", dxfs + b"<tableStyles")
    )
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    styles = part(workbook, "xl/styles.xml")
    ElementTree.fromstring(styles)  # well-formed
    assert re.search(rb"<dxfs count=\"2\"><dxf><font><b/></font></dxf>" + re.escape(HIGHLIGHT_DXF), styles)
