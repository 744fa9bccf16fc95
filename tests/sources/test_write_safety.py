"""Nothing lost, whatever the team does with the workbook while kakosheet writes it back.

Staff save it mid-sync, keep it open in LibreOffice, link it from another folder, put
formulas in kakosheet's columns, keep a 1904 workbook; the disk fills up, a folder sits
where the backup goes. Every test runs kakosheet on a real workbook, mostly as a process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import grp
import os
import pwd
import re
import resource
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import python_calamine
from openpyxl import Workbook, load_workbook
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from kakosheet.app.sync import sync_source
from kakosheet.core.writeback import CellUpdate, SheetWrite, WriteBack
from kakosheet.sources.xlsx import XlsxSource
from tests.helpers import QC_LABELS, qc_row, qc_tab, run_kakosheet, write_workbook
from tests.sources.test_writeback import team_for

NOW = dt.datetime(2026, 6, 30, 9, 0)
ID, DATE_LOGGED, DESCRIPTION = (QC_LABELS.index(label) for label in ("Case ID", "Date Logged", "Description"))


def team(tmp_path: Path, rows: list[dict[str, object]], **options: bool) -> tuple[Path, Path]:
    """A team folder with kakosheet.toml and a QC Log workbook of these rows: (folder, workbook)."""
    folder = tmp_path / "team"
    folder.mkdir()
    workbook = write_workbook(folder / "log.xlsx", {"QC Log": qc_tab(rows)}, **options)
    team_for(folder, workbook)
    return folder, workbook


def column_of(path: Path, column: int) -> list[object]:
    """The values of a QC Log column under its header, as python-calamine reads them."""
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("QC Log")
    return [row[column] for row in sheet.to_python()[1:]]


def temporaries(*folders: Path) -> list[Path]:
    return [found for folder in folders for found in folder.glob(".~kakosheet-*")]


def start_sync(folder: Path, **options: object) -> subprocess.Popen[str]:
    """``kakosheet sync`` as a process of its own group, as a scheduled job runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "kakosheet", "sync"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
        **options,  # type: ignore[call-overload]
    )


