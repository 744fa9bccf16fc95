"""A workbook's own identity: a custom document property kakosheet writes into the package.

The store files a workbook's cases under this identity, not under its path, so a workbook
moved, renamed or opened from a share mounted elsewhere keeps its cases. Excel and
LibreOffice keep custom properties when they save (File > Properties > Custom shows it).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

PROPERTY = "kakosheet workbook"
PART = "docProps/custom.xml"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format ID of user-defined properties
_IDENTITY = re.compile(r"^[0-9a-f]{32}$")


def read_identity(archive: zipfile.ZipFile) -> str | None:
    """The identity the package carries, or None (never synced since identities came, or not kakosheet's).
    A part that cannot be read out of the package (damaged) is raised, for its reader to say so."""
    if PART not in archive.namelist():
        return None
    try:
        root = ElementTree.fromstring(archive.read(PART))
    except ElementTree.ParseError:
        return None
    for prop in root:
        if prop.get("name") == PROPERTY:
            value = "".join(prop.itertext()).strip().lower()
            return value if _IDENTITY.match(value) else None
    return None


def workbook_identity(path: Path) -> str | None:
    """The identity of the workbook at ``path``, None when it has none or cannot be read (damaged too)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return read_identity(archive)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        return None


def identity_parts(archive: zipfile.ZipFile, parts: dict[str, bytes], identity: str) -> dict[str, bytes]:
    """The parts to write so the package carries ``identity``: the custom properties part (added to
    or created), and the first time its content type and package relationship. ``parts`` holds the
    current bytes of the small parts (with any change already planned for them)."""
    names = set(archive.namelist())

    def entry(pid: int) -> str:
        return (
            f'<property fmtid="{_FMTID}" pid="{pid}" name={quoteattr(PROPERTY)}>'
            f"<vt:lpwstr>{escape(identity)}</vt:lpwstr></property>"
        )

    if PART in names:
        xml = archive.read(PART)
        pids = [int(p) for p in re.findall(rb'\bpid="(\d+)"', xml)]
        end = xml.rfind(b"</Properties>")
        if end != -1:
            property_xml = entry(max(pids, default=1) + 1).encode()
            return {PART: xml[:end] + property_xml + xml[end:]}
        # A properties part without a closing tag (self-closed, empty): written anew below.
    updated = {
        PART: (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{_NS}" xmlns:vt="{_VT}">{entry(2)}</Properties>'
        ).encode()
    }
    types = parts.get("[Content_Types].xml") or archive.read("[Content_Types].xml")
    if b'PartName="/docProps/custom.xml"' not in types:
        end = types.rfind(b"</Types>")
        override = f'<Override PartName="/{PART}" ContentType="{CONTENT_TYPE}"/>'.encode()
        updated["[Content_Types].xml"] = types[:end] + override + types[end:]
    rels_name = "_rels/.rels"
    rels = parts.get(rels_name) or (archive.read(rels_name) if rels_name in names else None)
    if rels is not None and RELATIONSHIP.encode() not in rels:
        ids = {int(i) for i in re.findall(rb'Id="rId(\d+)"', rels)}
        relationship = f'<Relationship Id="rId{max(ids, default=0) + 1}" Type="{RELATIONSHIP}" Target="{PART}"/>'
        end = rels.rfind(b"</Relationships>")
        updated[rels_name] = rels[:end] + relationship.encode() + rels[end:]
    return updated
