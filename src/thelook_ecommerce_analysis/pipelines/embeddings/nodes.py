"""Nodes of the embeddings pipeline: the documents the app retrieves, and their vectors.

Four builders turn what a question-asker needs to know into documents (id, kind, title, text, metadata):
the tables and columns of the published schemas, the metric glossary, curated example questions with
their SQL, and the product catalogue. A fifth node hashes every document and embeds only those whose
hash is not stored yet, so a run that changed nothing embeds nothing.

Documents are pyarrow Tables rather than ibis expressions: they come from the database catalog, YAML and
one product query, and end in the embedding model, which needs Python strings anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from thelook_ecommerce_analysis.embed import DIMENSIONS, MODEL_NAME, DocumentKind, embed_texts
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.glossary import parse_column_definition

logger = logging.getLogger(__name__)

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("metadata", pa.string(), nullable=False),
    ]
)
"""Every builder's output; `metadata` is canonical JSON text (sorted keys), the form that is hashed."""

EMBEDDED_SCHEMA = DOCUMENT_SCHEMA.append(pa.field("content_hash", pa.string(), nullable=False)).append(
    pa.field("embedding", pa.list_(pa.float32()))
)
"""The embed node's output: all documents; `embedding` is null for those stored unchanged."""

EXAMPLES_KEY = "examples"
EXAMPLES_FILE = "conf/base/examples.yml"


@dataclass(frozen=True)
class Document:
    """One retrievable unit. `id` is stable across runs (it names what is described, not its content),
    so a changed description updates its row instead of adding one."""

    id: str
    kind: DocumentKind
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, str]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "title": self.title,
            "text": self.text,
            "metadata": canonical_json(self.metadata),
        }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant spaces: equal content, equal text, equal hash."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def documents_table(documents: Iterable[Document]) -> pa.Table:
    return pa.Table.from_pylist([document.as_row() for document in documents], schema=DOCUMENT_SCHEMA)


