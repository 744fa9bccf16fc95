"""A workbook is known by the identity it carries, not by its path (kakosheet/app/identity.py).

Real workbooks moved, renamed and copied; a real store (SQLite and PostgreSQL); the CLI for
exit codes. A store older than identities is emulated the way it was: cases filed under the
workbook's path, and a workbook without the document property.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, update

from kakosheet.app.setup import init_team
from kakosheet.cli import main as cli
from kakosheet.config import Config, load_config
from kakosheet.errors import SourceError
from kakosheet.sources.xlsx_identity import PART, workbook_identity
from kakosheet.store.tables import build_metadata
from tests.app.test_sync import NOW, fill, history_rows, qc_case, sheet, sync

LATER = NOW + dt.timedelta(days=1)


@pytest.fixture
def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",))
    return load_config(tmp_path / "team" / "kakosheet.toml")


def cases(n: int) -> list[dict[str, object]]:
    return [qc_case(Original_Order_ID=f"ORD-{i:04d}") for i in range(n)]


def stored_sources(team: Config, store_url: str) -> dict[str, str]:
    table = build_metadata(team.load_schemas()).tables["case_qc"]
    with create_engine(store_url).connect() as connection:
        return dict(connection.execute(select(table.c.case_id, table.c._source)).all())


def as_before_identities(team: Config, store_url: str, path: Path) -> None:
    """The store and workbook as a kakosheet older than identities left them."""
    metadata = build_metadata(team.load_schemas())
    with create_engine(store_url).begin() as connection:
        connection.execute(update(metadata.tables["case_qc"]).values(_source=str(path.resolve())))
        connection.execute(metadata.tables["sources"].delete())
        connection.execute(metadata.tables["source_states"].delete())
    stripped = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == PART:
                continue
            if info.filename in ("_rels/.rels", "[Content_Types].xml"):
                data = re.sub(rb"<(Relationship|Override)\b[^>]*custom[^>]*/>", b"", data)
            new.writestr(info, data)
    stripped.replace(path)
    assert workbook_identity(path) is None


def test_the_first_sync_gives_the_workbook_an_identity_that_excel_keeps(team: Config, store_url: str) -> None:
    path = fill(team, cases(2))
    sync(team, store_url)
    identity = workbook_identity(path)
    assert identity is not None and set(stored_sources(team, store_url).values()) == {f"workbook:{identity}"}
    from openpyxl import load_workbook

    workbook = load_workbook(path)  # as a person's save in a spreadsheet program
    assert {p.name: p.value for p in workbook.custom_doc_props} == {"kakosheet workbook": identity}
    workbook.save(path)
    assert workbook_identity(path) == identity


def test_a_moved_and_renamed_workbook_keeps_all_its_cases(team: Config, store_url: str, tmp_path: Path) -> None:
    path = fill(team, cases(3))
    sync(team, store_url)
    versions = history_rows(store_url)
    moved = tmp_path / "share" / "mounted-elsewhere" / "After-sales master.xlsx"
    moved.parent.mkdir(parents=True)
    shutil.move(path, moved)

    result = sync(team, store_url, source=str(moved), now=LATER)

    assert result.counts["qc"] == {**result.counts["qc"], "new": 0, "gone": 0, "conflicts": 0, "unchanged": 3}
    assert result.moved_from == str(path.resolve())
    assert not [issue for issue in result.report.issues if issue.severity == "error"]
    assert [row["Case ID"] for row in sheet(moved)] == ["QC-2026-0001", "QC-2026-0002", "QC-2026-0003"]
    assert history_rows(store_url) == versions


def test_the_sync_of_a_moved_workbook_says_where_it_was_last_seen(team: Config, tmp_path: Path) -> None:
    path = fill(team, cases(1))
    runner = CliRunner()
    config, store = str(team.path), f"sqlite:///{tmp_path / 'kakosheet.db'}"
    assert runner.invoke(cli, ["--config", config, "sync", "--store", store]).exit_code == 0
    moved = tmp_path / "Ünterlagen 共有" / "After-sales master.xlsx"
    moved.parent.mkdir()
    shutil.move(path, moved)

    said = runner.invoke(cli, ["--config", config, "sync", str(moved), "--store", store])
    again = runner.invoke(cli, ["--config", config, "sync", str(moved), "--store", store, "--format", "json"])

    assert said.exit_code == 0, said.output
    assert f"last seen at {path.resolve()}; its cases follow it" in said.stdout
    assert json.loads(again.stdout)["moved_from"] is None  # seen here now


def test_a_copy_used_as_a_second_master_is_refused_and_never_merged(team: Config, store_url: str) -> None:
    path = fill(team, cases(2))
    sync(team, store_url)
    copy = shutil.copy(path, path.with_name("master (conflicted copy).xlsx"))
    before = stored_sources(team, store_url)

    with pytest.raises(SourceError) as refused:
        sync(team, store_url, source=str(copy), now=LATER)

    assert "copy of the workbook" in str(refused.value) and str(path.resolve()) in str(refused.value)
    assert stored_sources(team, store_url) == before
    assert sync(team, store_url, now=LATER).counts["qc"]["unchanged"] == 2  # the master syncs as before


def test_a_store_older_than_identities_files_the_cases_under_the_workbook(team: Config, store_url: str) -> None:
    path = fill(team, cases(3))
    sync(team, store_url)
    versions = history_rows(store_url)
    as_before_identities(team, store_url, path)

    result = sync(team, store_url, now=LATER)

    assert result.counts["qc"]["unchanged"] == 3 and result.counts["qc"]["new"] == 0
    identity = workbook_identity(path)
    assert identity is not None and set(stored_sources(team, store_url).values()) == {f"workbook:{identity}"}
    assert history_rows(store_url) == versions


def test_a_workbook_moved_before_the_upgrade_is_recognised(team: Config, store_url: str, tmp_path: Path) -> None:
    path = fill(team, cases(3))
    sync(team, store_url)
    as_before_identities(team, store_url, path)
    moved = tmp_path / "elsewhere.xlsx"
    shutil.move(path, moved)  # nothing is left where the store last saw it

    result = sync(team, store_url, source=str(moved), now=LATER)

    assert result.counts["qc"]["unchanged"] == 3 and result.counts["qc"]["conflicts"] == 0
    assert result.moved_from == str(path.resolve())


def test_a_moved_workbook_whose_old_path_holds_a_file_is_told_the_command(
    team: Config, store_url: str, tmp_path: Path
) -> None:
    path = fill(team, cases(2))
    sync(team, store_url)
    as_before_identities(team, store_url, path)
    moved = Path(shutil.copy(path, tmp_path / "new-home.xlsx"))  # the old file is still there

    first = sync(team, store_url, source=str(moved), now=LATER)
    foreign = [issue for issue in first.report.issues if issue.code == "foreign-id"]
    assert len(foreign) == 2 and "--moved-from" in foreign[0].message
    assert first.open_errors >= 2  # --strict exits 1 while they are open

    path.unlink()
    second = sync(team, store_url, source=str(moved), now=LATER, moved_from=str(path))
    assert second.counts["qc"]["conflicts"] == 0 and second.counts["qc"]["new"] == 0
    assert {row["Case ID"] for row in sheet(moved)} == {"QC-2026-0001", "QC-2026-0002"}


def test_strict_exits_1_while_a_foreign_id_is_open(team: Config, tmp_path: Path) -> None:
    other = init_team(tmp_path / "other", logs=("qc",))
    del other
    path = fill(team, cases(1))
    runner = CliRunner()
    config = str(team.path)
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    assert runner.invoke(cli, ["--config", config, "sync", "--store", store]).exit_code == 0
    second = tmp_path / "other" / "master.xlsx"
    shutil.copy(team.root / "master.xlsx", second)  # rows typed with the first sheet's IDs...
    as_new = second.with_suffix(".tmp")
    with zipfile.ZipFile(second) as old, zipfile.ZipFile(as_new, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():  # ...but another workbook of its own
            data = old.read(info)
            if info.filename == PART:
                data = re.sub(
                    rb"<vt:lpwstr>[0-9a-f]{32}</vt:lpwstr>", b"<vt:lpwstr>" + b"f" * 32 + b"</vt:lpwstr>", data
                )
            new.writestr(info, data)
    as_new.replace(second)
    del path

    result = runner.invoke(cli, ["--config", config, "sync", str(second), "--store", store, "--strict"])

    assert result.exit_code == 1, result.output
