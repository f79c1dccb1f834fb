"""The generated files match theLook's schema exactly and their keys hold, as the pipeline assumes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.synth.conftest import scalar

INT, FLOAT, TEXT, TIME = pa.int64(), pa.float64(), pa.string(), pa.timestamp("us", tz="UTC")

# Written out from ../shared/thelook_spec.md, independently of the generator's own schema module.
EXPECTED_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "distribution_centers": [("id", INT), ("name", TEXT), ("latitude", FLOAT), ("longitude", FLOAT)],
    "products": [
        ("id", INT), ("cost", FLOAT), ("category", TEXT), ("name", TEXT), ("brand", TEXT),
        ("retail_price", FLOAT), ("department", TEXT), ("sku", TEXT), ("distribution_center_id", INT),
    ],
    "users": [
        ("id", INT), ("first_name", TEXT), ("last_name", TEXT), ("email", TEXT), ("age", INT),
        ("gender", TEXT), ("state", TEXT), ("street_address", TEXT), ("postal_code", TEXT), ("city", TEXT),
        ("country", TEXT), ("latitude", FLOAT), ("longitude", FLOAT), ("traffic_source", TEXT),
        ("created_at", TIME),
    ],
    "orders": [
        ("order_id", INT), ("user_id", INT), ("status", TEXT), ("gender", TEXT), ("created_at", TIME),
        ("returned_at", TIME), ("shipped_at", TIME), ("delivered_at", TIME), ("num_of_item", INT),
    ],
    "order_items": [
        ("id", INT), ("order_id", INT), ("user_id", INT), ("product_id", INT), ("inventory_item_id", INT),
        ("status", TEXT), ("created_at", TIME), ("shipped_at", TIME), ("delivered_at", TIME),
        ("returned_at", TIME), ("sale_price", FLOAT),
    ],
    "inventory_items": [
        ("id", INT), ("product_id", INT), ("created_at", TIME), ("sold_at", TIME), ("cost", FLOAT),
        ("product_category", TEXT), ("product_name", TEXT), ("product_brand", TEXT),
        ("product_retail_price", FLOAT), ("product_department", TEXT), ("product_sku", TEXT),
        ("product_distribution_center_id", INT),
    ],
    "events": [
        ("id", INT), ("user_id", INT), ("sequence_number", INT), ("session_id", TEXT), ("created_at", TIME),
        ("ip_address", TEXT), ("city", TEXT), ("state", TEXT), ("postal_code", TEXT), ("browser", TEXT),
        ("traffic_source", TEXT), ("uri", TEXT), ("event_type", TEXT),
    ],
}  # fmt: skip

PRIMARY_KEYS = {table: "order_id" if table == "orders" else "id" for table in EXPECTED_COLUMNS}

FOREIGN_KEYS = [
    ("products", "distribution_center_id", "distribution_centers", "id"),
    ("orders", "user_id", "users", "id"),
    ("order_items", "order_id", "orders", "order_id"),
    ("order_items", "user_id", "users", "id"),
    ("order_items", "product_id", "products", "id"),
    ("order_items", "inventory_item_id", "inventory_items", "id"),
    ("inventory_items", "product_id", "products", "id"),
    ("events", "user_id", "users", "id"),
]


@pytest.mark.parametrize("table", list(EXPECTED_COLUMNS))
def test_columns_and_arrow_types_are_thelooks(horizon_dir: Path, table: str) -> None:
    schema = pq.read_schema(horizon_dir / f"{table}.parquet")
    assert [(field.name, field.type) for field in schema] == EXPECTED_COLUMNS[table]


@pytest.mark.parametrize("table", list(EXPECTED_COLUMNS))
def test_primary_key_is_unique_and_never_null(horizon: duckdb.DuckDBPyConnection, table: str) -> None:
    key = PRIMARY_KEYS[table]
    rows, distinct, nulls = horizon.execute(
        f"SELECT count(*), count(DISTINCT {key}), count(*) - count({key}) FROM {table}"
    ).fetchone()
    assert rows > 0
    assert distinct == rows
    assert nulls == 0


@pytest.mark.parametrize(("child", "column", "parent", "key"), FOREIGN_KEYS)
def test_every_foreign_key_resolves(
    horizon: duckdb.DuckDBPyConnection, child: str, column: str, parent: str, key: str
) -> None:
    orphans = scalar(
        horizon,
        f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = c.{column})",
    )
    assert orphans == 0


def test_only_ghost_events_lack_a_user(horizon: duckdb.DuckDBPyConnection) -> None:
    """events.user_id is NULL exactly for the ghost sessions, which never purchase."""
    assert scalar(horizon, "SELECT count(*) FROM events WHERE user_id IS NULL") > 0
    assert (
        scalar(horizon, "SELECT count(*) FROM events WHERE user_id IS NULL AND event_type = 'purchase'") == 0
    )


def test_each_order_item_sells_its_own_stock_row(horizon: duckdb.DuckDBPyConnection) -> None:
    assert scalar(horizon, "SELECT count(DISTINCT inventory_item_id) = count(*) FROM order_items")
    mismatched = scalar(
        horizon,
        "SELECT count(*) FROM order_items oi JOIN inventory_items ii ON ii.id = oi.inventory_item_id "
        "WHERE ii.product_id <> oi.product_id",
    )
    assert mismatched == 0
