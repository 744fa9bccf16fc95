"""Imports point down: cli -> app -> sources / store / reports -> core. core does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kakosheet"
FORBIDDEN_IN_CORE = {
    "click",
    "openpyxl",
    "python_calamine",
    "gspread",
    "sqlalchemy",
    "kakosheet.sources",
    "kakosheet.app",
    "kakosheet.cli",
    "kakosheet.config",
    "requests",
    "zipfile",
    "socket",
    "yaml",
    "pathlib",
}
ALLOWED = {
    "core": {"core", "errors"},
    "sources": {"core", "errors", "sources"},
    "store": {"core", "errors", "store"},
    "reports": {"core", "errors", "store", "reports"},
    "app": {"core", "errors", "sources", "app", "config", "schema_files", "store", "reports"},
    # Commands call the app and render the records it returns (issues, reports: core's types).
    "cli": {"app", "cli", "config", "errors", "core"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_what_is_below_them(layer: str) -> None:
    assert (PACKAGE / layer).is_dir() or layer == "reports", f"no layer {layer}"
    for path in (PACKAGE / layer).rglob("*.py"):
        for name in _imports(path):
            if name.startswith("kakosheet."):
                part = name.split(".")[1]
                assert part in ALLOWED[layer], f"{path.relative_to(PACKAGE)} imports {name}"


def test_core_imports_no_io_or_framework() -> None:
    for path in (PACKAGE / "core").rglob("*.py"):
        for name in _imports(path):
            assert not any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_CORE), (
                f"{path.relative_to(PACKAGE)} imports {name}"
            )


def test_the_two_source_adapters_do_not_import_each_other() -> None:
    """What both need (looks, tab layouts) lives in core: a Google Sheet never loads openpyxl."""
    for path in (PACKAGE / "sources").glob("*.py"):
        kind = "gsheet" if path.stem.startswith("gsheet") else "xlsx" if path.stem.startswith("xlsx") else None
        if kind is None:
            continue
        other = "xlsx" if kind == "gsheet" else "gsheet"
        for name in _imports(path):
            assert not name.startswith(f"kakosheet.sources.{other}"), f"{path.relative_to(PACKAGE)} imports {name}"
