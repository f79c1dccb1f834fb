-- embeddings: the documents the app retrieves to answer questions (schema, metric and example documents,
-- product descriptions), each with its all-MiniLM-L6-v2 vector. Written by the embeddings pipeline
-- (datasets/embeddings.py), which only embeds documents whose content_hash changed, and by the approval
-- of a candidate example (rag/examples_review.py), both through embed/store.py and
-- sql/embeddings/write_documents.sql.
-- The partial HNSW indexes are built by that dataset from conf/base/catalog_embeddings.yml (m,
-- ef_construction), after the first load; the trigram index by sql/embeddings/indexes.sql after the run.

CREATE TABLE IF NOT EXISTS embeddings.documents (
    id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('table', 'column', 'metric', 'example', 'product')),
    title text NOT NULL,
    text text NOT NULL,
    content_hash text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    embedding public.vector(384) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE embeddings.documents IS 'Retrieval documents for the question-answering app: one row per table, column, metric, example question or product, with its 384-dimensional sentence embedding.';
COMMENT ON COLUMN embeddings.documents.id IS 'Stable document id, e.g. column:raw_data.orders.status, metric:metrics.sales_daily.gmv, product:42.';
COMMENT ON COLUMN embeddings.documents.kind IS 'What the document describes: table, column, metric, example or product.';
COMMENT ON COLUMN embeddings.documents.title IS 'Short name of the document (qualified table or column name, metric name, question, product name).';
COMMENT ON COLUMN embeddings.documents.text IS 'The text that was embedded and that trigram search matches.';
COMMENT ON COLUMN embeddings.documents.content_hash IS 'SHA-256 of the model name, kind, title, text and metadata: a document is re-embedded only when it changes.';
COMMENT ON COLUMN embeddings.documents.metadata IS 'Structured details: schema, table, column, type, comment, distinct_values; a metric''s unit and formula; an example''s sql.';
COMMENT ON COLUMN embeddings.documents.embedding IS 'Unit-length all-MiniLM-L6-v2 embedding of text (cosine distance).';
COMMENT ON COLUMN embeddings.documents.updated_at IS 'When the document was last embedded.';
