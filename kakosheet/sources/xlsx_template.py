"""The master workbook, generated from the schemas with openpyxl.

Staff see a tab per log and per reference table, a note on every header saying what
goes there, dropdowns for every list, mandatory columns marked and their blank cells
highlighted, dates and money formatted, identifiers kept as text, and kakosheet's own
columns shaded and guarded by a warning. The file is byte-for-byte reproducible, so a
checked-in template that no longer matches its schemas is caught by a test.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

from lxml import etree
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kakosheet.core.looks import (
    BLANK_MANDATORY_COLOUR,
    FILLED_WHEN_BLANK_COLOUR,
    INPUT_COLOUR,
    KAKOSHEET_COLOUR,
    LAST_ROW,
    LISTS_TAB,
    MANDATORY_COLOUR,
    NUMBER_FORMATS,
    OWNED_CELL_COLOUR,
    blank_rule_formula,
    column_note,
    column_width,
    dropdown_lists,
    header_colour,
    is_kakosheets,
    wanted_schemas,
)
from kakosheet.core.schema import Column, LogSchema, SchemaSet
from kakosheet.sources.xlsx_checks import column_check, list_formula
from kakosheet.sources.xlsx_file import write_whole

GUIDE_TAB = "Guide"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_STAMP = b"2026-01-01T00:00:00Z"

MANDATORY_FILL = PatternFill("solid", fgColor=MANDATORY_COLOUR)
INPUT_FILL = PatternFill("solid", fgColor=INPUT_COLOUR)
KAKOSHEET_FILL = PatternFill("solid", fgColor=KAKOSHEET_COLOUR)
OWNED_CELL_FILL = PatternFill("solid", fgColor=OWNED_CELL_COLOUR)
FILLED_WHEN_BLANK_FILL = PatternFill("solid", fgColor=FILLED_WHEN_BLANK_COLOUR)
BLANK_MANDATORY_FILL = PatternFill("solid", bgColor=BLANK_MANDATORY_COLOUR, fgColor=BLANK_MANDATORY_COLOUR)
HEADER_FONT = Font(bold=True)


def _list_ranges(schemas: SchemaSet, sheet: Worksheet) -> dict[str, str]:
    """Write every dropdown list as a column of the Lists tab; name -> its range formula."""
    lists = dropdown_lists(schemas)
    ranges = {}
    for index, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index, value=name).font = HEADER_FONT
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=index, value=value).data_type = "s"
        ranges[name] = list_formula(letter, len(values))
    return ranges


def _add_validation(sheet: Worksheet, validation: DataValidation, letter: str) -> None:
    validation.add(f"{letter}2:{letter}{LAST_ROW}")
    sheet.add_data_validation(validation)


def _column_validation(column: Column, schemas: SchemaSet, lists: dict[str, str]) -> DataValidation | None:
    check = column_check(column, schemas, lists)
    if check is None:
        return None
    return DataValidation(
        type=check.type,
        operator=check.operator,
        formula1=check.formula1,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=check.error_style,
        errorTitle=check.error_title,
        error=check.error,
    )


def header_fill(column: Column) -> PatternFill:
    return PatternFill("solid", fgColor=header_colour(column))


def _write_log_tab(sheet: Worksheet, schema: LogSchema, schemas: SchemaSet, lists: dict[str, str]) -> None:
    letters = {column.field: get_column_letter(i) for i, column in enumerate(schema.columns, start=1)}
    last_letter = get_column_letter(len(schema.columns))
    for index, column in enumerate(schema.columns, start=1):
        letter = letters[column.field]
        cell = sheet.cell(row=1, column=index, value=column.label)
        cell.font = HEADER_FONT
        cell.fill = header_fill(column)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        comment = Comment(column_note(column, schema), "kakosheet")
        comment.width, comment.height = 260, 120
        cell.comment = comment
        dimension = sheet.column_dimensions[letter]
        dimension.width = column_width(column)
        if column.type in NUMBER_FORMATS:
            dimension.number_format = NUMBER_FORMATS[column.type]
        if is_kakosheets(column):
            dimension.fill = OWNED_CELL_FILL
        validation = _column_validation(column, schemas, lists)
        if validation is not None:
            _add_validation(sheet, validation, letter)
        if column.required and column.kind == "input":
            sheet.conditional_formatting.add(
                f"{letter}2:{letter}{LAST_ROW}",
                FormulaRule(
                    formula=[blank_rule_formula(letter, 2, last_letter)],
                    fill=BLANK_MANDATORY_FILL,
                    stopIfTrue=False,
                ),
            )
    sheet.row_dimensions[1].height = 32
    id_field = schema.id.field if schema.id else schema.key
    frozen_columns = schema.fields.index(id_field) + 2 if id_field else 1
    sheet.freeze_panes = f"{get_column_letter(frozen_columns)}2"
    sheet.auto_filter.ref = f"A1:{last_letter}1"


def _write_guide(sheet: Worksheet, schemas: SchemaSet) -> None:
    rows = [
        ("How to use this workbook", None),
        ("One row per case. Fill the columns, leave the grey ones to kakosheet.", None),
        ("Amber header", MANDATORY_FILL),
        ("Mandatory: a case needs it. Blank mandatory cells turn orange.", None),
        ("Blue header", INPUT_FILL),
        ("Optional, or mandatory only in some situations (see the note on the header).", None),
        ("Green header", FILLED_WHEN_BLANK_FILL),
        ("kakosheet fills it when you leave it blank; what you type is kept.", None),
        ("Grey header", KAKOSHEET_FILL),
        ("Written by kakosheet (case IDs, issue notes, suggestions). Do not type here.", None),
        ("Hover over a header to read what goes in the column.", None),
        ("Run `kakosheet validate` to list every issue, `kakosheet sync` to assign IDs.", None),
    ]
    for index, (text, fill) in enumerate(rows, start=1):
        cell = sheet.cell(row=index, column=1, value=text)
        if fill is not None:
            cell.fill = fill
            cell.font = HEADER_FONT
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 90
    row = len(rows) + 2
    sheet.cell(row=row, column=1, value="Tabs").font = HEADER_FONT
    for schema in (*schemas.case_logs, *schemas.references):
        row += 1
        sheet.cell(row=row, column=1, value=f"{schema.tab}: {schema.description}")


def build_master_workbook(schemas: SchemaSet, logs: tuple[str, ...], target: Path) -> Path:
    """Write the master workbook for these logs (and every reference tab) to ``target``."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    lists_sheet = workbook.create_sheet(LISTS_TAB)
    lists = _list_ranges(schemas, lists_sheet)
    for schema in wanted_schemas(schemas, logs):
        _write_log_tab(workbook.create_sheet(schema.tab), schema, schemas, lists)
    _write_guide(workbook.create_sheet(GUIDE_TAB), schemas)
    workbook.move_sheet(LISTS_TAB, offset=len(workbook.sheetnames) - 1)
    lists_sheet.sheet_state = "hidden"
    workbook.active = 0
    workbook.properties.creator = "kakosheet"
    package = _saved(workbook)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_whole(target, _reproducible(package))  # saved in memory first: no zip half-closed
    return target


