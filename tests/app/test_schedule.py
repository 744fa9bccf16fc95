"""The scheduled job: short cycles over a real workbook that changes, disappears and comes back;
signals on a real process; the run lock; nothing carried from one run into the next."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kakosheet.app.schedule import (
    RUN_SCOPE,
    RunSettings,
    Step,
    StepResult,
    next_wait,
    run_once,
    run_schedule,
    source_key,
)
from kakosheet.app.sync import open_store
from kakosheet.config import Config, load_config
from tests.app.test_sync import qc_case
from tests.app.test_sync_safety import append_rows, make_team, stored_ids

EVERY = 0.2


def settings_for(config: Config, store_url: str, **kwargs: Any) -> RunSettings:
    assert config.path is not None
    path = config.path
    return RunSettings(load_config=lambda: load_config(path), store_url=store_url, **kwargs)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_cycles_follow_a_workbook_that_changes_disappears_and_comes_back(tmp_path: Path, store_url: str) -> None:
    config = make_team(tmp_path / "team", [qc_case(Description="first")])
    workbook = config.root / "master.xlsx"
    away = tmp_path / "away.xlsx"
    lines: list[dict[str, Any]] = []
    fds: list[int] = []

    def between_runs(line: dict[str, Any]) -> None:
        """Called after each run: checks the run left nothing behind, then changes the world."""
        lines.append(line)
        assert gc.isenabled() and gc.get_freeze_count() == 0, "a run left the collector paused or frozen"
        fds.append(open_fds())
        run = line.get("run")
        if run == 1:
            append_rows(workbook, 2, "added")
        elif run == 2:
            workbook.rename(away)  # the share goes away
        elif run == 4:
            away.rename(workbook)  # and comes back
        elif run == 5:
            append_rows(workbook, 1, "later")
        elif run == 6:
            os.kill(os.getpid(), signal.SIGTERM)

    handler = signal.getsignal(signal.SIGTERM)
    code = run_schedule(settings_for(config, store_url), every=EVERY, emit=between_runs, max_backoff=10 * EVERY)
    assert code == 0
    assert signal.getsignal(signal.SIGTERM) == handler, "the job's signal handlers are put back"
    runs = [line for line in lines if "run" in line]
    assert [r["exit_code"] for r in runs] == [0, 0, 3, 3, 0, 0]
    new = [r["steps"][0].get("new_ids") if r["steps"] else None for r in runs]
    assert new[0] == 1 and new[1] == 2 and new[5] == 1
    assert runs[1]["steps"][0]["logs"]["qc"]["unchanged"] == 1
    assert "no such file" in runs[2]["error"] and runs[2]["steps"][0]["exit_code"] == 3
    # Backoff while unreachable: two intervals, then four; back to one interval once it is back.
    assert runs[2]["next_run_in"] == pytest.approx(2 * EVERY)
    assert runs[3]["next_run_in"] == pytest.approx(4 * EVERY)
    assert runs[4]["next_run_in"] <= EVERY
    assert all(r["restored"] == [] for r in runs)
    assert lines[-1] == {"stopped": True, "signal": "SIGTERM", "runs": 6}
    assert len(set(stored_ids(store_url))) == 4
    assert fds[-1] <= fds[1], f"file handles grow from run to run: {fds}"
    assert not list(config.root.glob(".kakosheet-*.lock")) and not list(tmp_path.glob("**/*.lock"))


def test_a_run_puts_back_a_paused_collector_and_says_so(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case()])

    def pause_collector(_config: Config, _settings: RunSettings) -> StepResult:
        gc.disable()
        gc.freeze()
        return StepResult({"paused": True})

    record = run_once(settings_for(config, f"sqlite:///{tmp_path / 's.db'}"), steps=[Step("pause", pause_collector)])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert record.exit_code == 0 and record.restored == ["garbage collector re-enabled", "frozen objects unfrozen"]


def test_a_stop_signal_ends_the_run_between_steps(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    ran: list[str] = []

    def signalled(_config: Config, _settings: RunSettings) -> StepResult:
        ran.append("first")
        os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt in the middle of a step
        time.sleep(0.05)
        ran.append("first finished")
        return StepResult()

    def second(_config: Config, _settings: RunSettings) -> StepResult:
        ran.append("second")
        return StepResult()

    lines: list[dict[str, Any]] = []
    code = run_schedule(
        settings_for(config, f"sqlite:///{tmp_path / 's.db'}"),
        every=EVERY,
        emit=lines.append,
        steps=[Step("first", signalled), Step("second", second)],
    )
    assert code == 0 and ran == ["first", "first finished"]
    assert lines[0]["stopped"] is True and [s["step"] for s in lines[0]["steps"]] == ["first"]
    assert lines[0]["next_run_in"] is None
    assert lines[1] == {"stopped": True, "signal": "SIGINT", "runs": 1}


def test_a_failed_step_stops_its_run_but_not_the_job(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    calls: list[int] = []

    def broken(_config: Config, _settings: RunSettings) -> StepResult:
        calls.append(1)
        raise RuntimeError("boom")

    def after(_config: Config, _settings: RunSettings) -> StepResult:
        raise AssertionError("a step after a failed one ran")

    lines: list[dict[str, Any]] = []

    def emit(line: dict[str, Any]) -> None:
        lines.append(line)
        if len(lines) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    run_schedule(
        settings_for(config, f"sqlite:///{tmp_path / 's.db'}"),
        every=0.05,
        emit=emit,
        steps=[Step("broken", broken), Step("after", after)],
    )
    assert len(calls) == 2, "the job goes on after a failed run"
    assert lines[0]["exit_code"] == 70 and "RuntimeError: boom" in lines[0]["error"]


def test_backoff_doubles_up_to_its_ceiling_and_runs_start_on_the_interval() -> None:
    assert next_wait(900, 100, 0, 3600) == 800
    assert next_wait(900, 1000, 0, 3600) == 0
    assert [next_wait(900, 5, n, 3600) for n in (1, 2, 3)] == [1800, 3600, 3600]
    assert next_wait(7200, 5, 1, 3600) == 7200  # never shorter than the interval itself
    assert next_wait(900.0, 5, 2000, 3600.0) == 3600  # a source gone for weeks: the wait stays at the ceiling


def _schedule(config: Config, *args: str, store_url: str | None = None) -> subprocess.Popen[str]:
    store = ["--store", store_url] if store_url else []
    return subprocess.Popen(
        [sys.executable, "-m", "kakosheet", "--config", str(config.path), "schedule", *args, *store],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_stops_a_real_job_cleanly(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case(Description=f"row {i}") for i in range(50)])
    job = _schedule(config, "--every", f"{EVERY}s")
    assert job.stdout is not None
    first = json.loads(job.stdout.readline())
    assert first["exit_code"] == 0 and first["steps"][0]["new_ids"] == 50
    job.send_signal(signal.SIGTERM)
    out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["stopped"] is True and lines[-1]["signal"] == "SIGTERM"
    assert all(line.get("exit_code", 0) == 0 for line in lines)
    assert "Traceback" not in err
    assert not list(config.root.glob(".kakosheet-*.lock")), "no lock file is left beside the store"


def test_once_exits_with_the_code_of_its_run(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case(), qc_case(Status="Shipped")])
    ok = _schedule(config, "--once")
    out, err = ok.communicate(timeout=60)
    assert ok.returncode == 0, err
    [line] = [json.loads(x) for x in out.splitlines()]
    assert line["exit_code"] == 0 and line["steps"][0]["errors"] == 1 and line["next_run_in"] is None
    strict = _schedule(config, "--once", "--strict")
    out, _ = strict.communicate(timeout=60)
    assert strict.returncode == 1 and json.loads(out)["exit_code"] == 1
    (config.root / "master.xlsx").unlink()
    gone = _schedule(config, "--once")
    out, _ = gone.communicate(timeout=60)
    assert gone.returncode == 3 and "no such file" in json.loads(out)["error"]


def test_a_second_job_on_the_same_source_skips_its_run(tmp_path: Path, store_url: str) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    store = open_store(config, config.load_schemas(), store_url)
    with store.source_lock(source_key(config, None), scope=RUN_SCOPE):
        busy = _schedule(config, "--once", store_url=store_url)
        out, _ = busy.communicate(timeout=60)
    assert busy.returncode == 4
    line = json.loads(out)
    assert "another scheduled run of" in line["error"] and line["steps"] == []
    assert not store.has_tables(), "the skipped run synced nothing"
    after = _schedule(config, "--once", store_url=store_url)
    after.communicate(timeout=60)
    assert after.returncode == 0 and len(stored_ids(store_url)) == 1


def test_a_lock_left_by_a_killed_job_is_taken_over(tmp_path: Path) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from kakosheet.app.schedule import RUN_SCOPE, source_key\n"
            "from kakosheet.app.sync import open_store\n"
            "from kakosheet.config import load_config\n"
            "config = load_config()\n"
            "store = open_store(config, config.load_schemas())\n"
            "with store.source_lock(source_key(config, None), scope=RUN_SCOPE):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        cwd=config.root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    [left] = list(config.root.glob(".kakosheet-*.lock"))
    holder.kill()
    holder.wait()
    assert left.exists(), "a killed holder leaves its lock file"
    job = _schedule(config, "--once")
    out, err = job.communicate(timeout=60)
    assert job.returncode == 0, out + err
    assert not left.exists(), "the next run takes the stale lock over, then removes it"
