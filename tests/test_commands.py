"""Commands that behave predictably: one exit-code rule, nothing created by commands that
change nothing, a failed init that leaves nothing, progress only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from kakosheet.app.sync import open_store
from kakosheet.config import load_config
from tests.helpers import qc_row, qc_tab, run_kakosheet, write_workbook

Cli = Callable[..., Result]


def team_with(cli: Cli, tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    assert cli("init", "team", "--logs", "qc").exit_code == 0
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab(rows)})
    return tmp_path / "team"


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- one exit-code rule


@pytest.mark.parametrize("command", ["validate", "sync"])
@pytest.mark.parametrize(
    ("source", "code", "says"),
    [
        ("a-folder", 2, "is a folder; name the workbook in it"),
        ("folder.xlsx", 2, "is a folder"),
        ("cases.csv", 2, "kakosheet reads .xlsx and .xlsm workbooks"),
        ("notes", 2, "not a workbook path"),
        ("missing.xlsx", 3, "no such file"),
        ("damaged.xlsx", 3, "damaged"),
    ],
)
def test_what_source_names_decides_between_2_and_3(
    cli: Cli, tmp_path: Path, command: str, source: str, code: int, says: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "folder.xlsx").mkdir()
    (tmp_path / "cases.csv").write_text("Case ID,Status\n,Open\n")
    (tmp_path / "damaged.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = cli(command, source)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "kakosheet.db").exists()


def test_another_sync_of_the_same_source_exits_4(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    config = load_config(team / "kakosheet.toml")
    store = open_store(config, config.load_schemas())
    with store.source_lock(str((team / "master.xlsx").resolve())):
        result = run_kakosheet("sync", cwd=team)
    assert result.returncode == 4, result.stderr
    assert "another sync of" in result.stderr and "run it again" in result.stderr


def test_an_unreachable_store_exits_3_without_its_password(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    url = f"postgresql://kakosheet:s3cret@127.0.0.1:{closed_port()}/aftersales"
    for args in (("sync", "--store", url), ("history", "QC-2026-0001", "--store", url)):
        result = run_kakosheet(*args, cwd=team)
        assert result.returncode == 3, result.stderr
        assert "cannot reach the store" in result.stderr and "s3cret" not in result.stderr


def test_a_store_in_memory_is_refused_before_a_sync_stores_into_nothing(cli: Cli, tmp_path: Path) -> None:
    """`sqlite://` (or `sqlite:///:memory:`) is a database that ends with the command: a sync into
    it once failed half-way (exit 3) with a traceback of SQLAlchemy's pool on stderr."""
    team = team_with(cli, tmp_path, [qc_row()])
    for url in ("sqlite://", "sqlite:///:memory:"):
        for args in (("sync", "--store", url), ("history", "QC-2026-0001", "--store", url)):
            result = run_kakosheet(*args, cwd=team)
            assert result.returncode == 2, result.stderr
            assert "in memory" in result.stderr and "sqlite:///kakosheet.db" in result.stderr
            assert "Traceback" not in result.stderr
    assert not (team / "kakosheet.db").exists()


def test_a_bad_option_value_is_exit_2_everywhere(cli: Cli, tmp_path: Path) -> None:
    assert cli("schedule", "--every", "often", "x.xlsx").exit_code == 2
    for endless in ("nans", "infs", "1e400s", "100000d"):  # no wait at all, or one that cannot be waited for
        assert cli("schedule", "--every", endless, "x.xlsx").exit_code == 2, endless
        assert cli("schedule", "--once", "--max-backoff", endless, "x.xlsx").exit_code == 2, endless
    assert cli("schedule", "x.xlsx").exit_code == 2  # neither --every nor --once
    assert cli("sync", "--format", "yaml").exit_code == 2


def test_an_as_of_past_the_calendars_end_in_the_teams_time_zone_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    """9999-12-31T23:59 in New York is 10000-01-01 in UTC: the sync ended with an unexpected error."""
    assert cli("init", "team", "--logs", "qc", "--timezone", "America/New_York").exit_code == 0
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row()])})
    config = str(tmp_path / "team" / "kakosheet.toml")
    for as_of in ("9999-12-31T23:59", "1899-12-31"):
        for command in (("sync", "--dry-run"), ("import", "orders", "orders.csv")):
            result = cli(*command, "--as-of", as_of, "--config", config)
            assert result.exit_code == 2, result.output
            assert "--as-of" in result.stderr and "outside the years kakosheet runs as" in result.stderr
    assert cli("sync", "--dry-run", "--as-of", "9998-12-31T23:59", "--config", config).exit_code == 0


