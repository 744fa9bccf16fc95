"""A row's digest is of its cells as a reader sees them: the shared strings' numbering, which Excel
makes anew at every save, changes none; any change to a cell's value, type or style changes its row's."""

from __future__ import annotations

import random
import re
import struct
import zipfile
from pathlib import Path

import xlsxwriter
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakosheet.sources.xlsx_row_digests import row_digests, shared_string_digests

SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
_CELL_VALUE = re.compile(rb't="s"><v>(\d+)</v>')
_ENTRY = re.compile(rb"<si>(.*?)</si>|<si/>", re.S)
_ROW = re.compile(rb'<row\s[^>]*?\br="(\d+)".*?</row>', re.S)


def write(path: Path, rows: list[list[object]]) -> tuple[bytes, bytes]:
    """The sheet and shared-strings parts of a workbook XlsxWriter writes (as Excel writes one)."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("QC Log")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, tuple):  # (number, "date"): a number in a date style
                sheet.write_number(r, c, value[0], date)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        return archive.read(SHEET), archive.read(SHARED) if SHARED in names else b""


def renumbered(sheet: bytes, shared: bytes, seed: int) -> tuple[bytes, bytes]:
    """The parts as another save writes them: the same strings in another order, every cell pointing anew."""
    entries = [m.group(0) for m in _ENTRY.finditer(shared)]
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    new_index = {old: new for new, old in enumerate(order)}
    head = shared[: shared.index(b"<si")]
    table = head + b"".join(entries[old] for old in order) + b"</sst>"
    cells = _CELL_VALUE.sub(lambda m: b't="s"><v>%d</v>' % new_index[int(m.group(1))], sheet)
    return cells, table


def reference_digests(sheet: bytes, shared: bytes) -> dict[int, bytes]:
    """The same digests, cell by cell with regular expressions: the slow, plain statement of what they are."""
    strings = [xxhash.xxh3_64_intdigest(m.group(1) or b"") for m in _ENTRY.finditer(shared)]
    body = sheet[sheet.index(b"<sheetData") :]
    digests = {}
    for row in _ROW.finditer(body):
        xml = row.group(0).removesuffix(b"</row>")
        cells = xml[xml.index(b">") + 1 :]
        texts = [strings[int(i)] for i in _CELL_VALUE.findall(cells)] + [int(row.group(1))]
        skeleton = _CELL_VALUE.sub(b't="s"><v></v>', cells)
        of_strings = xxhash.xxh3_64_intdigest(struct.pack(f"<{len(texts)}Q", *texts))
        digests[int(row.group(1))] = struct.pack("<QQ", xxhash.xxh3_64_intdigest(skeleton), of_strings)
    return digests


def digests_of(sheet: bytes, shared: bytes) -> dict[int, bytes]:
    found = row_digests(sheet, shared_string_digests(shared) if shared else None)
    assert found is not None
    return found.digests


CELL = st.one_of(
    st.none(),
    st.text(alphabet="ab é中\n", max_size=4),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.tuples(st.integers(40000, 50000), st.just("date")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=1, max_size=12), seed=st.integers(0, 99))
def test_digests_ignore_the_numbering_of_shared_strings_and_see_every_cell(
    tmp_path: Path, rows: list[list[object]], seed: int
) -> None:
    sheet, shared = write(tmp_path / "book.xlsx", rows)
    digests = digests_of(sheet, shared)
    assert digests == reference_digests(sheet, shared)
    if shared:
        assert digests_of(*renumbered(sheet, shared, seed)) == digests

    edited = [list(row) for row in rows]
    r = seed % len(rows)
    c = seed % len(rows[r])
    edited[r][c] = "edited" if rows[r][c] != "edited" else 7
    sheet2, shared2 = write(tmp_path / "edited.xlsx", edited)
    after = digests_of(*renumbered(sheet2, shared2, seed + 1)) if shared2 else digests_of(sheet2, shared2)
    changed = {row for row in digests.keys() | after.keys() if digests.get(row) != after.get(row)}
    assert changed == {r + 1}


def test_a_style_or_type_change_changes_the_row_and_nothing_else(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Case", "Date"], ["a", 45000], ["b", 45001]]
    sheet, shared = write(tmp_path / "a.xlsx", rows)
    as_dates = [rows[0], rows[1], ["b", (45001, "date")]]
    as_text = [rows[0], rows[1], ["b", "45001"]]
    for other in (as_dates, as_text):
        after = digests_of(*write(tmp_path / "b.xlsx", other))
        before = digests_of(sheet, shared)
        assert {row for row in before if before[row] != after[row]} == {3}


def test_a_moved_row_counts_as_changed(tmp_path: Path) -> None:
    before = digests_of(*write(tmp_path / "a.xlsx", [["Case"], ["a"], ["b"]]))
    after = digests_of(*write(tmp_path / "b.xlsx", [["Case"], ["b"], ["a"]]))
    assert {row for row in before if before[row] != after[row]} == {2, 3}


def test_empty_and_rich_text_entries_keep_the_numbering_aligned() -> None:
    shared = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
        b'<si/><si><r><rPr><b/></rPr><t>bold</t></r><r><t> plain</t></r></si><si><t xml:space="preserve">x</t></si>'
        b"</sst>"
    )
    table = shared_string_digests(shared)
    assert table is not None and len(table) == 3
    sheet = (
        b"<worksheet><sheetData>"
        b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>2</v></c></row>'
        b'<row r="2"><c r="A2" t="s"><v>1</v></c></row>'
        b"</sheetData></worksheet>"
    )
    found = row_digests(sheet, table)
    assert found is not None
    swapped = (
        sheet.replace(b"<v>0</v>", b"<v>X</v>").replace(b"<v>2</v>", b"<v>0</v>").replace(b"<v>X</v>", b"<v>2</v>")
    )
    again = row_digests(swapped, table)
    assert again is not None and again.digests[1] != found.digests[1] and again.digests[2] == found.digests[2]


def test_forms_it_cannot_digest_exactly_are_refused() -> None:
    table = shared_string_digests(b"<sst><si><t>a</t></si></sst>")
    body = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    assert row_digests(b"<worksheet><sheetData>" + body + b"</sheetData></worksheet>", table) is not None
    refused = {
        "type before the reference": body.replace(b'r="A1" t="s"', b't="s" r="A1"'),
        "an index the table lacks": body.replace(b"<v>0</v>", b"<v>1</v>"),
        "no index": body.replace(b"<v>0</v>", b"<v></v>"),
        "a row without its number": body.replace(b'<row r="1">', b"<row>"),
        "a row twice": body + body,
        "an empty row closed as <row/>": b'<row r="2" ht="30"/>' + body.replace(b'r="1"', b'r="3"'),
        "a prefix": body.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>").replace(b"<v>", b"<x:v>"),
    }
    for why, other in refused.items():
        assert row_digests(b"<worksheet><sheetData>" + other + b"</sheetData></worksheet>", table) is None, why
    assert shared_string_digests(b"<x:sst><x:si><x:t>a</x:t></x:si></x:sst>") is None
