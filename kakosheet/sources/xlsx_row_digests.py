"""Which rows of a sheet part changed since the last sync, told without parsing a cell.

A re-sync after a person edited a few rows would rather not read the others. Excel writes every
byte of the sheet part again at each save, and renumbers the shared strings (the table every text
cell points into), so neither the part nor a row's bytes can be compared as they are. A row's
digest here is of its XML with each shared-string cell counted by its string's digest, not by its
index: two rows with equal digests hold the same cells, with the same styles, types and values,
whatever the numbering. A row's number is digested with its cells (the row's own attributes,
such as its height, are not): a row that moved counts as changed.

A row's digest is two XXH3-64 digests (16 bytes): of its cells' XML after its tag, each
shared-string index taken out; and of its strings' digests (XXH3-64 of each entry's XML, 8 bytes
each) followed by its number (8 bytes). XXH3 is a fingerprint of the bytes a person's save wrote,
not a defence against a forger; one C call per piece is what makes digesting 100k rows cheaper
than reading them (numpy finds the cells, and no Python code runs per row or per string).

Only XML as Excel and LibreOffice write it is digested: a shared-string cell written in any other
form, a row without its number or an index the table lacks makes ``row_digests`` answer None (the
caller then reads every row).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

import numpy as np
import xxhash

_SHARED_VALUE = b't="s"><v>'  # a shared-string cell's value, as Excel and LibreOffice write it
_SHARED_TYPE = b't="s"'
_MAX_DIGITS = 9  # an index below 10**9: far more strings than a workbook holds
_ENTRY = re.compile(rb"<si(?:\s[^>]*)?(/?)>")  # a shared-strings entry, <si/> included (an empty string)
_ROW_TAG = re.compile(rb'<row r="(\d+)"')
_ROW_END = b"</row>"
_AFTER_SI = itemgetter(slice(len(b"<si>"), None))
_DIGEST = xxhash.xxh3_64_intdigest
_WORD = np.dtype("<u8")  # the digests' and numbers' bytes, the same on every machine


@dataclass(frozen=True)
class RowDigests:
    """Sheet row number -> the digest of that row's XML (shared strings counted by their text); and
    where each row's XML is in the part: from where the row before it ends to after its ``</row>``."""

    digests: dict[int, bytes]
    spans: dict[int, tuple[int, int]]


def shared_string_digests(xml: bytes) -> np.ndarray | None:
    """The digest of each entry of a shared-strings part (its XML inside ``<si>``), by index; None
    when the part is written in a form this does not split exactly (a namespace prefix)."""
    if b"<sst" not in xml[:1000]:
        return None
    texts = xml.split(b"</si>")
    texts.pop()  # the table's end
    if b"<si/>" not in xml and b"<si " not in xml and xml.count(b"</si><si>") == len(texts) - 1 and texts:
        # As Excel writes the table: entry after entry, each what follows its <si> up to its </si>.
        first = texts[0].find(b"<si>")
        if first == -1 or b"si>" in texts[0][:first]:
            return None  # entries with a namespace prefix
        texts[0] = texts[0][first:]
        entries: Iterable[bytes] = map(_AFTER_SI, texts)
    else:  # empty entries, attributes, spacing between entries: split exactly
        pieces = _ENTRY.split(xml)  # [head, "/" or "", text, "/" or "", text, ...]
        if b"si>" in pieces[0]:
            return None  # entries with a namespace prefix
        entries = [
            b"" if closing else text.partition(b"</si>")[0]
            for closing, text in zip(pieces[1::2], pieces[2::2], strict=True)
        ]
    return np.fromiter(map(_DIGEST, entries), dtype=np.uint64)


