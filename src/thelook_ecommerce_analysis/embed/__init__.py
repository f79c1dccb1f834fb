"""The embedding space of thelook: the one model loader and the layout of the document store.

    from thelook_ecommerce_analysis.embed import embed_query, embed_texts

Everything that turns text into vectors (the embeddings pipeline, the app) goes through here.
"""

from thelook_ecommerce_analysis.embed.documents import (
    DOCUMENTS_SCHEMA,
    DOCUMENTS_TABLE,
    INDEX_PARTITIONS,
    KNOWLEDGE_KINDS,
    DocumentKind,
    IndexPartition,
)
from thelook_ecommerce_analysis.embed.model import (
    DIMENSIONS,
    MODEL_NAME,
    embed_query,
    embed_texts,
    load_model,
)

__all__ = [
    "DIMENSIONS",
    "DOCUMENTS_SCHEMA",
    "DOCUMENTS_TABLE",
    "INDEX_PARTITIONS",
    "KNOWLEDGE_KINDS",
    "MODEL_NAME",
    "DocumentKind",
    "IndexPartition",
    "embed_query",
    "embed_texts",
    "load_model",
]
