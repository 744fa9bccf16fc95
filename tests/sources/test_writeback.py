"""Write-back keeps the staff's workbook: every part it may not touch stays byte for byte."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.workbook.defined_name import DefinedName
from PIL import Image as PILImage

from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.core.grid import column_index
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_writeback import iter_sheet_rows
from tests.helpers import CORPUS, QC_LABELS, add_tab, make_macro_enabled, qc_row, qc_tab, write_workbook

NOW = dt.datetime(2026, 6, 30, 9, 0)
# What a write-back may change: the log tab, styles (a format appended), and, the first
# time, the workbook, its relationships and content types (to add the Issues tab), and the
# package's relationships and custom properties (to give the workbook its identity).
MAY_CHANGE = {
    "xl/styles.xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "[Content_Types].xml",
    "_rels/.rels",
    "docProps/custom.xml",
}


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def team_for(folder: Path, workbook: Path) -> Config:
    folder.mkdir(exist_ok=True)
    (folder / "kakosheet.toml").write_text(f'source = "{workbook.name}"\nlogs = ["qc"]\nschemas = "schemas"\n')
    (folder / "schemas").mkdir(exist_ok=True)
    from kakosheet.config import default_schema_dir

    for schema in default_schema_dir().glob("*.yaml"):
        (folder / "schemas" / schema.name).write_bytes(schema.read_bytes())
    return load_config(folder / "kakosheet.toml")


# The cells of a QC Log written with QC_LABELS that kakosheet may write: Case ID, Date Logged, Issues.
KAKOSHEET_COLUMNS = {QC_LABELS.index("Case ID"), QC_LABELS.index("Date Logged"), QC_LABELS.index("Issues")}
_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def staff_cells(row_xml: bytes) -> dict[int, bytes]:
    return {
        column_index(m.group(1)): m.group(0)
        for m in _CELL.finditer(row_xml)
        if column_index(m.group(1)) not in KAKOSHEET_COLUMNS
    }


def check_only_kakosheet_changed(before: dict[str, bytes], after: dict[str, bytes], log_part: str) -> None:
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed <= MAY_CHANGE | {log_part}, changed - MAY_CHANGE
    added = set(after) - set(before) - {"docProps/custom.xml"}
    assert len(added) == 1 and next(iter(added)).startswith("xl/worksheets/sheet"), added
    old_rows, new_rows = dict(iter_sheet_rows(before[log_part])), dict(iter_sheet_rows(after[log_part]))
    assert set(old_rows) == set(new_rows)
    for number, row in old_rows.items():
        assert staff_cells(new_rows[number]) == staff_cells(row), f"a staff cell of row {number} changed"
    outside = before[log_part].split(b"<sheetData")[0], after[log_part].split(b"<sheetData")[0]
    assert outside[0] == outside[1], "the sheet's settings before its data changed"


def rich_workbook(path: Path, tmp: Path) -> Path:
    """A workbook with a chart, a picture, comments, a defined name and staff's own tab."""
    workbook = Workbook()
    qc = workbook.active
    qc.title = "QC Log"
    for row in qc_tab([qc_row(), qc_row(Status="Bogus"), qc_row(Description="third")]):
        qc.append(row)
    qc["F3"].comment = Comment("Checked with the warehouse", "Ana")
    numbers = workbook.create_sheet("Figures")
    for month, count in [("Jan", 3), ("Feb", 5), ("Mar", 2)]:
        numbers.append([month, count])
    chart = BarChart()
    chart.add_data(Reference(numbers, min_col=2, min_row=1, max_row=3))
    numbers.add_chart(chart, "D2")
    picture = tmp / "logo.png"
    PILImage.new("RGB", (8, 8), "red").save(picture)
    numbers.add_image(Image(str(picture)), "D20")
    workbook.defined_names["months"] = DefinedName("months", attr_text="Figures!$A$1:$A$3")
    workbook.save(path)
    return path


