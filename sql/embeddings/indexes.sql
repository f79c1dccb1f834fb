-- Indexes of embeddings.documents added after the run (idempotent). The HNSW indexes are not here: their
-- m and ef_construction come from the catalog, so the embeddings dataset builds them (see tables.sql).

-- Trigram index for the lexical half of hybrid retrieval: `query <% text` (word similarity) and `%`.
CREATE INDEX IF NOT EXISTS documents_text_trgm ON embeddings.documents USING gin (text public.gin_trgm_ops);
-- Filters by kind outside the vector search (counts, listing the examples).
CREATE INDEX IF NOT EXISTS documents_kind_idx ON embeddings.documents (kind);

ANALYZE embeddings.documents;
