"""What each column of a master workbook accepts, as Excel data validations: one home for the
template (built with openpyxl) and setup (written into a team's workbook as XML).

kakosheet's validations are known by their words and formulas (``is_kakosheet_check``): a
validation is kakosheet's when it is a dropdown reading kakosheet's Lists tab, or carries
the title or message kakosheet writes (below). Any other validation is the team's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from kakosheet.core.looks import LISTS_TAB, is_kakosheets, list_name
from kakosheet.core.schema import Column, SchemaSet

OWNED_TITLE = "kakosheet's column"
DATE_MESSAGE = "Type a date, e.g. 2026-03-15."
# The formula of a dropdown reading the Lists tab, as openpyxl, Excel or LibreOffice write it.
_LISTS_FORMULA = re.compile(r"^=?'?" + LISTS_TAB + r"'?!\$[A-Z]{1,3}\$\d+:\$[A-Z]{1,3}\$\d+$")
_MESSAGES = (
    re.compile(r"^Choose an? .+ from the list\.$"),
    re.compile(r"^Not a known (?:currency|country) code\.$"),
    re.compile(r"^.+ should be a number of at least .+\.$"),
    re.compile(r"^.+ is written by kakosheet on each sync\..*$", re.S),
    re.compile("^" + re.escape(DATE_MESSAGE) + "$"),
)


@dataclass(frozen=True)
class CellCheck:
    """One data validation: Excel's type, operator and formula, and the error staff see."""

    type: str
    formula1: str
    error_style: str
    error_title: str
    error: str
    operator: str | None = None

    def xml(self, sqref: str) -> bytes:
        """The ``<dataValidation>`` element over ``sqref``, as the template writes it."""
        operator = f" operator={quoteattr(self.operator)}" if self.operator else ""
        return (
            f'<dataValidation type="{self.type}" errorStyle="{self.error_style}"{operator} allowBlank="1" '
            f'showInputMessage="0" showErrorMessage="1" errorTitle={quoteattr(self.error_title)} '
            f"error={quoteattr(self.error)} sqref={quoteattr(sqref)}>"
            f"<formula1>{escape(self.formula1)}</formula1></dataValidation>"
        ).encode()


def list_formula(letter: str, count: int) -> str:
    """The range of a Lists column's values, as a dropdown's formula reads it."""
    return f"'{LISTS_TAB}'!${letter}$2:${letter}${count + 1}"


def column_check(column: Column, schemas: SchemaSet, ranges: dict[str, str]) -> CellCheck | None:
    """The validation of a column's cells: a warning on kakosheet's own columns, a strict
    dropdown for lists kakosheet rejects, a warning for codes, dates and minimums."""
    label = column.label
    if is_kakosheets(column):
        message = (
            f"{label} is written by kakosheet on each sync. Leave it to kakosheet, or choose Yes to keep your value."
        )
        return CellCheck("custom", "FALSE", "warning", OWNED_TITLE, message)
    listed = list_name(column, schemas)
    if listed is not None and column.type == "enum":
        return CellCheck("list", f"={ranges[listed]}", "stop", label, f"Choose a {label} from the list.")
    if listed is not None:
        return CellCheck("list", f"={ranges[listed]}", "warning", label, f"Not a known {column.type} code.")
    if column.type in ("date", "datetime"):
        return CellCheck("date", "DATE(1990,1,1)", "warning", label, DATE_MESSAGE, operator="greaterThan")
    if column.type in ("money", "number", "integer", "percent") and column.minimum is not None:
        return CellCheck(
            "whole" if column.type == "integer" else "decimal",
            str(column.minimum),
            "warning",
            label,
            f"{label} should be a number of at least {column.minimum}.",
            operator="greaterThanOrEqual",
        )
    return None


def is_kakosheet_check(*, formula1: str, error_title: str, error: str) -> bool:
    """Whether a validation found in a workbook is kakosheet's (see the module's docstring)."""
    if _LISTS_FORMULA.match(formula1.strip()) or error_title == OWNED_TITLE:
        return True
    return any(pattern.match(error) for pattern in _MESSAGES)
