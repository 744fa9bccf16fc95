"""Parts read and written past zipfile's compression: what zipfile (and so any reader) finds is the same."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from kakosheet.sources.xlsx_zip import DeflatedPart, copy_compressed, inflated, write_part

# Sheet-like XML, some of it random (so it does not shrink to nothing): a few megabytes.
XML = b"".join(
    b'<row r="%d"><c r="A%d"><v>%s</v></c></row>' % (n, n, os.urandom(8).hex().encode()) for n in range(80000)
)


def package(path: Path, **parts: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/"), data)
    return path


def local_header(path: Path, info: zipfile.ZipInfo) -> tuple[int, int, int]:
    """CRC, compressed and plain size as a part's local header gives them (some readers go by it alone)."""
    with path.open("rb") as raw:
        raw.seek(info.header_offset)
        fields = struct.unpack("<4s2B4HL2L2H", raw.read(30))
        extra = raw.read(fields[-2] + fields[-1])[fields[-2] :]
    crc, compressed, size = fields[7:10]
    while extra:  # the zip64 field holds the sizes when the header cannot
        kind, length = struct.unpack_from("<HH", extra)
        if kind == 1:
            size, compressed = struct.unpack_from("<QQ", extra, 4)
        extra = extra[4 + length :]
    return crc, compressed, size


def test_a_deflated_part_is_inflated_as_zipfile_reads_it(tmp_path: Path) -> None:
    path = package(tmp_path / "p.zip", xl__sheet=XML, small=b"<a/>")
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        blocks = list(inflated(raw, archive.getinfo("xl/sheet")))
        assert b"".join(list(inflated(raw, archive.getinfo("small")))) == b"<a/>"
    assert len(blocks) > 1 and b"".join(blocks) == XML


@pytest.mark.parametrize("damage", ["a byte of its data", "its CRC", "its end"])
def test_a_damaged_part_is_refused_as_zipfile_refuses_it(tmp_path: Path, damage: str) -> None:
    path = package(tmp_path / "p.zip", sheet=XML)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("sheet")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len("sheet")
    if damage == "a byte of its data":
        data[start + info.compress_size // 2] ^= 0xFF
    elif damage == "its CRC":
        info.CRC ^= 1
    else:
        data = data[: start + info.compress_size // 2]
    path.write_bytes(bytes(data))
    with path.open("rb") as raw, pytest.raises((zipfile.BadZipFile, EOFError)):
        b"".join(inflated(raw, info))


@pytest.mark.parametrize("zip64", [False, True])
def test_parts_written_and_copied_read_back_with_their_crc(tmp_path: Path, zip64: bool) -> None:
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(old, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kept.xml", XML[:5000])
        with archive.open("big.xml", "w", force_zip64=True) as big:  # a zip64 field in its entry
            big.write(XML)
        archive.writestr(zipfile.ZipInfo("stored.bin"), b"\x00\x01" * 500, compress_type=zipfile.ZIP_STORED)
        stale = zipfile.ZipInfo("stale.xml")  # a zip64 field it does not need, beside a timestamp field
        stale.extra = struct.pack("<HHQQ", 1, 16, 3, 3) + struct.pack("<HHBL", 0x5455, 5, 1, 1_780_000_000)
        archive.writestr(stale, b"<a/>")
    new = tmp_path / "new.zip"
    with zipfile.ZipFile(new, "w") as archive, old.open("rb") as raw, zipfile.ZipFile(old) as source:
        for info in source.infolist():
            copy_compressed(raw, archive, info)
        part = DeflatedPart(archive, zipfile.ZipInfo("patched.xml", (2026, 6, 30, 9, 0, 0)), zip64=zip64)
        for start in range(0, len(XML), 1 << 20):
            part.write(XML[start : start + (1 << 20)])
        part.close()
        write_part(archive, zipfile.ZipInfo("added.xml"), b"<added/>")
    with zipfile.ZipFile(new) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["kept.xml", "big.xml", "stored.bin", "stale.xml", "patched.xml", "added.xml"]
        for info in archive.infolist():
            assert local_header(new, info) == (info.CRC, info.compress_size, info.file_size), info.filename
        assert archive.read("big.xml") == archive.read("patched.xml") == XML
        assert archive.read("stored.bin") == b"\x00\x01" * 500
        assert archive.getinfo("stored.bin").compress_type == zipfile.ZIP_STORED
        assert archive.read("added.xml") == b"<added/>"
        assert archive.getinfo("patched.xml").date_time == (2026, 6, 30, 9, 0, 0)
        assert archive.getinfo("stale.xml").extra == struct.pack("<HHBL", 0x5455, 5, 1, 1_780_000_000)
