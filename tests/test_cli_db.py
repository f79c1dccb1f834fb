"""`thelook db start|stop|status|url` as a user runs them, in a throwaway project directory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO_ROOT, free_port, world_traversable_temp_dir


@pytest.fixture
def project(tmp_path_factory) -> Iterator[Path]:
    """A minimal thelook project: pyproject marker, conf and sql, plus an empty data dir."""
    root = world_traversable_temp_dir("thelook-cli-")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "conf" / "postgresql", root / "conf" / "postgresql")
    shutil.copytree(REPO_ROOT / "conf" / "base", root / "conf" / "base")
    shutil.copytree(REPO_ROOT / "sql", root / "sql")
    (root / "conf" / "local").mkdir()
    yield root
    thelook(root, "db", "stop")
    shutil.rmtree(root, ignore_errors=True)


def thelook(project: Path, *args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "THELOOK_READER_URL", "THELOOK_ADMIN_URL"}
    }
    environment.update(THELOOK_HOME=str(project), THELOOK_PG_DATA=str(project / "data" / "postgres"))
    if port is not None:
        environment["THELOOK_PG_PORT"] = str(port)
    return subprocess.run(
        [sys.executable, "-m", "thelook_ecommerce_analysis", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=project,
        timeout=120,
        check=False,
    )


def test_start_twice_status_url_stop(project: Path) -> None:
    port = free_port()
    first = thelook(project, "db", "start", port=port)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    assert f"127.0.0.1:{port}/thelook" in first.stdout
    assert "***" in first.stdout, "the password must not be printed by db start"

    second = thelook(project, "db", "start", port=port)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout

    status = thelook(project, "db", "status", port=port)
    assert status.returncode == 0
    assert "running, pid" in status.stdout and f"127.0.0.1:{port}" in status.stdout

    reader_url = thelook(project, "db", "url", "--role", "reader").stdout.strip()
    with psycopg.connect(reader_url) as connection:
        assert connection.execute("SHOW transaction_read_only").fetchone()[0] == "on"

    assert (project / "conf" / "local" / "credentials.yml").stat().st_mode & 0o077 == 0

    stopped = thelook(project, "db", "stop", port=port)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    after = thelook(project, "db", "status", port=port)
    assert after.returncode == 3 and "stopped" in after.stdout
    assert "not running" in thelook(project, "db", "stop", port=port).stdout


def test_busy_port_gives_one_clear_line(project: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = thelook(project, "db", "start", port=port)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use by another process; "
        "choose another with THELOOK_PG_PORT or --port"
    ]
    assert "Traceback" not in result.stderr


def test_data_dir_owned_by_someone_else_gives_one_clear_line(project: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        foreign = world_traversable_temp_dir("thelook-foreign-")
        os.chown(foreign, 65534, 65534)  # nobody
    else:
        foreign = Path("/")  # owned by root, never by a normal user
    result = thelook(project, "db", "start", "--data-dir", str(foreign), port=free_port())
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: data dir {foreign} is owned by")
    assert "Traceback" not in result.stderr


def test_unknown_role_url_without_credentials_says_what_to_do(project: Path) -> None:
    result = thelook(project, "db", "url")
    assert result.returncode == 1
    assert "run `thelook db start`" in result.stderr
