"""run_job.sh in embedded mode, with the real embedded PostgreSQL and a tiny generated data set: the job
runs and returns 0; a second call while it runs exits at once saying a run is in progress; a database that
is down gives a non-zero exit status and the reason.

The job here is the data_processing pipeline (THELOOK_PIPELINE, which run_job.sh passes on as --pipeline):
the embeddings pipeline embeds every product description (~29,000 whatever the number of users), which
takes many minutes on two cores. The script's logic does not depend on which pipeline runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO_ROOT, free_port, world_traversable_temp_dir
from tests.deploy.conftest import run_script
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.synth import generate

RUN_IN_PROGRESS = 75
JOB_TIMEOUT_SECONDS = 600
PIPELINE = "data_processing"


@dataclass(frozen=True)
class ConcurrentRuns:
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    second_seconds: float


@pytest.fixture(scope="module")
def project(fresh_db: RoleUrls) -> Iterator[Path]:
    """A throwaway Kedro project (this checkout's conf, sql and pyproject) with 300 generated users."""
    root = world_traversable_temp_dir("thelook-test-run-job-")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copytree(REPO_ROOT / "sql", root / "sql")
    generate(root / "data" / "01_raw", users=300, seed=1, as_of=None, progress=False)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def job_environment(project: Path, **overrides: str) -> dict[str, str]:
    """Embedded mode on `project`, running one pipeline."""
    return {
        "THELOOK_MODE": "embedded",
        "THELOOK_HOME": str(project),
        "THELOOK_PIPELINE": PIPELINE,
        **overrides,
    }


def wait_until_running(log_file: Path, first: subprocess.Popen) -> None:
    """run_job.sh writes its header only once it holds the lock; watching for it never touches the lock."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log_file.exists() and "run_job.sh: mode embedded" in log_file.read_text(encoding="utf-8"):
            return
        assert first.poll() is None, "the first run ended before it took the lock"
        time.sleep(0.1)
    pytest.fail("the first run never took the lock")


@pytest.fixture(scope="module")
def concurrent_runs(project: Path) -> ConcurrentRuns:
    """The whole job, and a second run_job.sh started while the first holds the lock."""
    environment = {**os.environ, **job_environment(project)}
    first = subprocess.Popen(
        ["bash", str(REPO_ROOT / "run_job.sh")],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a failed test can end the job with everything it started
    )
    try:
        wait_until_running(project / "logs" / "run_job.log", first)
        started = time.monotonic()
        second = run_script("run_job.sh", env=job_environment(project), timeout=60)
        second_seconds = time.monotonic() - started
        stdout, stderr = first.communicate(timeout=JOB_TIMEOUT_SECONDS)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    return ConcurrentRuns(
        subprocess.CompletedProcess(first.args, first.returncode, stdout, stderr), second, second_seconds
    )


def test_job_returns_zero_and_fills_the_database(
    concurrent_runs: ConcurrentRuns, fresh_db: RoleUrls, project: Path
) -> None:
    first = concurrent_runs.first
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "run_job.sh: mode: embedded (THELOOK_MODE=embedded)" in first.stderr
    assert f"run_job.sh: running the job (pipeline: {PIPELINE})" in first.stderr
    assert "run_job.sh: the job finished (exit 0)" in first.stderr
    log = (project / "logs" / "run_job.log").read_text(encoding="utf-8")
    assert "run finished" in log
    assert "run_job.sh: exit 0 ===" in log
    source_orders = pq.read_metadata(project / "data" / "01_raw" / "orders.parquet").num_rows
    with psycopg.connect(fresh_db.owner) as connection:
        loaded = connection.execute("SELECT count(*) FROM raw_data.orders").fetchone()[0]
        refused = connection.execute(
            "SELECT count(*) FROM raw_data.etl_quarantine WHERE source_table = 'orders'"
        ).fetchone()[0]
    assert source_orders > 0
    assert loaded + refused == source_orders


def test_a_second_run_exits_at_once_saying_a_run_is_in_progress(concurrent_runs: ConcurrentRuns) -> None:
    second = concurrent_runs.second
    assert second.returncode == RUN_IN_PROGRESS
    assert "a run is already in progress" in second.stderr
    assert concurrent_runs.second_seconds < 5
    assert concurrent_runs.first.returncode == 0, "the refused second run disturbed the first"


def test_database_down_gives_a_non_zero_status_and_the_reason(fresh_db: RoleUrls, project: Path) -> None:
    parts = urlsplit(fresh_db.owner)
    nobody_listens = urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{free_port()}"))
    result = run_script("run_job.sh", env=job_environment(project, DATABASE_URL=nobody_listens))
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"run_job.sh: the job failed (exit {result.returncode}): error: run failed:")
    assert "cannot connect" in last_line
    assert "is the database running" in last_line
