-- Indexes of raw_data, added after the load (building them once over loaded data is faster than
-- maintaining them row by row during a first COPY), after the contract's primary and foreign keys
-- (db/raw_tables.py). Idempotent: safe after every run.

-- Time and filter columns that the metrics and the app's questions use most (every foreign key's column is
-- indexed with the key itself, by db/raw_tables.py).
CREATE INDEX IF NOT EXISTS users_created_at_idx ON raw_data.users (created_at);
CREATE INDEX IF NOT EXISTS users_country_idx ON raw_data.users (country);
CREATE INDEX IF NOT EXISTS orders_created_at_idx ON raw_data.orders (created_at);
CREATE INDEX IF NOT EXISTS orders_status_idx ON raw_data.orders (status);
CREATE INDEX IF NOT EXISTS order_items_created_at_idx ON raw_data.order_items (created_at);
CREATE INDEX IF NOT EXISTS inventory_items_created_at_idx ON raw_data.inventory_items (created_at);
CREATE INDEX IF NOT EXISTS events_created_at_idx ON raw_data.events (created_at);

-- Fuzzy text search on product names and brands ("levis jeans" finds "Levi's ... Jeans").
CREATE INDEX IF NOT EXISTS products_name_trgm_idx ON raw_data.products USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS products_brand_trgm_idx ON raw_data.products USING gin (brand gin_trgm_ops);

ANALYZE raw_data.distribution_centers, raw_data.products, raw_data.users, raw_data.orders,
    raw_data.order_items, raw_data.inventory_items, raw_data.events;
