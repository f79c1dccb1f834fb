"""What keeps the load from being stalled or run twice, end to end (generated Parquet, real Kedro runs and
real `thelook run` processes, the real PostgreSQL):

- a row stamped in the future is quarantined with its reason, and later rows still load;
- an input file without rows is a warning for an empty table, and an error (unless allowed) once the
  table holds rows;
- a second run while one holds the job's lock exits 75 with one line and touches nothing;
- a run killed mid-way releases the lock with its connection, and the next run marks it `interrupted`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.conftest import new_database
from tests.pipelines.data_processing.test_pipeline_run import checksums, use_snapshot
from thelook_ecommerce_analysis.hooks import RUN_LOCK_APPLICATION_NAME, RunInProgressError
from thelook_ecommerce_analysis.job import RUN_IN_PROGRESS_EXIT_STATUS, run_pipeline
from thelook_ecommerce_analysis.synth import write_corrupt_variant

USERS = 300
PROCESS_TIMEOUT_SECONDS = 300


def thelook_run_command(*options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "thelook_ecommerce_analysis",
        "run",
        "--pipeline",
        "data_processing",
        *options,
    ]


def process_environment(project: Path) -> dict[str, str]:
    """This test process's environment (the test database's URLs) for a `thelook` process in `project`."""
    return {**os.environ, "THELOOK_HOME": str(project)}


def thelook_run(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`thelook run` as a user types it, in the project, against the test database."""
    return subprocess.run(
        thelook_run_command(*options),
        env=process_environment(project),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_SECONDS,
        check=False,
    )


def runs(url: str) -> list[tuple[str, str, str | None]]:
    """(run_id, status, error) of every run, oldest first."""
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT run_id, status, error FROM raw_data.etl_runs ORDER BY started_at"
        ).fetchall()


