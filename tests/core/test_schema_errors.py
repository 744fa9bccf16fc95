"""A schema key that does not fit its column is refused at load, with file and key, in plain words."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from kakosheet.config import default_schema_dir
from kakosheet.core.schema import parse_schema
from kakosheet.errors import SchemaError
from tests.helpers import qc_row, qc_tab, write_workbook

Cli = Callable[..., Result]
QC = yaml.safe_load((default_schema_dir() / "qc.yaml").read_text())


def _column(data: dict[str, Any], field: str) -> dict[str, Any]:
    return next(c for c in data["columns"] if c["field"] == field)


def _index(field: str) -> int:
    return next(i for i, c in enumerate(QC["columns"]) if c["field"] == field)


def _edited(edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = copy.deepcopy(QC)
    edit(data)
    return data


def _refused(data: Any) -> str:
    with pytest.raises(SchemaError) as refused:
        parse_schema(data, "qc.yaml")
    return str(refused.value)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        # Accepted at load today, and validation then compares text with a number.
        (lambda d: _column(d, "description").update(min=3), "description.min: only number columns"),
        (lambda d: _column(d, "status").update(max=2), "status.max: only number columns"),
        (lambda d: _column(d, "date_identified").update(min=0), "date_identified.min: only number columns"),
        # Silently ignored today.
        (lambda d: _column(d, "date_identified").update(pattern="^2026"), "date_identified.pattern: only text columns"),
        (lambda d: _column(d, "replacement_cost").update(pattern="^[0-9]+$"), "replacement_cost.pattern: only text"),
        (lambda d: _column(d, "owner").update(pattern_hint="a name"), "owner.pattern_hint: 'pattern_hint' describes"),
        (lambda d: _column(d, "date_identified").update(references="orders"), "date_identified.references: only code"),
        (
            lambda d: _column(d, "penalty").update(min=None, exclusive_min=True),
            "penalty.exclusive_min: 'exclusive_min' needs",
        ),
        (lambda d: _column(d, "penalty").update(min=5, max=1), "penalty.min: min (5) is more than max (1)"),
        (lambda d: _column(d, "description").update(width=0), "description.width: should be a positive whole number"),
        (
            lambda d: _column(d, "description").update(required_when={"field": "penalty", "in": ["0"]}),
            "'in' and 'not_in' compare text, and Penalty is a money column",
        ),
        # Crashes validation today: a date compared with a description.
        (
            lambda d: _column(d, "closure_date").update(not_before="description"),
            "closure_date.not_before: 'description' is not a date column",
        ),
        # Already refused, and still.
        (lambda d: _column(d, "description").update(values=["A", "B"]), "only enum columns take 'values'"),
        (lambda d: _column(d, "description").update(not_future=True), "description.not_future: only date columns"),
    ],
)
def test_a_key_its_column_type_does_not_take_is_refused_at_load(
    edit: Callable[[dict[str, Any]], Any], says: str
) -> None:
    data = _edited(edit)
    message = _refused(data)
    for field in ("description", "status", "date_identified", "replacement_cost", "owner", "penalty", "closure_date"):
        says = says.replace(f"{field}.", f"columns[{_index(field)}].", 1) if says.startswith(f"{field}.") else says
    assert message.startswith("qc.yaml: columns["), message
    assert says in message, message


def test_the_default_schemas_still_load() -> None:
    for path in sorted(default_schema_dir().glob("*.yaml")):
        parse_schema(yaml.safe_load(path.read_text()), path.name)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (None, "qc.yaml: the file is empty"),
        ([1, 2], "qc.yaml: should be a mapping of keys (key: value lines), found a list"),
        (
            _edited(lambda d: _column(d, "description").update(required="sometimes")),
            "should be true or false, found 'sometimes'",
        ),
        (_edited(lambda d: d.update(columns="all of them")), "qc.yaml: columns: should be a list, found 'all of them'"),
        (_edited(lambda d: d.update(id=None)), "qc.yaml: id: a log needs an 'id' format"),
        (
            _edited(lambda d: d.update(id="QC")),
            "qc.yaml: id: should be a mapping of keys (key: value lines), found 'QC'",
        ),
        (_edited(lambda d: d["columns"].append(None)), "is empty; give its keys"),
        (_edited(lambda d: _column(d, "status").update(values=["Open", True])), "found true; put it in quotes"),
        (_edited(lambda d: _column(d, "penalty").update(min="some")), "min: should be a number, found 'some'"),
        (_edited(lambda d: _column(d, "penalty").update(min=float("nan"))), "min: should be a number, found nan"),
        (
            _edited(lambda d: _column(d, "description").update(width="wide")),
            "width: should be a whole number, found 'wide'",
        ),
        (_edited(lambda d: _column(d, "description").update(label=["a"])), "label: should be text, found a list"),
    ],
)
def test_loader_messages_say_what_a_value_should_be_in_plain_words(data: Any, says: str) -> None:
    message = _refused(data)
    assert says in message, message
    for python_name in ("NoneType", "bool", " str", " dict", " list or", "int ", "float"):
        assert python_name not in message, message


def test_a_min_on_a_text_column_exits_2_at_load_naming_file_and_key(cli: Cli, tmp_path: Path) -> None:
    cli("init", "team", "--logs", "qc")
    schema = tmp_path / "team" / "schemas" / "qc.yaml"
    schema.write_text(schema.read_text().replace("    label: Description\n", "    label: Description\n    min: 3\n", 1))
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row(), qc_row(Description="hello")])})
    for command in ("validate", "sync"):
        result = cli("--config", str(tmp_path / "team" / "kakosheet.toml"), command)
        assert result.exit_code == 2, result.output
        assert f"qc.yaml: columns[{_index('description')}].min: only number columns" in result.stderr


def test_an_empty_schema_file_exits_2_saying_so(cli: Cli, tmp_path: Path) -> None:
    cli("init", "team", "--logs", "qc")
    (tmp_path / "team" / "schemas" / "qc.yaml").write_text("# nothing yet\n")
    result = cli("--config", str(tmp_path / "team" / "kakosheet.toml"), "validate")
    assert result.exit_code == 2
    assert "qc.yaml: the file is empty" in result.stderr


def test_a_key_given_twice_in_a_column_exits_2_naming_file_and_line(cli: Cli, tmp_path: Path) -> None:
    """A reason list added as a second `values:` line under the first: YAML kept the later list
    silently, so the first one's reasons were dropped from validation and the dropdowns."""
    cli("init", "team", "--logs", "qc")
    schema = tmp_path / "team" / "schemas" / "qc.yaml"
    text = schema.read_text()
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if row.startswith("    values: [Damaged"))
    schema.write_text(text.replace("    values: [Damaged", "    values: [Counterfeit]\n    values: [Damaged", 1))
    write_workbook(tmp_path / "team" / "master.xlsx", {"QC Log": qc_tab([qc_row()])})
    result = cli("--config", str(tmp_path / "team" / "kakosheet.toml"), "validate")
    assert result.exit_code == 2, result.output
    assert f"qc.yaml: line {line + 1}, column 5:" in result.stderr
    assert "'values' is given twice" in result.stderr
