"""Header notes in a workbook: the comments part of a tab and the VML drawing that shows them.

kakosheet's notes are the comments by the author "kakosheet" (as the template writes them):
they are added where a header has none and rewritten when the schema's words changed. A note
by anybody else is the team's and stays as it is (setup says so). Shapes of the team's in the
VML drawing are kept; kakosheet's new notes are appended to it.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape, unescape

from kakosheet.core.grid import column_letters
from kakosheet.core.looks import column_note
from kakosheet.sources.xlsx_order import elements_after
from kakosheet.sources.xlsx_setup_sheet import TabChanges, TabLayout, insert_in_order

AUTHOR = "kakosheet"
COMMENTS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
VML_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
COMMENTS_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CONTENT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_COMMENT = re.compile(rb'<comment\b[^>]*\bref="([A-Z]{1,3}\d+)"[^>]*\bauthorId="(\d+)"[^>]*>.*?</comment>', re.S)
_AFTER_LEGACY = elements_after("legacyDrawing")
_VML_NAMES = (
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel"'
)
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/>'
    '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
    'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/>'
    "</v:shapetype></xml>"
)


class Package(Protocol):
    """The parts setup reads and writes (xlsx_setup._Book)."""

    updated: dict[str, bytes]

    def part(self, name: str) -> bytes | None: ...
    def new_member(self, pattern: str) -> str: ...
    def add_content_type(self, part: str, content_type: str) -> None: ...


@dataclass
class NoteParts:
    """Where one tab's parts are read from: the package as it was, and what this run writes."""

    archive: zipfile.ZipFile
    book: Package
    member: str  # the sheet part

    def read(self, name: str) -> bytes | None:
        if name in self.book.updated:
            return self.book.updated[name]
        try:
            return self.archive.read(name)
        except KeyError:
            return None


