"""`report --out` refuses every file kakosheet's own work lives in, also one that is not there yet:
a report written as kakosheet.db-wal is read back as the store's log, one written as a new .yaml in
the schemas folder as a schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run_kakosheet
from tests.reports.store import build_team


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("kakosheet.db-wal", "a file SQLite keeps beside the store"),
        ("kakosheet.db-shm", "a file SQLite keeps beside the store"),
        ("kakosheet.db-journal", "a file SQLite keeps beside the store"),
        ("schemas/notes.yaml", "a .yaml file in the team's schemas folder, where each is read as a schema"),
        ("rates.csv", "the rate table the report converts with"),
        ("../elsewhere/other.xlsx", "the workbook --source names"),
    ],
)
def test_a_report_is_never_written_as_a_file_kakosheet_keeps_or_reads(tmp_path: Path, name: str, said: str) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    (folder / "rates.csv").write_text("currency,rate\nEUR,1.10\nCNY,0.14\n")
    (tmp_path / "elsewhere").mkdir()
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    refused = run_kakosheet(
        "report", "weekly", "--period", "2026-W53", "--format", "md", "--rates", "rates.csv",
        "--source", "../elsewhere/other.xlsx", "--out", name, cwd=folder,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert f"--out: {name} is {said}" in refused.stderr and "nothing was written" in refused.stderr
    assert "Write the report to a file of its own" in refused.stderr
    assert not (folder / name).exists() or before.get(folder / name) == (folder / name).read_bytes()
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before
    with sqlite3.connect(folder / "kakosheet.db") as store:  # still a store with its cases
        assert store.execute("SELECT count(*) FROM case_qc").fetchone() == (6,)
