"""The data_processing pipeline end to end: generated Parquet -> Kedro -> real PostgreSQL.

Covers the issue's promises: a full load equals the source minus quarantine; a second run writes
nothing; loading D1 then D2 equals a full load of D2; bad input is refused or quarantined without
touching what is already loaded; a process killed mid-load leaves the target as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from tests.conftest import make_project, new_database, project_home
from tests.pipelines.data_processing.conftest import SEED
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.synth import generate, write_corrupt_variant

TABLES = {
    "distribution_centers": "id",
    "products": "id",
    "users": "id",
    "orders": "order_id",
    "inventory_items": "id",
    "order_items": "id",
    "events": "id",
}
USERS = 1500


def use_snapshot(project: Path, source: Path) -> None:
    shutil.rmtree(project / "data" / "01_raw")
    shutil.copytree(source, project / "data" / "01_raw")


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every raw_data table."""
    with psycopg.connect(url) as connection:
        return {
            table: connection.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t.{key})) FROM raw_data.{table} t"
            ).fetchone()
            for table, key in TABLES.items()
        }


def write_counters(url: str) -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated and deleted per raw_data table since the database started."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_force_next_flush()")
        rows = connection.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
            "WHERE schemaname = 'raw_data' AND relname = ANY(%s)",
            (list(TABLES),),
        ).fetchall()
    return {name: (inserted, updated, deleted) for name, inserted, updated, deleted in rows}


