"""What the prompt and the repairs know beyond the catalog: each table's description and the exact
values of categorical columns (so the model writes status = 'Complete', not 'completed').

Descriptions come from the database's own COMMENTs; values from the column documents that the
embeddings pipeline stores, so both stay in step with the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey

ColumnKey = tuple[str, str, str]


@dataclass(frozen=True)
class Knowledge:
    values: Mapping[ColumnKey, tuple[str, ...]] = field(default_factory=dict)
    comments: Mapping[TableKey, str] = field(default_factory=dict)


def load_knowledge(connection: psycopg.Connection, catalog: Catalog) -> Knowledge:
    """Table comments of the catalog's tables and the distinct values of categorical columns."""
    comments = {
        (schema, table): comment
        for schema, table, comment in connection.execute(
            "SELECT n.nspname, c.relname, d.description FROM pg_catalog.pg_description d "
            "JOIN pg_catalog.pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid = 0"
        ).fetchall()
        if (schema, table) in catalog.tables
    }
    values: dict[ColumnKey, tuple[str, ...]] = {}
    if ("embeddings", "documents") in catalog.tables:
        for (metadata,) in connection.execute(
            "SELECT metadata FROM embeddings.documents WHERE kind = 'column'"
        ).fetchall():
            document = json.loads(metadata) if isinstance(metadata, str) else metadata
            distinct = document.get("distinct_values") or []
            if distinct and {"schema", "table", "column"} <= document.keys():
                values[(document["schema"], document["table"], document["column"])] = tuple(
                    map(str, distinct)
                )
    return Knowledge(values=values, comments=comments)
