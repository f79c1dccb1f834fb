"""Where the embedded documents live and how their vector index is split, shared by writer and reader.

The embeddings pipeline writes `embeddings.documents`; the app's retrieval reads it. Both must agree on
the document kinds and on the partial HNSW indexes: products (~29,000) and the knowledge documents
(schema, metric and example documents, a few hundred) get SEPARATE indexes, because a kind filter
applied after an approximate search over one shared graph would mostly find products and return too
few schema documents. A query names the partition's predicate literally, so the planner can match it
to the partial index.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DocumentKind(StrEnum):
    """What a document describes."""

    TABLE = "table"
    COLUMN = "column"
    METRIC = "metric"
    EXAMPLE = "example"
    PRODUCT = "product"


DOCUMENTS_SCHEMA = "embeddings"
DOCUMENTS_TABLE = "documents"


@dataclass(frozen=True)
class IndexPartition:
    """One partial HNSW index: its name and the WHERE predicate (SQL text) that selects its kinds."""

    index_name: str
    predicate: str
    kinds: frozenset[DocumentKind]


KNOWLEDGE_KINDS = frozenset(
    {DocumentKind.TABLE, DocumentKind.COLUMN, DocumentKind.METRIC, DocumentKind.EXAMPLE}
)
INDEX_PARTITIONS = (
    IndexPartition("documents_knowledge_embedding_hnsw", "kind <> 'product'", KNOWLEDGE_KINDS),
    IndexPartition("documents_product_embedding_hnsw", "kind = 'product'", frozenset({DocumentKind.PRODUCT})),
)
