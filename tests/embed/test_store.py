"""The one writer of embeddings.documents, on a fresh embedded PostgreSQL database (sql/init.sql, then
sql/embeddings/tables.sql as the job applies it): the embeddings pipeline's dataset and the approval of a
candidate example both store through `embed.store.write_documents`, so their rows have one shape; equal
rows are left alone; bad input is refused before anything is sent.

Vectors are fixed unit vectors (no model is loaded): what is checked is that each is stored as given."""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pyarrow as pa
import pytest
from pgvector.psycopg import register_vector

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.datasets.embeddings import EmbeddedDocumentsDataset
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.embed import DIMENSIONS, DocumentKind
from thelook_ecommerce_analysis.embed.store import STORED_DOCUMENT_SCHEMA, WrittenDocuments, write_documents
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.pipelines.embeddings import nodes
from thelook_ecommerce_analysis.rag.examples_review import (
    content_hash,
    example_metadata,
    verified_example_id,
    write_example_document,
)

SQL_DIR = REPO_ROOT / "sql"
QUESTION = "How many orders were cancelled, as a reviewer approved it?"
QUERY = "SELECT count(*) AS cancelled FROM raw_data.orders WHERE status = 'Cancelled'"
FEEDBACK_ID = 7


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def pipeline_documents(vectors: np.ndarray) -> pa.Table:
    """What the embed node hands the dataset: a curated example and a metric document, both embedded."""
    documents = nodes.documents_table(
        [
            nodes.Document(
                id="example:pipeline",
                kind=DocumentKind.EXAMPLE,
                title="How many orders were placed?",
                text="How many orders were placed?",
                metadata={"question": "How many orders were placed?", "sql": "SELECT count(*) FROM orders"},
            ),
            nodes.Document(
                id="metric:metrics.sales_daily.gmv",
                kind=DocumentKind.METRIC,
                title="GMV",
                text="GMV [USD]: the sale price of sold items.",
                metadata={"table": "sales_daily", "column": "gmv", "unit": "USD"},
            ),
        ]
    )
    changed = np.ones(documents.num_rows, dtype=bool)
    return documents.append_column("content_hash", nodes.content_hashes(documents)).append_column(
        "embedding", nodes.vectors_column(vectors, changed)
    )


@pytest.fixture(scope="module")
def owner_url(fresh_db: RoleUrls) -> str:
    with psycopg.connect(fresh_db.owner, autocommit=True) as connection:
        connection.execute((SQL_DIR / "embeddings" / "tables.sql").read_text(encoding="utf-8"))
    return fresh_db.owner


@pytest.fixture(autouse=True)
def empty_store(owner_url: str) -> None:
    with psycopg.connect(owner_url, autocommit=True) as connection:
        connection.execute("TRUNCATE embeddings.documents")


def stored_rows(url: str) -> dict[str, dict]:
    """Every stored document: its values, and the PostgreSQL type of each column as stored."""
    with psycopg.connect(url) as connection:
        register_vector(connection)
        cursor = connection.execute(
            "SELECT d.*, json_build_object("
            "  'kind', pg_typeof(kind), 'title', pg_typeof(title), 'text', pg_typeof(text), "
            "  'content_hash', pg_typeof(content_hash), 'metadata', pg_typeof(metadata), "
            "  'embedding', pg_typeof(embedding), 'updated_at', pg_typeof(updated_at), "
            "  'metadata_type', jsonb_typeof(metadata), "
            "  'dimensions', public.vector_dims(embedding)) AS types "
            "FROM embeddings.documents d ORDER BY id"
        )
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def approve(url: str, vector: np.ndarray) -> str:
    """What `ExampleReview.approve` does once the guard passed: write the example in its transaction."""
    with psycopg.connect(url) as connection, connection.transaction():
        return write_example_document(connection, QUESTION, QUERY, FEEDBACK_ID, vector, sql_dir=SQL_DIR)


