-- raw_data: theLook's seven tables with theLook's own table and column names, so any theLook SQL runs
-- unchanged. No keys or indexes here: a first load COPYs straight into empty heaps, and
-- sql/raw_data/indexes.sql adds keys and indexes after the load (the CreateIndexesHook runs both).

CREATE TABLE IF NOT EXISTS raw_data.distribution_centers (
    id bigint,
    name text,
    latitude double precision,
    longitude double precision
);

CREATE TABLE IF NOT EXISTS raw_data.products (
    id bigint,
    cost double precision,
    category text,
    name text,
    brand text,
    retail_price double precision,
    department text,
    sku text,
    distribution_center_id bigint
);

CREATE TABLE IF NOT EXISTS raw_data.users (
    id bigint,
    first_name text,
    last_name text,
    email text,
    age bigint,
    gender text,
    state text,
    street_address text,
    postal_code text,
    city text,
    country text,
    latitude double precision,
    longitude double precision,
    traffic_source text,
    created_at timestamptz
);

CREATE TABLE IF NOT EXISTS raw_data.orders (
    order_id bigint,
    user_id bigint,
    status text,
    gender text,
    created_at timestamptz,
    returned_at timestamptz,
    shipped_at timestamptz,
    delivered_at timestamptz,
    num_of_item bigint
);

CREATE TABLE IF NOT EXISTS raw_data.order_items (
    id bigint,
    order_id bigint,
    user_id bigint,
    product_id bigint,
    inventory_item_id bigint,
    status text,
    created_at timestamptz,
    shipped_at timestamptz,
    delivered_at timestamptz,
    returned_at timestamptz,
    sale_price double precision
);

CREATE TABLE IF NOT EXISTS raw_data.inventory_items (
    id bigint,
    product_id bigint,
    created_at timestamptz,
    sold_at timestamptz,
    cost double precision,
    product_category text,
    product_name text,
    product_brand text,
    product_retail_price double precision,
    product_department text,
    product_sku text,
    product_distribution_center_id bigint
);

CREATE TABLE IF NOT EXISTS raw_data.events (
    id bigint,
    user_id bigint,
    sequence_number bigint,
    session_id text,
    created_at timestamptz,
    ip_address text,
    city text,
    state text,
    postal_code text,
    browser text,
    traffic_source text,
    uri text,
    event_type text
);

-- Operational tables of the job (prefixed etl_ so that they are never mistaken for business data).
CREATE TABLE IF NOT EXISTS raw_data.etl_runs (
    run_id text PRIMARY KEY,
    pipeline text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status text NOT NULL CONSTRAINT etl_runs_status_check
        CHECK (status IN ('running', 'success', 'failed', 'interrupted')),
    rows_inserted bigint NOT NULL DEFAULT 0,
    rows_updated bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0,
    error text
);
COMMENT ON TABLE raw_data.etl_runs IS 'One row per run of the Kedro job: when, which pipeline, rows written and quarantined, success or the error.';
-- 'interrupted' (a run killed, or whose database stopped, marked so by the next run) came later: a table
-- made before it gets the wider check once.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_constraint
        WHERE conrelid = 'raw_data.etl_runs'::regclass AND conname = 'etl_runs_status_check'
          AND pg_get_constraintdef(oid) LIKE '%interrupted%'
    ) THEN
        ALTER TABLE raw_data.etl_runs DROP CONSTRAINT IF EXISTS etl_runs_status_check;
        ALTER TABLE raw_data.etl_runs ADD CONSTRAINT etl_runs_status_check
            CHECK (status IN ('running', 'success', 'failed', 'interrupted'));
    END IF;
END
$$;
-- The warnings a run logged (e.g. the summaries' language model did not answer, so templates were
-- stored) came later still: the column is added once.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_attribute
        WHERE attrelid = 'raw_data.etl_runs'::regclass AND attname = 'warnings' AND NOT attisdropped
    ) THEN
        ALTER TABLE raw_data.etl_runs ADD COLUMN warnings text[] NOT NULL DEFAULT '{}';
        COMMENT ON COLUMN raw_data.etl_runs.warnings IS 'Warnings the run logged, in order (a run that succeeded may still have some, e.g. a language model that did not answer).';
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS raw_data.etl_quarantine (
    run_id text NOT NULL,
    source_table text NOT NULL,
    record_key text,
    reason text NOT NULL,
    record jsonb NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS etl_quarantine_run_idx ON raw_data.etl_quarantine (run_id, source_table);
COMMENT ON TABLE raw_data.etl_quarantine IS 'Rows the job refused to load (a broken row rule or an unknown foreign key), with the reason and the run.';
