"""The master workbook: generated from the schemas, reproducible, and what staff need in it."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from kakosheet.config import Config
from kakosheet.core.schema import SchemaSet
from kakosheet.sources.xlsx_template import build_master_workbook
from tests.helpers import PROJECT, run_kakosheet

CHECKED_IN = PROJECT / "templates" / "master.xlsx"


def test_checked_in_template_matches_the_schemas(tmp_path: Path) -> None:
    result = run_kakosheet(
        "template", "build", "--schemas", str(PROJECT / "schemas"), "--out", str(tmp_path / "m.xlsx"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.xlsx").read_bytes() == CHECKED_IN.read_bytes(), (
        "templates/master.xlsx is stale: run `kakosheet template build` and commit it"
    )


def test_template_has_a_tab_per_log_and_reference_and_hidden_lists(schemas: SchemaSet) -> None:
    workbook = load_workbook(CHECKED_IN)
    assert workbook.sheetnames[:4] == ["QC Log", "Refunds", "Returns", "After-Sales"]
    assert {"Vendors", "Products", "Orders", "Known Defects", "Lists"} <= set(workbook.sheetnames)
    assert workbook["Lists"].sheet_state == "hidden"
    for schema in (*schemas.case_logs, *schemas.references):
        sheet = workbook[schema.tab]
        assert [c.value for c in sheet[1]] == [c.label for c in schema.columns]
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("2")
        assert sheet.auto_filter.ref is not None


def test_headers_carry_notes_and_columns_their_formats(schemas: SchemaSet) -> None:
    sheet = load_workbook(CHECKED_IN)["QC Log"]
    qc = schemas["qc"]
    by_label = {cell.value: cell for cell in sheet[1]}
    for column in qc.columns:
        assert column.description.split(".")[0] in by_label[column.label].comment.text
    letter = {c.label: by_label[c.label].column_letter for c in qc.columns}
    assert sheet.column_dimensions[letter["Case ID"]].number_format == "@"
    assert sheet.column_dimensions[letter["Original Order ID"]].number_format == "@"
    assert sheet.column_dimensions[letter["Closure Date"]].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions[letter["Replacement Cost"]].number_format == "#,##0.00"


def test_dropdowns_draw_on_the_lists_tab_and_kakosheet_columns_warn(schemas: SchemaSet) -> None:
    workbook = load_workbook(CHECKED_IN)
    sheet = workbook["QC Log"]
    letter = {cell.value: cell.column_letter for cell in sheet[1]}
    validations = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    status = validations[f"{letter['Status']}2"]
    assert status.type == "list" and status.formula1.startswith("='Lists'!")
    lists_column = status.formula1.split("!")[1].split("$")[1]
    listed = [c.value for c in workbook["Lists"][lists_column][1:] if c.value]
    assert listed == list(schemas["qc"].column("status").values)
    for label in ("Case ID", "Issues"):
        guard = validations[f"{letter[label]}2"]
        assert (guard.type, guard.errorStyle) == ("custom", "warning")


def test_blank_mandatory_cells_are_highlighted_by_conditional_formatting(schemas: SchemaSet) -> None:
    sheet = load_workbook(CHECKED_IN)["QC Log"]
    letter = {cell.value: cell.column_letter for cell in sheet[1]}
    ranges = {str(rng.sqref).split(":")[0] for rng in sheet.conditional_formatting}
    for column in schemas["qc"].mandatory:
        assert f"{letter[column.label]}2" in ranges
    assert f"{letter['Media Links']}2" not in ranges


def test_the_empty_template_validates_clean(tmp_path: Path) -> None:
    result = run_kakosheet("validate", str(CHECKED_IN), cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout


def test_a_team_that_keeps_one_log_gets_only_that_log(schemas: SchemaSet, tmp_path: Path, config: Config) -> None:
    path = build_master_workbook(schemas, ("qc",), tmp_path / "qc-only.xlsx")
    names = load_workbook(path).sheetnames
    assert "QC Log" in names and "Refunds" not in names
