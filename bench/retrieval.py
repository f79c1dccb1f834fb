"""Retrieval benchmark: HNSW recall@10 against exact search, query latency, and embedding throughput.

Run after a full `thelook run` (the product documents must be embedded):

    HF_HUB_OFFLINE=1 python bench/retrieval.py [--queries 200] [--ef-search 40 100 200]

It prints, for each hnsw.ef_search, the recall@10 of the product index against exact cosine search (computed
in numpy over every stored product vector) and p50/p95 latency of the KNN query; then p50/p95 of the whole
hybrid `retrieve()` (KNN + trigram + RRF, one round trip) for product and for schema questions; then how
many documents per second the model embeds. Goals (issue 6): recall@10 >= 0.95, p95 < 10 ms.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import psycopg

from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.embed import embed_texts
from thelook_ecommerce_analysis.rag.retrieve import SETTINGS_QUERY, knn_query, retrieve, vector_literal

SCHEMA_QUESTIONS = [
    "how many orders were cancelled last month",
    "revenue by country",
    "which brands have the best margin",
    "customer lifetime value by acquisition channel",
    "average time to ship an item per warehouse",
]


def product_vectors(connection: psycopg.Connection) -> tuple[list[str], np.ndarray]:
    rows = connection.execute(
        "SELECT id, embedding::text FROM embeddings.documents WHERE kind = 'product' ORDER BY id"
    ).fetchall()
    if not rows:
        raise SystemExit("no product documents: run `thelook run` first")
    ids = [row[0] for row in rows]
    vectors = np.array([np.array(row[1][1:-1].split(","), dtype=np.float32) for row in rows])
    return ids, vectors


def product_questions(connection: psycopg.Connection, count: int, seed: int) -> list[str]:
    """Shopper-style queries made of real brands, categories and departments, not product texts."""
    rows = connection.execute(
        "SELECT DISTINCT brand, category, department FROM raw_data.products WHERE brand IS NOT NULL"
    ).fetchall()
    sample = random.Random(seed).sample(rows, min(count, len(rows)))
    return [
        f"{category.lower()} by {brand} for {department.lower()}" for brand, category, department in sample
    ]


def percentiles(milliseconds: list[float]) -> str:
    p50, p95 = np.percentile(milliseconds, [50, 95])
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"


def knn_ids(connection: psycopg.Connection, vector: np.ndarray, ef_search: int) -> tuple[list[str], float]:
    started = time.perf_counter()
    with connection.transaction(), connection.pipeline(), connection.cursor() as cursor:
        cursor.execute(SETTINGS_QUERY, {"ef_search": str(ef_search), "threshold": "0.3"})
        cursor.execute(
            knn_query(["product"]), {"vector": vector_literal(vector), "kinds": ["product"], "candidates": 10}
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--throughput-docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    with psycopg.connect(database_url("reader"), autocommit=True) as connection:
        ids, vectors = product_vectors(connection)
        questions = product_questions(connection, arguments.queries, arguments.seed)
        query_vectors = embed_texts(questions, progress=False)
        exact = [
            [ids[i] for i in np.argsort(-(vectors @ query))[:10]] for query in query_vectors
        ]  # unit vectors: largest inner product = smallest cosine distance
        print(f"{len(ids)} product documents, {len(questions)} queries")
        for ef_search in arguments.ef_search:
            recalls, latencies = [], []
            for query, truth in zip(query_vectors, exact, strict=True):
                found, milliseconds = knn_ids(connection, query, ef_search)
                recalls.append(len(set(found) & set(truth)) / 10)
                latencies.append(milliseconds)
            print(
                f"KNN  ef_search={ef_search:<4} recall@10 {np.mean(recalls):.3f}"
                f"  {percentiles(latencies[1:])}"
            )
        for label, kinds, texts in (
            ("products", ["product"], questions),
            ("schema  ", ["table", "column", "metric", "example"], SCHEMA_QUESTIONS * 20),
        ):
            text_vectors = embed_texts(texts, progress=False)
            latencies = []
            for text, vector in zip(texts, text_vectors, strict=True):
                started = time.perf_counter()
                retrieve(connection, vector, text, kinds=kinds, k=8)
                latencies.append((time.perf_counter() - started) * 1000)
            print(f"hybrid retrieve() {label}  {percentiles(latencies[1:])}")
        texts = [
            row[0]
            for row in connection.execute(
                "SELECT text FROM embeddings.documents WHERE kind = 'product' ORDER BY id LIMIT %s",
                (arguments.throughput_docs,),
            )
        ]
    embed_texts(texts[:64], progress=False)  # load the model outside the timing
    started = time.perf_counter()
    embed_texts(texts, progress=False)
    seconds = time.perf_counter() - started
    print(f"embedding throughput: {len(texts) / seconds:.0f} docs/s ({len(texts)} product texts)")


if __name__ == "__main__":
    main()
