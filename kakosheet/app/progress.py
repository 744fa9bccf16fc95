"""Where a long run is: the use cases name each stage, the caller decides whether it shows."""

from __future__ import annotations


class Progress:
    """Told each stage of a run as it starts; this one says nothing (tests, jobs, pipes)."""

    def stage(self, text: str) -> None:
        """A new stage begins, e.g. "reading master.xlsx"."""


SILENT = Progress()