def row_digests(sheet: bytes, shared: np.ndarray | None) -> RowDigests | None:
    """The digest of every row of a sheet part (``shared``: shared_string_digests of the workbook's
    table, None when it has none); None when the part is not in a form digested exactly."""
    start = sheet.find(b"<sheetData")
    end = sheet.rfind(b"</sheetData>")
    if start == -1 or end == -1:  # <sheetData/>: no rows
        return RowDigests({}, {}) if b"<row" not in sheet else None
    offset = sheet.index(b">", start) + 1
    cells = _shared_cells(sheet, offset, end, shared)
    if cells is None:
        return None
    skeleton, strings, row_ends, cells_before, body_ends = cells
    count = len(row_ends)
    if skeleton[int(row_ends[-1]) + len(_ROW_END) :].strip() if count else skeleton.strip():
        return None  # something after the last row's end
    # Each row's number, its tag first in it (as every writer puts it): one pass over all of them.
    numbers = list(map(int, _ROW_TAG.findall(skeleton)))
    if len(numbers) != count:
        return None  # a row's number not first in its tag, or a row in a row
    # The row's own attributes (spans, height) say nothing of its cells: Excel's spans change with
    # the columns of the 16 rows around. Its cells after its tag, and its number, are what is digested.
    row_starts = [0, *(row_ends[:-1] + len(_ROW_END)).tolist()]
    tag_ends = np.fromiter(map(skeleton.find, repeat(b">"), row_starts), dtype=np.int64, count=count)
    if count and np.any(np.frombuffer(skeleton, dtype=np.uint8)[tag_ends - 1] == ord("/")):
        return None  # an empty row closed as <row .../>: the next row's cells would count as its
    of_cells = _digests(skeleton, (tag_ends + 1).tolist(), row_ends.tolist(), count)
    # Each row's strings' digests and then its number, one piece per row: row i's is from
    # cells_before[i] + i to cells_before[i + 1] + i + 1.
    with_numbers = np.insert(strings, cells_before[1:], np.array(numbers, dtype=np.uint64)).astype(_WORD)
    rows_before = np.arange(count)
    pieces_from = (cells_before[:-1] + rows_before) * _WORD.itemsize
    pieces_to = (cells_before[1:] + rows_before + 1) * _WORD.itemsize
    of_strings = _digests(with_numbers.tobytes(), pieces_from.tolist(), pieces_to.tolist(), count)
    both = np.column_stack((of_cells, of_strings)).astype(_WORD).tobytes()
    size = 2 * _WORD.itemsize
    digests = dict(
        zip(
            numbers,
            map(both.__getitem__, map(slice, range(0, size * count, size), range(size, size * count + 1, size))),
            strict=True,
        )
    )
    if len(digests) != count:
        return None  # a row number twice
    bounds = (offset + body_ends + len(_ROW_END)).tolist()  # where each row's XML ends in the part
    spans = zip([offset, *bounds[:-1]], bounds, strict=True)
    return RowDigests(digests, dict(zip(numbers, spans, strict=True)))


def _digests(data: bytes, starts: list[int], ends: list[int], count: int) -> np.ndarray:
    """The digest of each ``data[start:end]``, in one C loop."""
    view = memoryview(data)
    return np.fromiter(map(_DIGEST, map(view.__getitem__, map(slice, starts, ends))), dtype=np.uint64, count=count)


def _shared_cells(
    sheet: bytes, offset: int, end: int, shared: np.ndarray | None
) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The sheet's body (``sheet[offset:end]``) without the index digits of its shared-string cells;
    the digests of their strings, cell after cell; where each row ends in that body; how many of
    those cells come before each row (one more entry: all of them); and where each row ends in the
    body as it is. None when a cell is in a form not digested exactly."""
    data = np.frombuffer(sheet, dtype=np.uint8, count=end - offset, offset=offset)
    starts = _after_each(data, _SHARED_VALUE)  # each index's first digit
    found = len(starts)
    if sheet.count(_SHARED_TYPE, offset, end) != found:
        return None  # a shared-string cell written otherwise (its type not last, a prefix): not digested exactly
    ends = _after_each(data, _ROW_END) - len(_ROW_END)
    if found == 0:
        return data.tobytes(), np.zeros(0, dtype=np.uint64), ends, np.zeros(len(ends) + 1, dtype=np.int64), ends
    if shared is None:
        return None
    indices, digits = _indices_at(data, starts)
    if indices is None or int(indices.max()) >= len(shared):
        return None  # no digits, too many, not followed by </v>, or an index the table lacks
    removed = np.concatenate(([0], np.cumsum(digits)))  # digits removed before each cell
    keep = np.ones(len(data), dtype=bool)
    keep[np.repeat(starts - removed[:-1], digits) + np.arange(int(removed[-1]))] = False
    cells_before = np.searchsorted(starts, ends)  # the cells of row i: cells_before[i - 1]:cells_before[i]
    return (
        data[keep].tobytes(),
        shared[indices],
        ends - removed[cells_before],
        np.concatenate(([0], cells_before)),
        ends,
    )


def _after_each(data: np.ndarray, pattern: bytes) -> np.ndarray:
    """Where each occurrence of ``pattern`` in ``data`` ends (the patterns here never overlap): its
    last byte but one, found first, and the others checked at those places only."""
    anchor = len(pattern) - 2
    at = np.flatnonzero(data == pattern[anchor])
    at = at[(at >= anchor) & (at < len(data) - 1)]
    for k in (anchor - 1, anchor + 1, *range(anchor - 1)):
        at = at[data[at - anchor + k] == pattern[k]]
    return at - anchor + len(pattern)


def _indices_at(data: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The number written at each start, and its count of digits, a digit position at a time for all
    at once; None when one has no digit, more than _MAX_DIGITS, or is not followed by ``<``."""
    last = len(data) - 1
    indices = np.zeros(len(starts), dtype=np.int64)
    digits = np.zeros(len(starts), dtype=np.int64)
    reading = np.ones(len(starts), dtype=bool)
    for k in range(_MAX_DIGITS + 1):
        value = data[np.minimum(starts + k, last)].astype(np.int64) - ord("0")
        reading &= (value >= 0) & (value <= 9)
        if not reading.any():
            break
        # Dense arithmetic over every cell (a masked update would copy the cells still read twice).
        indices = np.where(reading, indices * 10 + value, indices)
        digits += reading
    after = data[np.minimum(starts + digits, last)]
    if reading.any() or not (np.all(digits > 0) and np.all(after == ord("<"))):
        return None, digits
    return indices, digits
