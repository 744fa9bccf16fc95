"""One log tab's sheet XML brought up to its schema: kakosheet's parts added or corrected, the
team's left byte for byte.

kakosheet's parts of a log tab are: the header cells of its columns (a label where one is
missing, the colour and bold of every one), the ``<col>`` of a column setup adds (width and
number format), the data validations of its columns and its highlight rules. Its validations
are known by their words and formulas (sources/xlsx_checks.py); its highlight rules by their
formulas: the blank-mandatory rule ``AND(COUNTA($A2:$V2)>0,ISBLANK(B2))`` and the Issues-note
rule, whose formula holds ``"; "&`` (sources/xlsx_writeback.py). Validations and rules in the
``extLst`` extension block are never kakosheet's; a column where the team's own validation
(either kind) covers a data cell gets none of kakosheet's, and the result says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from kakosheet.core.grid import column_index, column_letters
from kakosheet.core.looks import (
    BLANK_MANDATORY_COLOUR,
    HIGHLIGHT_MARK,
    LAST_ROW,
    NUMBER_FORMATS,
    OWNED_CELL_COLOUR,
    blank_rule_formula,
    column_width,
    header_colour,
    highlight_rule_formula,
    is_kakosheets,
)
from kakosheet.core.schema import LogSchema, SchemaSet
from kakosheet.sources.xlsx_checks import CellCheck, column_check, is_kakosheet_check
from kakosheet.sources.xlsx_order import elements_after
from kakosheet.sources.xlsx_setup_styles import StyleBook

_BLANK_RULE = re.compile(r"^AND\(COUNTA\(\$A\d+:\$[A-Z]{1,3}\d+\)>0,ISBLANK\([A-Z]{1,3}\d+\)\)$")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
# Elements that follow <conditionalFormatting> / <dataValidations> in a worksheet (CT_Worksheet order).
_AFTER_DV = elements_after("dataValidations")
_AFTER_CF = elements_after("conditionalFormatting")


@dataclass
class TabLayout:
    """Where a log sits in its tab: the header's sheet row and each field's column (those this run
    adds included), and the last column the header uses, staff columns included."""

    tab: str
    schema: LogSchema
    header_row: int
    columns: dict[str, int]
    added: list[str]  # fields whose column this run adds
    last_column: int


@dataclass
class TabChanges:
    """What upgrading one tab changed, by kind, and the team's parts it left in kakosheet's place."""

    counts: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)


def upgrade_sheet(
    xml: bytes, layout: TabLayout, schemas: SchemaSet, ranges: dict[str, str], styles: StyleBook
) -> tuple[bytes, TabChanges]:
    """The sheet part with kakosheet's parts as the schema wants them (the same bytes when they are)."""
    changes = TabChanges()
    data_start, data_end = _sheet_data(xml)
    head, data, tail = xml[:data_start], xml[data_start:data_end], xml[data_end:]
    data = _patch_header(data, layout, styles, changes)
    head = _add_cols(head, layout, styles)
    tail = _patch_validations(tail, layout, schemas, ranges, changes)
    tail = _patch_rules(tail, layout, styles, changes)
    head = _widen_dimension(head, layout)
    return head + data + tail, changes


def _sheet_data(xml: bytes) -> tuple[int, int]:
    """Where ``<sheetData>`` starts and where what follows it starts."""
    start = xml.find(b"<sheetData")
    if start == -1:
        raise ValueError("no sheetData")
    close = xml.find(b">", start)
    if xml[close - 1 : close] == b"/":
        return start, close + 1
    return start, xml.index(b"</sheetData>", close) + len(b"</sheetData>")


# --------------------------------------------------------------------------- the header row