def test_the_dataset_and_an_approval_store_rows_of_one_shape(owner_url: str) -> None:
    vectors = unit_vectors(3, seed=1)
    documents = pipeline_documents(vectors[:2])
    dataset = EmbeddedDocumentsDataset(
        credentials={"con": owner_url}, db_schema="embeddings", table_name="documents"
    )
    dataset.save(documents)
    assert (dataset.last_result.inserted, dataset.last_result.updated) == (2, 0)
    example_id = approve(owner_url, vectors[2])
    assert example_id == verified_example_id(QUESTION)

    rows = stored_rows(owner_url)
    assert sorted(rows) == sorted([*documents["id"].to_pylist(), example_id])
    shapes = {identifier: (sorted(row), row["types"]) for identifier, row in rows.items()}
    assert len(set(json.dumps(shape, sort_keys=True) for shape in shapes.values())) == 1, shapes
    assert rows[example_id]["types"] == {
        "kind": "text", "title": "text", "text": "text", "content_hash": "text", "metadata": "jsonb",
        "embedding": "vector", "updated_at": "timestamp with time zone", "metadata_type": "object",
        "dimensions": DIMENSIONS,
    }  # fmt: skip

    for position, identifier in enumerate(documents["id"].to_pylist()):
        row = rows[identifier]
        assert row["content_hash"] == documents["content_hash"][position].as_py()
        assert row["metadata"] == json.loads(documents["metadata"][position].as_py())
        np.testing.assert_array_equal(row["embedding"].to_numpy(), vectors[position])
    example = rows[example_id]
    metadata = example_metadata(QUESTION, QUERY, FEEDBACK_ID)
    assert example["metadata"] == metadata and example["metadata"]["verified"] is True
    assert (example["kind"], example["title"], example["text"]) == ("example", QUESTION, QUESTION)
    assert example["content_hash"] == content_hash("example", QUESTION, QUESTION, metadata)
    np.testing.assert_array_equal(example["embedding"].to_numpy(), vectors[2])

    dataset.save(documents.set_column(6, "embedding", pa.nulls(2, pa.list_(pa.float32()))))
    assert example_id in stored_rows(owner_url), "the pipeline leaves approved examples in place"


def test_equal_documents_are_left_alone_and_changed_ones_updated(owner_url: str) -> None:
    vectors = unit_vectors(2, seed=2)
    documents = pipeline_documents(vectors).select(STORED_DOCUMENT_SCHEMA.names)
    with psycopg.connect(owner_url) as connection:
        assert write_documents(connection, documents, sql_dir=SQL_DIR) == WrittenDocuments(2, 0, 0)
    first = stored_rows(owner_url)
    with psycopg.connect(owner_url) as connection:
        assert write_documents(connection, documents, sql_dir=SQL_DIR) == WrittenDocuments(0, 0, 2)
    assert stored_rows(owner_url) == first, "a write of equal documents changes nothing, updated_at included"

    edited = documents.set_column(3, "text", pa.array(["edited", documents["text"][1].as_py()]))
    with psycopg.connect(owner_url) as connection:
        assert write_documents(connection, edited, sql_dir=SQL_DIR) == WrittenDocuments(0, 1, 1)
    after = stored_rows(owner_url)
    assert after["example:pipeline"]["text"] == "edited"
    assert after["example:pipeline"]["updated_at"] > first["example:pipeline"]["updated_at"]


def test_a_failed_approval_rolls_the_document_back_with_it(owner_url: str) -> None:
    """The caller's transaction holds the write: the example and the candidate's status change together."""
    with pytest.raises(RuntimeError), psycopg.connect(owner_url) as connection, connection.transaction():
        vector = unit_vectors(1, seed=3)[0]
        write_example_document(connection, QUESTION, QUERY, FEEDBACK_ID, vector, sql_dir=SQL_DIR)
        raise RuntimeError("the status update failed")
    assert stored_rows(owner_url) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda table: table.drop_columns(["content_hash"]), "lack column"),
        (lambda table: table.set_column(6, "embedding", pa.nulls(2, pa.list_(pa.float32()))), "no embedding"),
        (lambda table: table.set_column(0, "id", pa.array(["same", "same"])), "repeat"),
    ],
    ids=["no hash", "no vector", "repeated id"],
)
def test_bad_input_is_refused_and_nothing_is_written(owner_url: str, change, message: str) -> None:
    documents = change(pipeline_documents(unit_vectors(2, seed=4)).select(STORED_DOCUMENT_SCHEMA.names))
    with psycopg.connect(owner_url) as connection, pytest.raises(ThelookError, match=message):
        write_documents(connection, documents, sql_dir=SQL_DIR)
    assert stored_rows(owner_url) == {}
