"""Which source a sync files its cases under: the identity the workbook carries, not its path.

A workbook gets its identity on its first sync (a custom document property, written with the
IDs); a Google Sheet has its key. The path is only where the workbook was last seen, so:
- a workbook moved or renamed, or opened from a share mounted at another path, keeps its cases;
- a workbook that lost its identity (a copy from before its first sync saved over it) is the
  source last seen where it is, and gets the identity back;
- two files carrying one identity (a copy used as a second master) are refused, never merged;
- a store older than identities filed cases under the workbook's path: they become the
  workbook's own the first time it is synced from there, or from elsewhere when every ID in
  it belongs to that one path and the file there is gone (else `sync --moved-from PATH`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kakosheet.errors import SourceError, UsageError
from kakosheet.sources.xlsx_identity import workbook_identity

if TYPE_CHECKING:
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store

WORKBOOK = "workbook:"  # the prefix of a workbook's identity in the store


@dataclass(frozen=True)
class Identity:
    """The source a sync files its cases under, and what that takes."""

    key: str  # cases are filed under it
    location: str  # where the source is now
    write: str | None = None  # the identity to write into a workbook that lacks it
    moved_from: str | None = None  # where it was last seen, when that was elsewhere
    refile: str | None = None  # an older key whose cases are this source's (a store older than identities)


def identify(store: Store, opened: Source) -> Identity:
    """The identity of an opened source, from what it carries and what the store remembers."""
    location = opened.location
    carried = opened.identity
    if carried is not None:
        seen = store.source_location(carried)
        if seen is not None and seen != location and _carries(seen, carried):
            raise SourceError(
                f"{opened.name} is a copy of the workbook at {seen}: both are the same master log, and "
                "kakosheet keeps one. Sync the master (or, if this one replaces it, delete or move the other "
                "file first); to start a separate log, begin from a new workbook (kakosheet init)"
            )
        moved = seen if seen not in (None, location) else None
        refile = location if seen is None and location != carried and store.files_cases(location) else None
        return Identity(carried, location, moved_from=moved, refile=refile)
    known = store.source_at(location)
    if known is not None and known.startswith(WORKBOOK):
        return Identity(known, location, write=known.removeprefix(WORKBOOK))
    new = uuid.uuid4().hex
    refile = location if store.files_cases(location) else None
    return Identity(WORKBOOK + new, location, write=new, refile=refile)


def moved_before_identities(store: Store, identity: Identity, sheet_ids: Mapping[str, Iterable[str]]) -> str | None:
    """The path a store older than identities filed this workbook's cases under, when the
    workbook was moved before its first sync since: every ID in it belongs to that one path
    and no file is there any more. None when that is not certain."""
    if identity.refile is not None or store.files_cases(identity.key):
        return None
    owners: set[str] = set()
    for log, ids in sheet_ids.items():
        owners |= set(store.owners(log, list(ids)).values())
    if len(owners) != 1:
        return None
    owner = owners.pop()
    if store.source_location(owner) is not None or not Path(owner).is_absolute() or Path(owner).exists():
        return None  # a source with an identity of its own, or a workbook still there: another master
    return owner


def moved_from(store: Store, old: str) -> str:
    """The key the store files the cases of a workbook under that was at ``old`` (``sync --moved-from``)."""
    path = str(Path(old).expanduser().resolve())
    for location in (path, old):
        known = store.source_at(location)
        if known is not None:
            return known
        if store.files_cases(location):
            return location
    raise UsageError(f"--moved-from: the store holds no cases of a workbook at {old}; check the path")


def claim(store: Store, identity: Identity, *, at: dt.datetime, also: str | None = None) -> None:
    """Record the source where it is now, filing under it the cases of its older keys."""
    for old in (identity.refile, also):
        if old is not None and old != identity.key:
            store.refile_source(old, identity.key)
    store.record_source(identity.key, identity.location, at=at)


def _carries(location: str, identity: str) -> bool:
    """Whether the workbook at a location carries the identity (a Google Sheet is its key)."""
    path = Path(location)
    if not identity.startswith(WORKBOOK) or not path.is_absolute():
        return False
    return path.is_file() and workbook_identity(path) == identity.removeprefix(WORKBOOK)
