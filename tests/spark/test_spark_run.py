"""The distributed engine: data_processing and metrics on local Spark give the same tables as on DuckDB.

The same generated snapshot (with some order items whose order does not exist, for the quarantine) is
loaded twice, into two fresh databases: once with the default engine
(DuckDB for the Parquet files, PostgreSQL for the metrics) and once with `--env spark` (Spark for both,
the raw tables read back through JDBC). Every table in raw_data and metrics must then hold the same rows:
equal row counts and equal order-independent digests. Floating-point columns enter the digest rounded
to 6 decimals, since a sum over the same numbers in another order may differ in its last bits.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import make_project, new_database, project_home
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.synth import generate, write_corrupt_variant

pytestmark = pytest.mark.slow

USERS = 400
SEED = 3
LEFT_OUT = {"etl_runs", "daily_summaries"}
"""The run log (times, run ids) and the summaries (another pipeline) are not the engine's output."""
PER_RUN_COLUMNS = {"run_id", "quarantined_at"}


def missing_spark_part() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed: `make spark` installs Debian's default-jre-headless when run as root"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed: `make setup` installs it (the `spark` extra)"
    if not Path("/usr/share/java/postgresql.jar").is_file():
        return "the PostgreSQL JDBC driver is missing: `make spark` installs libpostgresql-jdbc-java"
    return None


def table_rows(url: str) -> dict[str, list[str]]:
    """Every row of every table of raw_data and metrics as one text line, sorted."""
    with psycopg.connect(url) as connection:
        columns = connection.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema IN ('raw_data', 'metrics') "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
        tables: dict[tuple[str, str], list[sql.Composable]] = {}
        for schema, table, column, data_type in columns:
            if table in LEFT_OUT or column in PER_RUN_COLUMNS:
                continue
            value: sql.Composable = sql.Identifier(column)
            if data_type in ("double precision", "real", "numeric"):
                value = sql.SQL("round({}::numeric, 6)").format(value)
            tables.setdefault((schema, table), []).append(value)
        return {
            f"{schema}.{table}": [
                line
                for (line,) in connection.execute(
                    sql.SQL("SELECT concat_ws('|', {}) AS r FROM {}.{} ORDER BY r").format(
                        sql.SQL(", ").join(values), sql.Identifier(schema), sql.Identifier(table)
                    )
                )
            ]
            for (schema, table), values in tables.items()
        }


def digest(rows: list[str]) -> tuple[int, str]:
    return len(rows), hashlib.md5("\n".join(rows).encode()).hexdigest()


def test_spark_gives_the_same_tables_as_duckdb(pg_urls, tmp_path: Path) -> None:
    if missing := missing_spark_part():
        pytest.skip(missing)
    generate(tmp_path / "generated", users=USERS, seed=SEED, progress=False)
    # Some order items point at orders that do not exist: the FK guard and the quarantine run too.
    write_corrupt_variant(tmp_path / "generated", tmp_path / "raw", "orphan_fk", "order_items")
    root = make_project(tmp_path / "raw")
    try:
        with project_home(root):
            with new_database(pg_urls) as urls:
                for pipeline in ("data_processing", "metrics"):
                    run_pipeline(pipeline)
                on_duckdb = table_rows(urls.owner)
            with new_database(pg_urls) as urls:
                for pipeline in ("data_processing", "metrics"):
                    run_pipeline(pipeline, env="spark")
                on_spark = table_rows(urls.owner)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert len(on_duckdb) >= 7 + 15
    assert all(on_duckdb.values())  # every table holds rows, the quarantine included
    assert set(on_spark) == set(on_duckdb)
    differing = {
        name: {
            "rows": (len(rows), len(on_spark[name])),
            "only_duckdb": sorted(set(rows) - set(on_spark[name]))[:2],
            "only_spark": sorted(set(on_spark[name]) - set(rows))[:2],
        }
        for name, rows in on_duckdb.items()
        if digest(rows) != digest(on_spark[name])
    }
    assert not differing, "\n" + json.dumps(differing, indent=1)
