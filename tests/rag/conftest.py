"""A small theLook-shaped database for the guard and catalog tests, and its catalog as the reader sees it.

The tables follow ../shared/thelook_spec.md (names and types as the pipeline creates them), with a few
dozen rows so that queries return data and a LIMIT can be seen to bite. The catalog is loaded from the
database ONCE per module; the guard itself never touches the database.
"""

from __future__ import annotations

import psycopg
import pytest

from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.catalog import Catalog, load_catalog

THELOOK_TABLES = """
CREATE TABLE raw_data.users (
    id bigint PRIMARY KEY, first_name text, last_name text, email text, age integer, gender text,
    state text, street_address text, postal_code text, city text, country text,
    latitude double precision, longitude double precision, traffic_source text, created_at timestamp);
CREATE TABLE raw_data.products (
    id bigint PRIMARY KEY, cost double precision, category text, name text, brand text,
    retail_price double precision, department text, sku text, distribution_center_id bigint);
CREATE TABLE raw_data.orders (
    order_id bigint PRIMARY KEY, user_id bigint REFERENCES raw_data.users (id), status text, gender text,
    created_at timestamp, returned_at timestamp, shipped_at timestamp, delivered_at timestamp,
    num_of_item integer);
CREATE TABLE raw_data.order_items (
    id bigint PRIMARY KEY, order_id bigint REFERENCES raw_data.orders (order_id),
    user_id bigint REFERENCES raw_data.users (id), product_id bigint REFERENCES raw_data.products (id),
    inventory_item_id bigint, status text, created_at timestamp, shipped_at timestamp,
    delivered_at timestamp, returned_at timestamp, sale_price double precision);
CREATE TABLE metrics.daily_sales (day date PRIMARY KEY, gmv double precision, orders bigint);
CREATE VIEW metrics.monthly_sales AS
    SELECT date_trunc('month', day)::date AS month, sum(gmv) AS gmv, sum(orders) AS orders
    FROM metrics.daily_sales GROUP BY 1;
CREATE TABLE embeddings.products (id bigint, description text, embedding vector(3));
CREATE SEQUENCE raw_data.order_id_seq;
CREATE TABLE raw_data.etl_state (token text);
REVOKE SELECT ON raw_data.etl_state FROM thelook_reader;

INSERT INTO raw_data.users
SELECT n, 'First' || n, 'Last' || n, 'user' || n || '@example.com', 18 + n * 2, CASE WHEN n % 2 = 0
       THEN 'F' ELSE 'M' END, 'State', n || ' Street', '1000' || n, 'City', (ARRAY['China', 'United States',
       'Brasil', 'France'])[1 + n % 4], 0, 0, (ARRAY['Search', 'Organic', 'Email'])[1 + n % 3],
       timestamp '2023-01-01' + n * interval '3 days'
FROM generate_series(1, 20) AS n;
INSERT INTO raw_data.products
SELECT n, 10 + n, (ARRAY['Jeans', 'Tops & Tees', 'Dresses'])[1 + n % 3], 'Product ' || n || ' shirt',
       'Brand' || n % 4, 20 + 2 * n, CASE WHEN n % 2 = 0 THEN 'Women' ELSE 'Men' END, 'SKU' || n, 1 + n % 3
FROM generate_series(1, 10) AS n;
INSERT INTO raw_data.orders
SELECT n, 1 + n % 20, (ARRAY['Complete', 'Shipped', 'Processing', 'Cancelled', 'Returned'])[1 + n % 5],
       'F', timestamp '2024-01-01' + n * interval '5 days', NULL,
       timestamp '2024-01-02' + n * interval '5 days', timestamp '2024-01-04' + n * interval '5 days',
       1 + n % 2
FROM generate_series(1, 40) AS n;
INSERT INTO raw_data.order_items
SELECT n, 1 + n % 40, 1 + (1 + n % 40) % 20, 1 + n % 10, n, 'Complete',
       timestamp '2024-01-01' + (1 + n % 40) * interval '5 days', NULL, NULL, NULL, 20 + n % 7
FROM generate_series(1, 60) AS n;
INSERT INTO metrics.daily_sales
SELECT date '2024-01-01' + n, 100 + n * 3.5, 2 + n % 3 FROM generate_series(0, 44) AS n;
INSERT INTO embeddings.products
SELECT n, 'Product ' || n, ARRAY[n, 1, 0]::vector FROM generate_series(1, 10) AS n;
"""


@pytest.fixture(scope="module")
def thelook_db(fresh_db: RoleUrls) -> RoleUrls:
    """fresh_db with theLook-shaped tables written by the owner, plus a table in `public` that only the
    admin owns (the reader must not reach it)."""
    with psycopg.connect(fresh_db.owner, autocommit=True) as connection:
        connection.execute(THELOOK_TABLES)
    with psycopg.connect(fresh_db.admin, autocommit=True) as connection:
        connection.execute("CREATE TABLE public.secrets (token text)")
        connection.execute("INSERT INTO public.secrets VALUES ('do not leak')")
    return fresh_db


@pytest.fixture(scope="module")
def catalog(thelook_db: RoleUrls) -> Catalog:
    """The catalog exactly as `thelook sql-check` and the app load it: as the read-only role."""
    with psycopg.connect(thelook_db.reader) as connection:
        return load_catalog(connection)
