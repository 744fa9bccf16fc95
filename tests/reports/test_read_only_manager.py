"""A manager whose account may only read the PostgreSQL store: every report is written, and only
the record of its figures, which needs a write, is said to be missing (exit 3 when it was asked for)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg

from tests.helpers import run_kakosheet
from tests.postgres import create_database
from tests.reports.store import build_team


def test_a_read_only_manager_gets_the_report_and_a_warning_not_a_traceback(
    tmp_path: Path, postgres_server: str
) -> None:
    url = create_database(postgres_server)
    folder = tmp_path / "team"
    build_team(folder, url)
    role = "manager_" + uuid.uuid4().hex[:8]  # roles belong to the whole server, which other tests share
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"create role {role} login")
        connection.execute(f"grant select on all tables in schema public to {role}")
    reader = url.replace("//kakosheet@", f"//{role}@")

    done = run_kakosheet("report", "weekly", "--period", "2026-W53", "--store", reader, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["period"] == "2026-W53"

    out = folder / "week.html"
    done = run_kakosheet(
        "report", "weekly", "--period", "2026-W53", "--format", "html", "--out", str(out), "--store", reader, cwd=folder
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "warning: the report's figures were not recorded as published" in done.stderr
    assert "permission denied" in done.stderr and "Recorded its figures" not in done.stderr

    asked = run_kakosheet("report", "weekly", "--period", "2026-W53", "--publish", "--store", reader, cwd=folder)
    assert asked.returncode == 3 and "unexpected error" not in asked.stderr, asked.stderr
    assert "not recorded as published" in asked.stderr
