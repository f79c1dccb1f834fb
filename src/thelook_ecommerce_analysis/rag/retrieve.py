"""Hybrid retrieval over embeddings.documents: pgvector cosine KNN + pg_trgm word similarity, fused by RRF.

Why hybrid: the embedding finds paraphrases ("money we kept after refunds" -> net revenue), trigrams find
exact words the model blurs (a column name, a status value such as 'Cancelled'). Trigrams are matched on
the knowledge documents only (partial GIN index, sql/embeddings/indexes.sql): over 29,000 product texts a
trigram search cost 60-260 ms per question; products are found by the vector search alone. Reciprocal rank
fusion (score = sum of 1 / (rrf_k + rank) over both lists) needs no score calibration between a cosine
distance and a trigram similarity, and a document found by both methods rises to the top.

Everything runs in ONE round trip: the per-query settings (hnsw.ef_search, iterative scan, the trigram
threshold) and the query are sent together in psycopg's pipeline mode, inside one transaction so the
settings end with it. The KNN part names each partial HNSW index's predicate literally (see
embed/documents.py), so PostgreSQL searches the small knowledge index for schema questions and the
product index for products. Names are schema-qualified (public.vector, OPERATOR(public.<=>)) because the
app's read-only role has no `public` on its search_path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from thelook_ecommerce_analysis.embed.documents import (
    DOCUMENTS_SCHEMA,
    DOCUMENTS_TABLE,
    INDEX_PARTITIONS,
    KNOWLEDGE_KINDS,
    DocumentKind,
    IndexPartition,
)
from thelook_ecommerce_analysis.embed.model import DIMENSIONS
from thelook_ecommerce_analysis.errors import ThelookError

DEFAULT_EF_SEARCH = 100
"""HNSW candidate list at query time; bench/retrieval.py measures recall@10 >= 0.95 with it."""

DEFAULT_RRF_K = 60
"""The constant of reciprocal rank fusion (60 in the original paper): damps the weight of the top ranks."""

DEFAULT_WORD_SIMILARITY_THRESHOLD = 0.3
"""pg_trgm's word_similarity above which a document is a lexical candidate (its default, 0.6, is meant
for single words and rejects almost every question)."""


@dataclass(frozen=True)
class RetrievedDocument:
    """One document with its fused score and the evidence behind it: rank and cosine distance in the
    vector list, rank and word similarity in the trigram list (None where it was not a candidate)."""

    id: str
    kind: str
    title: str
    text: str
    metadata: dict[str, Any]
    score: float
    vector_rank: int | None
    vector_distance: float | None
    text_rank: int | None
    text_similarity: float | None


def _checked_kinds(kinds: Iterable[str] | None) -> list[str]:
    if kinds is None:
        return [str(kind) for kind in DocumentKind]
    wanted = list(dict.fromkeys(str(kind) for kind in kinds))
    unknown = sorted(set(wanted) - {str(kind) for kind in DocumentKind})
    if unknown or not wanted:
        raise ThelookError(
            f"retrieve: unknown document kind(s) {', '.join(unknown) or '(none given)'}; "
            f"use some of {', '.join(str(kind) for kind in DocumentKind)}"
        )
    return wanted


def vector_literal(query_vector: Sequence[float] | np.ndarray) -> str:
    """pgvector's text form '[x,y,...]' of a query vector of the model's dimension."""
    vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
    if vector.shape[0] != DIMENSIONS or not np.isfinite(vector).all():
        raise ThelookError(
            f"retrieve: the query vector has {vector.shape[0]} values, not {DIMENSIONS} finite floats;"
            " make it with thelook_ecommerce_analysis.embed.embed_query"
        )
    return "[" + ",".join(f"{value:.7g}" for value in vector) + "]"


def _knn_branch(partition: IndexPartition, table: sql.Composable) -> sql.Composed:
    """The nearest candidates of one partial index; the literal predicate lets the planner use it."""
    return sql.SQL(
        "(SELECT id, embedding OPERATOR(public.<=>) %(vector)s::public.vector AS distance FROM {table}"
        " WHERE {predicate} AND kind = ANY(%(kinds)s)"
        " ORDER BY embedding OPERATOR(public.<=>) %(vector)s::public.vector LIMIT %(candidates)s)"
    ).format(table=table, predicate=sql.SQL(partition.predicate))


def knn_query(kinds: Sequence[str]) -> sql.Composed:
    """The vector half alone: the candidates of every partition holding a wanted kind, nearest first."""
    table = sql.Identifier(DOCUMENTS_SCHEMA, DOCUMENTS_TABLE)
    branches = [
        _knn_branch(partition, table)
        for partition in INDEX_PARTITIONS
        if partition.kinds & {DocumentKind(kind) for kind in kinds}
    ]
    return sql.SQL(" UNION ALL ").join(branches)


LEXICAL_CANDIDATES = """
    SELECT id, similarity, row_number() OVER (ORDER BY similarity DESC, id) AS rank
    FROM (
        SELECT id, public.word_similarity(%(text)s, text) AS similarity FROM {table}
        WHERE kind <> 'product' AND %(text)s OPERATOR(public.<%%) text AND kind = ANY(%(kinds)s)
        ORDER BY similarity DESC LIMIT %(candidates)s
    ) AS candidates
