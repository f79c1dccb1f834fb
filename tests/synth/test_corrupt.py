"""Each corrupt variant really breaks the rule it names, and only in the table asked for."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.synth.conftest import TABLES
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.synth import write_corrupt_variant


def untouched_tables_are_copies(src: Path, out: Path, damaged: str) -> bool:
    return all(
        (src / f"{t}.parquet").read_bytes() == (out / f"{t}.parquet").read_bytes()
        for t in TABLES
        if t != damaged
    )


def test_wrong_type_stores_sale_price_as_text(horizon_dir: Path, tmp_path: Path) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "wrong_type", "order_items")
    assert pq.read_schema(path).field("sale_price").type == pa.string()
    assert pq.read_schema(horizon_dir / "order_items.parquet").field("sale_price").type == pa.float64()
    assert untouched_tables_are_copies(horizon_dir, tmp_path, "order_items")


def test_wrong_type_falls_back_to_a_timestamp_column(horizon_dir: Path, tmp_path: Path) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "wrong_type", "orders")
    assert pq.read_schema(path).field("created_at").type == pa.string()


@pytest.mark.parametrize(("table", "key"), [("orders", "order_id"), ("events", "id")])
def test_null_key_leaves_some_keys_null(horizon_dir: Path, tmp_path: Path, table: str, key: str) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "null_key", table, fraction=0.02)
    column = pq.read_table(path).column(key)
    assert 0 < column.null_count <= 0.02 * len(column) + 1


def test_duplicate_key_repeats_ids_with_other_content(horizon_dir: Path, tmp_path: Path) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "duplicate_key", "users")
    original_rows = pq.read_metadata(horizon_dir / "users.parquet").num_rows
    rows, distinct = duckdb.sql(f"SELECT count(*), count(DISTINCT id) FROM '{path}'").fetchone()
    distinct_rows = duckdb.sql(f"SELECT count(*) FROM (SELECT DISTINCT * FROM '{path}')").fetchone()[0]
    assert rows == original_rows == distinct_rows
    assert distinct < rows


@pytest.mark.parametrize(
    ("table", "column", "parent", "key"),
    [
        ("order_items", "product_id", "products", "id"),
        ("order_items", None, "orders", "order_id"),
        ("events", "user_id", "users", "id"),
    ],
)
def test_orphan_fk_points_to_missing_parents(
    horizon_dir: Path, tmp_path: Path, table: str, column: str | None, *, parent: str, key: str
) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "orphan_fk", table, column=column)
    foreign_key = column or "order_id"
    orphans = duckdb.sql(
        f"SELECT count(*) FROM '{path}' c WHERE c.{foreign_key} IS NOT NULL AND c.{foreign_key} NOT IN "
        f"(SELECT {key} FROM '{tmp_path / parent}.parquet')"
    ).fetchone()[0]
    assert orphans > 0


def test_truncated_file_no_longer_opens(horizon_dir: Path, tmp_path: Path) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "truncated", "events")
    assert 0 < path.stat().st_size < (horizon_dir / "events.parquet").stat().st_size
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(path)


@pytest.mark.parametrize(("table", "column"), [("orders", None), ("order_items", "shipped_at")])
def test_future_timestamp_moves_a_few_rows_to_2099(
    horizon_dir: Path, tmp_path: Path, table: str, column: str | None
) -> None:
    path = write_corrupt_variant(
        horizon_dir, tmp_path, "future_timestamp", table, column=column, fraction=0.001
    )
    moved = column or "created_at"
    future, rows = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE year({moved}) = 2099), count(*) FROM '{path}'"
    ).fetchone()
    assert rows == pq.read_metadata(horizon_dir / f"{table}.parquet").num_rows
    assert 1 <= future <= 0.001 * rows + 1
    assert pq.read_schema(path) == pq.read_schema(horizon_dir / f"{table}.parquet")
    assert untouched_tables_are_copies(horizon_dir, tmp_path, table)


def test_empty_keeps_the_schema_and_no_row(horizon_dir: Path, tmp_path: Path) -> None:
    path = write_corrupt_variant(horizon_dir, tmp_path, "empty", "events")
    assert pq.read_metadata(path).num_rows == 0
    assert pq.read_schema(path) == pq.read_schema(horizon_dir / "events.parquet")


def test_in_place_corruption_damages_only_that_file(horizon_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "raw"
    write_corrupt_variant(horizon_dir, copy, "null_key", "products")
    write_corrupt_variant(copy, copy, "truncated", "products")
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(copy / "products.parquet")
    assert untouched_tables_are_copies(horizon_dir, copy, "products")


@pytest.mark.parametrize(
    ("kind", "table", "column", "message"),
    [
        ("melted", "orders", None, "unknown corruption kind"),
        ("null_key", "customers", None, "unknown table"),
        ("orphan_fk", "users", None, "no foreign key"),
        ("orphan_fk", "order_items", "status", "not a foreign key"),
        ("wrong_type", "orders", "colour", "no column"),
        ("future_timestamp", "products", None, "products has no timestamp column"),
        ("future_timestamp", "orders", "status", "orders.status is not a timestamp column"),
    ],
)
def test_bad_requests_are_refused_in_one_line(
    horizon_dir: Path, tmp_path: Path, kind: str, table: str, *, column: str | None, message: str
) -> None:
    with pytest.raises(ThelookError, match=message) as raised:
        write_corrupt_variant(horizon_dir, tmp_path, kind, table, column=column)
    assert "\n" not in str(raised.value)


def test_missing_source_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ThelookError, match="thelook generate"):
        write_corrupt_variant(tmp_path, tmp_path / "out", "truncated", "orders")
