"""Shared fixtures: the default schemas and the real CLI in an empty folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kakosheet.cli import main
from kakosheet.config import Config, load_config
from kakosheet.core.schema import SchemaSet
from tests.postgres import create_database, start_postgres


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The defaults: no kakosheet.toml, built-in schemas, all four logs."""
    return load_config(None, cwd=tmp_path)


@pytest.fixture
def schemas(config: Config) -> SchemaSet:
    return config.load_schemas()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the real CLI in-process, in an empty working folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the whole test run, started as an unprivileged user."""
    server = start_postgres()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs against SQLite and against PostgreSQL (a fresh database each)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return create_database(request.getfixturevalue("postgres_server"))
