"""Fixtures for the dataset tests: an owner connection to the module's fresh database, and a table name
no other test uses, so tests in one module never see each other's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from thelook_ecommerce_analysis.db.local import RoleUrls

SCHEMA = "raw_data"


@pytest.fixture
def owner_url(fresh_db: RoleUrls) -> str:
    return fresh_db.owner


@pytest.fixture
def connection(owner_url: str) -> Iterator[psycopg.Connection]:
    """The ETL role's connection, in autocommit so each upsert is its own transaction."""
    with psycopg.connect(owner_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def table_name() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def rows_of(connection: psycopg.Connection, table: str, order_by: str = "id") -> list[tuple]:
    """Every row of raw_data.`table`, in key order."""
    statement = sql.SQL("SELECT * FROM {} ORDER BY {}").format(
        sql.Identifier(SCHEMA, table), sql.Identifier(order_by)
    )
    return connection.execute(statement).fetchall()


def write_counters(connection: psycopg.Connection, table: str) -> tuple[int, int, int]:
    """(inserted, updated, deleted) tuples ever written to raw_data.`table`, as the statistics system
    counts them, after flushing this backend's pending counts."""
    connection.execute("SELECT pg_stat_force_next_flush()")
    connection.execute("SELECT pg_stat_clear_snapshot()")
    row = connection.execute(
        "SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
        " WHERE schemaname = %s AND relname = %s",
        (SCHEMA, table),
    ).fetchone()
    assert row is not None, f"no statistics for {SCHEMA}.{table}"
    return row