def quoted_values(values: Sequence[str]) -> str:
    """SQL literals as a model should copy them into a WHERE clause: 'Cancelled', 'Complete'."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


# --- schema documents ------------------------------------------------------------------------------


def table_document(schema: str, table: str, comment: str | None, columns: Sequence[str]) -> Document:
    """A table: its qualified name, its COMMENT and its column names. Column comments stay out, so
    that editing one column's comment re-embeds that column's document only."""
    name = f"{schema}.{table}"
    description = comment or "(no description)"
    return Document(
        id=f"table:{name}",
        kind=DocumentKind.TABLE,
        title=name,
        text=f"Table {name}: {description} Columns: {', '.join(columns)}.",
        metadata={"schema": schema, "table": table, "comment": comment, "columns": list(columns)},
    )


def column_document(column: Mapping[str, Any]) -> Document:
    """A column: qualified name, PostgreSQL type, COMMENT and, for categorical text, every value."""
    table = f"{column['schema']}.{column['table']}"
    name = f"{table}.{column['column']}"
    values = column["distinct_values"]
    text = f"Column {column['column']} ({column['data_type']}) of table {table}: "
    text += column["column_comment"] or "(no description)"
    if values:
        text += f" Values: {quoted_values(values)}."
    return Document(
        id=f"column:{name}",
        kind=DocumentKind.COLUMN,
        title=name,
        text=text,
        metadata={
            "schema": column["schema"],
            "table": column["table"],
            "column": column["column"],
            "data_type": column["data_type"],
            "comment": column["column_comment"],
            "distinct_values": values,
        },
    )


def describe_tables(database_catalog: pa.Table, **published_tables: ir.Table) -> pa.Table:
    """Table and column documents for the tables the pipelines publish, described as the database
    sees them (types and COMMENTs from PostgreSQL's catalog).

    `published_tables` are the data_processing and metrics outputs; taking them as inputs restricts
    the documents to business tables (the job's own etl_* tables are not among them) and makes Kedro
    run this node after every one of them was written, comments included.
    """
    published = {table.get_name() for table in published_tables.values()}
    columns_by_table: dict[str, list[dict[str, Any]]] = {}
    for column in database_catalog.to_pylist():
        name = f"{column['schema']}.{column['table']}"
        if name in published:
            columns_by_table.setdefault(name, []).append(column)
    if missing := sorted(published - set(columns_by_table)):
        raise ThelookError(
            f"embeddings: published table(s) {', '.join(missing)} are not in the database catalog; "
            "check the schemas and exclude_tables of embeddings_database_catalog"
        )
    documents: list[Document] = []
    for columns in columns_by_table.values():
        ordered = sorted(columns, key=lambda column: column["position"])
        first = ordered[0]
        names = [column["column"] for column in ordered]
        documents.append(table_document(first["schema"], first["table"], first["table_comment"], names))
        documents.extend(column_document(column) for column in ordered)
    return documents_table(documents)


# --- metric documents ------------------------------------------------------------------------------


def describe_metrics(metrics_glossary: Mapping[str, Mapping[str, Any]], metrics_schema: str) -> pa.Table:
    """One document per measure of the metric glossary (conf/base/globals_metrics.yml): its name, unit,
    definition and formula, with the table's grain. Key columns are dimensions, not metrics: the
    column documents describe them."""
    documents = []
    for table, entry in metrics_glossary.items():
        key_columns = list(entry.get("key_columns") or [])
        qualified_table = f"{metrics_schema}.{table}"
        grain = ", ".join(key_columns)
        for column, definition_text in (entry.get("columns") or {}).items():
            if column in key_columns:
                continue
            metric = parse_column_definition(table, column, definition_text)
            documents.append(
                Document(
                    id=f"metric:{qualified_table}.{column}",
                    kind=DocumentKind.METRIC,
                    title=f"{metric.name} ({qualified_table}.{column})",
                    text=(
                        f"Metric {metric.name} [{metric.unit}], column {column} of {qualified_table} "
                        f"({entry.get('family', 'Metrics')}; one row per {grain}): {metric.definition} "
                        f"Formula: {metric.formula}"
                    ),
                    metadata={
                        "schema": metrics_schema,
                        "table": table,
                        "column": column,
                        "name": metric.name,
                        "unit": metric.unit,
                        "definition": metric.definition,
                        "formula": metric.formula,
                        "family": entry.get("family"),
                        "key_columns": key_columns,
                    },
                )
            )
    return documents_table(documents)


# --- example documents -----------------------------------------------------------------------------


def tables_in_sql(query: str) -> list[str]:
    """The schema-qualified tables a PostgreSQL query reads (CTE names excluded), sorted."""
    parsed = sqlglot.parse_one(query, read="postgres")
    ctes = {cte.alias_or_name for cte in parsed.find_all(exp.CTE)}
    return sorted(
        {
            f"{table.db}.{table.name}" if table.db else table.name
            for table in parsed.find_all(exp.Table)
            if table.name not in ctes
        }
    )


def example_id(question: str) -> str:
    """Stable per question wording: a reworded question is a new example (and the old one is deleted)."""
    normalised = " ".join(question.lower().split())
    return "example:" + hashlib.sha256(normalised.encode()).hexdigest()[:16]


def _example_document(position: int, entry: Any) -> Document:
    if not isinstance(entry, Mapping) or not entry.get("question") or not entry.get("sql"):
        raise ThelookError(
            f"{EXAMPLES_FILE}: example #{position + 1} needs a `question` and an `sql`; fix that entry"
        )
    question = " ".join(str(entry["question"]).split())
    query = str(entry["sql"]).strip().rstrip(";")
    try:
        tables = tables_in_sql(query)
    except sqlglot.errors.ParseError as error:
        reason = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()[0]
        raise ThelookError(f"{EXAMPLES_FILE}: example {question!r} has invalid SQL: {reason}") from None
    return Document(
        id=example_id(question),
        kind=DocumentKind.EXAMPLE,
        title=question,
        text=question,
        metadata={"question": question, "sql": query, "tables": tables},
    )


def describe_examples(examples: Mapping[str, Any]) -> pa.Table:
    """Curated question -> SQL pairs. Only the question is embedded: a user's question is compared
    with example QUESTIONS; the SQL travels in the metadata for the prompt."""
    entries = examples.get(EXAMPLES_KEY) if isinstance(examples, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ThelookError(f"{EXAMPLES_FILE} needs a non-empty list under `{EXAMPLES_KEY}:`")
    documents = [_example_document(position, entry) for position, entry in enumerate(entries)]
    seen: dict[str, str] = {}
    for document in documents:
        if document.id in seen:
            raise ThelookError(f"{EXAMPLES_FILE}: the question {document.title!r} appears twice")
        seen[document.id] = document.title
    return documents_table(documents)


# --- product documents -----------------------------------------------------------------------------


def product_text(name: str | None, brand: str | None, category: str | None, department: str | None) -> str:
    return (
        f"{name or 'Unnamed product'}. Brand: {brand or 'unknown'}. "
        f"Category: {category or 'unknown'}. Department: {department or 'unknown'}."
    )


def describe_products(products: ir.Table) -> pa.Table:
    """One document per product for semantic product search ("warm winter jackets for women").
    Prices stay out of the text: a price change should not re-embed the catalogue."""
    rows = (
        products.select("id", "name", "brand", "category", "department")
        .order_by("id")
        .to_pyarrow()
        .to_pylist()
    )
    return documents_table(
        Document(
            id=f"product:{row['id']}",
            kind=DocumentKind.PRODUCT,
            title=row["name"] or f"Product {row['id']}",
            text=product_text(row["name"], row["brand"], row["category"], row["department"]),
            metadata={
                "product_id": row["id"],
                "brand": row["brand"],
                "category": row["category"],
                "department": row["department"],
            },
        )
        for row in rows
    )


# --- embedding -------------------------------------------------------------------------------------


def content_hashes(documents: pa.Table, model_name: str = MODEL_NAME) -> pa.Array:
    """SHA-256 of model, kind, title, text and metadata per document: any change to what is stored,
    or a different model, gives a new hash."""
    return pa.array(
        [
            hashlib.sha256(canonical_json([model_name, *values]).encode()).hexdigest()
            for values in zip(
                *(documents[name].to_pylist() for name in ("kind", "title", "text", "metadata")), strict=True
            )
        ],
        pa.string(),
    )


def combine_documents(document_tables: Sequence[pa.Table]) -> pa.Table:
    """All builders' documents in one table; an id used twice is a bug in a builder, so it stops here."""
    combined = pa.concat_tables(
        [table.select(DOCUMENT_SCHEMA.names).cast(DOCUMENT_SCHEMA) for table in document_tables]
    )
    counts = pc.value_counts(combined["id"])
    repeated = [item["values"].as_py() for item in counts if item["counts"].as_py() > 1]
    if repeated:
        raise ThelookError(f"embeddings: document id(s) {', '.join(repeated[:5])} are produced twice")
    return combined


def vectors_column(vectors: np.ndarray, changed: np.ndarray) -> pa.Array:
    """A list<float32> column with each changed row's vector and null elsewhere, built from offsets
    (no per-float Python objects: 29,000 x 384 floats)."""
    lengths = np.where(changed, DIMENSIONS, 0)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    values = pa.array(vectors.reshape(-1).astype(np.float32, copy=False))
    return pa.ListArray.from_arrays(offsets, values, mask=pa.array(~changed))


def embed_new_or_changed(stored_hashes: pa.Table, progress: bool, *document_tables: pa.Table) -> pa.Table:
    """Every current document with its content hash; only those whose (id, hash) is not stored get an
    embedding. The dataset writes those and deletes stored ids that are no longer produced."""
    documents = combine_documents(document_tables)
    hashes = content_hashes(documents)
    stored = set(zip(stored_hashes["id"].to_pylist(), stored_hashes["content_hash"].to_pylist(), strict=True))
    changed = np.array(
        [
            (doc_id, doc_hash) not in stored
            for doc_id, doc_hash in zip(documents["id"].to_pylist(), hashes.to_pylist(), strict=True)
        ],
        dtype=bool,
    )
    logger.info("embedding %d of %d documents (%d unchanged)", changed.sum(), len(changed), (~changed).sum())
    texts = documents["text"].filter(pa.array(changed)).to_pylist()
    vectors = embed_texts(texts, progress=progress, description="embedding documents")
    return documents.append_column("content_hash", hashes).append_column(
        "embedding", vectors_column(vectors, changed)
    )
