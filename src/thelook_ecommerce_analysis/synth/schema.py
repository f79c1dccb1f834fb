"""The seven theLook tables as Arrow schemas: the contract between the generator and the pipeline.

Names and column order are exactly those of `bigquery-public-data.thelook_ecommerce`, so SQL written for
the public export runs on ours. Types are what the pipeline COPYs into PostgreSQL without a cast:
ids and counts int64 (bigint), money and coordinates float64 (double precision), text string, and
timestamps in microseconds, UTC (timestamptz). Every column is nullable, as in the source.
"""

from __future__ import annotations

import pyarrow as pa

INT = pa.int64()
FLOAT = pa.float64()
TEXT = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "distribution_centers": pa.schema(
        [("id", INT), ("name", TEXT), ("latitude", FLOAT), ("longitude", FLOAT)]
    ),
    "products": pa.schema(
        [
            ("id", INT),
            ("cost", FLOAT),
            ("category", TEXT),
            ("name", TEXT),
            ("brand", TEXT),
            ("retail_price", FLOAT),
            ("department", TEXT),
            ("sku", TEXT),
            ("distribution_center_id", INT),
        ]
    ),
    "users": pa.schema(
        [
            ("id", INT),
            ("first_name", TEXT),
            ("last_name", TEXT),
            ("email", TEXT),
            ("age", INT),
            ("gender", TEXT),
            ("state", TEXT),
            ("street_address", TEXT),
            ("postal_code", TEXT),
            ("city", TEXT),
            ("country", TEXT),
            ("latitude", FLOAT),
            ("longitude", FLOAT),
            ("traffic_source", TEXT),
            ("created_at", TIMESTAMP),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", INT),
            ("user_id", INT),
            ("status", TEXT),
            ("gender", TEXT),
            ("created_at", TIMESTAMP),
            ("returned_at", TIMESTAMP),
            ("shipped_at", TIMESTAMP),
            ("delivered_at", TIMESTAMP),
            ("num_of_item", INT),
        ]
    ),
    "order_items": pa.schema(
        [
            ("id", INT),
            ("order_id", INT),
            ("user_id", INT),
            ("product_id", INT),
            ("inventory_item_id", INT),
            ("status", TEXT),
            ("created_at", TIMESTAMP),
            ("shipped_at", TIMESTAMP),
            ("delivered_at", TIMESTAMP),
            ("returned_at", TIMESTAMP),
            ("sale_price", FLOAT),
        ]
    ),
    "inventory_items": pa.schema(
        [
            ("id", INT),
            ("product_id", INT),
            ("created_at", TIMESTAMP),
            ("sold_at", TIMESTAMP),
            ("cost", FLOAT),
            ("product_category", TEXT),
            ("product_name", TEXT),
            ("product_brand", TEXT),
            ("product_retail_price", FLOAT),
            ("product_department", TEXT),
            ("product_sku", TEXT),
            ("product_distribution_center_id", INT),
        ]
    ),
    "events": pa.schema(
        [
            ("id", INT),
            ("user_id", INT),
            ("sequence_number", INT),
            ("session_id", TEXT),
            ("created_at", TIMESTAMP),
            ("ip_address", TEXT),
            ("city", TEXT),
            ("state", TEXT),
            ("postal_code", TEXT),
            ("browser", TEXT),
            ("traffic_source", TEXT),
            ("uri", TEXT),
            ("event_type", TEXT),
        ]
    ),
}

TABLES: tuple[str, ...] = tuple(TABLE_SCHEMAS)

# Each table's primary key and its foreign keys (column -> (parent table, parent key)).
PRIMARY_KEYS: dict[str, str] = {table: "order_id" if table == "orders" else "id" for table in TABLES}
FOREIGN_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    "distribution_centers": {},
    "products": {"distribution_center_id": ("distribution_centers", "id")},
    "users": {},
    "orders": {"user_id": ("users", "id")},
    "order_items": {
        "order_id": ("orders", "order_id"),
        "user_id": ("users", "id"),
        "product_id": ("products", "id"),
        "inventory_item_id": ("inventory_items", "id"),
    },
    "inventory_items": {
        "product_id": ("products", "id"),
        "product_distribution_center_id": ("distribution_centers", "id"),
    },
    "events": {"user_id": ("users", "id")},
}
