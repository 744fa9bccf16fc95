"""Generate a realistic QC log workbook (.xlsx) with about 3% planted mistakes.

    python benchmarks/generate.py --rows 100000 --out benchmarks/data/qc-100k.xlsx [--shape excel|inline]

Two shapes of the same cases. ``excel`` (the default) is written the way Excel writes a workbook:
every string once in a shared-strings table, a typed URL as a hyperlink (up to Excel's 65,530 a
sheet; the rest stay plain text, as Excel leaves them), dates as numbers with a date style.
``inline`` stores every string inline in its cell (openpyxl's write-only mode): python-calamine
reads it markedly slower, so ratios to the read look better on it than on a real workbook.

The cases come from kakosheet's own sample generator (kakosheet.app.samples). Every planted
mistake is recorded: its sheet row and what was planted go to benchmarks/data/MANIFEST (JSON,
one entry per file) so a benchmark can check what a validator found against what was planted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import random
import re
import shutil
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from kakosheet.app import samples
from kakosheet.config import load_config

DATA_DIR = Path(__file__).resolve().parent / "data"
MANIFEST = DATA_DIR / "MANIFEST"
HEADER_ROW = 1
# Planted mistakes kakosheet forgives by design (see kakosheet.app.samples.MISTAKES).
HARMLESS = frozenset({"status='closed '"})
SHAPES = ("excel", "inline")
EXCEL_MAX_LINKS = 65_530  # hyperlinks a worksheet may hold; Excel leaves later typed URLs as text
URL = re.compile(r"https?://\S+")


def describe_mistake(plant: Callable[..., None]) -> str:
    """A short name for a planted mistake, e.g. ``blank original_order_id`` or ``status='Done'``."""
    found = inspect.getclosurevars(plant).nonlocals
    kind = plant.__qualname__.split(".")[0].strip("_")
    if kind == "set":
        return f"{found['field']}={found['value']!r}"
    return f"{kind} {found['field']}"


@contextmanager
def recording_mistakes(log: str) -> Iterator[dict[int, str]]:
    """Wrap the log's planted mistakes (in memory only) to learn which row got which."""
    planted: dict[int, str] = {}
    original = samples.MISTAKES[log]

    def wrap(plant: Callable[..., None]) -> Callable[..., None]:
        name = describe_mistake(plant)

        def recorded(rng: random.Random, row: dict[str, Any], world: samples.World) -> None:
            planted[id(row)] = name
            plant(rng, row, world)

        return recorded

    samples.MISTAKES[log] = [wrap(plant) for plant in original]
    try:
        yield planted
    finally:
        samples.MISTAKES[log] = original


def assign_case_ids(rows: list[dict[str, Any]], today: dt.date) -> None:
    """Give each case an ID as a sync would: QC-{year}-{number:04d}, numbered per year."""
    numbers: Counter[int] = Counter()
    for row in rows:
        found = row.get("date_identified")
        year = found.year if isinstance(found, dt.date) else today.year
        numbers[year] += 1
        row["case_id"] = f"QC-{year}-{numbers[year]:04d}"


def write_excel_workbook(
    path: Path, tab: str, labels: list[str], fields: list[str], rows: list[dict[str, Any]]
) -> None:
    """One sheet, header row then cases, as Excel writes it: shared strings, typed URLs as hyperlinks."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(tab)
    date_style = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_style = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, labels)
    links = 0
    for number, row in enumerate(rows, start=1):
        for col, field in enumerate(fields):
            value = row.get(field)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(number, col, value, datetime_style)
            elif isinstance(value, dt.date):
                sheet.write_datetime(number, col, value, date_style)
            elif isinstance(value, str) and links < EXCEL_MAX_LINKS and URL.fullmatch(value):
                links += 1
                sheet.write_url(number, col, value)
            elif isinstance(value, str):
                sheet.write_string(number, col, value)
            else:
                sheet.write(number, col, value)
    workbook.close()


def write_inline_workbook(
    path: Path, tab: str, labels: list[str], fields: list[str], rows: list[dict[str, Any]]
) -> None:
    """One sheet, header row then cases, written in openpyxl's streaming (write-only) mode: inline strings."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(tab)
    sheet.append(labels)
    for row in rows:
        sheet.append([row.get(field) for field in fields])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    add_dimension(path, f"A1:{get_column_letter(len(labels))}{len(rows) + 1}")


