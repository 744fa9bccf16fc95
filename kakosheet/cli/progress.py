"""A progress line on stderr while a long run reads, validates, stores and writes back.

Drawn only when stderr is a terminal (a person is watching); a pipe, a log file or a
scheduled job gets nothing, and stdout never does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from kakosheet.app.progress import SILENT, Progress


class TerminalProgress(Progress):
    """One line, redrawn in place at each stage, with the time since the run began."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()
        self.drawn = False

    def stage(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.out.write(f"\r\x1b[Kkakosheet: {text}... ({elapsed:.0f} s)")
        self.out.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.drawn = False


@contextmanager
def progress_on(out: TextIO) -> Iterator[Progress]:
    """A terminal's progress line for the run inside, cleared when it ends however it ends."""
    if not _is_terminal(out):
        yield SILENT
        return
    progress = TerminalProgress(out)
    try:
        yield progress
    finally:
        progress.clear()


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
