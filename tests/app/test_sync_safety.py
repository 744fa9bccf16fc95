"""Sync under stress: processes killed mid-sync, syncs running at once, a held lock."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from kakosheet.app.setup import init_team
from kakosheet.app.sync import open_store
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_identity import workbook_identity
from kakosheet.sources.xlsx_template import fill_master_workbook
from tests.app.test_sync import qc_case, sheet


def make_team(folder: Path, rows: list[dict[str, Any]]) -> Config:
    init_team(folder, logs=("qc",))
    config = load_config(folder / "kakosheet.toml")
    fill_master_workbook(folder / "master.xlsx", config.load_schemas(), {"qc": rows})
    return config


def start_sync(config: Config, store_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kakosheet", "--config", str(config.path), "sync", "--store", store_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stored_ids(store_url: str, source: Path | None = None) -> list[str]:
    query = "select case_id from case_qc"
    params = {}
    if source is not None:  # the cases filed under the workbook's identity
        query += " where _source = :source"
        params["source"] = f"workbook:{workbook_identity(source)}"
    with create_engine(store_url).connect() as connection:
        return [row[0] for row in connection.execute(text(query), params)]


def append_rows(path: Path, count: int, tag: str) -> None:
    workbook = load_workbook(path)
    sheet_ = workbook["QC Log"]
    labels = [c.value for c in sheet_[1]]
    for i in range(count):
        case = qc_case(Description=f"{tag} {i}")
        by_label = {label: case.get(field) for label, field in _LABEL_FIELDS.items()}
        sheet_.append([by_label.get(label) for label in labels])
    workbook.save(path)


_LABEL_FIELDS = {
    "Original Order ID": "original_order_id",
    "Date Identified": "date_identified",
    "Exception Type": "exception_type",
    "Description": "description",
    "Responsible Party": "responsible_party",
    "Status": "status",
    "Currency": "currency",
    "Replacement Cost": "replacement_cost",
}


def test_killed_syncs_then_a_rerun_converge_without_duplicates_or_lost_rows(tmp_path: Path, store_url: str) -> None:
    config = make_team(tmp_path / "team", [qc_case(Description=f"first {i}") for i in range(1500)])
    workbook = config.root / "master.xlsx"
    rehearsal = tmp_path / "rehearsal"
    shutil.copytree(config.root, rehearsal)
    started = time.monotonic()
    start_sync(load_config(rehearsal / "kakosheet.toml"), f"sqlite:///{tmp_path / 'rehearsal.db'}").communicate()
    duration = time.monotonic() - started
    rng = random.Random(11)
    kills = 0
    for round_ in range(6):
        append_rows(workbook, 40, f"round {round_}")
        process = start_sync(config, store_url)
        time.sleep(rng.uniform(0.1, 0.95) * duration)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate()
    assert kills >= 3, "the syncs finished too fast to be killed mid-way; make the workbook bigger"
    final = start_sync(config, store_url)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    rows = sheet(workbook)
    ids = [row["Case ID"] for row in rows]
    assert len(rows) == 1500 + 6 * 40
    assert all(ids) and len(set(ids)) == len(ids), "every row has its own ID"
    stored = stored_ids(store_url, workbook)
    assert sorted(stored) == sorted(ids), "the store holds exactly the sheet's cases"
    again = start_sync(config, store_url)
    out, _ = again.communicate(timeout=300)
    assert f"0 new, {len(rows)} unchanged" in out


def test_eight_syncs_of_different_workbooks_into_one_store_at_once(tmp_path: Path, store_url: str) -> None:
    teams = [make_team(tmp_path / f"team{i}", [qc_case(Description=f"t{i} {j}") for j in range(150)]) for i in range(8)]
    processes = [start_sync(config, store_url) for config in teams]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    ids = [row["Case ID"] for config in teams for row in sheet(config.root / "master.xlsx")]
    assert len(ids) == 8 * 150
    duplicates = [case_id for case_id, count in Counter(ids).items() if count > 1]
    assert duplicates == []
    assert sorted(stored_ids(store_url)) == sorted(ids)


def test_a_second_sync_of_the_same_source_is_told_to_wait(tmp_path: Path, store_url: str) -> None:
    config = make_team(tmp_path / "team", [qc_case()])
    store = open_store(config, config.load_schemas(), store_url)
    with store.source_lock(str((config.root / "master.xlsx").resolve())):
        result = subprocess.run(
            [sys.executable, "-m", "kakosheet", "--config", str(config.path), "sync", "--store", store_url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 4
    assert "another sync of" in result.stderr and "is running" in result.stderr
    assert stored_ids(store_url) == []
