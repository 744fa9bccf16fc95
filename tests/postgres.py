"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl, as an unprivileged user.

initdb refuses to run as root, so as root (CI) the server runs as `nobody`. Without the
PostgreSQL binaries the tests fail in CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "nobody"


@dataclass
class PostgresServer:
    url: str
    data: Path
    command_prefix: list[str]

    def stop(self) -> None:
        subprocess.run(
            [*self.command_prefix, "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_postgres() -> PostgresServer:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        message = "PostgreSQL 15 binaries (initdb, pg_ctl) are not on PATH"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must test the PostgreSQL store")
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="kakosheet-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", SERVER_USER, "--"]
        import pwd

        user = pwd.getpwnam(SERVER_USER)
        os.chown(base, user.pw_uid, user.pw_gid)
    data, sockets, port = base / "data", base, _free_port()
    subprocess.run(
        [*prefix, "initdb", "-D", str(data), "-U", "kakosheet", "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        check=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
    started = subprocess.run(
        [*prefix, "pg_ctl", "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log}")
    return PostgresServer(f"postgresql+psycopg://kakosheet@127.0.0.1:{port}/postgres", data, prefix)


def create_database(server_url: str) -> str:
    """A fresh, empty database on the test server; returns its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