def wait_for(found: Callable[[], object], process: subprocess.Popen[str], what: str) -> object:
    """Poll (about every millisecond) until ``found`` returns something, while the sync runs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (result := found()) is not None and result is not False:
            return result
        if process.poll() is not None:
            pytest.fail(f"the sync ended before {what}: {process.communicate()}")
        time.sleep(0.001)
    pytest.fail(f"waited a minute for {what}")


def save_as_excel_does(workbook: Path, content: bytes) -> None:
    """A staff save: the new version written beside the file, then renamed over it."""
    saving = workbook.with_name("~saving.tmp")
    saving.write_bytes(content)
    os.replace(saving, workbook)


def edited(tmp_path: Path, rows: list[dict[str, object]]) -> bytes:
    """The workbook as a colleague saves it: the same rows, one description edited."""
    rows = [dict(row) for row in rows]
    rows[1]["Description"] = "Edited by Ana while the sync ran"
    return write_workbook(tmp_path / "edited.xlsx", {"QC Log": qc_tab(rows)}).read_bytes()


# --------------------------------------------------------------------------- 1. a save during the write


def many_rows() -> list[dict[str, object]]:
    """Rows enough (a sheet part of several megabytes) that building the new version takes a while."""
    return [qc_row(Description=f"Case {n}: " + "carton crushed, item scratched; " * 40) for n in range(3000)]


def test_a_save_made_while_the_new_version_is_built_is_kept_and_the_next_sync_finishes(tmp_path: Path) -> None:
    rows = many_rows()
    folder, workbook = team(tmp_path, rows)
    staff_version = edited(tmp_path, rows)
    sync = start_sync(folder)
    temporary = wait_for(lambda: next(iter(temporaries(folder)), None), sync, "the new version was begun")
    os.killpg(sync.pid, signal.SIGSTOP)  # the sync is held between building and swapping in
    try:
        assert Path(str(temporary)).exists(), "the sync swapped its version in before the test could save"
        save_as_excel_does(workbook, staff_version)
    finally:
        os.killpg(sync.pid, signal.SIGCONT)
    _, stderr = sync.communicate(timeout=120)
    assert sync.returncode == 4, stderr
    # Found by the check right before the swap, or (on a slow machine) by the one after the read.
    assert "changed on disk while" in stderr and "nothing was written" in stderr
    assert workbook.read_bytes() == staff_version
    assert not temporaries(folder)

    again = run_kakosheet("sync", cwd=folder, timeout=120)
    assert again.returncode == 0, again.stderr
    descriptions, ids = column_of(workbook, DESCRIPTION), column_of(workbook, ID)
    assert descriptions[1] == "Edited by Ana while the sync ran"
    assert len(set(ids)) == 3000 and all(str(case_id).startswith("QC-2026-") for case_id in ids)


def test_the_new_version_a_killed_sync_left_is_removed_by_the_next_one(tmp_path: Path) -> None:
    folder, workbook = team(tmp_path, many_rows())
    sync = start_sync(folder)
    left = Path(str(wait_for(lambda: next(iter(temporaries(folder)), None), sync, "the new version was begun")))
    os.killpg(sync.pid, signal.SIGKILL)  # no cleanup runs
    sync.wait(timeout=60)
    assert left.exists()
    a_while_ago = time.time() - 3600
    os.utime(left, (a_while_ago, a_while_ago))  # the next sync comes later
    under_way = folder / ".~kakosheet-another.xlsx"  # another write-back's, under way: held, and kept
    under_way.write_bytes(b"")
    os.utime(under_way, (a_while_ago, a_while_ago))
    holder = os.open(under_way, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        again = run_kakosheet("sync", cwd=folder, timeout=120)
        assert again.returncode == 0, again.stderr
        assert temporaries(folder) == [under_way]
    finally:
        os.close(holder)
    ids = column_of(workbook, ID)
    assert len(set(ids)) == 3000 and all(str(case_id).startswith("QC-2026-") for case_id in ids)


# --------------------------------------------------------------------------- 2. open in LibreOffice


def test_a_workbook_open_in_libreoffice_is_not_written_and_the_message_says_by_whom(tmp_path: Path) -> None:
    folder, workbook = team(tmp_path, [qc_row(), qc_row(Description="second")])
    lock = folder / ".~lock.log.xlsx#"
    # What LibreOffice writes: name,user,host,time,profile; (a comma in a field is escaped)
    lock.write_text("Lima\\, Ana,ana,ana-laptop,01.12.2026 09:40,file:///home/ana/.config/libreoffice/4;")
    before = workbook.read_bytes()
    refused = run_kakosheet("sync", cwd=folder)
    assert refused.returncode == 4, refused.stderr
    assert "log.xlsx is open in LibreOffice by Lima, Ana on ana-laptop" in refused.stderr
    assert "nothing was written to it" in refused.stderr and "delete .~lock.log.xlsx#" in refused.stderr
    assert workbook.read_bytes() == before and not temporaries(folder)

    lock.unlink()  # Calc closed: the next sync finishes the job
    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert column_of(workbook, ID) == ["QC-2026-0003", "QC-2026-0004"]  # the refused sync's numbers stay unused


# --------------------------------------------------------------------------- 3. a symlinked workbook


def test_a_plain_workbook_keeps_its_owner_group_and_mode(tmp_path: Path) -> None:
    """A sync run by a service account leaves the file to whom it belonged."""
    if os.geteuid() != 0:
        pytest.skip("giving the workbook to another owner needs root")
    folder, workbook = team(tmp_path, [qc_row()])
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    os.chown(workbook, nobody, nogroup)
    workbook.chmod(0o660)
    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert column_of(workbook, ID) == ["QC-2026-0001"]
    status = workbook.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (nobody, nogroup, 0o660)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the workbook to another owner needs root")
def test_a_symlinked_workbook_is_written_through_its_link_keeping_owner_group_and_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = write_workbook(shared / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Description="second")])})
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    os.chown(real, nobody, nogroup)
    real.chmod(0o664)
    folder = tmp_path / "team"
    folder.mkdir()
    link = folder / "log.xlsx"
    link.symlink_to(Path("..") / "shared" / "master.xlsx")
    team_for(folder, link)

    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "shared" / "master.xlsx")
    assert column_of(real, ID) == ["QC-2026-0001", "QC-2026-0002"]
    status = real.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (nobody, nogroup, 0o664)
    assert (shared / "master.backup.xlsx").is_file() and not (folder / "log.backup.xlsx").exists()
    assert not temporaries(folder, shared)

    synced = real.read_bytes()
    again = run_kakosheet("sync", cwd=folder)  # the store knows the cases through the link: nothing to write
    assert again.returncode == 0, again.stderr
    assert real.read_bytes() == synced


def test_a_libreoffice_lock_beside_the_real_file_of_a_link_is_seen(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = write_workbook(shared / "master.xlsx", {"QC Log": qc_tab([qc_row()])})
    (shared / ".~lock.master.xlsx#").write_text(",bea,pc-7,01.12.2026 09:40,file:///home/bea/.config/libreoffice/4;")
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "log.xlsx").symlink_to(real)
    team_for(folder, folder / "log.xlsx")
    before = real.read_bytes()
    refused = run_kakosheet("sync", cwd=folder)
    assert refused.returncode == 4 and "open in LibreOffice by bea on pc-7" in refused.stderr, refused.stderr
    assert real.read_bytes() == before


# --------------------------------------------------------------------------- 4. formulas in kakosheet's columns


def with_formulas(path: Path) -> Path:
    """The workbook with staff formulas in Date Logged (column D): a shared formula over D2:D4 (the
    anchor and two cells that point at it, no cached value), and in D5 one yielding an empty text."""
    cells = {
        2: '<c r="D2"><f t="shared" ref="D2:D4" si="0">NOW()</f></c>',
        3: '<c r="D3"><f t="shared" si="0"/></c>',
        4: '<c r="D4"><f t="shared" si="0"/></c>',
        5: '<c r="D5" t="str"><f>IF(K5="","",NOW())</f><v></v></c>',
    }
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    for row, cell in cells.items():
        after_c = re.compile(rb'<c r="C' + str(row).encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
        sheet = after_c.sub(lambda found, cell=cell: found.group(0) + cell.encode(), sheet, count=1)
    parts["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def date_logged_cells(path: Path) -> dict[int, bytes]:
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    return {
        int(found.group(1)): found.group(0)
        for found in re.finditer(rb'<c r="D(\d+)"[^>]*?(?:/>|>.*?</c>)', sheet, re.S)
        if found.group(1) != b"1"  # the header
    }


def test_staff_formulas_in_date_logged_survive_a_sync_byte_for_byte(tmp_path: Path) -> None:
    folder, workbook = team(tmp_path, [qc_row(Date_Logged=None) for _ in range(5)])
    with_formulas(workbook)
    before = date_logged_cells(workbook)
    assert set(before) == {2, 3, 4, 5}
    done = run_kakosheet("sync", cwd=folder)
    assert done.returncode == 0, done.stderr
    after = date_logged_cells(workbook)
    assert {row: after[row] for row in before} == before
    assert column_of(workbook, ID)[:5] == [f"QC-2026-000{n}" for n in range(1, 6)]
    assert isinstance(column_of(workbook, DATE_LOGGED)[4], dt.datetime)  # row 6 had no formula: filled


def test_the_patcher_never_replaces_a_formula_cell_and_says_which_it_left(tmp_path: Path) -> None:
    """The last line of defence, whatever was planned: cells holding a formula are left as they are."""
    _, workbook = team(tmp_path, [qc_row(Date_Logged=None) for _ in range(5)])
    with_formulas(workbook)
    with zipfile.ZipFile(workbook) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    parts["xl/worksheets/sheet1.xml"] = re.sub(  # and a formula in an ID cell
        rb'(<row r="3"[^>]*>)', rb'\1<c r="A3" t="str"><f>""</f><v></v></c>', parts["xl/worksheets/sheet1.xml"]
    )
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    before = date_logged_cells(workbook)
    fills = [CellUpdate(row, DATE_LOGGED, NOW, None) for row in range(2, 7)]
    ids = [CellUpdate(row, ID, f"QC-2026-000{row - 1}", None) for row in (2, 3)]
    write = SheetWrite(
        sheet="QC Log", header_row=1, first_column=0, last_column=20, issues_column=None, id_column=ID, cells=[]
    )
    write.cells = sorted([*fills, *ids], key=lambda update: (update.row, update.column))
    result = XlsxSource(workbook).write_back(WriteBack(sheets=[write]))
    assert result.written
    assert result.formulas_kept == {("QC Log", row, DATE_LOGGED) for row in (2, 3, 4, 5)} | {("QC Log", 3, ID)}
    assert result.skipped == {("QC Log", 3)}  # its ID could not be written: its case waits
    after = date_logged_cells(workbook)
    assert {row: after[row] for row in before} == before
    assert column_of(workbook, ID)[:2] == ["QC-2026-0001", ""]
    assert column_of(workbook, DATE_LOGGED)[4] == NOW


# --------------------------------------------------------------------------- 5. the 1904 date system


def test_date_logged_written_into_a_1904_workbook_reads_back_as_the_same_date(tmp_path: Path) -> None:
    folder, workbook = team(tmp_path, [qc_row(Date_Logged=None), qc_row(Description="second")], date1904=True)
    config = team_for(folder, workbook)
    sync_source(config, store_url=f"sqlite:///{tmp_path / 's.db'}", now=NOW)
    assert column_of(workbook, DATE_LOGGED) == [NOW, dt.datetime(2026, 3, 2, 11, 0)]
    sheet = load_workbook(workbook)["QC Log"]
    assert sheet.cell(row=2, column=DATE_LOGGED + 1).value == NOW


# --------------------------------------------------------------------------- 6. faults of the environment


def limit_file_size(limit: int) -> Callable[[], None]:
    """For a child process: files may not grow past ``limit`` bytes, as on a disk that is full."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails with EFBIG instead of killing

    return apply