def quarantined(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return dict(
            connection.execute(
                "SELECT source_table, count(*) FROM raw_data.etl_quarantine GROUP BY source_table"
            ).fetchall()
        )


def test_full_run_loads_source_minus_quarantine_and_rerun_writes_nothing(pg_urls, project: Path) -> None:
    with new_database(pg_urls) as urls:
        run_pipeline("data_processing")
        loaded = checksums(urls.owner)
        rejected = quarantined(urls.owner)
        for table in TABLES:
            source_rows = pq.read_metadata(project / "data" / "01_raw" / f"{table}.parquet").num_rows
            assert loaded[table][0] == source_rows - rejected.get(table, 0), table
            assert loaded[table][0] > 0, table
        with psycopg.connect(urls.owner) as connection:
            status, inserted = connection.execute(
                "SELECT status, rows_inserted FROM raw_data.etl_runs ORDER BY started_at DESC LIMIT 1"
            ).fetchone()
            keys = connection.execute(
                "SELECT count(*) FROM pg_constraint "
                "WHERE contype = 'p' AND connamespace = 'raw_data'::regnamespace"
            ).fetchone()[0]
            spellings = connection.execute(
                "SELECT count(*) FROM raw_data.users WHERE country IN ('España', 'Deutschland')"
            ).fetchone()[0]
        assert status == "success"
        assert inserted == sum(count for count, _ in loaded.values())
        assert keys >= len(TABLES), "the index hook adds the primary keys after the load"
        assert spellings == 0, "country spellings are cleaned"

        before = write_counters(urls.owner)
        run_pipeline("data_processing")
        assert write_counters(urls.owner) == before, "an unchanged re-run must write no row"
        assert checksums(urls.owner) == loaded


def metrics_checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and digest of every metrics table, rows ordered by their whole text."""
    with psycopg.connect(url) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'metrics' ORDER BY 1"
            ).fetchall()
        ]
        return {
            table: connection.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM metrics.{table} t"
            ).fetchone()
            for table in tables
        }


def test_incremental_earlier_then_later_equals_full_load_of_later(pg_urls, project, snapshots) -> None:
    """raw_data and the metrics computed from it: D1 then D2 incrementally == D2 loaded at once."""
    with new_database(pg_urls) as full:
        run_pipeline("data_processing")
        run_pipeline("metrics")
        expected, expected_metrics = checksums(full.owner), metrics_checksums(full.owner)
    use_snapshot(project, snapshots["earlier"])
    with new_database(pg_urls) as incremental:
        run_pipeline("data_processing")
        run_pipeline("metrics")
        first, first_metrics = checksums(incremental.owner), metrics_checksums(incremental.owner)
        use_snapshot(project, snapshots["later"])
        run_pipeline("data_processing")
        run_pipeline("metrics")
        assert checksums(incremental.owner) == expected
        assert metrics_checksums(incremental.owner) == expected_metrics
    assert first != expected, "the two snapshots must differ for this test to mean anything"
    assert first_metrics != expected_metrics
    assert len(expected_metrics) >= 10, "every metric table is compared"


@pytest.mark.parametrize(
    ("kind", "table", "message"),
    [
        ("wrong_type", "order_items", "order_items: contract violated, nothing written: column"),
        ("null_key", "orders", "orders: contract violated, nothing written: NULL key order_id"),
        ("duplicate_key", "users", "users: contract violated, nothing written: duplicate key id"),
        (
            "truncated",
            "events",
            "run failed: data/01_raw/events.parquet is not a readable Parquet file (truncated or damaged): "
            "Parquet magic bytes not found in footer",
        ),
    ],
)
def test_bad_input_stops_with_one_clear_error_and_keeps_loaded_data(
    pg_urls, project, snapshots, tmp_path, kind, table, message
) -> None:
    with new_database(pg_urls) as urls:
        run_pipeline("data_processing")
        before = checksums(urls.owner)
        write_corrupt_variant(snapshots["later"], tmp_path / "bad", kind=kind, table=table)
        use_snapshot(project, tmp_path / "bad")
        with pytest.raises(ThelookError) as raised:
            run_pipeline("data_processing")
        assert message in str(raised.value)
        assert "\n" not in str(raised.value)
        assert checksums(urls.owner) == before
        with psycopg.connect(urls.owner) as connection:
            last = connection.execute(
                "SELECT status, error FROM raw_data.etl_runs ORDER BY started_at DESC LIMIT 1"
            ).fetchone()
        assert last[0] == "failed" and last[1]


def test_orphan_foreign_keys_go_to_quarantine_with_reason(pg_urls, project, snapshots, tmp_path) -> None:
    write_corrupt_variant(snapshots["later"], tmp_path / "bad", kind="orphan_fk", table="order_items")
    use_snapshot(project, tmp_path / "bad")
    with new_database(pg_urls) as urls:
        run_pipeline("data_processing")
        with psycopg.connect(urls.owner) as connection:
            reasons = connection.execute(
                "SELECT reason, count(*) FROM raw_data.etl_quarantine WHERE source_table = 'order_items' "
                "GROUP BY reason"
            ).fetchall()
            run_id = connection.execute("SELECT DISTINCT run_id FROM raw_data.etl_quarantine").fetchall()
            logged = connection.execute(
                "SELECT rows_quarantined FROM raw_data.etl_runs WHERE run_id = %s", run_id[0]
            ).fetchone()[0]
        assert any("not found in" in reason for reason, _ in reasons)
        assert len(run_id) == 1
        assert logged == sum(count for _, count in reasons) + sum(
            count for table, count in quarantined(urls.owner).items() if table != "order_items"
        )


def test_killed_mid_load_leaves_target_unchanged_and_next_run_completes(pg_urls, tmp_path) -> None:
    """SIGKILL the worker while it streams a table into PostgreSQL: that table's transaction is rolled
    back (a first load leaves it empty), and the next run completes."""
    generate(tmp_path / "raw", users=8000, seed=SEED, progress=False)
    project = make_project(tmp_path / "raw")
    copying = re.compile(r'COPY "raw_data"\."(\w+)"')
    with new_database(pg_urls) as urls:
        worker = subprocess.Popen(
            [sys.executable, "-m", "thelook_ecommerce_analysis", "run", "--pipeline", "data_processing"],
            env={**os.environ, "THELOOK_HOME": str(project)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = None
        deadline = time.monotonic() + 120
        with psycopg.connect(urls.owner, autocommit=True) as monitor:
            while target is None and time.monotonic() < deadline and worker.poll() is None:
                for (query,) in monitor.execute(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND query LIKE 'COPY %%'"
                ).fetchall():
                    if (match := copying.search(query)) and match[1] in TABLES:
                        target = match[1]
                        worker.send_signal(signal.SIGKILL)
                time.sleep(0.002)
        worker.wait(timeout=60)
        assert target is not None, "the test must catch the worker inside a table's COPY"
        assert checksums(urls.owner)[target] == (0, None), "a killed first load leaves the table empty"
        with project_home(project):
            run_pipeline("data_processing")
        rows = pq.read_metadata(project / "data" / "01_raw" / f"{target}.parquet").num_rows
        assert checksums(urls.owner)[target][0] == rows - quarantined(urls.owner).get(target, 0)
        with psycopg.connect(urls.owner) as connection:
            statuses = connection.execute(
                "SELECT status FROM raw_data.etl_runs ORDER BY started_at"
            ).fetchall()
        assert statuses == [("interrupted",), ("success",)], "the next run marks the killed one"
    shutil.rmtree(project, ignore_errors=True)
