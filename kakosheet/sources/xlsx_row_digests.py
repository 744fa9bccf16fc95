"""Which rows of a sheet part changed since the last sync, told without parsing a cell.

A re-sync after a person edited a few rows would rather not read the others. Excel writes every
byte of the sheet part again at each save, and renumbers the shared strings (the table every text
cell points into), so neither the part nor a row's bytes can be compared as they are. A row's
digest here is of its XML with each shared-string cell counted by its string's digest, not by its
index: two rows with equal digests hold the same cells, with the same styles, types and values,
whatever the numbering. A row's number is digested with its cells (the row's own attributes,
such as its height, are not): a row that moved counts as changed.

Only XML as Excel and LibreOffice write it is digested: a shared-string cell written in any other
form, a row without its number or an index the table lacks makes ``row_digests`` answer None (the
caller then reads every row). numpy does the work per cell; Python's loop is per row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

_SHARED_VALUE = b't="s"><v>'  # a shared-string cell's value, as Excel and LibreOffice write it
_SHARED_TYPE = b't="s"'
_MAX_DIGITS = 9  # an index below 10**9: far more strings than a workbook holds
_ENTRY = re.compile(rb"<si(?:\s[^>]*)?(/?)>")  # a shared-strings entry, <si/> included (an empty string)
_ROW_TAG = re.compile(rb'<row r="(\d+)"')
_CLOSED_ROW = re.compile(rb"<row\s[^>]*/>")
_ROW_END = b"</row>"
_ROW_END_PATTERN = re.compile(re.escape(_ROW_END))
_DIGEST_SIZE = 16


@dataclass(frozen=True)
class RowDigests:
    """Sheet row number -> the digest of that row's XML (shared strings counted by their text); and
    where each row's XML is in the part: from where the row before it ends to after its ``</row>``."""

    digests: dict[int, bytes]
    spans: dict[int, tuple[int, int]]


def shared_string_digests(xml: bytes) -> np.ndarray | None:
    """A digest (8 bytes, as uint64) of each entry of a shared-strings part, by index; None when
    the part is written in a form this does not split exactly (a namespace prefix)."""
    if b"<sst" not in xml[:1000]:
        return None
    entries = []
    fresh = hashlib.blake2b(digest_size=8).copy
    texts = xml.split(b"</si>")
    texts.pop()  # the table's end
    if b"<si/>" not in xml and b"<si " not in xml and xml.count(b"</si><si>") == len(texts) - 1 and texts:
        # As Excel writes the table: entry after entry, each what follows its <si> up to its </si>.
        first = texts[0].find(b"<si>")
        if first == -1 or b"si>" in texts[0][:first]:
            return None  # entries with a namespace prefix
        texts[0] = texts[0][first:]
        for text in texts:
            entry = fresh()
            entry.update(memoryview(text)[4:])
            entries.append(entry.digest())
    else:  # empty entries, attributes, spacing between entries: split exactly
        pieces = _ENTRY.split(xml)  # [head, "/" or "", text, "/" or "", text, ...]
        if b"si>" in pieces[0]:
            return None  # entries with a namespace prefix
        for closing, text in zip(pieces[1::2], pieces[2::2], strict=True):
            entry = fresh()
            entry.update(b"" if closing else text.partition(b"</si>")[0])
            entries.append(entry.digest())
    return np.frombuffer(b"".join(entries), dtype=np.uint64)


