"""The document builders and the change detection of the embeddings pipeline, on small literal inputs."""

from __future__ import annotations

import json

import ibis
import numpy as np
import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.datasets.embeddings import CATALOG_SCHEMA
from thelook_ecommerce_analysis.embed import DIMENSIONS
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.pipelines.embeddings import nodes


def catalog(*rows: dict) -> pa.Table:
    defaults = {"table_comment": None, "column_comment": None, "distinct_values": None, "data_type": "text"}
    return pa.Table.from_pylist([{**defaults, **row} for row in rows], schema=CATALOG_SCHEMA)


def published(schema: str, table: str) -> ibis.Table:
    """An unbound ibis table with the qualified name a pipeline output has."""
    return ibis.table({"id": "int64"}, name=table, database=schema)


ORDERS_CATALOG = catalog(
    {"schema": "raw_data", "table": "orders", "column": "status", "position": 3,
     "table_comment": "Customer orders.", "column_comment": "Order status.",
     "distinct_values": ["Cancelled", "Complete"]},
    {"schema": "raw_data", "table": "orders", "column": "order_id", "position": 1, "data_type": "bigint",
     "table_comment": "Customer orders.", "column_comment": "Order id."},
    {"schema": "raw_data", "table": "etl_runs", "column": "run_id", "position": 1},
)  # fmt: skip


def by_id(table: pa.Table) -> dict[str, dict]:
    return {row["id"]: row for row in table.to_pylist()}


def test_describe_tables_documents_published_tables_columns_and_their_values() -> None:
    documents = by_id(nodes.describe_tables(ORDERS_CATALOG, orders=published("raw_data", "orders")))
    assert set(documents) == {"table:raw_data.orders", "column:raw_data.orders.order_id",
                              "column:raw_data.orders.status"}  # fmt: skip
    table = documents["table:raw_data.orders"]
    assert "Customer orders." in table["text"] and "Columns: order_id, status." in table["text"]
    assert "Order status" not in table["text"], "column comments stay out of the table document"
    status = documents["column:raw_data.orders.status"]
    assert "Values: 'Cancelled', 'Complete'." in status["text"]
    assert json.loads(status["metadata"])["distinct_values"] == ["Cancelled", "Complete"]
    assert "(bigint)" in documents["column:raw_data.orders.order_id"]["text"]


def test_describe_tables_refuses_a_published_table_missing_from_the_catalog() -> None:
    with pytest.raises(ThelookError, match=r"metrics\.sales_daily are not in the database catalog"):
        nodes.describe_tables(ORDERS_CATALOG, sales=published("metrics", "sales_daily"))


GLOSSARY = {
    "sales_daily": {
        "family": "Sales",
        "key_columns": ["order_date"],
        "description": "Daily sales.",
        "columns": {
            "order_date": "Order date [date, UTC]: the day. Formula: DATE(orders.created_at)",
            "gmv": "Gross merchandise value (GMV) [USD]: value sold. Formula: SUM(order_items.sale_price)",
        },
    }
}


def test_describe_metrics_makes_one_document_per_measure_with_its_formula() -> None:
    documents = by_id(nodes.describe_metrics(GLOSSARY, "metrics"))
    assert list(documents) == ["metric:metrics.sales_daily.gmv"], "key columns are not metrics"
    metric = documents["metric:metrics.sales_daily.gmv"]
    assert "Formula: SUM(order_items.sale_price)" in metric["text"]
    assert json.loads(metric["metadata"])["unit"] == "USD"


def test_describe_examples_keeps_sql_and_tables_in_metadata_and_embeds_the_question() -> None:
    query = "WITH s AS (SELECT status FROM raw_data.orders) SELECT * FROM s;"
    examples = {"examples": [{"question": "Orders per status?", "sql": query}]}
    (document,) = nodes.describe_examples(examples).to_pylist()
    assert document["text"] == "Orders per status?"
    metadata = json.loads(document["metadata"])
    assert metadata["tables"] == ["raw_data.orders"], "CTE names are not tables"
    assert not metadata["sql"].endswith(";")


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({"examples": [{"question": "No SQL?"}]}, "needs a `question` and an `sql`"),
        ({"examples": [{"question": "Bad?", "sql": "SELECT FROM WHERE ("}]}, "has invalid SQL"),
        ({"examples": [{"question": "Twice?", "sql": "SELECT 1"}] * 2}, "appears twice"),
        ({"questions": []}, "non-empty list under `examples:`"),
    ],
)
def test_describe_examples_refuses_bad_entries(examples: dict, message: str) -> None:
    with pytest.raises(ThelookError, match=message):
        nodes.describe_examples(examples)


def documents(*texts: str) -> pa.Table:
    return nodes.documents_table(
        nodes.Document(id=f"table:t{index}", kind=nodes.DocumentKind.TABLE, title=f"t{index}", text=text)
        for index, text in enumerate(texts)
    )


def test_content_hash_changes_with_text_and_with_the_model_only() -> None:
    first = nodes.content_hashes(documents("alpha", "beta")).to_pylist()
    assert first == nodes.content_hashes(documents("alpha", "beta")).to_pylist()
    assert nodes.content_hashes(documents("alpha", "BETA")).to_pylist()[0] == first[0]
    assert nodes.content_hashes(documents("alpha", "BETA")).to_pylist()[1] != first[1]
    assert nodes.content_hashes(documents("alpha"), model_name="another-model").to_pylist()[0] != first[0]


def test_vectors_column_places_vectors_on_changed_rows_and_null_elsewhere() -> None:
    vectors = np.arange(2 * DIMENSIONS, dtype=np.float32).reshape(2, DIMENSIONS)
    column = nodes.vectors_column(vectors, np.array([True, False, True]))
    assert column.null_count == 1 and column[1].as_py() is None
    assert column[2].as_py() == vectors[1].tolist()


def test_combine_documents_refuses_an_id_produced_twice() -> None:
    with pytest.raises(ThelookError, match=r"table:t0 are produced twice"):
        nodes.combine_documents([documents("alpha"), documents("again")])