def test_charts_pictures_comments_and_names_survive(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    before = parts(workbook)
    result = sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert result.written
    after = parts(workbook)
    check_only_kakosheet_changed(before, after, "xl/worksheets/sheet1.xml")
    assert any(name.startswith("xl/charts/") for name in after) and any(name.startswith("xl/media/") for name in after)
    reopened = load_workbook(workbook)
    assert [c.value for c in reopened["QC Log"]["A"][1:]] == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    assert reopened["QC Log"]["F3"].comment.text == "Checked with the warehouse"
    assert "months" in reopened.defined_names


def test_a_macro_enabled_workbook_keeps_its_macros(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    plain = rich_workbook(tmp_path / "plain.xlsx", tmp_path)
    macro = b"\xd0\xcf\x11\xe0 pretend VBA project " * 50
    workbook = make_macro_enabled(plain, tmp_path / "team" / "log.xlsm", macro)
    config = team_for(tmp_path / "team", workbook)
    before = parts(workbook)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    after = parts(workbook)
    assert after["xl/vbaProject.bin"] == macro
    check_only_kakosheet_changed(before, after, "xl/worksheets/sheet1.xml")
    assert b"macroEnabled" in after["[Content_Types].xml"]


def test_pivot_tables_and_custom_parts_survive(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    rows = [QC_LABELS, *qc_tab([qc_row(), qc_row(Owner="nobody")])[1:]]
    workbook = add_tab(
        CORPUS / "hostile-xlsx" / "calamine__pivots.xlsx", tmp_path / "team" / "log.xlsx", "QC Log", rows
    )
    config = team_for(tmp_path / "team", workbook)
    before = parts(workbook)
    log_part = next(n for n in before if n.startswith("xl/worksheets/sheet") and b"Original Order ID" in before[n])
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    after = parts(workbook)
    check_only_kakosheet_changed(before, after, log_part)
    assert all(after[name] == data for name, data in before.items() if "pivot" in name or "customXml" in name)
    sheets = python_calamine.CalamineWorkbook.from_path(str(workbook)).sheet_names
    assert "QC Log" in sheets and "Issues" in sheets


def test_a_second_sync_rewrites_nothing_and_keeps_one_backup(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    workbook = rich_workbook(tmp_path / "team" / "log.xlsx", tmp_path)
    config = team_for(tmp_path / "team", workbook)
    workbook.chmod(0o640)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    synced = workbook.read_bytes()
    assert (workbook.stat().st_mode & 0o777) == 0o640
    backup = workbook.with_name("log.backup.xlsx")
    assert backup.exists()
    again = sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert not again.written and workbook.read_bytes() == synced
    assert not list(workbook.parent.glob(".~kakosheet-*"))


@pytest.mark.parametrize(
    ("corpus_file", "says"),
    [("calamine__issue_530.xlsx", "backslashes"), ("poi__sample.strict.xlsx", "Strict Open XML")],
)
def test_packages_kakosheet_cannot_patch_are_refused_and_left_alone(
    tmp_path: Path, corpus_file: str, says: str
) -> None:
    (tmp_path / "team").mkdir()
    workbook = tmp_path / "team" / "log.xlsx"
    workbook.write_bytes((CORPUS / "hostile-xlsx" / corpus_file).read_bytes())
    before = workbook.read_bytes()
    config = team_for(tmp_path / "team", workbook)
    with pytest.raises(SourceError, match=says) as raised:
        sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert raised.value.exit_code == 3
    assert workbook.read_bytes() == before


def test_a_sheet_part_of_many_segments_is_patched_row_by_row_as_it_streams(tmp_path: Path) -> None:
    """The log tab streams through the write-back in segments of about a megabyte: rows in
    every segment get their ID, staff cells stay byte for byte, the highlight is added once."""
    (tmp_path / "team").mkdir()
    rows = [qc_row(Description=f"Case {n}: " + "carton crushed, item scratched; " * 40) for n in range(3000)]
    workbook = write_workbook(tmp_path / "team" / "log.xlsx", {"QC Log": qc_tab(rows)})
    config = team_for(tmp_path / "team", workbook)
    before = dict(iter_sheet_rows(parts(workbook)["xl/worksheets/sheet1.xml"]))
    assert len(parts(workbook)["xl/worksheets/sheet1.xml"]) > 3 << 20  # several segments
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    sheet_xml = parts(workbook)["xl/worksheets/sheet1.xml"]
    after = dict(iter_sheet_rows(sheet_xml))
    assert sorted(after) == sorted(before)
    for number in list(before)[1:]:
        assert staff_cells(after[number]) == staff_cells(before[number])
        assert f"QC-2026-{number - 1:04d}".encode() in after[number]
    assert sheet_xml.count(b"<conditionalFormatting") == 1


def raw_entries(path: Path) -> dict[str, tuple[int, bytes]]:
    """Each part's compression method and its bytes as stored in the package (compressed)."""
    entries = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset + 26)
            name_length, extra_length = int.from_bytes(raw.read(2), "little"), int.from_bytes(raw.read(2), "little")
            raw.seek(info.header_offset + 30 + name_length + extra_length)
            entries[info.filename] = (info.compress_type, raw.read(info.compress_size))
    return entries


def test_the_parts_a_write_back_leaves_keep_their_compressed_bytes(tmp_path: Path) -> None:
    """Copied as they are stored, not inflated and deflated again: a stored part stays stored."""
    (tmp_path / "team").mkdir()
    made = rich_workbook(tmp_path / "made.xlsx", tmp_path)
    workbook = tmp_path / "team" / "log.xlsx"
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(workbook, "w") as package:
        for info in source.infolist():
            data = source.read(info)
            stored = info.filename.startswith(("docProps/", "xl/media/"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            package.writestr(info, data, compresslevel=9)
    config = team_for(tmp_path / "team", workbook)
    before = raw_entries(workbook)
    assert sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW).written
    after = raw_entries(workbook)
    changed = {name for name in before if after[name] != before[name]}
    assert changed <= MAY_CHANGE | {"xl/worksheets/sheet1.xml"}, changed - MAY_CHANGE
    assert after["docProps/app.xml"][0] == zipfile.ZIP_STORED
    with zipfile.ZipFile(workbook) as package:
        assert package.testzip() is None  # every part's CRC is right
    assert load_workbook(workbook)["Figures"]["B2"].value == 5
