"""`thelook viz`: it serves Kedro-Viz, headless Chromium sees the project's pipelines in it, and stopping
it frees the port. Kedro-Viz serves from a child process, so this fails if the command stops only its
direct child."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from tests.app.test_browser import save_screenshot
from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.cli.viz import HIGHEST_PORT, viz_command
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.processes import answers, port_is_free

START_TIMEOUT_SECONDS = 180
UI_TIMEOUT_MS = 90_000
PIPELINES = ("data_processing", "metrics", "embeddings")


def free_registered_port() -> int:
    """A free port Kedro-Viz accepts (it refuses the dynamic range, where the OS picks free ports)."""
    return next(
        port for port in random.sample(range(20000, HIGHEST_PORT), 200) if port_is_free("127.0.0.1", port)
    )


@dataclass(frozen=True)
class RunningViz:
    process: subprocess.Popen
    port: int
    ready_s: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def viz_server() -> Iterator[RunningViz]:
    """`thelook viz` on a free port for this module; the last test stops it (the teardown makes sure)."""
    port = free_registered_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "thelook_ecommerce_analysis.cli.viz", "--port", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = time.perf_counter()
    try:
        while not answers("127.0.0.1", port):
            if process.poll() is not None:
                pytest.fail(f"thelook viz exited with {process.returncode}: {process.stdout.read()[-3000:]}")
            if time.perf_counter() - started > START_TIMEOUT_SECONDS:
                pytest.fail(f"Kedro-Viz did not answer on port {port} within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.5)
        ready_s = time.perf_counter() - started
        print(f"\nKedro-Viz answered after {ready_s:.1f} s")
        yield RunningViz(process, port, ready_s)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_kedro_viz_shows_the_three_pipelines_in_a_browser(
    browser, viz_server: RunningViz, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    opened = time.perf_counter()
    page.goto(viz_server.url)
    selector = page.get_by_text("__default__").first  # the pipeline menu, on the whole job at first
    selector.wait_for(timeout=UI_TIMEOUT_MS)
    print(f"\nKedro-Viz page with its pipeline menu: {time.perf_counter() - opened:.1f} s")
    for notice in (page.get_by_role("button", name="Dismiss"), page.locator(".feature-hints__close")):
        if notice.count():  # the "what's new" banner and the feature tour, in the way of the graph
            notice.first.click()
    selector.click()
    offered = {text.strip() for text in page.locator('[role="option"]').all_inner_texts()}
    assert set(PIPELINES) <= offered, offered
    page.get_by_role("option", name="data_processing", exact=True).click()
    # One namespace per raw table, folded into one box each (its six nodes open on a click).
    page.get_by_text("order_items", exact=True).first.wait_for(timeout=UI_TIMEOUT_MS)
    page.get_by_text("You can revisit these hints").wait_for(state="hidden", timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(2000)  # for the picture only: the graph eases into its new layout
    assert save_screenshot(page, tmp_path, "kedro_viz.png").stat().st_size > 20_000
    page.close()


def test_sigterm_stops_viz_and_frees_the_port(viz_server: RunningViz) -> None:
    tree = [viz_server.process.pid] + [
        child.pid for child in psutil.Process(viz_server.process.pid).children(recursive=True)
    ]
    assert len(tree) >= 3  # thelook viz, `kedro viz run` and the child that serves
    viz_server.process.send_signal(signal.SIGTERM)  # to `thelook viz` only, as Docker or a service manager
    output, _ = viz_server.process.communicate(timeout=30)
    assert viz_server.process.returncode == 0, output[-3000:]
    assert f"Kedro-Viz is serving at {viz_server.url}" in output
    assert output.rstrip().endswith("Kedro-Viz stopped")
    assert not answers("127.0.0.1", viz_server.port), "Kedro-Viz still listens after thelook viz exited"
    alive = [pid for pid in tree if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert alive == []


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
