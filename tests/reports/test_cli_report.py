"""`kakosheet report` as a user runs it: JSON on stdout, clear messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_kakosheet
from tests.reports.store import build_team


def test_the_weekly_report_as_json_and_its_mistakes(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    done = run_kakosheet("report", "weekly", "--period", "2026-W53", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["period"] == "2026-W53"

    out = folder / "week.json"
    done = run_kakosheet("report", "weekly", "--period", "2026-W53", "--out", str(out), cwd=folder)
    assert done.returncode == 0 and json.loads(out.read_text())["costs"]["currencies"]

    bad = run_kakosheet("report", "weekly", "--period", "2026-11", cwd=folder)
    assert bad.returncode == 2 and "write it as 2026-W47" in bad.stderr and "Traceback" not in bad.stderr
    rates = folder / "rates.csv"
    rates.write_text("currency,rate,valid_from\nCNY,abc,2026-01-01\n", encoding="utf-8")
    bad = run_kakosheet("report", "weekly", "--rates", str(rates), cwd=folder)
    assert bad.returncode == 2 and "rates.csv, line 2" in bad.stderr
    bad = run_kakosheet("report", "weekly", "--logs", "returns", cwd=folder)
    assert bad.returncode == 2 and "'returns' is not one of the team's logs" in bad.stderr


def test_a_rate_table_as_excel_saves_it_is_read_and_a_bad_one_is_named(tmp_path: Path) -> None:
    """Excel in a decimal-comma locale saves CSV with semicolons: its columns were said to be missing;
    a file not in UTF-8, or with a field past the csv module's limit, ended with exit 70."""
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    rates = folder / "rates.csv"
    rates.write_text("\ufeffcurrency;rate;valid_from\nCNY;0.15;2026-01-01\nCNY;0.14;2026-12-01\n", encoding="utf-8")
    done = run_kakosheet("report", "weekly", "--period", "2026-W53", "--rates", str(rates), cwd=folder)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["costs"]["base"]["net"] == "99.50"  # 85.50 USD + 100.00 CNY x 0.14
    for content, says in (
        ("currency,rate\nCNY,0.14\nEUR,1.08 (März)\n".encode("latin-1"), "rates.csv: is not UTF-8 text"),
        (b'currency,rate\nCNY,"' + b"x" * 200_000 + b'"\n', "rates.csv: is not well-formed CSV"),
        (b"valid_from\n2026-01-01\n", "needs the columns currency and rate, and valid_from if rates change"),
    ):
        rates.write_bytes(content)
        bad = run_kakosheet("report", "weekly", "--period", "2026-W53", "--rates", str(rates), cwd=folder)
        assert bad.returncode == 2, bad.stderr
        assert says in bad.stderr and "unexpected" not in bad.stderr


def test_a_rate_table_not_saved_as_csv_utf8_is_named_with_how_to_save_it(tmp_path: Path) -> None:
    """Excel's "Unicode Text" (UTF-16) and a legacy code page's "CSV" are not UTF-8: a message, exit 2."""
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    rates = folder / "rates.csv"
    for text, encoding in (
        ("currency,rate,valid_from\nCNY,0.15,2026-01-01\n", "utf-16"),
        ("currency,rate\n€,1\n", "cp1252"),
    ):
        rates.write_text(text, encoding=encoding)
        bad = run_kakosheet("report", "weekly", "--period", "2026-W53", "--rates", str(rates), cwd=folder)
        assert bad.returncode == 2, bad.stderr
        assert "rates.csv: is not UTF-8 text" in bad.stderr and 'save it as "CSV UTF-8"' in bad.stderr


def test_a_report_before_any_sync_or_outside_a_team_says_so(tmp_path: Path) -> None:
    done = run_kakosheet("init", "team", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_kakosheet("report", "monthly", cwd=tmp_path / "team")
    assert done.returncode == 2 and "run `kakosheet sync` first" in done.stderr
    assert not (tmp_path / "team" / "kakosheet.db").exists()  # a report creates no store
    done = run_kakosheet("report", "weekly", cwd=tmp_path)
    assert done.returncode == 2 and "no kakosheet.toml found" in done.stderr


def test_every_format_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    build_team(folder, f"sqlite:///{folder / 'kakosheet.db'}")
    for name in ("md", "html", "xlsx"):
        out = folder / f"week.{name}"
        done = run_kakosheet(
            "report", "weekly", "--period", "2026-W53", "--format", name, "--out", str(out), cwd=folder
        )
        assert done.returncode == 0, done.stderr
        assert f"Wrote the weekly report of 2026-W53 to {out}" in done.stderr
    assert (folder / "week.md").read_text().startswith("# Weekly report 2026-W53")
    assert (folder / "week.xlsx").read_bytes()[:2] == b"PK"
    done = run_kakosheet("report", "weekly", "--format", "xlsx", cwd=folder)
    assert done.returncode == 2 and "--out report.xlsx" in done.stderr
    done = run_kakosheet("report", "weekly", "--period", "2026-W53", "--source", "master.xlsx", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"].startswith("workbook:")
    assert json.loads(done.stdout)["reasons"]["rows"]