# ---------------------------------------------------------------- the process's end


def test_the_process_ends_with_its_exit_code_its_whole_output_and_its_store_closed(cli: Cli, tmp_path: Path) -> None:
    """`kakosheet` leaves the interpreter without tearing it down (kakosheet.cli.run): the exit
    code is the command's, output piped to a reader arrives whole, and the store is closed
    (SQLite's write-ahead log checkpointed and removed, as a normal exit leaves it)."""
    rows = [qc_row(Exception_Type="Nope") for _ in range(3000)]  # an error on every row
    team = team_with(cli, tmp_path, rows)
    synced = run_kakosheet("sync", "--format", "json", cwd=team)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["errors"] == 3000
    assert (team / "kakosheet.db").exists()
    assert not [name for name in files_in(team) if name.endswith(("-wal", "-shm"))], files_in(team)
    checked = run_kakosheet("validate", "--format", "json", cwd=team)
    assert checked.returncode == 1, checked.stderr
    assert len(json.loads(checked.stdout)["issues"]) == 3000  # every line of about a megabyte
    strict = run_kakosheet("sync", "--strict", cwd=team)
    assert strict.returncode == 1, strict.stderr
    missing = run_kakosheet("validate", "missing.xlsx", cwd=team)
    assert (missing.returncode, missing.stdout) == (3, "")
    assert "no such file" in missing.stderr
    usage = run_kakosheet("sync", "--no-such-option", cwd=team)
    assert usage.returncode == 2
    assert "No such option" in usage.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device that is always full")
def test_output_onto_a_full_disk_is_exit_3_with_a_sentence_not_an_unexpected_error(cli: Cli, tmp_path: Path) -> None:
    """`kakosheet schedule --once >> /var/log/kakosheet.jsonl` with /var/log full (README "Scheduling"):
    the run ended with exit 70, "report it", as if kakosheet had failed."""
    team = team_with(cli, tmp_path, [qc_row()])
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for args in (("schedule", "--once"), ("validate", "--format", "json"), ("sync", "--help")):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "kakosheet", *args],
                cwd=team,
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=60,
            )
        assert result.returncode == 3, result.stderr
        assert "cannot write (No space left on device); free some space" in result.stderr
        assert "unexpected" not in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- commands that change nothing create nothing