"""
NO_LEXICAL_CANDIDATES = "SELECT NULL::text AS id, NULL::real AS similarity, NULL::bigint AS rank WHERE false"


def hybrid_query(kinds: Sequence[str]) -> sql.Composed:
    """KNN candidates and trigram candidates, each ranked, fused by RRF, joined back to the documents.
    A products-only query skips the trigram half (there is no trigram index over products)."""
    table = sql.Identifier(DOCUMENTS_SCHEMA, DOCUMENTS_TABLE)
    wants_knowledge = bool(KNOWLEDGE_KINDS & {DocumentKind(kind) for kind in kinds})
    lexical = sql.SQL(LEXICAL_CANDIDATES if wants_knowledge else NO_LEXICAL_CANDIDATES).format(table=table)
    return sql.SQL(
        """
WITH knn AS (
    SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank
    FROM ({knn}) AS candidates
), lexical AS ({lexical}
), fused AS (
    SELECT coalesce(knn.id, lexical.id) AS id, knn.rank AS vector_rank, knn.distance,
           lexical.rank AS text_rank, lexical.similarity,
           coalesce(1.0 / (%(rrf_k)s + knn.rank), 0) + coalesce(1.0 / (%(rrf_k)s + lexical.rank), 0) AS score
    FROM knn FULL JOIN lexical ON lexical.id = knn.id
)
SELECT d.id, d.kind, d.title, d.text, d.metadata,
       f.score, f.vector_rank, f.distance, f.text_rank, f.similarity
FROM fused AS f JOIN {table} AS d ON d.id = f.id
ORDER BY f.score DESC, f.vector_rank NULLS LAST, d.id
LIMIT %(k)s
"""
    ).format(knn=knn_query(kinds), lexical=lexical, table=table)


SETTINGS_QUERY = (
    "SELECT set_config('hnsw.ef_search', %(ef_search)s, true),"
    " set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " set_config('pg_trgm.word_similarity_threshold', %(threshold)s, true),"
    " set_config('plan_cache_mode', 'force_generic_plan', true)"
)
"""Transaction-local settings: ef_search for recall; relaxed iterative scan so that a kind filter inside a
partition still fills the candidate list; a trigram threshold suited to whole questions; and a generic
plan for the prepared query: planning it for each question's text made the planner estimate the trigram
operator's selectivity against the column statistics, ~20 ms of a ~23 ms search (measured), while the
plan itself never changes (HNSW order by distance, trigram GIN candidates)."""


def _document(row: tuple) -> RetrievedDocument:
    identifier, kind, title, text, metadata, score, vector_rank, distance, text_rank, similarity = row
    return RetrievedDocument(
        id=identifier,
        kind=kind,
        title=title,
        text=text,
        metadata=metadata if isinstance(metadata, dict) else json.loads(metadata),
        score=float(score),
        vector_rank=vector_rank,
        vector_distance=None if distance is None else float(distance),
        text_rank=text_rank,
        text_similarity=None if similarity is None else float(similarity),
    )


def retrieve(
    connection: psycopg.Connection,
    query_vector: Sequence[float] | np.ndarray,
    query_text: str,
    kinds: Iterable[str] | None = None,
    k: int = 8,
    *,
    candidates: int = 40,
    ef_search: int = DEFAULT_EF_SEARCH,
    rrf_k: int = DEFAULT_RRF_K,
    word_similarity_threshold: float = DEFAULT_WORD_SIMILARITY_THRESHOLD,
) -> list[RetrievedDocument]:
    """The `k` best documents of the given kinds (all kinds when None) for a question, best first.

    `query_vector` is `embed_query(query_text)`; `candidates` documents are taken from each of the two
    lists before fusion. Works with the app's read-only role; runs in its own transaction (a savepoint
    if the connection is already in one).
    """
    if k < 1 or candidates < k:
        raise ThelookError(f"retrieve: need 1 <= k <= candidates, got k={k}, candidates={candidates}")
    wanted = _checked_kinds(kinds)
    parameters = {
        "vector": vector_literal(query_vector),
        "text": query_text,
        "kinds": wanted,
        "candidates": candidates,
        "rrf_k": rrf_k,
        "k": k,
    }
    settings = {"ef_search": str(max(ef_search, candidates)), "threshold": str(word_similarity_threshold)}
    with connection.transaction(), connection.pipeline(), connection.cursor() as cursor:
        cursor.execute(SETTINGS_QUERY, settings)
        cursor.execute(hybrid_query(wanted), parameters, prepare=True)
        rows = cursor.fetchall()
    return [_document(row) for row in rows]
