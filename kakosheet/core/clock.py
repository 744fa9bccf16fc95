"""The time of one command, taken once and passed down: one instant, seen in the team's timezone.

Validation's "today", the value a blank Date Logged is filled with, the sync run's times and
the history's all come from the same Clock, so they agree (a case logged at 23:30 in Shanghai
is not dated eight hours early because the server runs on UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    """An instant (aware, whole seconds) and the team's timezone."""

    instant: dt.datetime
    timezone: str = "UTC"

    @classmethod
    def at(cls, moment: dt.datetime, timezone: str = "UTC") -> Clock:
        """The clock at ``moment``: an aware datetime, or a naive one read as the team's local time."""
        zone = ZoneInfo(timezone)
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
        return cls(aware.astimezone(dt.UTC).replace(microsecond=0), timezone)

    @property
    def local(self) -> dt.datetime:
        """The team's wall-clock time (naive): what a sheet shows and a filled date holds."""
        return self.instant.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)

    @property
    def today(self) -> dt.date:
        return self.local.date()

    @property
    def utc(self) -> dt.datetime:
        """The instant as the store records run and history times (naive UTC)."""
        return self.instant.replace(tzinfo=None)