def _saved(workbook: Workbook) -> bytes:
    """The workbook's package. openpyxl writes each sheet through a file in the temporary folder, and
    lxml tells a full disk there as a SerialisationError (IO_ENOSPC): told here as the OSError it is."""
    buffer = io.BytesIO()
    try:
        workbook.save(buffer)
    except etree.SerialisationError as exc:
        code = getattr(errno, str(exc).removeprefix("IO_"), None)
        if not str(exc).startswith("IO_") or not isinstance(code, int):
            raise
        raise OSError(code, f"{os.strerror(code)}, in the temporary folder {tempfile.gettempdir()}") from exc
    return buffer.getvalue()


def _reproducible(package: bytes) -> bytes:
    """The same package with fixed timestamps, so the same schemas give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, data)
    return out.getvalue()


def fill_master_workbook(path: Path, schemas: SchemaSet, rows_by_log: dict[str, list[dict[str, object]]]) -> None:
    """Write rows of cases (field -> value) under the headers of a master workbook.

    Used for sample data. Text is always written as text, so a value starting with "="
    is never a formula.
    """
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    for log, rows in rows_by_log.items():
        schema = schemas[log]
        sheet = workbook[schema.tab]
        columns = {column.field: index for index, column in enumerate(schema.columns, start=1)}
        formats = {column.field: NUMBER_FORMATS.get(column.type) for column in schema.columns}
        for offset, row in enumerate(rows, start=2):
            for field, value in row.items():
                if value is None or field not in columns:
                    continue
                cell = sheet.cell(row=offset, column=columns[field], value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                elif isinstance(value, dt.date) and formats[field]:
                    cell.number_format = formats[field]  # the column's format, not openpyxl's own per value
    write_whole(path, _saved(workbook))
