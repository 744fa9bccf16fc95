"""The workbook file on disk: who has it open, whether it changed, and swapping a new version in.

Teams keep the workbook on a shared folder, open it in Excel or LibreOffice, link it from
elsewhere and sync it from a service account. A write-back therefore replaces the real file
(through a symlink), keeps its owner, group and mode, keeps the previous version beside it,
and looks at the file once more right before the swap: a save made while the new version
was being built is never replaced.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kakosheet.errors import KakosheetError, SourceChangedError, SourceError, no_room

# A write-back is a sync's, a report tab's or setup's: the sentence fits each, as the user ran it.
_AGAIN = "nothing is lost: the store is consistent, and a sync's next run finishes its job"
_NEW_VERSION = ".~kakosheet-"  # the prefix of a new version being written beside the workbook
_LEFT_AFTER = 60  # seconds: a new version older than this, which nobody holds, was left by a killed process


@dataclass(frozen=True)
class FileStamp:
    """How the file looked when it was read: a write-back refuses a file that changed since.

    The inode tells a save that renamed a new file into place even when it kept size and time.
    """

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        status = path.stat()
        return cls(status.st_size, status.st_mtime_ns, status.st_ino)


def real_file(path: Path) -> Path:
    """The file a path names, through any symlink: it is what gets replaced, its folder holds the backup."""
    return path.resolve()


def backup_of(path: Path) -> Path:
    """Where the previous version is kept: master.backup.xlsx beside the real file."""
    real = real_file(path)
    return real.with_name(real.stem + ".backup" + real.suffix)


def check_backup_usable(path: Path) -> None:
    """Refuse, before anything is written or stored, a backup path kakosheet could not replace."""
    backup = backup_of(path)
    if backup.is_dir() and not backup.is_symlink():
        raise SourceError(
            f"{path.name}: {backup.name} beside it is a folder, and kakosheet keeps the previous version of the "
            f"workbook under that name; move or rename the folder {backup.name} and run the command again"
        )


def check_unchanged(path: Path, stamp: FileStamp) -> None:
    """Refuse a workbook someone has open, or one that changed on disk since it was read."""
    check_not_open(path)
    if changed_since(path, stamp):
        raise SourceChangedError(
            f"{path.name} changed on disk while kakosheet worked on it; nothing was written to it. "
            f"Run the command again ({_AGAIN})"
        )


def check_not_open(path: Path) -> None:
    """Refuse a workbook Excel or LibreOffice has open (their lock files beside it say so): their
    next save would overwrite whatever kakosheet writes, and bring back rows without IDs."""
    for seen in dict.fromkeys([path, real_file(path)]):
        excel = seen.with_name("~$" + seen.name)
        if excel.exists():
            _refuse_open(path, "Excel", None, excel)
        office = seen.with_name(f".~lock.{seen.name}#")
        if office.exists():
            _refuse_open(path, "LibreOffice", _libreoffice_holder(office), office)


def _refuse_open(path: Path, program: str, holder: str | None, lock: Path) -> None:
    by = f" by {holder}" if holder else ""
    raise SourceChangedError(
        f"{path.name} is open in {program}{by} (its lock file {lock.name} is there); nothing was written to it. "
        f"Close it and run the command again ({_AGAIN}). If nobody has it open, the lock file is left from a "
        f"crash: delete {lock.name} and run the command again"
    )


def _libreoffice_holder(lock: Path) -> str | None:
    """Who holds a LibreOffice lock: its one CSV line is the name in its options, the system user,
    the host, the time and its profile (backslash escapes); the name is often blank."""
    try:
        text = lock.read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return None
    fields, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            fields.append("".join(current))
            current = []
        elif char in ";\n":
            break
        else:
            current.append(char)
    fields.append("".join(current))
    name = fields[0].strip()
    user = fields[1].strip() if len(fields) > 1 else ""
    host = fields[2].strip() if len(fields) > 2 else ""
    who = name or user
    if not who:
        return None
    return f"{who} on {host}" if host else who


@contextmanager
def new_version_beside(path: Path) -> Iterator[tuple[int, Path]]:
    """A temporary file in the real file's folder for its new version (an open handle and its path),
    removed afterwards. It is locked while it lives: one a killed write-back left (SIGKILL runs no
    cleanup) is nobody's, and the next write-back removes it."""
    folder = real_file(path).parent
    _remove_left_behind(folder, path.suffix)
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=_NEW_VERSION, suffix=path.suffix)
    except OSError as exc:  # a folder kakosheet may not write in (a read-only share): setup and a report tab
        raise SourceError(write_failure(path, exc)) from exc
    temporary = Path(name)
    held = os.open(temporary, os.O_RDONLY)  # its own lock, held until the file is swapped in or removed
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield handle, temporary
    finally:
        temporary.unlink(missing_ok=True)
        os.close(held)


