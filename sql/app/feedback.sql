-- embeddings.feedback: the app's learning loop. Every thumbs-up or thumbs-down on an answer is one row. A
-- thumbs-up on an answer with SQL is a CANDIDATE example (review = 'pending'): nothing is written to
-- embeddings.documents, so retrieval cannot put it into anyone's prompt. `thelook examples approve ID`
-- re-checks its SQL with the guard of the day and only then writes the verified `example` document
-- (id example:verified:<hash>, metadata.verified = true, metadata.feedback_id = ID) and sets
-- review = 'approved'; `thelook examples reject ID` sets 'rejected' (the row is kept for the record).
-- Written with the owner role; idempotent, applied by the app's feedback store when it starts and by
-- `thelook examples`.

CREATE TABLE IF NOT EXISTS embeddings.feedback (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question text NOT NULL,
    sql text,
    verdict text NOT NULL CHECK (verdict IN ('up', 'down')),
    error text,
    provider text NOT NULL DEFAULT '',
    example_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE embeddings.feedback ADD COLUMN IF NOT EXISTS review text
    CHECK (review IN ('pending', 'approved', 'rejected', 'superseded'));
ALTER TABLE embeddings.feedback ADD COLUMN IF NOT EXISTS reviewed_at timestamptz;

-- Thumbs-ups given before review existed became examples at once, unreviewed: their documents go and
-- they wait for review like any other candidate (question and SQL stay here, so approving restores them).
DO $$
BEGIN
    IF to_regclass('embeddings.documents') IS NOT NULL THEN
        DELETE FROM embeddings.documents AS d USING embeddings.feedback AS f
        WHERE f.review IS NULL AND f.example_id IS NOT NULL AND d.id = f.example_id;
    END IF;
END
$$;
UPDATE embeddings.feedback SET review = 'pending', example_id = NULL
WHERE review IS NULL AND verdict = 'up' AND coalesce(sql, '') <> '';

CREATE INDEX IF NOT EXISTS feedback_pending_idx ON embeddings.feedback (created_at) WHERE review = 'pending';

COMMENT ON TABLE embeddings.feedback IS 'Thumbs-up and thumbs-down given to answers in the app: the question, the SQL shown, and for a thumbs-up its review as a candidate example (an example document exists only once approved).';
COMMENT ON COLUMN embeddings.feedback.question IS 'The question as the user typed it.';
COMMENT ON COLUMN embeddings.feedback.sql IS 'The SQL of the answer that was judged; empty when the question was not answered.';
COMMENT ON COLUMN embeddings.feedback.verdict IS 'up: the user says the answer is right (a candidate example, pending review); down: it is wrong.';
COMMENT ON COLUMN embeddings.feedback.error IS 'The engine''s error line when the answer failed.';
COMMENT ON COLUMN embeddings.feedback.provider IS 'The LLM that wrote the SQL (provider, model, address).';
COMMENT ON COLUMN embeddings.feedback.example_id IS 'Once approved: the id of the example document in embeddings.documents.';
COMMENT ON COLUMN embeddings.feedback.review IS 'For a thumbs-up with SQL: pending (never retrieved), approved (a verified example), rejected, or superseded (a later approval of the same question replaced its SQL); empty otherwise.';
COMMENT ON COLUMN embeddings.feedback.reviewed_at IS 'When it was last approved, rejected or superseded.';
COMMENT ON COLUMN embeddings.feedback.created_at IS 'When the feedback was given.';
