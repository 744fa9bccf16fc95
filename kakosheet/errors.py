"""Errors that stop a run. Problems in rows are not errors: they are issues (core.issues).

Every error carries the exit code of the CLI contract and a message that says how to fix it.
"""

import errno
from typing import TypeGuard

# What a write that failed for want of room says: a full disk, a quota, a file size limit.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class KakosheetError(Exception):
    """Something stops the run; the message tells the user what to do."""

    exit_code = 2


class UsageError(KakosheetError):
    """A command was called wrongly or the configuration is invalid."""

    exit_code = 2


class ConfigError(UsageError):
    """kakosheet.toml is missing something or holds a bad value."""


class SchemaError(UsageError):
    """A schema YAML file is malformed; the message names the file and the key."""


class SourceError(KakosheetError):
    """The source cannot be read: not a workbook, encrypted, truncated, or no log tabs."""

    exit_code = 3


class StoreError(KakosheetError):
    """The store cannot be reached or used."""

    exit_code = 3


class SourceChangedError(KakosheetError):
    """The source changed during a sync; nothing was written, the next sync finishes the job."""

    exit_code = 4


class SourceBusyError(KakosheetError):
    """Another sync of the same source is running; nothing was done, the next run does the job."""

    exit_code = 4


class NoRoomError(KakosheetError):
    """The disk where kakosheet writes is full (or a quota or file size limit is reached); nothing is half-written."""

    exit_code = 3


def no_room(exc: BaseException) -> TypeGuard[OSError]:
    """Whether an error is a write refused for want of room (NO_ROOM)."""
    return isinstance(exc, OSError) and exc.errno in NO_ROOM
