"""The one writer of embeddings.documents: every stored document row goes through `write_documents`.

Two callers store documents: the embeddings pipeline's dataset (datasets/embeddings.py: the documents
whose content hash changed, thousands on a first run) and the approval of a candidate example
(rag/examples_review.py: one verified example). Both hand over a pyarrow Table of STORED_DOCUMENT_SCHEMA,
so the row they store has one shape, written by one statement (sql/embeddings/write_documents.sql):
id, kind, title, text, content hash, metadata (jsonb) and vector as given, updated_at = now().

How: the documents are COPYed in binary (vectors through pgvector's binary dumper, no text round trip of
384 floats) into a temp table, then inserted or updated from it in one statement. Each caller computes
its content hash; this module stores it as given. No Kedro here, and no commit: the rows are written in
the caller's transaction (a savepoint in it), so the caller decides what else changes with them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from pgvector.psycopg import register_vector

from thelook_ecommerce_analysis.config import paths
from thelook_ecommerce_analysis.embed.documents import DOCUMENTS_SCHEMA, DOCUMENTS_TABLE
from thelook_ecommerce_analysis.errors import ThelookError

STORED_DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("metadata", pa.string(), nullable=False),
        pa.field("embedding", pa.list_(pa.float32()), nullable=False),
    ]
)
"""What `write_documents` stores, one row per document: `metadata` is JSON text (stored as jsonb),
`embedding` the document's unit-length vector. Other columns of the input are ignored."""

WRITE_DOCUMENTS_SQL = Path("embeddings") / "write_documents.sql"
"""Relative to the project's sql/ folder."""

_STAGING = "documents_staging"
_STAGING_DDL = f"""
CREATE TEMP TABLE {_STAGING} (
    id text NOT NULL, kind text NOT NULL, title text NOT NULL, text text NOT NULL,
    content_hash text NOT NULL, metadata text NOT NULL, embedding public.vector NOT NULL
) ON COMMIT DROP
"""
_COPY = f"COPY {_STAGING} ({', '.join(STORED_DOCUMENT_SCHEMA.names)}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ["text", "text", "text", "text", "text", "text", "vector"]


@dataclass(frozen=True)
class WrittenDocuments:
    """What one write did: new ids inserted, stored ones updated, equal ones left as they were."""

    inserted: int
    updated: int
    unchanged: int


@functools.cache
def _statement(sql_dir: Path) -> str:
    path = sql_dir / WRITE_DOCUMENTS_SQL
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ThelookError(
            f"cannot read {path} ({error.strerror}): run thelook from the thelook project or set THELOOK_HOME"
        ) from None


def _vectors(embeddings: pa.ChunkedArray | pa.Array) -> list[np.ndarray]:
    """One float32 array per row, sliced from the column's values (no per-float Python objects)."""
    column = embeddings.combine_chunks() if isinstance(embeddings, pa.ChunkedArray) else embeddings
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    ends = np.cumsum(pc.list_value_length(column).to_numpy(zero_copy_only=False))
    return np.split(values, ends[:-1]) if len(ends) else []


def write_documents(
    connection: psycopg.Connection, documents: pa.Table, *, sql_dir: Path | None = None
) -> WrittenDocuments:
    """Insert or update `documents` (columns of STORED_DOCUMENT_SCHEMA) in embeddings.documents, in a
    savepoint of the caller's transaction (or a transaction of its own). Every row needs its vector;
    `sql_dir` is the project's sql/ folder (found from the project when not given)."""
    missing = [name for name in STORED_DOCUMENT_SCHEMA.names if name not in documents.column_names]
    target = f"{DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE}"
    if missing:
        raise ThelookError(f"cannot write documents into {target}: they lack column(s) {', '.join(missing)}")
    if documents.num_rows == 0:
        return WrittenDocuments(0, 0, 0)
    if documents["embedding"].null_count:
        raise ThelookError(
            f"cannot write documents into {target}: {documents['embedding'].null_count} of them have no "
            "embedding; only embedded documents are stored"
        )
    if pc.count_distinct(documents["id"]).as_py() != documents.num_rows:
        counts = pc.value_counts(documents["id"])
        repeated = [item["values"].as_py() for item in counts if item["counts"].as_py() > 1]
        raise ThelookError(f"cannot write documents into {target}: id(s) {', '.join(repeated[:5])} repeat")
    statement = _statement(sql_dir or paths().sql)
    columns = [documents[name].to_pylist() for name in STORED_DOCUMENT_SCHEMA.names[:-1]]
    rows = zip(*columns, _vectors(documents["embedding"]), strict=True)
    register_vector(connection)
    try:
        with connection.transaction():
            connection.execute(_STAGING_DDL)
            with connection.cursor().copy(_COPY) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            inserted, updated = connection.execute(statement).fetchone()
            connection.execute(f"DROP TABLE {_STAGING}")
    except psycopg.errors.UndefinedTable:
        raise ThelookError(
            f"cannot write documents: {target} does not exist yet (sql/embeddings/tables.sql creates it); "
            "run `thelook run` first"
        ) from None
    except (psycopg.IntegrityError, psycopg.DataError) as error:
        diagnostic = error.diag.message_primary or str(error).strip()
        raise ThelookError(
            f"cannot write {documents.num_rows} document(s) into {target}: {diagnostic}; nothing was written"
        ) from None
    return WrittenDocuments(inserted, updated, documents.num_rows - inserted - updated)
