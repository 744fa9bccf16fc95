"""A copy of a workbook holding, of some tabs, only the rows a re-sync has to read.

A re-sync after a person edited a few rows of a big log reads those rows, not the others
(app/sync_memo.py). The copy has every part of the workbook as it is, but the part of such a tab
holds only its rows down to the header, then the rows asked for, numbered on from there: python-
calamine and the cell scan read it as any workbook, and the grid is told each row's number in the
sheet (Grid.row_numbers). The copy is stored without compression, in a temporary folder.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_CELL_REF = re.compile(rb'(<c\s[^>]*?\br="[A-Z]{1,3})\d+(")')
_ROW_REF = re.compile(rb'(<row\s[^>]*?\br=")\d+(")')
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")


@dataclass(frozen=True)
class ReducedTab:
    """What the copy holds of one tab: its part, and the sheet row of each row it holds, in order."""

    part: str
    rows: list[int]


def reduced_part(
    sheet: bytes, spans: Mapping[int, tuple[int, int]], header_rows: int, wanted: list[int]
) -> tuple[bytes, list[int]]:
    """A sheet part's XML holding its rows up to ``header_rows`` as they are, then the ``wanted`` rows
    (ascending, all below them) numbered on from there; and the sheet row of each row of the copy
    (row ``i + 1`` of the copy is sheet row ``rows[i]``).

    What follows the rows (merged areas, links, rules) is left out: a caller reduces only a tab
    without merged areas, and links or rules change no value.
    """
    head = _DIMENSION.sub(b"", sheet[: sheet.index(b">", sheet.index(b"<sheetData")) + 1])
    kept = sorted(row for row in spans if row <= header_rows)
    pieces = [head, *(sheet[slice(*spans[row])] for row in kept)]
    number = header_rows
    for row in wanted:
        number += 1
        xml = sheet[slice(*spans[row])]
        new = str(number).encode()

        def renumbered(match: re.Match[bytes], new: bytes = new) -> bytes:  # a template would be parsed per row
            return match[1] + new + match[2]

        pieces.append(_CELL_REF.sub(renumbered, _ROW_REF.sub(renumbered, xml, 1)))
    pieces.append(b"</sheetData></worksheet>")
    return b"".join(pieces), [*range(1, header_rows + 1), *wanted]


def write_reduced(path: Path, target: Path, parts: Mapping[str, bytes]) -> None:
    """A copy of the workbook at ``path`` in which the given parts are replaced (stored, not
    compressed); the reduced parts' relationships (their links) and the document properties are
    left out, as nothing read needs them."""
    dropped = {posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels") for p in parts}
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as copy:
        for info in source.infolist():
            name = info.filename
            if name in dropped or name.startswith("docProps/"):
                continue
            copy.writestr(name, parts[name] if name in parts else source.read(info))
