"""`kakosheet schedule`: the scheduled job. Each run is a list of steps (sync, then the
reports of `publish` once their period completes; the reminders join them), one run at a
time per source, one JSON line per run.

A run never leaves anything behind for the next: the config and schemas are read again,
the store is opened and closed, and the process-wide state a step may touch (the garbage
collector) is checked after each run and put back if a step left it changed. A failed run
is logged and the loop goes on; while the source or store is unreachable (exit 3) the wait
doubles, up to a ceiling. SIGTERM or SIGINT stops the loop between steps: the step under
way finishes, its run is logged, and the job exits 0.
"""

from __future__ import annotations

import datetime as dt
import gc
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kakosheet.app.configured import resolve_source
from kakosheet.app.sync import open_store, sync_source
from kakosheet.config import Config
from kakosheet.errors import KakosheetError, SourceError
from kakosheet.sources.gsheet_spec import is_google_sheet, sheet_key

EXIT_OK = 0
EXIT_ISSUES = 1
EXIT_UNREACHABLE = SourceError.exit_code  # StoreError's too: an unreachable store backs off the same way
EXIT_INTERNAL = 70
RUN_SCOPE = "scheduled run"


@dataclass(frozen=True)
class RunSettings:
    """What every run of a schedule is given; the config is loaded afresh for each run."""

    load_config: Callable[[], Config]
    source: str | None = None
    store_url: str | None = None
    strict: bool = False  # a run with open errors exits 1, as `sync --strict`
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))  # which periods are complete


@dataclass
class StepResult:
    """What one step did: its counts for the log line, and the exit code it would have had alone."""

    counts: dict[str, Any] = field(default_factory=dict)
    exit_code: int = EXIT_OK


@dataclass(frozen=True)
class Step:
    """One step of a run, e.g. sync; later steps run only when the ones before succeeded."""

    name: str
    run: Callable[[Config, RunSettings], StepResult]
    wanted: Callable[[Config], bool] = lambda config: True  # a step the team's config leaves out is not run


def sync_step(config: Config, settings: RunSettings) -> StepResult:
    """The sync of `kakosheet sync`, its outcome as counts."""
    result = sync_source(config, settings.source, store_url=settings.store_url)
    counts: dict[str, Any] = {
        "sync_run": result.run_id,
        "logs": result.counts,
        "new_ids": sum(len(ids) for ids in result.new_ids.values()),
        "errors": result.report.errors,
        "warnings": result.report.warnings,
        "written": result.written,
        "rows_left_for_next_sync": result.rows_left,
        "unchanged_since_run": result.unchanged_since,
    }
    return StepResult(counts, EXIT_ISSUES if settings.strict and result.open_errors else EXIT_OK)


def publish_step(config: Config, settings: RunSettings) -> StepResult:
    """The reports of `publish` in kakosheet.toml: each period's report tab, once, after it completes."""
    from kakosheet.app.report import PeriodKind, publish_due  # the report code loads only for a team that publishes

    published = []
    for kind in config.publish:
        run = publish_due(
            config, PeriodKind(kind), now=settings.now(), source=settings.source, store_url=settings.store_url
        )
        if run is not None:
            published.append(
                {"report": kind, "period": run.report.period, "tab": run.tab, "warnings": list(run.warnings)}
            )
    return StepResult({"published": published})


STEPS: tuple[Step, ...] = (
    Step("sync", sync_step),
    Step("publish", publish_step, wanted=lambda config: bool(config.publish)),
)


@dataclass
class StepOutcome:
    name: str
    seconds: float
    exit_code: int
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunRecord:
    """One run, as its JSON log line tells it."""

    run: int
    source: str
    started_at: dt.datetime
    seconds: float = 0.0
    exit_code: int = EXIT_OK
    steps: list[StepOutcome] = field(default_factory=list)
    error: str | None = None
    stopped: bool = False  # a stop signal came: the steps after the one under way did not run
    restored: list[str] = field(default_factory=list)  # process state a step left changed, put back
    next_run_in: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "source": self.source,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "error": self.error,
            "steps": [
                {
                    "step": s.name,
                    "seconds": round(s.seconds, 3),
                    "exit_code": s.exit_code,
                    "error": s.error,
                    **s.counts,
                }
                for s in self.steps
            ],
            "stopped": self.stopped,
            "restored": self.restored,
            "next_run_in": None if self.next_run_in is None else round(self.next_run_in, 3),
        }


