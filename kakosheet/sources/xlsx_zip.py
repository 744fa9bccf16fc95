"""A package's parts read and written as deflate streams by ISA-L, or copied still compressed.

At 100k rows the log tab's part is 60 MB of XML, and each write-back that patches it inflates
and deflates it whole. zlib (zipfile's own) takes about 0.2 s to inflate it and 0.35 s to
deflate it at its fastest level, on threads beside the patching, and a first sync's store
runs its inserts on another thread meanwhile: ISA-L (python-isal) does both three times faster
and compresses better. The parts a write-back leaves as they are are copied still compressed.

zipfile has no calls for these: what it writes around a part's data (its local header, then
its entry in the central directory) is written the same way here, with ZipInfo.FileHeader and
the archive's list of parts. What is read is checked as zipfile checks it: its size and CRC.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from typing import IO

from isal import isal_zlib

LEVEL = isal_zlib.ISAL_DEFAULT_COMPRESSION  # 2 of 0-3: as fast as 1 on sheet XML, and smaller
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip entry's local header (APPNOTE 4.3.7), before its name
_LOCAL_SIGNATURE = b"PK\x03\x04"
_DATA_DESCRIPTOR = 0x08  # general purpose flag: sizes and CRC follow the data
_ENCRYPTED = 0x01
_BLOCK = 1 << 17  # compressed bytes read at a time: about a megabyte of sheet XML


def copy_compressed(old: IO[bytes], archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A part of the package in ``old`` (the file), into ``archive`` as it is stored: not inflated
    and deflated again (at 100k rows, the shared strings and the log tab's hyperlinks are 17 MB)."""
    _seek_data(old, info)
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type, copy.CRC, copy.compress_size, copy.file_size = (
        info.compress_type,
        info.CRC,
        info.compress_size,
        info.file_size,
    )
    copy.external_attr, copy.create_system, copy.comment = info.external_attr, info.create_system, info.comment
    copy.flag_bits = info.flag_bits & ~_DATA_DESCRIPTOR  # the sizes are in the local header
    copy.extra = _without_zip64(info.extra)  # the old offsets and sizes; zipfile adds its own when needed
    target = _file(archive)
    copy.header_offset = target.tell()
    target.write(copy.FileHeader(max(copy.file_size, copy.compress_size) > zipfile.ZIP64_LIMIT))
    left = copy.compress_size
    while left:
        block = old.read(min(left, 1 << 20))
        if not block:
            raise EOFError(f"{info.filename} ends before its size")
        target.write(block)
        left -= len(block)
    _add(archive, copy, target)


def inflated(old: IO[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A deflated part of the package in ``old`` (the file), decompressed in blocks of about a
    megabyte; a part whose bytes do not match its size or CRC raises BadZipFile."""
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & _ENCRYPTED:
        raise ValueError(f"{info.filename} is not a plain deflated part")
    _seek_data(old, info)
    inflater = isal_zlib.decompressobj(-15)
    crc, size, left = 0, 0, info.compress_size
    try:
        while left:
            block = old.read(min(left, _BLOCK))
            if not block:
                raise EOFError(f"{info.filename} ends before its size")
            left -= len(block)
            data = inflater.decompress(block)
            if data:
                crc, size = isal_zlib.crc32(data, crc), size + len(data)
                yield data
        data = inflater.flush()
    except isal_zlib.error as exc:  # type: ignore[misc]  # isal's stub gives the class as an instance
        raise zipfile.BadZipFile(f"{info.filename} cannot be inflated ({exc})") from exc
    if data:
        crc, size = isal_zlib.crc32(data, crc), size + len(data)
        yield data
    if not inflater.eof or size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")


def read_part(old: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """A whole part of the package in ``old`` (the file), inflated by ISA-L when it is deflated."""
    if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & _ENCRYPTED:
        _seek_data(old, info)
        compressed = old.read(info.compress_size)
        if len(compressed) != info.compress_size:
            raise EOFError(f"{info.filename} ends before its size")
        try:  # in one call, into one buffer of the part's size: no blocks to join
            data = isal_zlib.decompress(compressed, -15, max(info.file_size, 1))
        except isal_zlib.error as exc:  # type: ignore[misc]  # isal's stub gives the class as an instance
            raise zipfile.BadZipFile(f"{info.filename} cannot be inflated ({exc})") from exc
        if len(data) != info.file_size or isal_zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
        return data
    with zipfile.ZipFile(old) as archive:
        return archive.read(info)


def write_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
    """A whole part, deflated, into ``archive`` (a new part is readable and writable by its owner)."""
    if not info.external_attr:
        info.external_attr = 0o600 << 16  # as ZipFile.writestr gives a part without its own
    part = DeflatedPart(archive, info, zip64=len(data) > zipfile.ZIP64_LIMIT // 2)
    part.write(data)
    part.close()


class DeflatedPart:
    """One part of the new package, deflated as it is written; once closed, its local header is
    written again with its size and CRC (the package is a file, so it can go back)."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, zip64: bool) -> None:
        self.archive, self.info, self.zip64 = archive, info, zip64
        self.target = _file(archive)
        info.compress_type, info.flag_bits = zipfile.ZIP_DEFLATED, 0
        info.CRC = info.compress_size = info.file_size = 0
        info.header_offset = self.target.tell()
        self.target.write(info.FileHeader(zip64))
        self.deflater = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, -15)

    def write(self, data: bytes) -> int:
        info = self.info
        info.CRC, info.file_size = isal_zlib.crc32(data, info.CRC), info.file_size + len(data)
        self._out(self.deflater.compress(data))
        return len(data)

    def close(self) -> None:
        """The rest of the part, and its header again; then it is in the archive's list of parts."""
        info = self.info
        self._out(self.deflater.flush())
        if not self.zip64 and max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT:
            raise zipfile.LargeZipFile(f"{info.filename} grew past 4 GiB")
        end = self.target.tell()
        self.target.seek(info.header_offset)
        self.target.write(info.FileHeader(self.zip64))
        self.target.seek(end)
        _add(self.archive, info, self.target)

    def _out(self, compressed: bytes) -> None:
        self.target.write(compressed)
        self.info.compress_size += len(compressed)


def _seek_data(old: IO[bytes], info: zipfile.ZipInfo) -> None:
    """Move ``old`` to the first byte of a part's stored data (after its local header)."""
    old.seek(info.header_offset)
    header = old.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"the local header of {info.filename} is damaged")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    old.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def _file(archive: zipfile.ZipFile) -> IO[bytes]:
    target = archive.fp
    if target is None or archive.mode != "w":
        raise ValueError("the archive is not open for writing")
    return target


def _add(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: IO[bytes]) -> None:
    """A part written into the archive by hand, in its list of parts as ZipFile.open(..., "w") leaves it."""
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = target.tell()  # where the central directory goes (or the next part)


def _without_zip64(extra: bytes) -> bytes:
    """A zip entry's extra fields less its zip64 field (header ID 1)."""
    kept, at = [], 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind != 1:
            kept.append(extra[at : at + 4 + size])
        at += 4 + size
    return b"".join(kept)
