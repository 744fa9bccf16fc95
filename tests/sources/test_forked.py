"""Work in a forked child (sources/forked.py): its answer or its error comes back as if it had run
here, a child that dies says so in a sentence, and nothing of the parent's is done twice."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kakosheet.errors import SourceChangedError, SourceError
from kakosheet.sources.forked import in_forked_child


def test_the_answer_comes_back_and_the_work_ran_elsewhere() -> None:
    assert in_forked_child(lambda: (os.getpid(), [1, 2, "three"]), what="x")[1] == [1, 2, "three"]
    assert in_forked_child(os.getpid, what="x") != os.getpid()


def test_where_no_process_can_be_forked_the_work_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")  # what a process limit gives

    monkeypatch.setattr(os, "fork", refused)
    assert in_forked_child(os.getpid, what="x") == os.getpid()


def test_what_the_work_raises_is_raised_here_with_its_class_and_words() -> None:
    def changed() -> None:
        raise SourceChangedError("master.xlsx changed while it was written; run the sync again")

    with pytest.raises(SourceChangedError, match="run the sync again"):
        in_forked_child(changed, what="x")
    with pytest.raises(OSError) as raised:
        in_forked_child(lambda: open("/nonexistent/folder/file"), what="x")  # noqa: SIM115
    assert raised.value.errno is not None


class _Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickled with one argument, it cannot be made again
        super().__init__(f"{a} and {b}")


def test_an_error_that_cannot_travel_comes_back_in_words() -> None:
    def fails() -> None:
        raise _Unpicklable(1, 2)

    with pytest.raises(RuntimeError, match="_Unpicklable: 1 and 2"):
        in_forked_child(fails, what="x")


def test_a_child_killed_without_answering_is_a_sentence() -> None:
    def killed() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(SourceError, match=r"writing back to master.xlsx stopped: .*signal SIGKILL.*again"):
        in_forked_child(killed, what="writing back to master.xlsx")


def test_nothing_the_parent_buffered_is_written_twice(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from kakosheet.sources.forked import in_forked_child\n"
        "sys.stdout.write('once')\n"  # buffered, not yet written when the child is forked
        "print(in_forked_child(lambda: 42, what='x'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "once42\n"


def test_an_interrupted_wait_stops_the_child_and_reaps_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"

    def slow() -> None:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            in_forked_child(slow, what="x")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(child, os.WNOHANG)
    assert not Path(f"/proc/{child}").exists()