def run_once(
    settings: RunSettings, *, number: int = 1, steps: Sequence[Step] = STEPS, stop: threading.Event | None = None
) -> RunRecord:
    """One run: its steps in order, under the source's run lock; never raises for a failure."""
    stop = stop or threading.Event()
    record = RunRecord(run=number, source=settings.source or "", started_at=dt.datetime.now(dt.UTC))
    started = time.monotonic()
    before = _process_state()
    try:
        config = settings.load_config()
        spec = resolve_source(config, settings.source)
        record.source = spec
        store = open_store(config, config.load_schemas(), settings.store_url)
        try:
            with store.source_lock(source_key(config, settings.source), scope=RUN_SCOPE):
                _run_steps(record, steps, config, settings, stop)
        finally:
            store.close()
    except KakosheetError as exc:
        record.exit_code, record.error = exc.exit_code, str(exc)
    except Exception as exc:  # a bug: logged as one, and the next run still comes
        record.exit_code, record.error = EXIT_INTERNAL, f"unexpected error ({type(exc).__name__}: {exc})"
    record.restored = _restore(before)
    # What a run built is unreachable now; part of it sits in reference cycles (a store's
    # engine and its open database files among them), freed here rather than whenever.
    gc.collect()
    record.seconds = time.monotonic() - started
    return record


def _run_steps(
    record: RunRecord, steps: Sequence[Step], config: Config, settings: RunSettings, stop: threading.Event
) -> None:
    for step in (step for step in steps if step.wanted(config)):
        if stop.is_set():
            record.stopped = True
            return
        started = time.monotonic()
        outcome = StepOutcome(step.name, 0.0, EXIT_OK)
        try:
            result = step.run(config, settings)
            outcome.counts, outcome.exit_code = result.counts, result.exit_code
        except KakosheetError as exc:
            outcome.exit_code, outcome.error = exc.exit_code, str(exc)
        except Exception as exc:
            outcome.exit_code, outcome.error = EXIT_INTERNAL, f"unexpected error ({type(exc).__name__}: {exc})"
        outcome.seconds = time.monotonic() - started
        record.steps.append(outcome)
        if outcome.exit_code != EXIT_OK:
            record.exit_code, record.error = outcome.exit_code, outcome.error
            if outcome.exit_code != EXIT_ISSUES:  # open issues are no reason to skip what follows
                return


def source_key(config: Config, source: str | None) -> str:
    """The source's identity for the run lock: a sheet's key, a workbook's full path (opening
    it, which a missing workbook cannot be, is left to the sync step)."""
    spec = resolve_source(config, source)
    if is_google_sheet(spec):
        return f"gsheet:{sheet_key(spec)}"
    path = Path(spec).expanduser()
    if source is None and not path.is_absolute():
        path = config.root / path
    return str(path.resolve())


def run_schedule(
    settings: RunSettings,
    *,
    every: float,
    emit: Callable[[dict[str, Any]], None],
    once: bool = False,
    max_backoff: float = 3600.0,
    steps: Sequence[Step] = STEPS,
) -> int:
    """Run every ``every`` seconds until a stop signal; with ``once``, one run and its exit code."""
    with stop_on_signals() as stop:
        number, unreachable = 0, 0
        while True:
            number += 1
            record = run_once(settings, number=number, steps=steps, stop=stop)
            unreachable = unreachable + 1 if record.exit_code == EXIT_UNREACHABLE else 0
            wait = next_wait(every, record.seconds, unreachable, max_backoff)
            if not once and not stop.is_set():
                record.next_run_in = wait
            emit(record.to_json())
            if once:
                return record.exit_code
            if stop.is_set() or stop.wait(wait):
                emit({"stopped": True, "signal": stop_signal_name(stop), "runs": number})
                return EXIT_OK


def next_wait(every: float, took: float, unreachable: int, max_backoff: float) -> float:
    """Runs start ``every`` seconds apart (none to catch up after a long one); while the source
    or store is unreachable the wait doubles from one interval, up to ``max_backoff``."""
    if unreachable:  # the doubling stops long before a float cannot hold it (a source gone for weeks)
        return min(every * 2 ** min(unreachable, 64), max(max_backoff, every))
    return max(0.0, every - took)


class _StopEvent(threading.Event):
    signal_name: str | None = None


def stop_signal_name(stop: threading.Event) -> str | None:
    return getattr(stop, "signal_name", None)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and SIGINT set a flag the loop looks at between steps (no exception mid-step);
    the previous handlers are put back afterwards."""
    stop = _StopEvent()

    def handle(signum: int, _frame: object) -> None:
        stop.signal_name = signal.Signals(signum).name
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only; its owner stops it
        return
    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _process_state() -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def _restore(before: tuple[bool, int]) -> list[str]:
    """Put back the process state a run changed, and say what it was (a bug to fix in the step)."""
    enabled, frozen = before
    restored = []
    if gc.isenabled() != enabled:
        (gc.enable if enabled else gc.disable)()
        restored.append("garbage collector " + ("re-enabled" if enabled else "disabled again"))
    if gc.get_freeze_count() > frozen:
        gc.unfreeze()
        restored.append("frozen objects unfrozen")
    return restored
