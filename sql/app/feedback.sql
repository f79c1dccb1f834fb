-- embeddings.feedback: the app's learning loop. Every thumbs-up or thumbs-down on an answer is one row; a
-- thumbs-up also stores the question and its SQL as a verified `example` document in embeddings.documents
-- (id example:verified:<hash>, metadata.verified = true), so later similar questions get it as a
-- few-shot example. Written by the app with the owner role (the only thing the app writes); idempotent,
-- applied by the app's feedback store when it starts.

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

COMMENT ON TABLE embeddings.feedback IS 'Thumbs-up and thumbs-down given to answers in the app: the question, the SQL shown, and for a thumbs-up the id of the verified example document it became.';
COMMENT ON COLUMN embeddings.feedback.question IS 'The question as the user typed it.';
COMMENT ON COLUMN embeddings.feedback.sql IS 'The SQL of the answer that was judged; empty when the question was not answered.';
COMMENT ON COLUMN embeddings.feedback.verdict IS 'up: the answer is right (it becomes a verified example); down: it is wrong.';
COMMENT ON COLUMN embeddings.feedback.error IS 'The engine''s error line when the answer failed.';
COMMENT ON COLUMN embeddings.feedback.provider IS 'The LLM that wrote the SQL (provider, model, address).';
COMMENT ON COLUMN embeddings.feedback.example_id IS 'For a thumbs-up: the id of the example document in embeddings.documents.';
COMMENT ON COLUMN embeddings.feedback.created_at IS 'When the feedback was given.';
