"""`report --out` never replaces what a team's work lives in: a manager who types the master's name
(`--out master.xlsx`, meaning "into the master") gets exit 2 and the workbook as it was, not a report
workbook in place of every case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_kakosheet
from tests.reports.store import build_team


@pytest.mark.parametrize(
    ("name", "output_format", "said"),
    [
        ("master.xlsx", "xlsx", "the team's workbook (its source)"),
        ("master.backup.xlsx", "xlsx", "the previous version of the team's workbook"),
        ("kakosheet.toml", "html", "the team's kakosheet.toml"),
        ("kakosheet.db", "md", "the team's store"),
        ("schemas/qc.yaml", "md", "one of the team's schemas"),
    ],
)
def test_a_report_is_never_written_over_the_teams_own_files(
    tmp_path: Path, name: str, output_format: str, said: str
) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    target = folder / name
    before = target.read_bytes()
    refused = run_kakosheet(
        "report", "weekly", "--period", "2026-W53", "--format", output_format, "--out", name, cwd=folder
    )
    assert refused.returncode == 2, refused.stderr
    assert f"--out: {name} is {said}" in refused.stderr and "nothing was written" in refused.stderr
    assert target.read_bytes() == before


def test_a_report_replaces_an_earlier_report_of_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    for _ in range(2):
        done = run_kakosheet(
            "report", "weekly", "--period", "2026-W53", "--format", "xlsx", "--out", "week.xlsx", cwd=folder
        )
        assert done.returncode == 0, done.stderr


def test_a_copy_of_the_master_elsewhere_is_known_by_its_identity(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    copy = tmp_path / "desktop" / "master (Ana's copy).xlsx"
    copy.parent.mkdir()
    copy.write_bytes((folder / "master.xlsx").read_bytes())
    refused = run_kakosheet("report", "weekly", "--format", "xlsx", "--out", str(copy), cwd=folder)
    assert refused.returncode == 2 and "carries a kakosheet workbook identity" in refused.stderr, refused.stderr
    assert copy.read_bytes() == (folder / "master.xlsx").read_bytes()