def row_digests(sheet: bytes, shared: np.ndarray | None) -> RowDigests | None:
    """The digest of every row of a sheet part (``shared``: shared_string_digests of the workbook's
    table, None when it has none); None when the part is not in a form digested exactly."""
    start = sheet.find(b"<sheetData")
    end = sheet.rfind(b"</sheetData>")
    if start == -1 or end == -1:  # <sheetData/>: no rows
        return RowDigests({}, {}) if b"<row" not in sheet else None
    offset = sheet.index(b">", start) + 1
    body = sheet[offset:end]
    cells = _shared_cells(body, shared)
    if cells is None:
        return None
    skeleton, strings, row_ends, cells_before, body_ends = cells
    if skeleton[row_ends[-1] + len(_ROW_END) :].strip() if row_ends else skeleton.strip():
        return None  # something after the last row's end
    # Each row's number, its tag first in it (as every writer puts it): one pass over all of them.
    numbers = _ROW_TAG.findall(skeleton)
    if len(numbers) != len(row_ends) or _CLOSED_ROW.search(skeleton) is not None:
        return None  # a row's number not first in its tag, or an empty row closed as <row .../>
    digests: dict[int, bytes] = {}
    fresh = hashlib.blake2b(digest_size=_DIGEST_SIZE).copy
    view, texts, find = memoryview(skeleton), memoryview(strings), skeleton.index
    row_start = 0
    for i, row_end in enumerate(row_ends):
        number = numbers[i]
        # The row's own attributes (spans, height) say nothing of its cells: Excel's spans change with
        # the columns of the 16 rows around. Its number and its cells are what is digested.
        row = fresh()
        row.update(view[find(b">", row_start) + 1 : row_end])
        row.update(texts[cells_before[i] * 8 : cells_before[i + 1] * 8])
        row.update(number)
        digests[int(number)] = row.digest()
        row_start = row_end + len(_ROW_END)
    if len(digests) != len(row_ends):
        return None  # a row number twice
    bounds = [offset + end + len(_ROW_END) for end in body_ends]  # where each row's XML ends in the part
    spans = zip([offset, *bounds[:-1]], bounds, strict=True)
    return RowDigests(digests, dict(zip(map(int, numbers), spans, strict=True)))


def _shared_cells(
    body: bytes, shared: np.ndarray | None
) -> tuple[bytes, bytes, list[int], list[int], list[int]] | None:
    """The sheet body without the index digits of its shared-string cells; the digests of their
    strings, cell after cell; where each row ends in that body; how many of those cells come
    before each row (one more entry: all of them); and where each row ends in the body as it is.
    None when a cell is in a form not digested exactly."""
    pieces = body.split(_SHARED_VALUE)
    found = len(pieces) - 1
    if body.count(_SHARED_TYPE) != found:
        return None  # a shared-string cell written otherwise (its type not last, a prefix): not digested exactly
    ends = np.array([m.start() for m in _ROW_END_PATTERN.finditer(body)], dtype=np.int64)
    if found == 0:
        return body, b"", ends.tolist(), [0] * (len(ends) + 1), ends.tolist()
    if shared is None:
        return None
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=found + 1)
    del pieces
    starts = np.cumsum(lengths[:-1]) + np.arange(1, found + 1) * len(_SHARED_VALUE)  # each index's first digit
    data = np.frombuffer(body, dtype=np.uint8)
    indices, digits = _indices_at(data, starts)
    if indices is None or int(indices.max()) >= len(shared):
        return None  # no digits, too many, not followed by </v>, or an index the table lacks
    removed = np.concatenate(([0], np.cumsum(digits)))  # digits removed before each cell
    keep = np.ones(len(data), dtype=bool)
    keep[np.repeat(starts - removed[:-1], digits) + np.arange(int(removed[-1]))] = False
    cells_before = np.searchsorted(starts, ends)  # the cells of row i: cells_before[i - 1]:cells_before[i]
    skeleton_ends = ends - removed[cells_before]
    return (
        data[keep].tobytes(),
        shared[indices].tobytes(),
        skeleton_ends.tolist(),
        [0, *cells_before.tolist()],
        ends.tolist(),
    )


def _indices_at(data: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The number written at each start, and its count of digits, a digit position at a time for all
    at once; None when one has no digit, more than _MAX_DIGITS, or is not followed by ``<``."""
    last = len(data) - 1
    indices = np.zeros(len(starts), dtype=np.int64)
    digits = np.zeros(len(starts), dtype=np.int64)
    reading = np.ones(len(starts), dtype=bool)
    for k in range(_MAX_DIGITS + 1):
        byte = data[np.minimum(starts + k, last)]
        reading &= (byte >= ord("0")) & (byte <= ord("9"))
        if not reading.any():
            break
        indices[reading] = indices[reading] * 10 + (byte[reading] - ord("0"))
        digits += reading
    after = data[np.minimum(starts + digits, last)]
    if reading.any() or not (np.all(digits > 0) and np.all(after == ord("<"))):
        return None, digits
    return indices, digits