def test_a_full_disk_while_writing_leaves_the_workbook_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    book = Workbook()
    sheet = book.active
    sheet.title = "QC Log"
    for row in qc_tab([qc_row(), qc_row(Description="second")]):
        sheet.append(row)
    photo = tmp_path / "photo.png"
    PILImage.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(photo)  # ~1.5 MB, incompressible
    sheet.add_image(Image(str(photo)), "X2")
    workbook = folder / "log.xlsx"
    book.save(workbook)
    team_for(folder, workbook)
    assert workbook.stat().st_size > 1 << 20
    before = workbook.read_bytes()

    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    full = subprocess.run(
        [sys.executable, "-m", "kakosheet", "sync"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=limit_file_size(1 << 20),
    )
    assert full.returncode == 3, full.stderr
    assert "cannot write its new version" in full.stderr and "nothing was written to it" in full.stderr
    assert "Free some space" in full.stderr
    assert workbook.read_bytes() == before and not temporaries(folder)
    assert not (folder / "log.backup.xlsx").exists()

    done = run_kakosheet("sync", cwd=folder)  # room again: the next sync finishes the job
    assert done.returncode == 0, done.stderr
    assert column_of(workbook, ID) == ["QC-2026-0003", "QC-2026-0004"]  # the failed sync's numbers stay unused


def test_a_folder_where_the_backup_goes_stops_the_sync_before_anything_is_stored(tmp_path: Path) -> None:
    folder, workbook = team(tmp_path, [qc_row()])
    (folder / "log.backup.xlsx").mkdir()
    before = workbook.read_bytes()
    refused = run_kakosheet("sync", cwd=folder)
    assert refused.returncode == 3, refused.stderr
    assert "log.backup.xlsx beside it is a folder" in refused.stderr
    assert "move or rename the folder log.backup.xlsx" in refused.stderr
    assert workbook.read_bytes() == before and not temporaries(folder)
    assert (folder / "log.backup.xlsx").is_dir()
    history = run_kakosheet("history", "QC-2026-0001", cwd=folder)
    assert history.returncode != 0 and "Traceback" not in history.stderr  # nothing was stored


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder as on a read-only share: nothing can be created in it (root ignores modes, so
    as root the folder is made immutable)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("the file system here cannot make a folder immutable")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_folder_stops_setup_and_the_report_tab_with_a_sentence(tmp_path: Path) -> None:
    """setup and `report --format sheet` write the workbook as sync does; in a folder they may not
    write in they once ended with an unexpected error (exit 70) instead of sync's sentence."""
    folder, workbook = team(tmp_path, [qc_row()])
    store = f"sqlite:///{tmp_path / 'store.db'}"  # the store elsewhere: only the workbook's folder is read-only
    assert run_kakosheet("sync", "--store", store, cwd=folder).returncode == 0
    schema = folder / "schemas" / "qc.yaml"
    schema.write_text(schema.read_text().replace("Packaging Damage]", "Packaging Damage, Counterfeit]"))
    before = workbook.read_bytes()
    with read_only(folder):
        for args in (("setup",), ("report", "weekly", "--period", "2026-W10", "--format", "sheet", "--store", store)):
            refused = run_kakosheet(*args, cwd=folder)
            assert refused.returncode == 3, refused.stderr
            assert "log.xlsx: cannot write its new version" in refused.stderr, refused.stderr
            assert "Let kakosheet's user write to the workbook's folder" in refused.stderr
            assert workbook.read_bytes() == before and not temporaries(folder)
    assert run_kakosheet("setup", cwd=folder).returncode == 0  # writable again: it just works


def cell_scan_of(sync: subprocess.Popen[str]) -> int | None:
    """The pid of the sync's child that scans the workbook's cells, once it is running."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == sync.pid and b"kakosheet.sources.xlsx_package" in command:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the sync's cell scan in /proc")
def test_a_workbook_saved_while_it_is_read_stops_the_sync_with_a_sentence(tmp_path: Path) -> None:
    rows = many_rows()
    folder, workbook = team(tmp_path, rows)
    staff_version = edited(tmp_path, rows)
    sync = start_sync(folder)
    wait_for(lambda: cell_scan_of(sync), sync, "the workbook was being read")
    with workbook.open("r+b") as saving:  # Calc saves in place: for a moment the file is half written
        saving.truncate(0)
        saving.write(staff_version[: len(staff_version) // 2])
    _, stderr = sync.communicate(timeout=120)
    assert sync.returncode == 4, stderr
    assert "changed on disk while kakosheet read it" in stderr and "Run sync again" in stderr
    assert workbook.read_bytes() == staff_version[: len(staff_version) // 2] and not temporaries(folder)

    workbook.write_bytes(staff_version)  # the save completes
    again = run_kakosheet("sync", cwd=folder, timeout=120)
    assert again.returncode == 0, again.stderr
    assert column_of(workbook, DESCRIPTION)[1] == "Edited by Ana while the sync ran"
