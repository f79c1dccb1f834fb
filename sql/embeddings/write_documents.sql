-- The one statement that writes rows of embeddings.documents (embed/store.py `write_documents`, used by
-- the embeddings pipeline's dataset and by `thelook examples approve`). The documents, each with its
-- vector, were just COPYed into the temp table documents_staging. New ids are inserted; a stored id whose
-- row differs is updated, updated_at included; a row equal to its staged copy is left alone. ON CONFLICT
-- rather than MERGE: an approval and a run of the job may write at the same moment, and ON CONFLICT is
-- safe against a concurrent insert of the same id. Returns (inserted, updated).

WITH written AS (
    INSERT INTO embeddings.documents AS stored
        (id, kind, title, text, content_hash, metadata, embedding, updated_at)
    SELECT id, kind, title, text, content_hash, metadata::jsonb, embedding, now()
    FROM documents_staging
    ON CONFLICT (id) DO UPDATE SET
        kind = EXCLUDED.kind,
        title = EXCLUDED.title,
        text = EXCLUDED.text,
        content_hash = EXCLUDED.content_hash,
        metadata = EXCLUDED.metadata,
        embedding = EXCLUDED.embedding,
        updated_at = EXCLUDED.updated_at
    WHERE (stored.kind, stored.title, stored.text, stored.content_hash, stored.metadata, stored.embedding)
        IS DISTINCT FROM
        (EXCLUDED.kind, EXCLUDED.title, EXCLUDED.text, EXCLUDED.content_hash, EXCLUDED.metadata,
         EXCLUDED.embedding)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;