def test_a_dry_run_makes_no_store_and_no_lock(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    before = files_in(team)
    result = cli("--config", str(team / "kakosheet.toml"), "sync", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "QC Log: 1 new" in result.stdout
    assert files_in(team) == before
    assert files_in(tmp_path) - {f"team/{name}" for name in before} == {"team"}


def test_a_sync_leaves_no_lock_file_beside_the_workbook_or_the_store(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    assert cli("--config", str(team / "kakosheet.toml"), "sync").exit_code == 0
    assert cli("--config", str(team / "kakosheet.toml"), "sync").exit_code == 0
    assert not [name for name in files_in(team) if name.endswith(".lock")], files_in(team)


def test_history_outside_a_team_folder_says_so_and_creates_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("history", "QC-2026-0001")
    assert result.exit_code == 2
    assert "no kakosheet.toml found" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_history_before_the_first_sync_creates_no_store(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    result = cli("--config", str(team / "kakosheet.toml"), "history", "QC-2026-0001")
    assert result.exit_code == 2 and "run `kakosheet sync` first" in result.stderr
    assert not (team / "kakosheet.db").exists()


@pytest.mark.parametrize("command", [("validate",), ("validate", "--format", "json"), ("history", "QC-2026-0001")])
def test_reading_commands_leave_no_write_ahead_log_beside_the_store(
    cli: Cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    team = team_with(cli, tmp_path, [qc_row(Date_Logged=None)])
    assert run_kakosheet("sync", cwd=team).returncode == 0
    before = files_in(team)
    result = run_kakosheet(*command, cwd=team)
    assert result.returncode == 0, result.stderr
    assert files_in(team) == before


# ---------------------------------------------------------------- init


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (("--logs", "qc,refundz"), "--logs: 'refundz' is not a log (the logs are:"),
        (("--timezone", "Mars/Olympus"), "--timezone: 'Mars/Olympus' is not a time zone"),
    ],
)
def test_a_failed_init_names_the_option_leaves_nothing_and_can_be_retried(
    cli: Cli, tmp_path: Path, option: tuple[str, str], says: str
) -> None:
    failed = cli("init", "team", *option)
    assert failed.exit_code == 2
    assert says in failed.stderr and "kakosheet.toml" not in failed.stderr
    assert not (tmp_path / "team").exists()
    retried = cli("init", "team", "--logs", "qc,refunds")
    assert retried.exit_code == 0, retried.output


def test_a_failed_init_in_an_existing_folder_takes_back_only_its_own_files(cli: Cli, tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "notes.txt").write_text("ours")
    # The default schemas copied, then the team's own edit makes the schema set invalid: the
    # run fails after writing, and must take back what it wrote.
    (team / "schemas").mkdir()
    (team / "schemas" / "qc.yaml").write_text("log: qc\ncolumns: [\n")
    failed = cli("init", "team", "--logs", "qc")
    assert failed.exit_code == 2 and "qc.yaml" in failed.stderr
    assert files_in(team) == {"notes.txt", "schemas", "schemas/qc.yaml"}
    (team / "schemas" / "qc.yaml").unlink()
    assert cli("init", "team", "--logs", "qc").exit_code == 0
    assert (team / "master.xlsx").is_file() and (team / "notes.txt").read_text() == "ours"


def test_init_where_it_cannot_write_names_the_folder_and_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    """A folder under a file (or on a read-only share) cannot be written: exit 2 and a sentence,
    not an unexpected error."""
    (tmp_path / "notes.txt").write_text("ours")
    failed = cli("init", "notes.txt/team")
    assert failed.exit_code == 2, failed.output
    assert "notes.txt/team: cannot write the team's files there" in failed.stderr
    assert "unexpected" not in failed.stderr
    assert files_in(tmp_path) == {"notes.txt"} and (tmp_path / "notes.txt").read_text() == "ours"
    assert cli("init", "team").exit_code == 0


def test_template_build_where_it_cannot_write_names_the_place(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("ours")
    failed = cli("template", "build", "--out", "notes.txt/master.xlsx")
    assert failed.exit_code == 2, failed.output
    assert "notes.txt/master.xlsx: cannot write the template there" in failed.stderr and "--out" in failed.stderr
    assert (tmp_path / "notes.txt").read_text() == "ours"


# ---------------------------------------------------------------- small things


def test_sync_without_a_source_names_sync_in_its_hint(cli: Cli) -> None:
    result = cli("sync")
    assert result.exit_code == 2 and "kakosheet sync master.xlsx" in result.stderr


def test_config_works_after_the_command_too(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    config = str(team / "kakosheet.toml")
    assert cli("validate", "--config", config).exit_code == 0
    assert cli("sync", "--dry-run", "--config", config).exit_code == 0
    missing = cli("validate", "--config", "nowhere.toml")
    assert missing.exit_code == 2 and "no such config file" in missing.stderr


def test_debug_works_after_the_command_too(cli: Cli) -> None:
    """An unexpected error says "run again with --debug": a user adds it at the end of the line."""
    for args in (("validate", "missing.xlsx", "--debug"), ("--debug", "validate", "missing.xlsx")):
        result = cli(*args)
        assert result.exit_code == 3, result.output
        assert "Traceback" in result.stderr and "no such file" in result.stderr
    assert "Traceback" not in cli("validate", "missing.xlsx").stderr


def test_start_here_includes_sync_and_history(cli: Cli) -> None:
    start = cli("--help").output.split("Start here:")[1].split("Exit codes")[0]
    assert "kakosheet sync" in start and "kakosheet history" in start


def test_history_shows_labels_and_readable_values(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    config = str(team / "kakosheet.toml")
    assert cli("sync", "--config", config).exit_code == 0
    write_workbook(
        team / "master.xlsx",
        {"QC Log": qc_tab([qc_row(Case_ID="QC-2026-0001", Status="Closed", Closure_Date="2026-03-05")])},
    )
    assert cli("sync", "--config", config).exit_code == 0
    shown = cli("history", "QC-2026-0001", "--config", config).stdout
    assert "QC-2026-0001 (QC Log)" in shown
    assert "Date Identified: 2026-03-02 10:30\n" in shown
    assert "Status: Open -> Closed" in shown
    assert "Closure Date: (blank) -> 2026-03-05" in shown
    assert "closure_date" not in shown and "None" not in shown and "'" not in shown


def test_history_says_which_workbook_a_version_came_from_by_its_path(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    assert cli("sync", "--config", str(team / "kakosheet.toml")).exit_code == 0
    shown = cli("history", "QC-2026-0001", "--config", str(team / "kakosheet.toml")).stdout
    assert f"sync run 1, from {(team / 'master.xlsx').resolve()}\n" in shown
    assert "workbook:" not in shown


def test_template_build_never_replaces_a_workbook_that_holds_cases(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row(), qc_row()])
    before = (team / "master.xlsx").read_bytes()
    result = cli("template", "build", "--out", str(team / "master.xlsx"))
    assert result.exit_code == 2
    assert "holds 2 case(s)" in result.stderr and "--out templates/master.xlsx" in result.stderr
    assert (team / "master.xlsx").read_bytes() == before
    other = tmp_path / "budget.xlsx"
    write_workbook(other, {"Budget": [["Month", "Spend"], ["Jan", 10]]})
    assert cli("template", "build", "--out", str(other)).exit_code == 2
    fresh = tmp_path / "templates" / "master.xlsx"
    assert cli("template", "build", "--out", str(fresh)).exit_code == 0
    assert cli("template", "build", "--out", str(fresh)).exit_code == 0  # an empty template is replaced


def test_template_build_never_replaces_a_workbook_whose_reference_tabs_hold_rows(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", "team", "--logs", "qc").exit_code == 0
    master = tmp_path / "team" / "master.xlsx"
    write_workbook(
        master,
        {"QC Log": qc_tab([]), "Vendors": [["Vendor ID", "Name", "Type"], ["V-001", "Acme Trading", "Vendor"]]},
    )
    before = master.read_bytes()
    result = cli("template", "build", "--out", str(master))
    assert result.exit_code == 2, result.output
    assert "holds 1 row(s) in 'Vendors'" in result.stderr
    assert master.read_bytes() == before


def test_the_demo_writes_outside_the_working_folder(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    result = cli("demo", "--cases", "20")
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "work").iterdir()) == []
    assert (temporary / "kakosheet-demo" / "master.xlsx").is_file()
    assert f"cd {temporary / 'kakosheet-demo'}" in result.stderr


def test_the_demo_workbook_shows_each_date_column_in_its_format(cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    assert cli("demo", "sample", "--cases", "40").exit_code == 0
    sheet = load_workbook(tmp_path / "sample" / "master.xlsx")["QC Log"]
    header = [c.value for c in sheet[1]]
    formats: dict[str, set[str]] = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.is_date:
                formats.setdefault(header[cell.column - 1], set()).add(cell.number_format)
    assert formats["Date Identified"] == {"yyyy-mm-dd hh:mm"}
    assert formats["Closure Date"] == {"yyyy-mm-dd"}


# ---------------------------------------------------------------- progress


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """kakosheet with stderr on a pseudo-terminal and stdout on a pipe."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "kakosheet", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    assert process.stdout is not None
    out = process.stdout.read().decode()
    process.wait(timeout=60)
    os.close(controller)
    return process.returncode, out, seen.decode(errors="replace")


def test_a_sync_on_a_terminal_says_where_it_is_on_stderr_only(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row(Description=f"case {i}") for i in range(30)])
    code, out, terminal = _run_on_a_terminal(["sync"], team)
    assert code == 0, terminal
    for stage in ("reading master.xlsx", "validating 30 rows", "writing back to master.xlsx", "storing 30 rows"):
        assert f"kakosheet: {stage}..." in terminal
    assert "\r\x1b[K" in terminal  # the line is redrawn in place and cleared at the end
    assert "kakosheet:" not in out and "\x1b" not in out


def test_no_progress_when_stderr_is_not_a_terminal(cli: Cli, tmp_path: Path) -> None:
    team = team_with(cli, tmp_path, [qc_row()])
    result = run_kakosheet("sync", "--format", "json", cwd=team)
    assert result.returncode == 0
    assert "reading" not in result.stderr and "\x1b" not in result.stderr
    json.loads(result.stdout)
