-- metrics: the metric tables are created by their upsert datasets from the data's own types. The one
-- table created here is daily_summaries, because its `facts` must be jsonb (the data carries it as
-- text) and its kinds and sources are checked. Comments come from conf/base/globals_metrics.yml through
-- the dataset (summaries_glossary), like every metrics table's.

CREATE TABLE IF NOT EXISTS metrics.daily_summaries (
    period_kind text NOT NULL CHECK (period_kind IN ('day', 'week', 'month')),
    period_start date NOT NULL,
    period_end date NOT NULL,
    text text NOT NULL,
    facts jsonb NOT NULL,
    model text,
    prompt_hash text NOT NULL,
    source text NOT NULL CHECK (source IN ('llm', 'template')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (period_kind, period_start)
);
