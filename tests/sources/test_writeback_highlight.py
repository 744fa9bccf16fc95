"""kakosheet's highlight rule on a log tab: known from the read, added once, never doubled."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest

from kakosheet.app.sync import sync_source
from kakosheet.config import Config
from kakosheet.core.writeback import SheetWrite, WriteBack
from kakosheet.sources import forked
from kakosheet.sources.xlsx import XlsxSource
from kakosheet.sources.xlsx_package import HIGHLIGHT_MARKS, scan_cells
from tests.helpers import QC_LABELS, qc_row, qc_tab, write_workbook
from tests.sources.test_resaved_workbook import _save_in_libreoffice
from tests.sources.test_writeback import rich_workbook, team_for

NOW = dt.datetime(2026, 6, 30, 9, 0)
LOG_PART = "xl/worksheets/sheet1.xml"
_RULE = re.compile(rb"<conditionalFormatting\b.*?</conditionalFormatting>", re.S)


def highlight_rules(workbook: Path) -> int:
    """How many of the log tab's conditional formats are kakosheet's highlight rule."""
    with zipfile.ZipFile(workbook) as package:
        xml = package.read(LOG_PART)
    return sum(1 for rule in _RULE.findall(xml) if any(mark in rule for mark in HIGHLIGHT_MARKS))


@contextmanager
def write_back_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Bytes this process reads of each zip member while kakosheet's write-back runs (in this
    process, not in the child it runs in otherwise).

    zipfile's own reading is watched (and done as ever): every read of a part, whole or
    streamed, goes through ZipExtFile.read; the stack tells whether the write-back asked."""
    read: Counter[str] = Counter()
    original = zipfile.ZipExtFile.read
    monkeypatch.setattr(forked, "CAN_FORK", False)  # the write-back runs here, where it is watched

    def watched(self: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
        data = original(self, n)
        if _in_write_back():
            read[self.name] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", watched)
    yield read


def _in_write_back() -> bool:
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_name == "write_back" and frame.f_globals["__name__"] == "kakosheet.sources.xlsx_writeback":
            return True
        frame = frame.f_back
    return False


def synced_rich_team(tmp_path: Path) -> tuple[Path, Config, str]:
    """A team folder whose workbook (a chart, a picture, comments: test_writeback's) was synced once
    into a SQLite store: the workbook, the team's config and the store's URL."""
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    store = f"sqlite:///{tmp_path / 's.db'}"
    sync_source(config, store_url=store, now=NOW)
    return workbook, config, store


def replace_part(workbook: Path, member: str, data: bytes) -> None:
    """The workbook with one part's XML replaced, every other part as it was (a hand edit of that part)."""
    with zipfile.ZipFile(workbook) as package:
        parts = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as package:
        for info, old in parts:
            package.writestr(info, data if info.filename == member else old)


def test_a_resync_with_nothing_to_write_into_the_log_tab_does_not_read_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read's scan already said the highlight rule is there: the write-back does not stream the
    part to look for it (at most the head of each tab is read, to find kakosheet's own tabs)."""
    (tmp_path / "team").mkdir()
    rows = [qc_row(Description=f"Case {n}: " + "carton crushed, item scratched; " * 20) for n in range(1500)]
    workbook = write_workbook(tmp_path / "team" / "log.xlsx", {"QC Log": qc_tab(rows)})
    config = team_for(tmp_path / "team", workbook)
    store = f"sqlite:///{tmp_path / 's.db'}"
    assert sync_source(config, store_url=store, now=NOW).written
    assert highlight_rules(workbook) == 1
    with zipfile.ZipFile(workbook) as package:
        size = package.getinfo(LOG_PART).file_size
    assert size > 1 << 20
    with write_back_reads(monkeypatch) as read:
        again = sync_source(config, store_url=store, now=NOW + dt.timedelta(days=1))  # another day: read in full
    assert again.unchanged_since is None and not again.written
    assert read["xl/styles.xml"], "the write-back reads some small parts (it is watched)"
    assert read[LOG_PART] <= 64 << 10, f"{read[LOG_PART]:,} of the log tab's {size:,} bytes read"


def test_a_highlight_rule_deleted_by_hand_comes_back_once(tmp_path: Path) -> None:
    workbook, config, store = synced_rich_team(tmp_path)
    with zipfile.ZipFile(workbook) as package:
        xml = package.read(LOG_PART)
    replace_part(workbook, LOG_PART, _RULE.sub(b"", xml))
    assert highlight_rules(workbook) == 0
    again = sync_source(config, store_url=store, now=NOW + dt.timedelta(days=1))
    assert again.written
    assert highlight_rules(workbook) == 1
    third = sync_source(config, store_url=store, now=NOW + dt.timedelta(days=2))
    assert not third.written and highlight_rules(workbook) == 1


def test_a_rule_libreoffice_saved_is_not_added_again_when_new_rows_get_ids(tmp_path: Path) -> None:
    """LibreOffice writes the rule's quotes as &quot;: still kakosheet's rule, also while rows are patched."""
    workbook, config, store = synced_rich_team(tmp_path)
    book = openpyxl.load_workbook(workbook)
    book["QC Log"].append(qc_tab([qc_row(Description="a fourth case")])[1])
    book.save(workbook)
    _save_in_libreoffice(workbook, tmp_path)
    with zipfile.ZipFile(workbook) as package:
        assert b"&quot;; &quot;&amp;" in package.read(LOG_PART)
    assert highlight_rules(workbook) == 1
    again = sync_source(config, store_url=store, now=NOW + dt.timedelta(hours=1))
    assert again.written and again.new_ids["qc"]
    assert highlight_rules(workbook) == 1


def test_a_formula_joining_with_semicolons_is_not_taken_for_the_rule(tmp_path: Path) -> None:
    """A staff formula can hold the rule's mark ("; "&): only what follows the rows is the rule's place."""
    (tmp_path / "team").mkdir()
    rows = qc_tab([qc_row(), qc_row(Description="second")])
    rows[1][rows[0].index("Reopen Reason")] = '=B2&"; "&F2'
    workbook = write_workbook(tmp_path / "team" / "log.xlsx", {"QC Log": rows})
    config = team_for(tmp_path / "team", workbook)
    assert scan_cells(workbook, LOG_PART).highlighted is False
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert highlight_rules(workbook) == 1
    assert scan_cells(workbook, LOG_PART).highlighted is True


@pytest.mark.parametrize("spelling", HIGHLIGHT_MARKS)
def test_the_scan_finds_the_rule_in_either_spelling_after_many_rows(tmp_path: Path, spelling: bytes) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 200_000))
    rule = b"<conditionalFormatting><cfRule><formula>ISNUMBER(SEARCH(" + spelling + b"B$1))</formula></cfRule>"
    xml = b"<worksheet><sheetData>" + rows + b"</sheetData>" + rule + b"</conditionalFormatting></worksheet>"
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("with.xml", xml)
        package.writestr("without.xml", xml.replace(spelling, spelling[:-1]))
    assert len(xml) > 4 << 20  # several segments: the rule is in the last
    assert scan_cells(path, "with.xml").highlighted
    assert not scan_cells(path, "without.xml").highlighted


def test_a_part_the_read_did_not_scan_is_streamed_for_the_rule(tmp_path: Path) -> None:
    """Without the read's word (no tab read, or a second write after the first), the part itself says."""
    workbook, _, _ = synced_rich_team(tmp_path)
    labels = {label: column for column, label in enumerate(QC_LABELS)}
    only_the_rule = WriteBack(
        sheets=[SheetWrite("QC Log", 1, 0, len(QC_LABELS) - 1, labels["Issues"], labels["Case ID"], labels)]
    )
    assert not XlsxSource(workbook).write_back(only_the_rule).written  # streamed: the rule is there
    with zipfile.ZipFile(workbook) as package:
        xml = package.read(LOG_PART)
    replace_part(workbook, LOG_PART, _RULE.sub(b"", xml))
    source = XlsxSource(workbook)
    assert source.write_back(only_the_rule).written and highlight_rules(workbook) == 1
    assert not source.write_back(only_the_rule).written  # after its own write, the source streams again
    assert highlight_rules(workbook) == 1
