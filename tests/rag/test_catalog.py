"""The catalog read from a real database: what the reader may use, in order, and the names it suggests."""

from __future__ import annotations

import psycopg

from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.catalog import (
    Catalog,
    CatalogColumn,
    ColumnLocation,
    load_catalog,
    name_similarity,
)


def test_tables_and_views_of_the_app_schemas_with_ordered_typed_columns(catalog: Catalog) -> None:
    assert set(catalog.tables) == {
        ("raw_data", "users"),
        ("raw_data", "products"),
        ("raw_data", "orders"),
        ("raw_data", "order_items"),
        ("metrics", "daily_sales"),
        ("metrics", "monthly_sales"),
        ("embeddings", "products"),
    }
    assert catalog.column_names(("raw_data", "orders")) == (
        "order_id", "user_id", "status", "gender", "created_at",
        "returned_at", "shipped_at", "delivered_at", "num_of_item",
    )  # fmt: skip
    assert catalog.columns_of(("metrics", "daily_sales")) == (
        CatalogColumn("day", "date"),
        CatalogColumn("gmv", "double precision"),
        CatalogColumn("orders", "bigint"),
    )
    assert CatalogColumn("created_at", "timestamp without time zone") in catalog.columns_of(
        ("raw_data", "orders")
    )
    # pgvector's type lives in public, which is not on the reader's search_path: PostgreSQL qualifies it.
    assert CatalogColumn("embedding", "public.vector(3)") in catalog.columns_of(("embeddings", "products"))


def test_the_reader_catalog_leaves_out_what_the_reader_may_not_select(thelook_db: RoleUrls) -> None:
    with psycopg.connect(thelook_db.owner) as connection:
        owner_catalog = load_catalog(connection)
    with psycopg.connect(thelook_db.reader) as connection:
        reader_catalog = load_catalog(connection)
    assert ("raw_data", "etl_state") in owner_catalog.tables
    assert ("raw_data", "etl_state") not in reader_catalog.tables
    assert all(schema in {"raw_data", "metrics", "embeddings"} for schema, _ in owner_catalog.tables)


def test_only_the_requested_schemas_are_loaded(thelook_db: RoleUrls) -> None:
    with psycopg.connect(thelook_db.reader) as connection:
        metrics_only = load_catalog(connection, schemas=("metrics",))
    assert set(metrics_only.tables) == {("metrics", "daily_sales"), ("metrics", "monthly_sales")}
    assert metrics_only.resolve_table("orders") is None


def test_join_keys_are_the_foreign_keys_the_database_declares(catalog: Catalog) -> None:
    keys = {(key.table, key.columns, key.references, key.referenced_columns) for key in catalog.join_keys}
    assert keys == {
        (("raw_data", "orders"), ("user_id",), ("raw_data", "users"), ("id",)),
        (("raw_data", "order_items"), ("order_id",), ("raw_data", "orders"), ("order_id",)),
        (("raw_data", "order_items"), ("user_id",), ("raw_data", "users"), ("id",)),
        (("raw_data", "order_items"), ("product_id",), ("raw_data", "products"), ("id",)),
    }
    # products.distribution_center_id names a table this database lacks: no key is guessed from a name.
    assert not any(key.table == ("raw_data", "products") for key in catalog.join_keys)


def test_unqualified_names_resolve_through_the_search_path_in_order(catalog: Catalog) -> None:
    assert catalog.resolve_table("products") == ("raw_data", "products")
    assert catalog.resolve_table("products", "embeddings") == ("embeddings", "products")
    assert catalog.resolve_table("daily_sales") == ("metrics", "daily_sales")
    assert catalog.resolve_table("daily_sales", "raw_data") is None
    assert catalog.resolve_table("customers") is None
    assert catalog.columns_of(("raw_data", "customers")) == ()


def test_closest_table_accepts_typos_and_plurals_not_other_words(catalog: Catalog) -> None:
    assert catalog.closest_table("order_item") == ("raw_data", "order_items")
    assert catalog.closest_table("orderitems") == ("raw_data", "order_items")
    assert catalog.closest_table("user") == ("raw_data", "users")
    assert catalog.closest_table("dialy_sales") == ("metrics", "daily_sales")
    assert catalog.closest_table("customers") is None
    assert catalog.closest_table("inventory_items") is None


def test_closest_column_accepts_typos_not_other_words(catalog: Catalog) -> None:
    orders, users = ("raw_data", "orders"), ("raw_data", "users")
    assert catalog.closest_column("userid", [orders]) == ColumnLocation("raw_data", "orders", "user_id")
    assert catalog.closest_column("staus", [orders]) == ColumnLocation("raw_data", "orders", "status")
    assert catalog.closest_column("created", [orders]) == ColumnLocation("raw_data", "orders", "created_at")
    assert catalog.closest_column("order_date", [orders]) is None, "order_date is another word, not a typo"
    assert catalog.closest_column("traffic_sources", [orders, users]) == ColumnLocation(
        "raw_data", "users", "traffic_source"
    )
    assert catalog.closest_column("gendr", [users, orders]).table == "users", "earlier tables win ties"


def test_name_similarity_is_one_for_the_same_words_spelled_differently() -> None:
    assert name_similarity("userid", "user_id") == 1.0
    assert name_similarity("Order_Items", "order_item") == 1.0
    assert name_similarity("order_date", "order_id") < 0.8 < name_similarity("sale_prise", "sale_price")


def test_a_real_name_with_words_put_in_front_is_a_near_match_but_not_the_other_way() -> None:
    assert 0.8 < name_similarity("product_category", "category") < 1.0
    assert name_similarity("user_country", "country") > 0.8
    assert name_similarity("category", "product_category") < 0.8
