"""`kakosheet setup` on a master staff made their own: a column of theirs given one of kakosheet's
dropdowns (a second reason, picked from the reasons' list on the Lists tab) keeps it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from kakosheet.app.setup import init_team
from kakosheet.config import load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.helpers import run_kakosheet
from tests.reports.store import qc


def _team_with_cases(tmp_path: Path) -> tuple[Path, Path]:
    """A team folder and its master workbook holding three QC cases."""
    folder = tmp_path / "team"
    init_team(folder, logs=("qc",))
    workbook = folder / "master.xlsx"
    cases = [qc(f"O{i}", dt.datetime(2026, 11, 2 + i, 9), "Damaged", "Acme", "Supplier") for i in range(3)]
    fill_master_workbook(workbook, load_config(folder / "kakosheet.toml").load_schemas(), {"qc": cases})
    return folder, workbook


def test_a_staff_column_given_kakosheets_reasons_dropdown_keeps_it(tmp_path: Path) -> None:
    folder, workbook = _team_with_cases(tmp_path)
    book = load_workbook(workbook)
    sheet = book["QC Log"]
    reasons = next(v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith("E2"))
    mine = sheet.max_column + 1
    sheet.cell(1, mine, "Second Reason")
    theirs = DataValidation(type="list", formula1=reasons.formula1, allow_blank=True)  # the reasons' list range
    theirs.add(f"{sheet.cell(2, mine).column_letter}2:{sheet.cell(2, mine).column_letter}500")
    sheet.add_data_validation(theirs)
    book.save(workbook)
    assert run_kakosheet("sync", "--as-of", "2026-11-20T10:00", cwd=folder).returncode == 0

    schema = folder / "schemas" / "qc.yaml"
    schema.write_text(schema.read_text().replace("Packaging Damage]", "Packaging Damage, Counterfeit]"))
    done = run_kakosheet("setup", cwd=folder)
    assert done.returncode == 0, done.stderr

    checks = {str(v.sqref): v.formula1 for v in load_workbook(workbook)["QC Log"].data_validations.dataValidation}
    letter = sheet.cell(2, mine).column_letter
    assert checks[f"{letter}2:{letter}500"] == reasons.formula1  # the team's, as they made it
    assert checks["E2:E1048576"] != reasons.formula1  # kakosheet's own list grew by Counterfeit


def test_a_staff_column_given_kakosheets_blank_highlight_keeps_it(tmp_path: Path) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    folder, workbook = _team_with_cases(tmp_path)
    book = load_workbook(workbook)
    sheet = book["QC Log"]
    mine = sheet.cell(1, sheet.max_column + 1, "Escalated To").column_letter
    # Format-painted from a mandatory column: kakosheet's blank-mandatory rule, on the team's column.
    formula = f"AND(COUNTA($A2:${mine}2)>0,ISBLANK({mine}2))"
    sheet.conditional_formatting.add(f"{mine}2:{mine}1048576", FormulaRule(formula=[formula], fill=PatternFill()))
    book.save(workbook)
    assert run_kakosheet("sync", "--as-of", "2026-11-20T10:00", cwd=folder).returncode == 0

    done = run_kakosheet("setup", cwd=folder)
    assert done.returncode == 0, done.stderr
    rules = load_workbook(workbook)["QC Log"].conditional_formatting
    assert [r.formula for rng in rules for r in rng.rules if str(rng.sqref).startswith(mine)] == [[formula]]


def _lists_read_by(workbook: Path) -> dict[str, list[str]]:
    """Each dropdown of the QC Log's columns (by header) and the values of the Lists column it reads."""
    book = load_workbook(workbook)
    sheet, lists = book["QC Log"], book["Lists"]
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    read: dict[str, list[str]] = {}
    for check in sheet.data_validations.dataValidation:
        if check.type != "list" or "Lists" not in str(check.formula1):
            continue
        start, end = str(check.formula1).split("!")[1].replace("$", "").split(":")
        column = start.rstrip("0123456789")
        values = [cell.value for cell in lists[column][int(start[len(column) :]) - 1 : int(end[len(column) :])]]
        read[str(headers[str(check.sqref).split(":")[0].rstrip("0123456789")])] = values
    return read


def test_a_column_removed_from_its_schema_keeps_its_dropdown_and_every_other_reads_its_own_list(
    tmp_path: Path,
) -> None:
    """The Lists tab's columns do not move when a list goes: Disposition's cells are the team's once its
    column leaves the schema, and their dropdown still offers the dispositions (not Status's values,
    which took its column before); a list that grew is read whole; a second setup changes nothing."""
    folder, workbook = _team_with_cases(tmp_path)
    assert run_kakosheet("sync", "--as-of", "2026-11-20T10:00", cwd=folder).returncode == 0
    before = _lists_read_by(workbook)
    assert before["Disposition"][:2] == ["Returned to Supplier", "Discarded"]

    schema = folder / "schemas" / "qc.yaml"
    text = schema.read_text()
    start = text.index("  - field: disposition\n")
    text = text[:start] + text[text.index("  - field:", start + 1) :]
    schema.write_text(text.replace("Inspector, Logistics]", "Inspector, Logistics, Carrier]"))
    done = run_kakosheet("setup", cwd=folder)
    assert done.returncode == 0, done.stderr

    after = _lists_read_by(workbook)
    assert after["Disposition"] == before["Disposition"]
    assert after["Status"] == before["Status"]
    assert after["Exception Type"] == before["Exception Type"]
    assert after["Source Type"] == [*before["Source Type"], "Carrier"]
    again = run_kakosheet("setup", cwd=folder)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stdout + again.stderr
    synced = run_kakosheet("sync", "--as-of", "2026-11-20T11:00", cwd=folder)
    assert synced.returncode == 0 and "kakosheet setup" not in synced.stdout + synced.stderr