def _patch_header(data: bytes, layout: TabLayout, styles: StyleBook, changes: TabChanges) -> bytes:
    """Every kakosheet column's header cell: a label written where missing, colour and bold set."""
    number = layout.header_row
    if data.endswith(b"/>"):  # <sheetData/>
        data = b"<sheetData></sheetData>"
    row = re.search(rb'<row\b[^>]*\br="' + str(number).encode() + rb'"[^>]*?(?:/>|>(.*?)</row>)', data, re.S)
    if row is None:
        at = _row_insert_at(data, number)
        data = data[:at] + b'<row r="' + str(number).encode() + b'"></row>' + data[at:]
        row = re.search(rb'<row r="' + str(number).encode() + rb'"></row>', data)
        assert row is not None
    row_xml = row.group(0)
    if row_xml.endswith(b"/>"):
        row_xml = row_xml[:-2] + b"></row>"
    head_end = row_xml.index(b">") + 1
    head, body = row_xml[:head_end], row_xml[head_end : -len(b"</row>")]
    head = re.sub(rb'\s+spans="[^"]*"', b"", head)
    cells: dict[int, bytes] = {}
    for match in _CELL.finditer(body):
        ref = _REF.search(match.group(1))
        if ref is None:  # cells without references cannot be placed among: the row is left alone
            changes.kept.append(f"the header row of {layout.tab} (its cells carry no references)")
            return data
        cells[column_index(ref.group(1))] = match.group(0)
    for column in layout.schema.columns:
        col = layout.columns[column.field]
        existing = cells.get(col)
        current = _STYLE.search(existing[: existing.find(b">")]) if existing else None
        base = int(current.group(1)) if current else 0
        wanted = styles.header_xf(base, header_colour(column))
        if existing is None or (column.field in layout.added and not _holds_value(existing)):
            where = f"{column_letters(col)}{number}".encode()
            opening = b'<c r="' + where + b'" s="' + str(wanted).encode() + b'" t="inlineStr"><is><t>'
            cells[col] = opening + escape(column.label).encode() + b"</t></is></c>"
        elif wanted != base:
            cells[col] = _with_style(existing, wanted)
            changes.counts["header colour"] += 1
    new_body = b"".join(cells[c] for c in sorted(cells))
    if new_body == body and head == row_xml[:head_end]:
        return data
    return data[: row.start()] + head + new_body + b"</row>" + data[row.end() :]


def _holds_value(cell: bytes) -> bool:
    return b"<v>" in cell or b"<v " in cell or b"<is>" in cell or b"<f" in cell


def _with_style(cell: bytes, style: int) -> bytes:
    end = cell.find(b">")
    open_tag = cell[: end + 1]
    if _STYLE.search(open_tag):
        open_tag = _STYLE.sub(b's="' + str(style).encode() + b'"', open_tag, count=1)
    else:
        cut = len(open_tag) - (2 if open_tag.endswith(b"/>") else 1)
        open_tag = open_tag[:cut] + b' s="' + str(style).encode() + b'"' + open_tag[cut:]
    return open_tag + cell[end + 1 :]


def _row_insert_at(data: bytes, number: int) -> int:
    for match in re.finditer(rb'<row\b[^>]*?\br="(\d+)"', data):
        if int(match.group(1)) > number:
            return match.start()
    return data.rindex(b"</sheetData>")


# --------------------------------------------------------------------------- columns


def _add_cols(head: bytes, layout: TabLayout, styles: StyleBook) -> bytes:
    """A ``<col>`` (width, number format, shading) for each column this run adds, where the team
    has none of its own."""
    taken = [(int(a), int(b)) for a, b in re.findall(rb'<col\b[^>]*?\bmin="(\d+)"[^>]*?\bmax="(\d+)"', head)]
    taken += [(int(a), int(b)) for b, a in re.findall(rb'<col\b[^>]*?\bmax="(\d+)"[^>]*?\bmin="(\d+)"', head)]
    new = []
    for field_name in layout.added:
        column = layout.schema.column(field_name)
        number = layout.columns[field_name] + 1
        if any(low <= number <= high for low, high in taken):
            continue
        style = styles.column_xf(NUMBER_FORMATS.get(column.type), OWNED_CELL_COLOUR if is_kakosheets(column) else None)
        style_attr = f' style="{style}"' if style else ""
        width = column_width(column)
        new.append(
            (number, f'<col min="{number}" max="{number}" width="{width}" customWidth="1"{style_attr}/>'.encode())
        )
    if not new:
        return head
    if b"<cols>" not in head:  # the part before <sheetData> ends where <cols> goes
        return head + b"<cols>" + b"".join(xml for _, xml in sorted(new)) + b"</cols>"
    start, end = head.index(b"<cols>") + len(b"<cols>"), head.index(b"</cols>")
    existing = re.findall(rb"<col\b[^>]*/>|<col\b[^>]*>.*?</col>", head[start:end], re.S)
    keyed = [(int(re.search(rb'\bmin="(\d+)"', c).group(1)), c) for c in existing]  # type: ignore[union-attr]
    ordered = sorted([*keyed, *new], key=lambda pair: pair[0])
    return head[:start] + b"".join(xml for _, xml in ordered) + head[end:]


def _widen_dimension(head: bytes, layout: TabLayout) -> bytes:
    """The ``<dimension>`` claim grown to the header's last column, which readers may size by."""
    match = re.search(rb'<dimension ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"', head)
    if match is None:
        return head
    last = column_index(match.group(3) or match.group(1))
    wanted = max(last, layout.last_column)
    rows = max(int(match.group(4) or match.group(2)), layout.header_row)
    if wanted == last and rows == int(match.group(4) or match.group(2)):
        return head
    ref = f'<dimension ref="{match.group(1).decode()}{match.group(2).decode()}:{column_letters(wanted)}{rows}"'
    return head[: match.start()] + ref.encode() + head[match.end() :]


# --------------------------------------------------------------------------- ranges


