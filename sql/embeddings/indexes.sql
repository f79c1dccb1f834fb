-- Indexes of embeddings.documents added after the run (idempotent). The HNSW indexes are not here: their
-- m and ef_construction come from the catalog, so the embeddings dataset builds them (see tables.sql).

-- Trigram index for the lexical half of hybrid retrieval (`query <% text`, word similarity), on the
-- knowledge documents only: that is where exact words matter (column names, status values such as
-- 'Cancelled'), and a trigram search over 29,000 product texts took 60-260 ms per question (measured),
-- against ~1.5 ms for the vector search. Products are searched semantically.
CREATE INDEX IF NOT EXISTS documents_knowledge_text_trgm ON embeddings.documents
    USING gin (text public.gin_trgm_ops) WHERE kind <> 'product';

ANALYZE embeddings.documents;