def add_dimension(path: Path, ref: str) -> None:
    """Insert the ``<dimension>`` element Excel always writes (openpyxl's write-only mode leaves it out)."""
    element = f'</sheetPr><dimension ref="{ref}"/>'.encode()
    staging = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with source.open(info) as reader, target.open(entry, "w") as writer:
                head = reader.read(1 << 16)
                if info.filename.startswith("xl/worksheets/"):
                    if b"</sheetPr>" not in head:
                        raise ValueError(f"{info.filename}: no </sheetPr> to put the dimension after")
                    head = head.replace(b"</sheetPr>", element, 1)
                writer.write(head)
                shutil.copyfileobj(reader, writer, 1 << 20)
    staging.replace(path)


def update_manifest(path: Path, entry: dict[str, Any]) -> None:
    """Record one generated file's planted mistakes in the data folder's MANIFEST."""
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    manifest[path.name] = entry
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The MANIFEST entry of a generated file, or None when it is not recorded."""
    if not MANIFEST.is_file():
        return None
    return json.loads(MANIFEST.read_text()).get(Path(path).name)


def generate(
    rows: int,
    out: Path,
    *,
    seed: int = 1,
    bad_share: float = 0.03,
    case_ids: bool = True,
    shape: str = "excel",
) -> dict[str, Any]:
    """Write ``rows`` QC cases to ``out`` in ``shape`` and return its MANIFEST entry (with timings)."""
    if shape not in SHAPES:
        raise ValueError(f"shape {shape!r}: expected one of {', '.join(SHAPES)}")
    qc = load_config(None).load_schemas()["qc"]
    today = dt.date.today()
    rng = random.Random(seed)
    world = samples.make_world(rng, today=today)
    started = time.perf_counter()
    with recording_mistakes("qc") as planted:
        cases = samples.make_cases(rng, world, "qc", rows, bad_share=bad_share)
    made = time.perf_counter()
    if case_ids:
        assign_case_ids(cases, today)
    fields = [column.field for column in qc.columns]
    write = write_excel_workbook if shape == "excel" else write_inline_workbook
    write(out, qc.tab, [column.label for column in qc.columns], fields, cases)
    written = time.perf_counter()
    planted_rows = {
        HEADER_ROW + 1 + index: planted[id(case)] for index, case in enumerate(cases) if id(case) in planted
    }
    entry = {
        "rows": rows,
        "seed": seed,
        "bad_share": bad_share,
        "case_ids": case_ids,
        "shape": shape,
        "generated_on": today.isoformat(),
        "planted": len(planted_rows),
        "planted_errors": sum(1 for name in planted_rows.values() if name not in HARMLESS),
        "by_mistake": dict(sorted(Counter(planted_rows.values()).items())),
        "planted_rows": planted_rows,
        "seconds_make_cases": round(made - started, 2),
        "seconds_write_xlsx": round(written - made, 2),
        "bytes": out.stat().st_size,
    }
    update_manifest(out, entry)
    return entry


def main() -> None:
    """Command line: generate one workbook and print what was planted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of cases")
    parser.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-share", type=float, default=0.03, help="share of cases with a planted mistake")
    parser.add_argument(
        "--no-case-ids",
        dest="case_ids",
        action="store_false",
        help="leave Case ID blank (cases never synced) instead of QC-YYYY-NNNN",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="excel",
        help="excel: shared strings and hyperlinks, as Excel writes (default); inline: inline strings",
    )
    args = parser.parse_args()
    entry = generate(
        args.rows, args.out, seed=args.seed, bad_share=args.bad_share, case_ids=args.case_ids, shape=args.shape
    )
    print(
        f"{args.out} ({args.shape}): {entry['rows']} rows, {entry['planted']} planted mistakes "
        f"({entry['planted_errors']} should be errors), {entry['bytes'] / 1e6:.1f} MB; "
        f"make_cases {entry['seconds_make_cases']} s, write {entry['seconds_write_xlsx']} s"
    )
    for name, count in entry["by_mistake"].items():
        print(f"  {count:6d}  {name}")


if __name__ == "__main__":
    main()
