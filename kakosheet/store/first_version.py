"""A case's first version, told from its present: a "created" event carries no copy of the case.

Every later event keeps each change as [before, after], and only a schema's type change alters
a stored value otherwise (converted in place: the first version is then told in the new types),
so the values a case was created with are its current row with those changes undone, newest
first. Storing them again in the created event would write every case twice: on a first sync of
100k cases that copy was 90 of the store's 150 MB and about a seventh of the sync's time.

Stores made before kept the copy; such a created event is shown as it was stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kakosheet.store.store import to_json

if TYPE_CHECKING:
    from kakosheet.store.store import HistoryEvent

AS_TYPED = " (as typed)"  # a cell's text that did not fit its type is history under "field (as typed)"


def with_first_version(
    events: Sequence[HistoryEvent], current: Mapping[str, Any], fields: Sequence[str]
) -> list[HistoryEvent]:
    """The events, oldest first, with the created one's values filled in from ``current`` (the
    stored row: its ``fields`` in table order and its ``_raw``) and the events after it."""
    created = next((k for k, e in enumerate(events) if e.event == "created"), None)
    if created is None or events[created].changes:
        return list(events)
    values = {f: _as_stored_in_history(current.get(f)) for f in fields}
    as_typed = dict(current.get("_raw") or {})
    for event in reversed(events[created + 1 :]):
        for name, (before, _after) in event.changes.items():
            target, key = (as_typed, name.removesuffix(AS_TYPED)) if name.endswith(AS_TYPED) else (values, name)
            target[key] = before
    changes = {f: [None, values[f]] for f in fields if values[f] is not None}
    changes |= {f"{f}{AS_TYPED}": [None, as_typed[f]] for f in sorted(as_typed) if as_typed[f] is not None}
    first = dataclasses.replace(events[created], changes=changes)
    return [*events[:created], first, *events[created + 1 :]]


def _as_stored_in_history(value: Any) -> Any:
    """A stored value as an event's JSON holds it: money and dates as text, the rest as they are."""
    return None if value is None else json.loads(to_json(value))
