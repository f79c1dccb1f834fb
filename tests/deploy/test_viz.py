"""`thelook viz`: it serves Kedro-Viz, and stopping it frees the port. Kedro-Viz serves from a child
process, so this fails if the command stops only its direct child."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.viz import HIGHEST_PORT, port_is_free, viz_command

START_TIMEOUT_SECONDS = 180


def free_registered_port() -> int:
    """A free port Kedro-Viz accepts (it refuses the dynamic range, where the OS picks free ports)."""
    return next(
        port for port in random.sample(range(20000, HIGHEST_PORT), 200) if port_is_free("127.0.0.1", port)
    )


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_it_answers(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(port):
        if process.poll() is not None:
            pytest.fail(f"thelook viz exited with {process.returncode}: {process.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"Kedro-Viz did not answer on port {port} within {START_TIMEOUT_SECONDS}s")
        time.sleep(0.5)


def test_viz_serves_and_sigterm_frees_the_port() -> None:
    port = free_registered_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "thelook_ecommerce_analysis.viz", "--port", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_it_answers(port, process)
        process.send_signal(signal.SIGTERM)  # to `thelook viz` only, as Docker or a service manager would
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-3000:]
    assert "Kedro-Viz stopped" in output
    assert not answers(port), "Kedro-Viz still listens after thelook viz exited"


def test_viz_refuses_a_busy_port_with_one_clear_error() -> None:
    port = free_registered_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = CliRunner().invoke(viz_command, ["--port", str(port)])
    assert isinstance(result.exception, ThelookError)
    assert str(result.exception) == (
        f"port {port} on 127.0.0.1 is already in use; stop what listens there or pass --port"
    )


def test_viz_refuses_a_port_kedro_viz_would_refuse() -> None:
    result = CliRunner().invoke(viz_command, ["--port", str(HIGHEST_PORT + 1)])
    assert result.exit_code == 2
    assert "--port" in result.output


def make_project(root: Path, with_source: bool) -> Path:
    """A copy of this Kedro project (its source folder optional) for `kedro viz build` to write into."""
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()  # Kedro insists on it, as in the Docker image (where it stays empty)
    if with_source:
        shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_viz_build_writes_a_static_site(tmp_path: Path) -> None:
    project = make_project(tmp_path, with_source=True)
    result = CliRunner().invoke(viz_command, ["--build"], env={"THELOOK_HOME": str(project)})
    assert result.exit_code == 0, result.output
    assert (project / "build" / "index.html").is_file()
    assert (project / "build" / "api" / "main").is_file()  # the pipelines' graph, as JSON


def test_viz_build_failure_is_one_clear_error_although_kedro_viz_exits_zero(tmp_path: Path) -> None:
    project = make_project(tmp_path, with_source=False)  # kedro viz build needs src/: it says so, exits 0
    result = CliRunner().invoke(viz_command, ["--build"], env={"THELOOK_HOME": str(project)})
    assert isinstance(result.exception, ThelookError)
    assert "wrote no" in str(result.exception)
    assert "index.html" in str(result.exception)
