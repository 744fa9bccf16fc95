"""`kakosheet demo`: a sample team folder with realistic cases, some deliberately wrong,
validated and synced: IDs and issue notes come back into the workbook."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kakosheet.app.progress import SILENT, Progress
from kakosheet.app.report import ReportOptions, run_report
from kakosheet.app.samples import make_cases, make_closure_mistakes, make_world, reference_rows
from kakosheet.app.setup import init_team
from kakosheet.app.sync import SyncResult, sync_source
from kakosheet.app.validate import validate_source
from kakosheet.config import load_config
from kakosheet.core.issues import Report
from kakosheet.errors import NoRoomError, no_room
from kakosheet.reports.periods import PeriodKind
from kakosheet.sources.xlsx_template import fill_master_workbook

# How the sample cases are shared out between the logs.
SHARES = {"qc": 0.4, "refunds": 0.25, "returns": 0.2, "after_sales": 0.15}
BAD_SHARE = 0.08


@dataclass(frozen=True)
class DemoResult:
    config: Path
    workbook: Path
    report: Report
    sync: SyncResult
    weekly: Path  # last week's manager report, as one HTML file
    weekly_tab: str | None = None  # the same report as a tab of the demo workbook


def default_folder() -> Path:
    """kakosheet-demo in the system's temporary folder: outside any project or team folder."""
    return Path(tempfile.gettempdir()) / "kakosheet-demo"


def run_demo(folder: Path, *, cases: int = 400, seed: int = 7, progress: Progress = SILENT) -> DemoResult:
    """Set up ``folder`` as a team, fill its master workbook with sample cases, validate it.

    A disk that fills up stops it with a sentence; what it wrote so far is whole (each file is
    replaced whole, the store keeps no half-done sync) and a demo run again starts afresh."""
    try:
        return _run_demo(folder, cases=cases, seed=seed, progress=progress)
    except OSError as exc:
        if not no_room(exc):
            raise
        raise NoRoomError(
            f"{folder}: the demo ran out of room ({exc.strerror or exc}); no file was left half-written. Free some "
            "space on the disk (or raise the quota or file size limit) and run `kakosheet demo` again, which starts "
            "afresh, or name a folder on another disk"
        ) from exc


def _run_demo(folder: Path, *, cases: int, seed: int, progress: Progress) -> DemoResult:
    progress.stage(f"writing {cases} sample cases")
    init = init_team(folder, force=True)
    config = load_config(init.config)
    schemas = config.load_schemas()
    rng = random.Random(seed)
    # Orders grow with the cases (about three per case, as a shop's after-sales rate goes), so a big
    # demo's refunds spread over many orders instead of piling up past what one order paid.
    world = make_world(rng, today=config.today(), orders=max(600, 3 * cases))
    rows = {
        log: make_cases(rng, world, log, max(1, round(cases * share)), bad_share=BAD_SHARE)
        for log, share in SHARES.items()
    }
    make_closure_mistakes(rows["qc"])
    rows.update(reference_rows(world))
    fill_master_workbook(init.workbook, schemas, rows)
    report = validate_source(config, progress=progress)
    for stale in folder.glob("kakosheet.db*"):  # a demo run starts from an empty store (and its WAL)
        stale.unlink()
    synced = sync_source(config, progress=progress)
    progress.stage("writing the weekly report")
    weekly = folder / "weekly-report.html"
    run_report(config, ReportOptions(kind=PeriodKind.WEEKLY), "html", out=weekly)
    tab = run_report(config, ReportOptions(kind=PeriodKind.WEEKLY), "sheet").tab
    return DemoResult(
        config=init.config, workbook=init.workbook, report=report, sync=synced, weekly=weekly, weekly_tab=tab
    )
