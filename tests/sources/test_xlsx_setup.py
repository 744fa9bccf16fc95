"""`kakosheet setup` on a team's live workbook: kakosheet's parts follow the schemas, the rest
of the package stays byte for byte, and a second run changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from kakosheet.app.setup import init_team
from kakosheet.app.upgrade import upgrade_source
from kakosheet.app.validate import validate_source
from kakosheet.config import Config, load_config
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_package import inspect_package
from kakosheet.sources.xlsx_writeback import iter_sheet_rows
from tests.helpers import qc_row
from tests.sources.test_libreoffice import as_csv_tabs

QC_PART = "xl/worksheets/sheet1.xml"  # the template's first tab
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
STAFF_DV = (
    b'<dataValidation type="whole" allowBlank="1" showErrorMessage="1" errorTitle="Team" error="1 to 9" '
    b'sqref="W2:W500"><formula1>1</formula1><formula2>9</formula2></dataValidation>'
)
STAFF_CF = (
    b'<conditionalFormatting sqref="W2:W500"><cfRule type="cellIs" dxfId="0" priority="40" operator="greaterThan">'
    b"<formula>5</formula></cfRule></conditionalFormatting>"
)
EXT_LST = (
    f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}"><x14:dataValidations '
    f'count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" allowBlank="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>Figures!$A$1:$A$3</xm:f></x14:formula1><xm:sqref>R2:R500</xm:sqref></x14:dataValidation>"
    f'</x14:dataValidations></ext><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{X14}">'
    f'<x14:conditionalFormattings><x14:conditionalFormatting xmlns:xm="{XM}"><x14:cfRule type="expression" '
    'priority="41" id="{00000000-0000-0000-0000-00000000A001}"><xm:f>Figures!$B$1&gt;2</xm:f><x14:dxf><fill>'
    '<patternFill><bgColor rgb="FF00FF00"/></patternFill></fill></x14:dxf></x14:cfRule><xm:sqref>F2:F500</xm:sqref>'
    "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"
).encode()


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def live_master(tmp_path: Path) -> tuple[Config, Path]:
    """A team's master as it lives: cases, a staff column with its own validation and rule, the
    team's validation and rule in extLst, a tab with a chart and a picture."""
    result = init_team(tmp_path / "team", logs=("qc",))
    path = result.workbook
    workbook = load_workbook(path)  # building the test's workbook; setup itself never does this
    qc = workbook["QC Log"]
    labels = [cell.value for cell in qc[1]]
    for number, values in enumerate([qc_row(), qc_row(Exception_Type="Defective"), qc_row(Status="Closed")], start=2):
        for label, value in values.items():
            qc.cell(row=number, column=labels.index(label) + 1, value=value)
        qc.cell(row=number, column=23, value=number)  # the staff's own column, right of Issues
    qc.cell(row=1, column=23, value="Team")
    figures = workbook.create_sheet("Figures")
    for month, count in [("Jan", 3), ("Feb", 5), ("Mar", 2)]:
        figures.append([month, count])
    chart = BarChart()
    chart.add_data(Reference(figures, min_col=2, min_row=1, max_row=3))
    figures.add_chart(chart, "D2")
    picture = tmp_path / "logo.png"
    PILImage.new("RGB", (8, 8), "red").save(picture)
    figures.add_image(Image(str(picture)), "D20")
    workbook.save(path)
    packed = parts(path)
    sheet = packed[QC_PART]
    sheet = sheet.replace(b"<dataValidations", STAFF_CF + b"<dataValidations", 1)
    count = int(re.search(rb'<dataValidations count="(\d+)"', sheet).group(1))  # type: ignore[union-attr]
    sheet = sheet.replace(
        f'<dataValidations count="{count}">'.encode(), f'<dataValidations count="{count + 1}">'.encode()
    )
    sheet = sheet.replace(b"</dataValidations>", STAFF_DV + b"</dataValidations>", 1)
    sheet = sheet.replace(b"</worksheet>", EXT_LST + b"</worksheet>")
    packed[QC_PART] = sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in packed.items():
            archive.writestr(name, data)
    return load_config(result.config), path


def add_to_schema(config: Config) -> None:
    """A reason added to a list, and a mandatory column with its own list."""
    qc = config.schemas_dir / "qc.yaml"
    text = qc.read_text()
    text = text.replace("Packaging Damage]", "Packaging Damage, Counterfeit]", 1)
    text = text.replace(
        "  - field: issues\n",
        "  - field: grade\n    label: Inspector Grade\n    type: enum\n    required: true\n    values: [A, B, C]\n"
        "    description: How sure the inspector is.\n  - field: issues\n",
        1,
    )
    qc.write_text(text)