def upgrade_notes(parts: NoteParts, sheet: bytes, layout: TabLayout, changes: TabChanges) -> bytes:
    """kakosheet's header notes on the tab; returns the sheet part (which names a new drawing)."""
    rels_name = posixpath.join(posixpath.dirname(parts.member), "_rels", posixpath.basename(parts.member) + ".rels")
    rels = parts.read(rels_name) or b""
    targets = _targets(rels, posixpath.dirname(parts.member))
    comments_name = next((target for kind, target in targets.values() if kind == COMMENTS_TYPE), None)
    legacy = re.search(rb'<legacyDrawing\b[^>]*\bid="([^"]+)"', sheet)
    vml_name = targets.get(legacy.group(1).decode(), ("", None))[1] if legacy else None
    if (comments_name is None) != (vml_name is None):
        changes.kept.append(f"the notes of {layout.tab} (its comments and their drawing do not match)")
        return sheet
    comments = parts.read(comments_name) if comments_name else None
    vml = parts.read(vml_name) if vml_name else None
    if comments_name is not None and (comments is None or vml is None):
        return sheet
    comments = (
        comments
        or (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}"><authors>'
            "</authors><commentList></commentList></comments>"
        ).encode()
    )
    vml = vml or _VML_HEAD.encode()
    authors = [unescape(a.decode()) for a in re.findall(rb"<author>(.*?)</author>", comments, re.S)]
    if AUTHOR not in authors:
        comments = comments.replace(b"</authors>", f"<author>{AUTHOR}</author></authors>".encode(), 1)
        comments = comments.replace(b"<authors/>", f"<authors><author>{AUTHOR}</author></authors>".encode(), 1)
        authors.append(AUTHOR)
    ours = str(authors.index(AUTHOR))
    existing = {m.group(1).decode(): m for m in _COMMENT.finditer(comments)}
    new_comments, new_shapes = comments, []
    shape_id = max([1024, *(int(i) for i in re.findall(rb"_x0000_s(\d+)", vml))])
    for column in layout.schema.columns:
        col = layout.columns[column.field]
        ref = f"{column_letters(col)}{layout.header_row}"
        text = column_note(column, layout.schema)
        entry = (
            f'<comment ref="{ref}" authorId="{ours}"><text><t xml:space="preserve">{escape(text)}</t></text></comment>'
        ).encode()
        found = existing.get(ref)
        if found is None:
            new_comments = new_comments.replace(b"</commentList>", entry + b"</commentList>", 1)
            shape_id += 1
            new_shapes.append(_shape(shape_id, layout.header_row - 1, col))
            if column.field not in layout.added:
                changes.counts["header note"] += 1
        elif found.group(2).decode() != ours:
            if _text(found.group(0)) != text:  # kakosheet's words under another author: LibreOffice drops authors
                changes.kept.append(f"your note on {layout.tab}!{ref}")
        elif _text(found.group(0)) != text:
            new_comments = new_comments.replace(found.group(0), entry, 1)
            changes.counts["header note"] += 1
    if new_comments == comments and not new_shapes and comments_name is not None:
        return sheet
    if comments_name is None:
        comments_name = parts.book.new_member("xl/comments/comment{}.xml")
        vml_name = parts.book.new_member("xl/drawings/vmlDrawing{}.vml")
        parts.book.add_content_type(comments_name, COMMENTS_CONTENT)
        types = parts.book.part("[Content_Types].xml") or b""
        if b'Extension="vml"' not in types:
            end = types.find(b"<Override")
            end = types.rfind(b"</Types>") if end == -1 else end
            default = f'<Default Extension="vml" ContentType="{VML_CONTENT}"/>'.encode()
            parts.book.updated["[Content_Types].xml"] = types[:end] + default + types[end:]
        rels = (
            rels
            or b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
        )
        ids = {int(i) for i in re.findall(rb'Id="rId(\d+)"', rels)}
        comments_id, vml_id = f"rId{max(ids, default=0) + 1}", f"rId{max(ids, default=0) + 2}"
        base = posixpath.dirname(parts.member)
        new_rels = (
            f'<Relationship Id="{comments_id}" Type="{COMMENTS_TYPE}" '
            f'Target="{posixpath.relpath(comments_name, base)}"/>'
            f'<Relationship Id="{vml_id}" Type="{VML_TYPE}" Target="{posixpath.relpath(vml_name, base)}"/>'
        ).encode()
        end = rels.rfind(b"</Relationships>")
        parts.book.updated[rels_name] = rels[:end] + new_rels + rels[end:]
        data_end = sheet.find(b"</sheetData>")
        data_end = sheet.find(b"<sheetData") if data_end == -1 else data_end
        element = f'<legacyDrawing xmlns:r="{_REL_NS}" r:id="{vml_id}"/>'.encode()
        sheet = sheet[:data_end] + insert_in_order(sheet[data_end:], _AFTER_LEGACY, element)
    assert vml_name is not None
    parts.book.updated[comments_name] = new_comments
    if new_shapes:
        end = vml.rfind(b"</xml>")
        parts.book.updated[vml_name] = vml[:end] + b"".join(new_shapes) + vml[end:]
    return sheet


def _targets(rels: bytes, base: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, part name) of a sheet's relationships."""
    found = {}
    for rel in re.findall(rb"<Relationship\b[^>]*>", rels):
        attrs = {k.decode(): v.decode() for k, v in re.findall(rb'(\w+)="([^"]*)"', rel)}
        target = attrs.get("Target", "")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        found[attrs.get("Id", "")] = (attrs.get("Type", ""), name)
    return found


def _text(comment: bytes) -> str:
    """A note's words: its runs' text, character references decoded (LibreOffice writes &#10; and &apos;)."""
    raw = "".join(t.decode() for t in re.findall(rb"<t\b[^>]*>(.*?)</t>", comment, re.S))
    return unescape(_CHARACTER_REF.sub(_character, raw), {"&apos;": "'", "&quot;": '"'})


_CHARACTER_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")


def _character(match: re.Match[str]) -> str:
    code = match.group(1)
    return chr(int(code[1:], 16) if code[0] == "x" else int(code))


def _shape(shape_id: int, row: int, col: int) -> bytes:
    """The hidden box a note pops up in, anchored right of its cell (as Excel draws a new note)."""
    anchor = f"{col + 1}, 15, {row}, 2, {col + 4}, 15, {row + 6}, 4"
    return (
        f'<v:shape {_VML_NAMES} id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:195pt;height:90pt;z-index:1;'
        'visibility:hidden" fillcolor="#ffffe1" '
        'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
        f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}'
        f"</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData>"
        "</v:shape>"
    ).encode()
