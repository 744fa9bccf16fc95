"""The command line as a user meets it: help, exit codes, JSON, messages without tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from kakosheet.cli import main
from tests.helpers import qc_row, qc_tab, write_workbook

Cli = Callable[..., Result]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("command", _commands(main), ids=" ".join)
def test_every_command_has_help_with_an_example(cli: Cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    target = main
    for name in command:
        target = target.commands[name]  # type: ignore[attr-defined]
    if not isinstance(target, click.Group):
        assert "Example" in result.output, f"`kakosheet {' '.join(command)} --help` shows no example"


def test_validate_exit_codes_and_json(cli: Cli, tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"QC Log": qc_tab([qc_row()])})
    bad = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab([qc_row(Status="Shipped")])})
    assert cli("validate", str(good)).exit_code == 0
    result = cli("validate", str(bad), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    [issue] = [i for i in document["issues"] if i["severity"] == "error"]
    assert set(issue) == {"log", "sheet", "row", "column", "case_id", "code", "severity", "message", "value"}
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == ("QC Log", 2, "Status", "Shipped")
    assert "error(s)" in result.stderr


def test_text_output_names_row_column_and_fix(cli: Cli, tmp_path: Path) -> None:
    bad = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab([qc_row(Owner="bob")])})
    result = cli("validate", str(bad))
    assert "row 2, Owner: error not-an-email: 'bob' is not an email address" in result.stdout


def test_a_huge_typed_id_is_quoted_short_in_its_line(cli: Cli, tmp_path: Path) -> None:
    huge = "QC-2026-" + "1" * 30000
    bad = write_workbook(tmp_path / "bad.xlsx", {"QC Log": qc_tab([qc_row(Case_ID=huge)])})
    result = cli("validate", str(bad))
    [line] = [line for line in result.stdout.splitlines() if "malformed-id" in line]
    assert len(line) < 500, line[:300]
    assert "row 2, Case ID [QC-2026-111" in line and "…" in line
    issues = json.loads(cli("validate", str(bad), "--format", "json").stdout)["issues"]
    [issue] = [i for i in issues if i["code"] == "malformed-id"]
    assert issue["value"] == huge and len(issue["message"]) < 400


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("validate",), 2, "no source given"),
        (("validate", "missing.xlsx"), 3, "no such file"),
        (("validate", "notes.txt"), 2, "kakosheet reads .xlsx and .xlsm workbooks"),
        (("validate", "notes"), 2, "not a workbook path"),
        (("--config", "nowhere.toml", "validate", "x.xlsx"), 2, "no such config file"),
    ],
)
def test_usage_errors_get_one_line_and_their_exit_code(cli: Cli, args: tuple[str, ...], code: int, says: str) -> None:
    Path("notes.txt").write_text("hello")
    result = cli(*args)
    assert result.exit_code == code
    assert says in result.stderr
    assert "Traceback" not in result.output


def test_init_writes_config_schemas_and_workbook_then_validate_uses_them(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "team", "--logs", "qc,refunds", "--timezone", "Asia/Shanghai")
    assert result.exit_code == 0, result.output
    team = tmp_path / "team"
    assert (team / "kakosheet.toml").is_file() and (team / "master.xlsx").is_file()
    assert sorted(p.name for p in (team / "schemas").glob("*.yaml"))[:2] == ["after_sales.yaml", "known_defects.yaml"]
    assert 'logs = ["qc", "refunds"]' in (team / "kakosheet.toml").read_text()
    again = cli("init", "team")
    assert again.exit_code == 2 and "--force" in again.stderr
    checked = cli("--config", str(team / "kakosheet.toml"), "validate")
    assert checked.exit_code == 0, checked.output
    assert "Returns" not in checked.stderr  # a team keeping two logs is not failed for the others


def test_a_teams_schema_edit_changes_validation(cli: Cli, tmp_path: Path) -> None:
    cli("init", "team", "--logs", "qc")
    schema = tmp_path / "team" / "schemas" / "qc.yaml"
    schema.write_text(schema.read_text().replace("Packaging Damage]", "Packaging Damage, Counterfeit]"))
    workbook = write_workbook(
        tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row(Exception_Type="counterfeit")])}
    )
    assert cli("--config", str(tmp_path / "team" / "kakosheet.toml"), "validate", str(workbook)).exit_code == 0


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda s: s.replace("type: enum", "type: enumm", 1), "qc.yaml: columns[4].type: 'enumm' is not a column type"),
        (
            lambda s: s.replace("    required: true\n", "    requird: true\n", 1),
            "qc.yaml: columns[1].requird: unknown key 'requird'",
        ),
        (lambda s: s.replace("columns:", "columns: [", 1), "qc.yaml: line"),
        (lambda s: s.replace("not_in: [Open]", "not_in: [Opened]"), "'Opened' is not one of Status's values"),
    ],
)
def test_a_broken_schema_names_its_file_and_key_and_exits_2(cli: Cli, tmp_path: Path, edit, says: str) -> None:  # type: ignore[no-untyped-def]
    cli("init", "team")
    schema = tmp_path / "team" / "schemas" / "qc.yaml"
    schema.write_text(edit(schema.read_text()))
    result = cli("--config", str(tmp_path / "team" / "kakosheet.toml"), "validate")
    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ('timezone = "Mars/Olympus"', "is not a time zone"),
        ('date_order = "YMD"', 'should be "DMY", "MDY" or ""'),
        ('logs = ["qc", "warranty"]', "'warranty' is not a log"),
        ('colour = "blue"', "unknown setting"),
    ],
)
def test_a_bad_config_setting_is_named_and_exits_2(cli: Cli, tmp_path: Path, setting: str, says: str) -> None:
    cli("init", "team")
    config = tmp_path / "team" / "kakosheet.toml"
    key = setting.split(" =")[0]
    lines = [line for line in config.read_text().splitlines() if not line.startswith(f"{key} =")]
    config.write_text("\n".join([setting, *lines]) + "\n")  # top-level keys go before [archives]
    result = cli("--config", str(config), "validate")
    assert result.exit_code == 2
    assert says in result.stderr


def test_demo_builds_a_workbook_and_finds_the_planted_mistakes(cli: Cli, tmp_path: Path) -> None:
    result = cli("demo", "sample")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sample" / "master.xlsx").is_file()
    assert "Look at:" in result.stderr
    assert "QC Log: 160 new" in result.stderr
    assert "kakosheet history QC-2026-0001" in result.stderr
    codes = {line.split(": ")[1].split()[1] for line in result.stdout.splitlines() if line.startswith("  row")}
    assert {"required", "not-in-list", "required-when"} <= codes
    rerun = cli("--config", str(tmp_path / "sample" / "kakosheet.toml"), "validate", "--format", "json")
    assert rerun.exit_code == 1
    assert json.loads(rerun.stdout)["rows"]["qc"] == 160


def test_sync_then_history_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    cli("init", "team", "--logs", "qc")
    config = str(tmp_path / "team" / "kakosheet.toml")
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Status="Shipped")])})
    dry = cli("--config", config, "sync", "--dry-run")
    assert dry.exit_code == 0 and "QC Log: 2 new" in dry.stdout and "Nothing was changed" in dry.stdout
    first = cli("--config", config, "sync", "--format", "json")
    assert first.exit_code == 0
    assert json.loads(first.stdout)["new_ids"] == {"qc": ["QC-2026-0001", "QC-2026-0002"]}
    strict = cli("--config", config, "sync", "--strict")
    assert strict.exit_code == 1 and "0 new, 2 unchanged" in strict.stdout
    shown = cli("--config", config, "history", "qc-2026-0002")
    assert shown.exit_code == 0 and "v1 created" in shown.stdout and "status: Shipped" not in shown.stdout
    unknown = cli("--config", config, "history", "QC-2026-0999")
    assert unknown.exit_code == 2 and "no case QC-2026-0999" in unknown.stderr