def lists_values(path: Path) -> dict[str, list[str]]:
    sheet = load_workbook(path, read_only=True)["Lists"]
    columns = list(zip(*sheet.iter_rows(values_only=True), strict=True))
    return {column[0]: [v for v in column[1:] if v] for column in columns}


def validation_of(sheet_xml: bytes, column: str) -> bytes:
    found = re.findall(rb"<dataValidation\b[^>]*" + f'sqref="{column}2:'.encode() + rb".*?</dataValidation>", sheet_xml)
    assert len(found) == 1, found
    return found[0]


def test_setup_brings_the_dropdowns_and_columns_to_the_schema_and_leaves_the_rest(tmp_path: Path) -> None:
    config, path = live_master(tmp_path)
    before = parts(path)
    add_to_schema(config)
    assert "missing-column" in {issue.code for issue in validate_source(config).issues}

    result = upgrade_source(config)

    after = parts(path)
    assert result.added_columns == {"QC Log": ["Inspector Grade"]}
    # Only kakosheet's parts changed: its tab's XML, its Lists tab, its notes, the styles it needs.
    lists_part = next(n for n in before if n.startswith("xl/worksheets/sheet") and b"qc.exception_type" in before[n])
    references = [inspect_package(path).sheet_parts[tab] for tab in ("Vendors", "Products", "Orders", "Known Defects")]
    ours = {QC_PART, lists_part, *references, "xl/styles.xml", "xl/comments/comment1.xml"}
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed <= ours | {"xl/drawings/commentsDrawing1.vml"}
    for part in references:  # their dropdowns moved with the Lists columns; their cells did not
        assert before[part].split(b"</sheetData>")[0] == after[part].split(b"</sheetData>")[0]
    assert set(after) == set(before)
    assert "missing-column" not in {issue.code for issue in validate_source(config).issues}
    # The dropdown reads the Lists column that now holds the new reason.
    lists = lists_values(path)
    assert lists["qc.exception_type"][-1] == "Counterfeit"
    letter = chr(ord("A") + list(lists).index("qc.exception_type"))
    rows = len(lists["qc.exception_type"]) + 1
    exception_type = validation_of(after[QC_PART], "E")
    assert f"<formula1>='Lists'!${letter}$2:${letter}${rows}</formula1>".encode() in exception_type
    assert b'type="list"' in exception_type and b'errorStyle="stop"' in exception_type
    # The new column goes right of the staff's own column (W), with its header, dropdown and note.
    header = dict(iter_sheet_rows(after[QC_PART]))[1]
    assert b'<c r="X1"' in header and b"Inspector Grade" in header
    grade = lists["qc.grade"]
    assert grade == ["A", "B", "C"] and b'sqref="X2:X1048576"' in validation_of(after[QC_PART], "X")
    assert (
        b'ref="X1"' in after["xl/comments/comment1.xml"]
        and b"How sure the inspector is." in after["xl/comments/comment1.xml"]
    )
    assert b"<x:Row>0</x:Row><x:Column>23</x:Column>" in after["xl/drawings/commentsDrawing1.vml"]
    # The blank-mandatory highlight covers the new column and spans the row to it.
    assert b"<formula>AND(COUNTA($A2:$X2)&gt;0,ISBLANK(X2))</formula>" in after[QC_PART]
    # Staff cells, and the team's own validations and rules (main and extLst), stay byte for byte.
    old_rows, new_rows = dict(iter_sheet_rows(before[QC_PART])), dict(iter_sheet_rows(after[QC_PART]))
    assert {n: r for n, r in new_rows.items() if n != 1} == {n: r for n, r in old_rows.items() if n != 1}
    old_header = re.findall(rb"<c\b.*?</c>", old_rows[1])
    assert all(re.sub(rb' s="\d+"', b"", c) in re.sub(rb' s="\d+"', b"", header) for c in old_header)
    for staff in (STAFF_DV, STAFF_CF, EXT_LST):
        assert staff in after[QC_PART]
    assert after[QC_PART].endswith(EXT_LST + b"</worksheet>")
    # A second run finds nothing to change, and does not touch the file.
    stamp = path.stat().st_mtime_ns
    again = upgrade_source(config)
    assert not again.changed and path.read_bytes() == path.read_bytes() and path.stat().st_mtime_ns == stamp
    assert parts(path) == after


