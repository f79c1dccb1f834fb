-- raw_data's operational tables. theLook's seven tables themselves (theLook's own table and column names,
-- so any theLook SQL runs unchanged) are created from the contract, conf/base/globals_raw_data.yml, by
-- db/raw_tables.py: keyless, so that a first load COPYs into empty heaps; their keys follow the load.

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