def _rectangles(sqref: str) -> list[tuple[int, int, int, int]]:
    """A space-separated range list as (first column, first row, last column, last row)."""
    found = []
    for part in sqref.split():
        match = _RANGE.match(part)
        if match:
            c1, r1 = column_index(match.group(1)), int(match.group(2))
            c2, r2 = (column_index(match.group(3)), int(match.group(4))) if match.group(3) else (c1, r1)
            found.append((min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)))
    return found


def _covers(sqref: str, col: int, top: int) -> bool:
    return any(c1 <= col <= c2 and r2 >= top for c1, r1, c2, r2 in _rectangles(sqref))


def _on_columns(sqref: str, columns: set[int]) -> bool:
    """Whether a range list reaches any of these columns."""
    return any(c1 <= col <= c2 for c1, _, c2, _ in _rectangles(sqref) for col in columns)


def insert_in_order(tail: bytes, names: tuple[str, ...], block: bytes, after: bytes | None = None) -> bytes:
    """``block`` placed after ``after`` (the last element of its kind) or before the first of ``names``."""
    if after is not None:
        at = tail.rfind(after)
        if at != -1:
            at += len(after)
            return tail[:at] + block + tail[at:]
    for name in names:
        found = re.search(rb"<" + name.encode() + rb"[\s>/]", tail)
        if found:
            return tail[: found.start()] + block + tail[found.start() :]
    end = tail.rfind(b"</worksheet>")
    return tail[:end] + block + tail[end:]


def _extension_sqrefs(tail: bytes, kind: bytes) -> list[str]:
    """The ranges of the extension-list validations (kind dataValidation) or rules (conditionalFormatting)."""
    start = tail.find(b"<extLst")
    if start == -1:
        return []
    found = []
    for block in re.findall(rb"<\w+:" + kind + rb"\b.*?</\w+:" + kind + rb">", tail[start:], re.S):
        found += [m.decode() for m in re.findall(rb"<\w+:sqref>([^<]*)</\w+:sqref>", block)]
    return found


# --------------------------------------------------------------------------- validations


def _patch_validations(
    tail: bytes, layout: TabLayout, schemas: SchemaSet, ranges: dict[str, str], changes: TabChanges
) -> bytes:
    top = layout.header_row + 1
    block = re.search(rb"<dataValidations\b([^>]*?)(?:/>|>(.*?)</dataValidations>)", tail, re.S)
    entries = (
        re.findall(rb"<dataValidation\b.*?</dataValidation>|<dataValidation\b[^>]*/>", block.group(2) or b"", re.S)
        if block
        else []
    )
    ours: dict[tuple[str, CellCheck], bytes] = {}
    theirs: list[bytes] = []
    theirs_sqrefs = _extension_sqrefs(tail, b"dataValidation")
    logged = set(layout.columns.values())
    for entry in entries:
        parsed = _parse_validation(entry)
        # One that looks like kakosheet's (reads the Lists tab, says its words) on the team's own columns
        # only is the team's: a second-reason column given the reasons' dropdown, a column formatted alike.
        if (
            parsed is not None
            and is_kakosheet_check(
                formula1=parsed[1].formula1, error_title=parsed[1].error_title, error=parsed[1].error
            )
            and _on_columns(parsed[0], logged)
        ):
            ours.setdefault(parsed, entry)
        else:
            theirs.append(entry)
            their_range = re.search(rb'\bsqref="([^"]*)"', entry)
            theirs_sqrefs.append(their_range.group(1).decode() if their_range else "")
    wanted: list[tuple[str, CellCheck]] = []
    for column in layout.schema.columns:
        check = column_check(column, schemas, ranges)
        if check is None:
            continue
        col = layout.columns[column.field]
        letter = column_letters(col)
        key = (f"{letter}{top}:{letter}{LAST_ROW}", _normal(check))
        if key not in ours and any(_covers(sqref, col, top) for sqref in theirs_sqrefs):
            changes.kept.append(f"your data validation on {layout.tab}!{column.label}")
            continue
        wanted.append((key[0], check))
    kept_ours = []
    for sqref, check in wanted:
        key = (sqref, _normal(check))
        if key in ours:
            kept_ours.append(ours.pop(key))
        else:
            kept_ours.append(check.xml(sqref))
            changes.counts["dropdown" if check.type == "list" else "cell check"] += 1
    if ours:
        changes.counts["stale check removed"] += len(ours)
    new_entries = theirs + kept_ours
    if new_entries == entries:
        return tail
    attributes = re.sub(rb'\s*count="\d+"', b"", block.group(1)) if block else b""
    new_block = (
        b'<dataValidations count="'
        + str(len(new_entries)).encode()
        + b'"'
        + attributes
        + b">"
        + b"".join(new_entries)
        + b"</dataValidations>"
        if new_entries
        else b""
    )
    if block is not None:
        return tail[: block.start()] + new_block + tail[block.end() :]
    return insert_in_order(tail, _AFTER_DV, new_block)


