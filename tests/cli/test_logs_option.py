"""`--logs` as people type it: spaces, a stray comma or a log named twice are folded away (what was
meant is plain); a list naming no log is refused like a name that is not a log (exit 2, `--logs:`)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import run_kakosheet

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("qc,qc", ["qc"]),
        ("qc,,refunds", ["qc", "refunds"]),
        (" qc , refunds", ["qc", "refunds"]),
        ("refunds,qc,refunds,", ["refunds", "qc"]),
    ],
)
def test_init_folds_what_was_plainly_meant(cli: Cli, tmp_path: Path, typed: str, kept: list[str]) -> None:
    """`init --logs qc,qc` once wrote logs = ["qc", "qc"], and every report then showed each section twice."""
    done = cli("init", "team", "--logs", typed)
    assert done.exit_code == 0, done.output
    config = tomllib.loads((tmp_path / "team" / "kakosheet.toml").read_text())
    assert config["logs"] == kept


@pytest.mark.parametrize("typed", ["", ",", " , "])
def test_a_logs_option_naming_no_log_is_refused(cli: Cli, tmp_path: Path, typed: str) -> None:
    """It once meant every log: `init --logs ""` made a team of all four."""
    refused = cli("init", "team", "--logs", typed)
    assert refused.exit_code == 2, refused.output
    assert f"kakosheet: --logs: {typed!r} names no log; list one or more" in refused.stderr
    assert not (tmp_path / "team").exists()


def test_a_name_that_is_not_a_log_is_still_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    refused = cli("init", "team", "--logs", "qc,refundz,qc")
    assert refused.exit_code == 2
    assert "kakosheet: --logs: 'refundz' is not a log (the logs are:" in refused.stderr


def test_a_report_of_a_log_named_twice_has_each_section_once(tmp_path: Path) -> None:
    assert run_kakosheet("init", "team", "--logs", "qc,refunds", cwd=tmp_path).returncode == 0
    team = tmp_path / "team"
    assert run_kakosheet("sync", cwd=team).returncode == 0
    once = run_kakosheet("report", "weekly", "--period", "2026-W10", "--format", "md", "--logs", "qc", cwd=team)
    twice = run_kakosheet("report", "weekly", "--period", "2026-W10", "--format", "md", "--logs", "qc,qc", cwd=team)
    assert twice.returncode == 0, twice.stderr
    assert "logs: qc\n" in twice.stdout
    assert twice.stdout == once.stdout
    refused = run_kakosheet("report", "weekly", "--logs", ",", cwd=team)
    assert refused.returncode == 2 and "--logs: ',' names no log" in refused.stderr


def test_a_log_listed_twice_in_the_config_is_one_log(tmp_path: Path) -> None:
    assert run_kakosheet("init", "team", "--logs", "qc", cwd=tmp_path).returncode == 0
    team = tmp_path / "team"
    config = team / "kakosheet.toml"
    config.write_text(config.read_text().replace('logs = ["qc"]', 'logs = ["qc", "qc"]'))
    assert run_kakosheet("sync", cwd=team).returncode == 0
    report = run_kakosheet("report", "weekly", "--period", "2026-W10", "--format", "md", cwd=team)
    assert report.returncode == 0, report.stderr
    assert "logs: qc\n" in report.stdout and report.stdout.count("## 1. Top failure reasons") == 1
