"""Work done in a forked child, for its own core: the caller waits without holding the GIL.

A sync's write-back runs while the store's transaction runs on a thread. Both are mostly
Python, so on threads they take turns at the interpreter: on a first sync of 100k rows each
took a third longer than alone, and the two together as long as one after the other. In a
child the write-back has a core of its own, and the store's thread has the interpreter.

A fork, not a new interpreter: the child starts with everything the work needs (100k cells to
write, the package's layout) without copying any of it, in a few milliseconds. It only runs
the work (files and zlib: no store connection, no thread of the parent's, nothing printed) and
sends back what it returns or raises. It ends with os._exit: nothing of the parent's (a
connection's close, a buffered line) is done twice. Where fork is not (Windows), or fails (a
process limit), the work runs here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from typing import TypeVar, cast

from kakosheet.errors import SourceError

T = TypeVar("T")

CAN_FORK = hasattr(os, "fork")


def in_forked_child(work: Callable[[], T], *, what: str) -> T:
    """``work()``, run in a forked child; what it raises is raised here. ``what`` names the work
    in the message of a child that ended without an answer (killed: out of memory, by a user)."""
    if not CAN_FORK:
        return work()
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no room for another process (a process limit, memory): the work runs here, slower
        os.close(read_end)
        os.close(write_end)
        return work()
    if pid == 0:  # the child: the work, its answer, and out
        os.close(read_end)
        _answer(write_end, work)
    os.close(write_end)
    try:
        data = _read_all(read_end)
    except BaseException:  # interrupted while waiting: the child stops too (its cleanup runs), then so do we
        os.close(read_end)  # an answer it is writing meets a closed pipe, not a wait for ever
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        os.waitpid(pid, 0)
        raise
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data:
        raise SourceError(
            f"{what} stopped: its process ended without finishing ({_ending(status)}). Run the command again"
        )
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return cast(T, value)


def _answer(write_end: int, work: Callable[[], object]) -> None:
    """In the child: run the work and write (True, result) or (False, exception); never returns."""
    code = 0
    try:
        try:
            answer = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # the caller's to raise, as if the work had run there
            answer = _pickled_error(exc)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(answer)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _pickled_error(exc: BaseException) -> bytes:
    """The exception, as the parent will raise it: itself when it survives pickling, else its words."""
    try:
        data = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
        return data
    except Exception:
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _read_all(read_end: int) -> bytes:
    chunks = []
    while chunk := os.read(read_end, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(number).name}"
        return f"signal {number}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