def job_lock_holders(admin_url: str) -> int:
    """Sessions holding the job's advisory lock in this database (seen as the superuser)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() "
            "AND a.application_name = %s",
            (RUN_LOCK_APPLICATION_NAME,),
        ).fetchone()[0]


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def test_a_future_row_is_quarantined_and_later_rows_still_load(pg_urls, project, snapshots, tmp_path) -> None:
    bad = write_corrupt_variant(
        snapshots["earlier"], tmp_path / "bad", "future_timestamp", "orders", fraction=0
    )
    orders = pq.read_table(bad, columns=["order_id", "created_at"])
    (future_id,) = orders.filter(pc.equal(pc.year(orders["created_at"]), 2099))["order_id"].to_pylist()
    use_snapshot(project, tmp_path / "bad")
    with new_database(pg_urls) as urls:
        run_pipeline("data_processing")
        with psycopg.connect(urls.owner) as connection:
            quarantined = connection.execute(
                "SELECT record_key, reason, record->>'created_at', run_id FROM raw_data.etl_quarantine "
                "WHERE source_table = 'orders' AND reason LIKE '%%future%%'"
            ).fetchall()
            (run_id, status, counted) = connection.execute(
                "SELECT run_id, status, rows_quarantined FROM raw_data.etl_runs"
            ).fetchone()
            (all_quarantined,) = connection.execute("SELECT count(*) FROM raw_data.etl_quarantine").fetchone()
            watermark, in_the_future, loaded_future = connection.execute(
                "SELECT max(created_at), max(created_at) > now(), "
                "count(*) FILTER (WHERE order_id = %s) FROM raw_data.orders",
                (future_id,),
            ).fetchone()
        assert [(key, reason, run) for key, reason, _, run in quarantined] == [
            (str(future_id), "created_at is in the future", run_id)
        ]
        assert quarantined[0][2].startswith("2099-01-01")
        assert status == "success" and counted == all_quarantined
        assert not in_the_future and loaded_future == 0, "the future row is not loaded, the watermark stays"

        use_snapshot(project, snapshots["later"])
        run_pipeline("data_processing")
        later = pq.read_table(snapshots["later"] / "orders.parquet", columns=["order_id", "created_at"])
        new_ids = set(later.filter(pc.greater(later["created_at"], watermark))["order_id"].to_pylist())
        with psycopg.connect(urls.owner) as connection:
            loaded = {
                order_id
                for (order_id,) in connection.execute(
                    "SELECT order_id FROM raw_data.orders WHERE created_at > %s", (watermark,)
                ).fetchall()
            }
            refused = {
                int(key)
                for (key,) in connection.execute(
                    "SELECT record_key FROM raw_data.etl_quarantine "
                    "WHERE source_table = 'orders' AND run_id <> %s",
                    (run_id,),
                ).fetchall()
            }
        assert len(new_ids) > 10, "the later snapshot must bring new orders for this test to mean anything"
        assert loaded == new_ids - refused, "every new order of the later snapshot is loaded"


def test_an_empty_input_file_warns_then_stops_once_its_table_has_rows(
    pg_urls, project, snapshots, tmp_path
) -> None:
    write_corrupt_variant(snapshots["later"], tmp_path / "empty", "empty", "events")
    use_snapshot(project, tmp_path / "empty")
    with new_database(pg_urls) as urls:
        first = thelook_run(project)
        assert first.returncode == 0, first.stderr
        assert (
            "events: the input has no rows (the table holds none yet either): nothing to load" in first.stdout
        )
        assert checksums(urls.owner)["events"] == (0, None)

        use_snapshot(project, snapshots["later"])
        run_pipeline("data_processing")
        loaded = checksums(urls.owner)
        assert loaded["events"][0] > 0

        use_snapshot(project, tmp_path / "empty")
        refused = thelook_run(project)
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            "error: run failed: events: the input has no rows but the table already holds rows: an empty "
            "export is probably a broken one; nothing written (if it really is empty, run `thelook run "
            "--allow-empty-input` or `kedro run --params allow_empty_input=true`)"
        ]
        assert checksums(urls.owner) == loaded
        assert runs(urls.owner)[-1][1] == "failed"

        allowed = thelook_run(project, "--allow-empty-input")
        assert allowed.returncode == 0, allowed.stderr
        assert (
            "events: the input has no rows (allowed by allow_empty_input): nothing to load" in allowed.stdout
        )
        assert checksums(urls.owner)["events"] == loaded["events"], "an allowed empty file deletes nothing"


def test_a_second_run_while_one_runs_exits_75_with_one_line(pg_urls, project) -> None:
    """The first run is held inside its work by a table lock the test takes, so that it still holds the
    job's lock when the second `thelook run` starts."""
    with new_database(pg_urls) as urls:
        run_pipeline("data_processing")
        before = checksums(urls.owner)
        with psycopg.connect(urls.admin) as blocker:
            blocker.execute("LOCK TABLE raw_data.events IN ACCESS EXCLUSIVE MODE")
            first = subprocess.Popen(
                thelook_run_command(),
                env=process_environment(project),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            wait_for(lambda: job_lock_holders(urls.admin) == 1 or first.poll() is not None, "the job's lock")
            assert first.poll() is None, "the first run must still be running"
            second = thelook_run(project)
            assert first.poll() is None, "the first run was held the whole time"
            blocker.rollback()
        assert second.returncode == RUN_IN_PROGRESS_EXIT_STATUS == 75
        assert second.stderr.strip().splitlines() == [str(RunInProgressError())]
        assert str(RunInProgressError()).startswith("another thelook run is in progress")
        assert first.wait(timeout=PROCESS_TIMEOUT_SECONDS) == 0, first.stderr.read()
        assert [status for _, status, _ in runs(urls.owner)] == ["success", "success"], (
            "no row for the second"
        )
        assert checksums(urls.owner) == before
        assert job_lock_holders(urls.admin) == 0


def test_a_killed_run_releases_the_lock_and_the_next_run_marks_it_interrupted(pg_urls, project) -> None:
    with new_database(pg_urls) as urls:
        worker = subprocess.Popen(
            thelook_run_command(),
            env=process_environment(project),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def running() -> bool:
            try:
                return any(status == "running" for _, status, _ in runs(urls.owner))
            except psycopg.errors.UndefinedTable:  # the DDL has not run yet
                return False

        wait_for(lambda: running() or worker.poll() is not None, "the run's row")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
        ((killed_id, status, _),) = runs(urls.owner)
        assert status == "running", "the test must kill the run while it works"
        wait_for(lambda: job_lock_holders(urls.admin) == 0, "the killed run's lock to go", seconds=30)

        run_pipeline("data_processing")
        (killed, latest) = runs(urls.owner)
        assert killed[:2] == (killed_id, "interrupted")
        assert killed[2] == f"did not finish (killed, or its database stopped); marked by run {latest[0]}"
        assert latest[1] == "success"
