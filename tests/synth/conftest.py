"""Generated data sets shared by the generator's tests: small (a few thousand users), real Parquet.

Generating takes about a second, so each data set is made once per test session and read through
DuckDB, the engine the pipeline itself reads the raw files with.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from thelook_ecommerce_analysis.synth import HORIZON, TABLES, generate

HORIZON_USERS = 4000
HORIZON_SEED = 7
SNAPSHOT_USERS = 5000
SNAPSHOT_SEED = 11
EARLIER, LATER = date(2025, 3, 31), date(2025, 9, 30)


@pytest.fixture(scope="session")
def horizon_dir(tmp_path_factory) -> Path:
    """The whole timeline: a snapshot as of the horizon, where the spec's final shares hold."""
    folder = tmp_path_factory.mktemp("horizon")
    generate(folder, users=HORIZON_USERS, seed=HORIZON_SEED, as_of=HORIZON, progress=False)
    return folder


@pytest.fixture(scope="session")
def snapshot_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """Two snapshots of one timeline, EARLIER then LATER."""
    folders = []
    for day in (EARLIER, LATER):
        folder = tmp_path_factory.mktemp(f"as_of_{day.isoformat()}")
        generate(folder, users=SNAPSHOT_USERS, seed=SNAPSHOT_SEED, as_of=day, progress=False)
        folders.append(folder)
    return folders[0], folders[1]


def connect_to(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table of `folder`."""
    connection = duckdb.connect()
    for table in TABLES:
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{folder / table}.parquet')")
    return connection


@pytest.fixture(scope="module")
def horizon(horizon_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_to(horizon_dir)
    yield connection
    connection.close()


def scalar(connection: duckdb.DuckDBPyConnection, query: str):
    return connection.execute(query).fetchone()[0]
