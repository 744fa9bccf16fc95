"""batchUpdate requests that keep ranges: conditional-format rules and protected ranges."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from . import fields
from .a1 import GridRange
from .batch_common import block_of, mask_of, sheet_of
from .errors import RequestError
from .state import Sheet, Spreadsheet
from .styles import normal_format


def _normal_range(book: Spreadsheet, data: dict[str, Any]) -> tuple[Sheet, dict[str, Any]]:
    """Check a GridRange against its sheet and return it in the form Google echoes."""
    sheet, _ = block_of(book, data)
    return sheet, GridRange.from_json(data).to_json()


# -- conditional formats -----------------------------------------------------------------------------------------


def _checked_rule(book: Spreadsheet, rule: dict[str, Any]) -> tuple[Sheet, dict[str, Any]]:
    ranges = rule.get("ranges") or []
    if not ranges:
        raise RequestError("ConditionalFormatRule must have at least one range.")
    checked = [_normal_range(book, r) for r in ranges]
    sheets = {sheet.id for sheet, _ in checked}
    if len(sheets) != 1:
        raise RequestError("All ranges of a conditional format rule must be on the same sheet.")
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise RequestError("ConditionalFormatRule must have exactly one of booleanRule or gradientRule.")
    if "booleanRule" in rule:
        condition = rule["booleanRule"].get("condition") or {}
        if not condition.get("type"):
            raise RequestError("Invalid ConditionalFormatRule: the condition type is required.")
        if condition["type"] == "CUSTOM_FORMULA":
            values = condition.get("values") or []
            if len(values) != 1 or not str(values[0].get("userEnteredValue", "")).startswith("="):
                raise RequestError("Invalid ConditionalFormatRule: CUSTOM_FORMULA needs one value that is a formula.")
    out = copy.deepcopy(rule)
    out["ranges"] = [normal for _, normal in checked]
    if "booleanRule" in out and out["booleanRule"].get("format"):
        out["booleanRule"]["format"] = normal_format(out["booleanRule"]["format"])
    return checked[0][0], out


def _rule_at(book: Spreadsheet, params: dict[str, Any]) -> tuple[Sheet, int]:
    sheet = sheet_of(book, params.get("sheetId"))
    index = int(params.get("index", 0))
    if not 0 <= index < len(sheet.conditional):
        raise RequestError(f"No conditional format on sheet: {sheet.id} at index: {index}")
    return sheet, index


def add_conditional_format_rule(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, rule = _checked_rule(book, params.get("rule") or {})
    index = int(params.get("index", 0))
    if not 0 <= index <= len(sheet.conditional):
        raise RequestError(f"Invalid index {index}: the sheet has {len(sheet.conditional)} conditional formats.")
    sheet.conditional.insert(index, rule)


def update_conditional_format_rule(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    sheet, index = _rule_at(book, params)
    old = sheet.conditional[index]
    new_index = index
    if params.get("rule") is not None:
        _, new = _checked_rule(book, params["rule"])
        sheet.conditional[index] = new
    elif params.get("newIndex") is not None:
        new_index = int(params["newIndex"])
        if not 0 <= new_index < len(sheet.conditional):
            raise RequestError(f"Invalid newIndex {new_index}.")
        sheet.conditional.insert(new_index, sheet.conditional.pop(index))
    else:
        raise RequestError("Either rule or newIndex must be set.")
    return {
        "updateConditionalFormatRule": {
            "newRule": copy.deepcopy(sheet.conditional[new_index]),
            "oldRule": copy.deepcopy(old),
            "newIndex": new_index,
            "oldIndex": index,
        }
    }


def delete_conditional_format_rule(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    sheet, index = _rule_at(book, params)
    return {"deleteConditionalFormatRule": {"rule": sheet.conditional.pop(index)}}


# -- protected ranges --------------------------------------------------------------------------------------------


def _find_protected(book: Spreadsheet, range_id: Any) -> tuple[Sheet, dict[str, Any]]:
    for sheet in book.sheets:
        for protected in sheet.protected:
            if protected["protectedRangeId"] == range_id:
                return sheet, protected
    raise RequestError(f"No protected range with id: {range_id}")


def _taken_ids(book: Spreadsheet) -> set[int]:
    return {p["protectedRangeId"] for s in book.sheets for p in s.protected}


def add_protected_range(book: Spreadsheet, params: dict[str, Any]) -> dict[str, Any]:
    given = copy.deepcopy(params.get("protectedRange") or {})
    taken = _taken_ids(book)
    range_id = given.get("protectedRangeId")
    if range_id is not None and int(range_id) in taken:
        raise RequestError(f"A protected range with ID {range_id} already exists.")
    if "range" not in given:
        raise RequestError("A protected range needs a range.")
    sheet, given["range"] = _normal_range(book, given["range"])
    if range_id is None:
        range_id = next(i for i in iter(lambda: secrets.randbelow(2**31 - 1) + 1, 0) if i not in taken)
    stored = {"protectedRangeId": int(range_id), **{k: v for k, v in given.items() if k != "protectedRangeId"}}
    stored.pop("requestingUserCanEdit", None)
    if not stored.get("warningOnly"):
        stored.pop("warningOnly", None)
    stored["unprotectedRanges"] = [_normal_range(book, r)[1] for r in stored.get("unprotectedRanges") or []]
    if not stored["unprotectedRanges"]:
        del stored["unprotectedRanges"]
    sheet.protected.append(stored)
    return {"addProtectedRange": {"protectedRange": dict(copy.deepcopy(stored), requestingUserCanEdit=True)}}


def update_protected_range(book: Spreadsheet, params: dict[str, Any]) -> None:
    given = params.get("protectedRange") or {}
    sheet, protected = _find_protected(book, given.get("protectedRangeId"))
    mask = mask_of(params)
    mask.pop("protectedRangeId", None)
    updated = fields.apply(protected, given, mask)
    updated["protectedRangeId"] = protected["protectedRangeId"]
    target = sheet
    if "range" in mask:
        target, updated["range"] = _normal_range(book, updated.get("range") or {})
    if not updated.get("warningOnly"):
        updated.pop("warningOnly", None)
    sheet.protected.remove(protected)
    target.protected.append(updated)


def delete_protected_range(book: Spreadsheet, params: dict[str, Any]) -> None:
    sheet, protected = _find_protected(book, params.get("protectedRangeId"))
    sheet.protected.remove(protected)


RANGE_HANDLERS = {
    "addConditionalFormatRule": add_conditional_format_rule,
    "updateConditionalFormatRule": update_conditional_format_rule,
    "deleteConditionalFormatRule": delete_conditional_format_rule,
    "addProtectedRange": add_protected_range,
    "updateProtectedRange": update_protected_range,
    "deleteProtectedRange": delete_protected_range,
}