def _parse_validation(entry: bytes) -> tuple[str, CellCheck] | None:
    """A validation as (sqref, its check in normal form), None when it cannot be read as one."""
    try:
        element = ElementTree.fromstring(entry.replace(b"<dataValidation", b'<dataValidation xmlns="x"', 1))
    except ElementTree.ParseError:
        return None
    formula = element.find("{x}formula1")
    check = CellCheck(
        type=element.get("type", "none"),
        formula1=(formula.text or "") if formula is not None else "",
        error_style=element.get("errorStyle", "stop"),
        error_title=element.get("errorTitle", ""),
        error=element.get("error", ""),
        operator=element.get("operator") if element.get("type") not in ("list", "custom") else None,
    )
    return element.get("sqref", ""), _normal(check)


def _normal(check: CellCheck) -> CellCheck:
    """A check as Excel and LibreOffice may echo it: the leading "=" and quotes of a plain tab name dropped."""
    formula = check.formula1.strip().lstrip("=").replace("'", "")
    operator = check.operator if check.operator not in (None, "between") or check.type in ("list", "custom") else None
    return CellCheck(check.type, formula, check.error_style, check.error_title, check.error, operator)


# --------------------------------------------------------------------------- highlight rules


def _patch_rules(tail: bytes, layout: TabLayout, styles: StyleBook, changes: TabChanges) -> bytes:
    """kakosheet's highlight rules: blank mandatory cells, and the cells an Issues note names."""
    top = layout.header_row + 1
    blocks = list(re.finditer(rb"<conditionalFormatting\b[^>]*>.*?</conditionalFormatting>", tail, re.S))
    priorities = [int(p) for p in re.findall(rb'\bpriority="(\d+)"', tail)]
    next_priority = max(priorities, default=0) + 1
    wanted: list[tuple[tuple[str, str], str]] = []  # (key, kind)
    last = column_letters(layout.last_column)
    for column in layout.schema.mandatory:
        letter = column_letters(layout.columns[column.field])
        wanted.append(((f"{letter}{top}:{letter}{LAST_ROW}", blank_rule_formula(letter, top, last)), "blank"))
    notes = layout.columns.get("issues")
    if notes is not None:
        fields = [layout.columns[c.field] for c in layout.schema.columns]
        first, last_own = column_letters(min(fields)), column_letters(max(fields))
        formula = highlight_rule_formula(first, layout.header_row, column_letters(notes), top)
        wanted.append(((f"{first}{top}:{last_own}{LAST_ROW}", formula), "issues"))
    wanted_keys = {key for key, _ in wanted}
    found: set[tuple[str, str]] = set()
    removed = []
    logged = set(layout.columns.values())
    for block in blocks:
        key = _rule_key(block.group(0))
        if key is None or not _on_columns(key[0], logged):
            continue  # not kakosheet's; nor one like it that staff gave a column of their own
        if key in wanted_keys and key not in found:
            found.add(key)  # the first of ours for a rule is kept; a stale or doubled one goes
        else:
            removed.append(block)
    added = []
    for key, kind in wanted:
        if key in found:
            continue
        dxf = styles.fill_dxf(BLANK_MANDATORY_COLOUR) if kind == "blank" else styles.highlight_dxf()
        added.append(
            f'<conditionalFormatting sqref="{key[0]}"><cfRule type="expression" dxfId="{dxf}" '
            f'priority="{next_priority}"><formula>{escape(key[1])}</formula></cfRule></conditionalFormatting>'.encode()
        )
        next_priority += 1
        changes.counts["highlight rule"] += 1
    if removed:
        changes.counts["stale highlight rule removed"] += len(removed)
    for block in reversed(removed):
        tail = tail[: block.start()] + tail[block.end() :]
    if added:
        remaining = list(re.finditer(rb"</conditionalFormatting>", tail))
        after = b"</conditionalFormatting>" if remaining else None
        tail = insert_in_order(tail, _AFTER_CF, b"".join(added), after=after)
    return tail


def _rule_key(block: bytes) -> tuple[str, str] | None:
    """(sqref, formula) of a conditional-format block that is one rule of kakosheet's, else None."""
    rules = re.findall(rb"<cfRule\b.*?</cfRule>", block, re.S)
    if len(rules) != 1:
        return None
    formula = re.findall(rb"<formula>(.*?)</formula>", rules[0], re.S)
    if len(formula) != 1:
        return None
    text = formula[0].decode().replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", '"').replace("&amp;", "&")
    if not (_BLANK_RULE.match(text) or HIGHLIGHT_MARK in text):
        return None
    sqref = re.search(rb'\bsqref="([^"]*)"', block)
    return (sqref.group(1).decode() if sqref else "", text)