def _remove_left_behind(folder: Path, suffix: str) -> None:
    """Remove the new versions killed write-backs left: older than a minute, and locked by no process."""
    for left in folder.glob(f"{_NEW_VERSION}*{suffix}"):
        try:
            if time.time() - left.stat().st_mtime < _LEFT_AFTER:
                continue  # just begun: its writer may not hold its lock yet
            probe = os.open(left, os.O_RDONLY)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                left.unlink()
            finally:
                os.close(probe)
        except OSError:
            continue  # held by a write-back under way, gone already, or not ours to remove


def write_whole(path: Path, content: bytes) -> None:
    """A file written whole or not at all (a workbook kakosheet makes, a report): a disk that fills
    up leaves the file as it was, never half of it. Through a link, the real file is replaced."""
    real = path.resolve()
    staged = real.with_name(f".{real.name}.{os.getpid()}.new")
    try:
        staged.write_bytes(content)
        os.replace(staged, real)
    finally:
        staged.unlink(missing_ok=True)


def swap_in(path: Path, temporary: Path, stamp: FileStamp) -> FileStamp:
    """Replace the real file with ``temporary`` (written in the real file's folder): owner, group and
    mode kept, the previous version kept as the backup, refused if the file changed since it was read.
    Returns the stamp of the file now in place. The caller removes ``temporary`` when this raises."""
    real = real_file(path)
    check_unchanged(path, stamp)
    _keep_owner_and_mode(temporary, real.stat())
    _keep_backup(path, real)
    check_unchanged(path, stamp)  # copying the backup (where links are not allowed) takes a while
    written = FileStamp.of(temporary)  # a rename keeps size, time and inode: taken here, no save can slip in
    try:
        os.replace(temporary, real)
    except OSError as exc:
        raise SourceError(write_failure(path, exc)) from exc
    return written


def _keep_owner_and_mode(temporary: Path, status: os.stat_result) -> None:
    """The new file belongs to whom the old one did: a sync run by a service account must not lock
    the team out of a shared folder. The owner can be kept only with the right to; the group often."""
    for uid in (status.st_uid, -1) if hasattr(os, "chown") else ():  # Windows has no owners to keep
        try:
            os.chown(temporary, uid, status.st_gid)
            break
        except PermissionError:
            continue
    os.chmod(temporary, stat.S_IMODE(status.st_mode))  # after chown, which may clear setuid bits


def _keep_backup(path: Path, real: Path) -> None:
    check_backup_usable(path)
    backup = backup_of(path)
    try:
        backup.unlink(missing_ok=True)
        try:
            os.link(real, backup)
        except OSError:
            shutil.copy2(real, backup)
    except OSError as exc:
        backup.unlink(missing_ok=True)  # a half-copied backup is no backup
        raise SourceError(
            f"{path.name}: cannot keep the previous version as {backup.name} ({exc.strerror or exc}); nothing was "
            f"written to the workbook. {_fix(exc)}, then run the command again ({_AGAIN})"
        ) from exc


def write_failure(path: Path, exc: OSError) -> str:
    """The sentence for a new version that could not be written: the workbook itself is untouched."""
    return (
        f"{path.name}: cannot write its new version ({exc.strerror or exc}); nothing was written to it. "
        f"{_fix(exc)}, then run the command again ({_AGAIN})"
    )


def _fix(exc: OSError) -> str:
    if no_room(exc):
        return "Free some space on the disk that holds it (or raise the quota or file size limit)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Let kakosheet's user write to the workbook's folder"
    return "Check the disk and the folder the workbook is in"


def changed_since(path: Path, stamp: FileStamp) -> bool:
    """Whether the file is not the one stamped (gone counts as changed)."""
    try:
        return FileStamp.of(path) != stamp
    except OSError:
        return True


def changed_or_damaged(path: Path, stamp: FileStamp, reason: str) -> KakosheetError:
    """The error for a workbook that could not be read: changed, when someone saved it meanwhile
    (a save in progress reads as a damaged file), else damaged."""
    if changed_since(path, stamp):
        return SourceChangedError(
            f"{path.name} changed on disk while kakosheet read it (someone saved it meanwhile); nothing was "
            f"written to it. Run sync again once the save is done ({_AGAIN})"
        )
    return SourceError(f"{path.name}: cannot read the workbook ({reason}); the file is damaged")