def test_a_new_reason_is_accepted_by_the_workbook_libreoffice_opens(tmp_path: Path) -> None:
    config, path = live_master(tmp_path)
    add_to_schema(config)
    upgrade_source(config)
    sheets = as_csv_tabs(path, tmp_path)
    qc = next(rows for name, rows in sheets.items() if name.endswith("QC Log"))
    assert qc[0][22:24] == ["Team", "Inspector Grade"] and [row[22] for row in qc[1:4]] == ["2", "3", "4"]
    lists = next(rows for name, rows in sheets.items() if name.endswith("Lists"))
    column = lists[0].index("qc.exception_type")
    assert "Counterfeit" in [row[column] for row in lists[1:]]


def test_a_workbook_without_kakosheets_parts_gets_them_and_its_notes(tmp_path: Path) -> None:
    """A plain workbook (no Lists tab, no notes, no validations) is set up once, then left alone."""
    from openpyxl import Workbook

    result = init_team(tmp_path / "team", logs=("qc",))
    workbook = Workbook()
    workbook.active.title = "QC Log"
    workbook.active.append(["Case ID", "Original Order ID", "Date Identified", "Exception Type", "Description"])
    workbook.active.append([None, "0001", None, "Damaged", "crushed"])
    workbook.save(result.workbook)
    config = load_config(result.config)
    first = upgrade_source(config)
    assert "Lists (hidden)" in first.added_tabs and "Vendors" in first.added_tabs
    packed = parts(result.workbook)
    sheet = packed["xl/worksheets/sheet1.xml"]
    assert b"<legacyDrawing" in sheet and b"<dataValidations" in sheet
    assert validate_source(config).rows_read["qc"] == 1
    assert not upgrade_source(config).changed
    assert parts(result.workbook) == packed


def test_a_lists_tab_of_the_teams_own_stops_setup_before_anything_is_written(tmp_path: Path) -> None:
    from openpyxl import Workbook

    result = init_team(tmp_path / "team", logs=("qc",))
    workbook = Workbook()
    workbook.active.title = "QC Log"
    workbook.active.append(["Case ID", "Original Order ID"])
    workbook.create_sheet("Lists").append(["Our suppliers", "Acme"])
    workbook.save(result.workbook)
    before = result.workbook.read_bytes()
    with pytest.raises(SourceError, match="not kakosheet's"):
        upgrade_source(load_config(result.config))
    assert result.workbook.read_bytes() == before
    from kakosheet.app.sync import sync_source

    behind = sync_source(load_config(result.config), store_url=f"sqlite:///{tmp_path / 's.db'}", dry_run=True).behind
    assert behind[-1] == "the tab 'Lists' is the team's own, where kakosheet keeps its dropdowns; rename it"
    assert not [phrase for phrase in behind if "list" in phrase and "Lists" not in phrase]  # not each list


def test_a_list_gone_from_the_schemas_leaves_kakosheets_lists_tab_its_own(tmp_path: Path) -> None:
    """A dropdown column removed from qc.yaml left its list's name on the Lists tab, and setup then
    refused the tab as the team's own (exit 3): no later reason reached the workbook. The list keeps
    its column and values (the removed column's cells, the team's now, keep their dropdown)."""
    result = init_team(tmp_path / "team", logs=("qc",))
    config = load_config(result.config)
    qc = config.schemas_dir / "qc.yaml"
    text = qc.read_text()
    start = text.index("  - field: source_type\n")
    qc.write_text(text[:start] + text[text.index("  - field: ", start + 1) :])
    add_to_schema(config)
    upgraded = upgrade_source(config)
    assert upgraded.changed
    lists = lists_values(result.workbook)
    assert "Counterfeit" in lists["qc.exception_type"] and lists["qc.grade"] == ["A", "B", "C"]
    assert lists["qc.source_type"] == ["Supplier", "Warehouse Station", "Inspector", "Logistics"]
    assert not upgrade_source(config).changed


def test_sync_says_when_the_workbook_is_behind_its_schemas_and_names_setup(tmp_path: Path) -> None:
    import datetime as dt

    from kakosheet.app.sync import sync_source

    config, path = live_master(tmp_path)
    store = f"sqlite:///{tmp_path / 's.db'}"
    assert sync_source(config, store_url=store, now=dt.datetime(2026, 6, 30, 9)).behind == []
    add_to_schema(config)
    behind = sync_source(config, store_url=store, now=dt.datetime(2026, 6, 30, 10)).behind
    assert "QC Log has no column 'Inspector Grade'" in behind
    assert "the qc.exception_type dropdown lacks 'Counterfeit'" in behind
    run = subprocess.run(
        [sys.executable, "-m", "kakosheet", "sync", "--store", store],
        cwd=config.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "run `kakosheet setup`" in run.stderr
    upgrade_source(config)
    assert sync_source(config, store_url=store, now=dt.datetime(2026, 6, 30, 11)).behind == []
