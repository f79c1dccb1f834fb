"""A small generated theLook snapshot, exposed twice: as ibis tables (what the nodes read) and as a plain
DuckDB connection with one view per table (what the independent reference SQL reads).

Both sessions run in UTC, as the PostgreSQL job does, so "the day of a timestamp" means the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pytest

from thelook_ecommerce_analysis.synth import TABLES, generate

USERS = 2000
SEED = 7
AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="session")
def raw_parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated snapshot for all metrics tests (about 3 s)."""
    out_dir = tmp_path_factory.mktemp("metrics-raw")
    generate(out_dir, users=USERS, seed=SEED, as_of=AS_OF, progress=False)
    return out_dir


@pytest.fixture(scope="session")
def raw_tables(raw_parquet_dir: Path) -> Iterator[dict[str, ir.Table]]:
    """The seven tables as ibis expressions on DuckDB, keyed by theLook table name."""
    connection = ibis.duckdb.connect()
    connection.raw_sql("SET TimeZone = 'UTC'")
    yield {
        table: connection.read_parquet(raw_parquet_dir / f"{table}.parquet", table_name=table)
        for table in TABLES
    }
    connection.disconnect()


@pytest.fixture(scope="session")
def reference_db(raw_parquet_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A separate plain DuckDB connection with a view per table over the same Parquet files."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        path = (raw_parquet_dir / f"{table}.parquet").as_posix()
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    yield connection
    connection.close()
