"""LoadStartDataset against the real PostgreSQL: the database's clock, watermarks that never count a row
later than the clock plus the margin (even one loaded before such rows were refused), and which tables
already hold rows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from tests.datasets.conftest import SCHEMA
from thelook_ecommerce_analysis.datasets.postgres_reads import LoadStartDataset


def make_table(connection: psycopg.Connection, name: str, stamps: list[datetime]) -> None:
    relation = sql.Identifier(SCHEMA, name)
    connection.execute(sql.SQL("CREATE TABLE {} (id bigint, created_at timestamptz)").format(relation))
    with connection.cursor() as cursor:
        cursor.executemany(
            sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(relation), list(enumerate(stamps))
        )


def test_watermarks_ignore_rows_later_than_the_clock_plus_margin(connection, owner_url, table_name, caplog):
    stamped, empty, keyed_only = f"{table_name}_a", f"{table_name}_b", f"{table_name}_c"
    latest_real = datetime(2025, 2, 1, tzinfo=UTC)
    make_table(
        connection, stamped, [datetime(2025, 1, 1, tzinfo=UTC), latest_real, datetime(2099, 1, 1, tzinfo=UTC)]
    )
    make_table(connection, empty, [])
    make_table(connection, keyed_only, [latest_real])

    def load_start(table: str, watermark: str | None = "created_at") -> LoadStartDataset:
        return LoadStartDataset(
            db_schema=SCHEMA,
            table_name=table,
            watermark=watermark,
            future_margin_days=1,
            credentials={"con": owner_url},
        )

    with caplog.at_level(logging.WARNING):
        start = (dataset := load_start(stamped)).load()
    assert abs(start.now - datetime.now(UTC)) < timedelta(minutes=5), "the database's clock"
    assert start.future_cutoff == start.now + timedelta(days=1)
    assert (start.table, start.watermark, start.has_rows) == (stamped, latest_real, True)
    assert f"raw_data.{stamped} holds 1 row(s) with created_at after" in caplog.text
    assert dataset.load() is start, "one clock and one state for the whole run"
    empty_start = load_start(empty).load()
    assert (empty_start.watermark, empty_start.has_rows) == (None, False)
    keyed_start = load_start(keyed_only, watermark=None).load()
    assert (keyed_start.watermark, keyed_start.has_rows) == (None, True)
    missing_start = load_start(f"{table_name}_missing").load()
    assert (missing_start.watermark, missing_start.has_rows) == (None, False)


def test_a_row_within_the_margin_counts(connection, owner_url, table_name) -> None:
    (now,) = connection.execute("SELECT now()").fetchone()
    soon = now + timedelta(hours=12)
    make_table(connection, table_name, [now - timedelta(days=3), soon])
    dataset = LoadStartDataset(
        db_schema=SCHEMA,
        table_name=table_name,
        watermark="created_at",
        future_margin_days=1,
        credentials={"con": owner_url},
    )
    assert dataset.load().watermark == soon
    tight = LoadStartDataset(
        db_schema=SCHEMA,
        table_name=table_name,
        watermark="created_at",
        future_margin_days=0.25,
        credentials={"con": owner_url},
    )
    assert tight.load().watermark == now - timedelta(days=3)
