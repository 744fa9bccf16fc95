"""A PostgreSQL store that goes away in the middle of a sync or a report (the server restarted, the network
dropped): the sync and the scheduled job say so and exit 3, never 70, and once the store is
back the next run stores every case once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import psycopg
import pytest

from kakosheet.app.setup import init_team
from kakosheet.config import load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.helpers import run_kakosheet
from tests.postgres import create_database
from tests.reports.store import qc

# Every connection to the database ends when a case is written: the server dropping the sync's
# connections mid-transaction, the run lock's own among them, as a restart of the server does.
DROP_EVERY_CONNECTION = """
create function drop_every_connection() returns trigger language plpgsql as $$
begin
  perform pg_terminate_backend(pid) from pg_stat_activity
   where datname = current_database() and pid <> pg_backend_pid();
  perform pg_terminate_backend(pg_backend_pid());
  return new;
end $$;
create trigger drop_every_connection before insert or update on case_qc
  for each row execute function drop_every_connection();
"""


def rows(count: int) -> list[dict[str, object]]:
    return [
        qc(f"O{i}", dt.datetime(2026, 11, 2, 9) + dt.timedelta(hours=i), "Damaged", "Acme", "Supplier")
        for i in range(count)
    ]


@pytest.fixture
def team(tmp_path: Path, postgres_server: str) -> tuple[Path, str]:
    """A team folder whose store is a fresh PostgreSQL database, synced once."""
    url = create_database(postgres_server)
    folder = tmp_path / "team"
    init_team(folder, logs=("qc",))
    toml = folder / "kakosheet.toml"
    toml.write_text(toml.read_text().replace('store = "sqlite:///kakosheet.db"', f'store = "{url}"'))
    fill_master_workbook(folder / "master.xlsx", load_config(toml).load_schemas(), {"qc": rows(3)})
    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder, url


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_store_that_goes_away_mid_sync_is_exit_3_and_the_next_sync_converges(team: tuple[Path, str]) -> None:
    folder, url = team
    fill_master_workbook(folder / "master.xlsx", load_config(folder / "kakosheet.toml").load_schemas(), {"qc": rows(5)})
    with psycopg.connect(plain(url), autocommit=True) as connection:
        connection.execute(DROP_EVERY_CONNECTION)

    lost = run_kakosheet("sync", cwd=folder)
    assert lost.returncode == 3, lost.stderr
    assert "went away while kakosheet used it" in lost.stderr and "unexpected error" not in lost.stderr
    assert "check that the database server is running" in lost.stderr.lower()

    job = run_kakosheet("schedule", "--once", cwd=folder)
    assert job.returncode == 3, job.stderr
    line = json.loads(job.stdout)
    assert line["exit_code"] == 3 and "went away" in line["error"]

    with psycopg.connect(plain(url), autocommit=True) as connection:  # the store is back
        connection.execute("drop trigger drop_every_connection on case_qc")
    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(plain(url)) as connection:
        stored = connection.execute("select original_order_id, count(*) from case_qc group by 1").fetchall()
    assert sorted(stored) == [(f"O{i}", 1) for i in range(5)]


def test_a_store_that_goes_away_mid_report_is_exit_3(team: tuple[Path, str]) -> None:
    folder, url = team
    role = "manager_" + uuid.uuid4().hex[:8]
    with psycopg.connect(plain(url), autocommit=True) as connection:
        connection.execute(f"create role {role} login")
        connection.execute(f"grant select on all tables in schema public to {role}")
        # The manager's connection ends as soon as a report reads a case (a policy the server checks
        # on every row it reads for that role): the server dropping it between two of the report's reads.
        connection.execute(
            "create function drop_my_connection() returns boolean language sql as "
            "'select pg_terminate_backend(pg_backend_pid())'"
        )
        connection.execute("alter table case_qc enable row level security")
        connection.execute(f"create policy drop_reader on case_qc for select to {role} using (drop_my_connection())")
    reader = url.replace("//kakosheet@", f"//{role}@")
    lost = run_kakosheet("report", "weekly", "--period", "2026-W45", "--store", reader, cwd=folder)
    assert lost.returncode == 3, lost.stderr
    assert "went away while kakosheet used it" in lost.stderr and "unexpected error" not in lost.stderr
