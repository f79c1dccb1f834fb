"""Kedro datasets of the embeddings pipeline: what the database says about itself, and the document store.

- `DatabaseCatalogDataset` reads the tables and columns of the published schemas from PostgreSQL's
  catalog (type, COMMENT) and, for low-cardinality text columns, their distinct values, so that the
  schema documents tell the question-answering model that orders.status is 'Cancelled', not 'canceled'.
- `DocumentHashesDataset` reads the content hash of every stored document: the pipeline embeds only
  documents whose hash is new.
- `EmbeddedDocumentsDataset` writes the documents in ONE transaction: the changed rows (with vectors)
  through `embed.store.write_documents`, the one writer of embeddings.documents that the approval of an
  example (rag/examples_review.py) uses too (binary COPY, then sql/embeddings/write_documents.sql), then
  deletes documents that no longer exist, then builds the partial HNSW indexes if they are missing or
  were built with other settings than the catalog's. Building them here rather than in an SQL script
  is what lets m and ef_construction live in configuration; on a first run they are built once, after
  the load, which is much faster than inserting into an existing graph.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.datasets.reports import WriteCounts
from thelook_ecommerce_analysis.datasets.upsert import UpsertResult
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.embed.documents import (
    DOCUMENTS_SCHEMA,
    DOCUMENTS_TABLE,
    INDEX_PARTITIONS,
    IndexPartition,
)
from thelook_ecommerce_analysis.embed.store import write_documents
from thelook_ecommerce_analysis.errors import ThelookError

CATALOG_SCHEMA = pa.schema(
    [
        pa.field("schema", pa.string(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field("table_comment", pa.string()),
        pa.field("column", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("data_type", pa.string(), nullable=False),
        pa.field("column_comment", pa.string()),
        pa.field("distinct_values", pa.list_(pa.string())),
    ]
)
"""One row per column of every described table; `distinct_values` is null unless the column is text
with at most `max_distinct_values` values (NULL not counted), sorted so the documents stay stable."""

STORED_HASHES_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("content_hash", pa.string())])

_COLUMNS_QUERY = """
SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class'), a.attname, a.attnum::int,
       format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum), t.typcategory = 'S',
       s.n_distinct, c.reltuples
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
    AND NOT s.inherited
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
  AND NOT (c.relname = ANY(%(excluded)s))
ORDER BY n.nspname, c.relname, a.attnum
"""

_TABLES_WITHOUT_FRESH_STATISTICS = """
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables u ON u.relid = c.oid
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p') AND NOT (c.relname = ANY(%(excluded)s))
  AND (NOT EXISTS (SELECT FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname)
       OR coalesce(u.n_mod_since_analyze, 0) > 0)
"""


def _url(credentials: dict[str, str] | None, what: str) -> str:
    url = (credentials or {}).get("con")
    if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
        raise ThelookError(
            f"dataset {what}: credentials need `con`, a postgresql:// URL; "
            "run `thelook db start` or set DATABASE_URL"
        )
    return url


def _table_exists(connection: psycopg.Connection, schema: str, table: str) -> bool:
    found = connection.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
    return found is not None and found[0] is not None


@dataclass(frozen=True)
class _CatalogColumn:
    schema: str
    table: str
    table_comment: str | None
    column: str
    position: int
    data_type: str
    column_comment: str | None
    is_text: bool
    estimated_distinct: float | None

    def may_be_categorical(self, max_distinct_values: int) -> bool:
        """A text column whose statistics allow at most ~2x the limit of distinct values: worth an
        exact count. The margin covers ANALYZE's sampling error; the exact query decides."""
        return (
            self.is_text
            and self.estimated_distinct is not None
            and 0 < self.estimated_distinct <= 2 * max_distinct_values
        )


def _estimated_distinct(n_distinct: float | None, reltuples: float) -> float | None:
    """pg_stats.n_distinct as a count: negative values are a fraction of the table's rows."""
    if n_distinct is None:
        return None
    return n_distinct if n_distinct >= 0 else -n_distinct * max(reltuples, 0.0)


def _distinct_values_query(schema: str, table: str, columns: list[str]) -> sql.Composed:
    """One scan for all candidate columns of a table: GROUP BY GROUPING SETS ((a), (b), ...) hashes
    every column's values in the same pass; GROUPING(x) = 0 marks the rows of x's set."""
    identifiers = [sql.Identifier(column) for column in columns]
    return sql.SQL("SELECT {values}, {groupings} FROM {table} GROUP BY GROUPING SETS ({sets})").format(
        values=sql.SQL(", ").join(sql.SQL("{}::text").format(name) for name in identifiers),
        groupings=sql.SQL(", ").join(sql.SQL("GROUPING({})").format(name) for name in identifiers),
        table=sql.Identifier(schema, table),
        sets=sql.SQL(", ").join(sql.SQL("({})").format(name) for name in identifiers),
    )


def _distinct_values(
    connection: psycopg.Connection, schema: str, table: str, columns: list[str], max_distinct_values: int
) -> dict[str, list[str]]:
    """The sorted non-NULL values of each column that has at most `max_distinct_values` of them."""
    values: dict[str, set[str]] = defaultdict(set)
    for row in connection.execute(_distinct_values_query(schema, table, columns)):
        grouped = row[len(columns) :]
        for index, column in enumerate(columns):
            if grouped[index] == 0 and row[index] is not None:
                values[column].add(row[index])
    return {column: sorted(found) for column, found in values.items() if len(found) <= max_distinct_values}


class DatabaseCatalogDataset(AbstractDataset[None, pa.Table]):
    """The columns of the tables in `schemas` (minus `exclude_tables`) with type, comments and the
    distinct values of low-cardinality text columns, as a pyarrow Table of CATALOG_SCHEMA.

    `free_text_columns` ('schema.table.column') never get values listed, however few rows they hold:
    prose such as metrics.daily_summaries.text is not a category, and a prompt listing it would be
    swamped by a few weeks of summaries.

    Statistics are refreshed (ANALYZE) only for tables that have none or were modified since, so a
    run that changed nothing reads the catalog and scans only the few categorical columns.
    """

    def __init__(
        self,
        *,
        schemas: list[str],
        credentials: dict[str, str],
        exclude_tables: list[str] | None = None,
        max_distinct_values: int = 30,
        free_text_columns: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if max_distinct_values < 1:
            raise ThelookError(
                f"dataset database catalog: max_distinct_values must be >= 1, not {max_distinct_values}"
            )
        self._schemas = list(schemas)
        self._url = _url(credentials, f"catalog of {', '.join(schemas)}")
        self._exclude_tables = list(exclude_tables or [])
        self._max_distinct_values = max_distinct_values
        self._free_text_columns = set(free_text_columns or [])
        self.metadata = metadata

    def _refresh_statistics(self, connection: psycopg.Connection, scope: dict[str, list[str]]) -> None:
        for schema, table in connection.execute(_TABLES_WITHOUT_FRESH_STATISTICS, scope).fetchall():
            connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))

    def load(self) -> pa.Table:
        scope = {"schemas": self._schemas, "excluded": self._exclude_tables}
        with connect(self._url, autocommit=True) as connection:
            self._refresh_statistics(connection, scope)
            columns = [
                _CatalogColumn(*row[:8], _estimated_distinct(row[8], row[9]))
                for row in connection.execute(_COLUMNS_QUERY, scope).fetchall()
            ]
            candidates: dict[tuple[str, str], list[str]] = defaultdict(list)
            for column in columns:
                qualified = f"{column.schema}.{column.table}.{column.column}"
                if (
                    column.may_be_categorical(self._max_distinct_values)
                    and qualified not in self._free_text_columns
                ):
                    candidates[(column.schema, column.table)].append(column.column)
            values = {
                (schema, table, column): found
                for (schema, table), names in candidates.items()
                for column, found in _distinct_values(
                    connection, schema, table, names, self._max_distinct_values
                ).items()
            }
        return pa.Table.from_pylist(
            [
                {
                    "schema": column.schema,
                    "table": column.table,
                    "table_comment": column.table_comment,
                    "column": column.column,
                    "position": column.position,
                    "data_type": column.data_type,
                    "column_comment": column.column_comment,
                    "distinct_values": values.get((column.schema, column.table, column.column)),
                }
                for column in columns
            ],
            schema=CATALOG_SCHEMA,
        )

    def save(self, data: None) -> None:
        raise DatasetError("the database catalog is read from PostgreSQL, not saved")

    def _describe(self) -> dict[str, Any]:
        return {"schemas": self._schemas, "exclude_tables": self._exclude_tables}


class DocumentHashesDataset(AbstractDataset[None, pa.Table]):
    """(id, content_hash) of every stored document; empty when the table does not exist yet."""

    def __init__(
        self,
        *,
        credentials: dict[str, str],
        db_schema: str,
        table_name: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._url = _url(credentials, f"{db_schema}.{table_name} hashes")
        self._db_schema = db_schema
        self._table_name = table_name
        self.metadata = metadata

    def load(self) -> pa.Table:
        with connect(self._url, autocommit=True) as connection:
            if not _table_exists(connection, self._db_schema, self._table_name):
                return STORED_HASHES_SCHEMA.empty_table()
            rows = connection.execute(
                sql.SQL("SELECT id, content_hash FROM {}").format(
                    sql.Identifier(self._db_schema, self._table_name)
                )
            ).fetchall()
        ids, hashes = (list(values) for values in zip(*rows, strict=True)) if rows else ([], [])
        return pa.table({"id": ids, "content_hash": hashes}, schema=STORED_HASHES_SCHEMA)

    def save(self, data: None) -> None:
        raise DatasetError("document hashes are read from the document table, not saved")

    def _describe(self) -> dict[str, Any]:
        return {"table": f"{self._db_schema}.{self._table_name}"}


@dataclass(frozen=True)
class HnswSettings:
    """Build parameters of the HNSW indexes: m (links per node) and ef_construction (candidate list
    while building). pgvector's defaults are 16 and 64."""

    m: int = 16
    ef_construction: int = 64

    def __post_init__(self) -> None:
        if (
            not 2 <= self.m <= 100
            or not 4 <= self.ef_construction <= 1000
            or self.ef_construction < 2 * self.m
        ):
            raise ThelookError(
                f"hnsw settings m={self.m}, ef_construction={self.ef_construction} are invalid: pgvector "
                "needs 2 <= m <= 100 and 2*m <= ef_construction <= 1000; fix conf/base/catalog_embeddings.yml"
            )

    @property
    def reloptions(self) -> list[str]:
        """The index options as pg_class.reloptions lists them."""
        return [f"m={self.m}", f"ef_construction={self.ef_construction}"]


def _ensure_hnsw_index(
    connection: psycopg.Connection, schema: str, table: str, partition: IndexPartition, settings: HnswSettings
) -> bool:
    """Build the partition's HNSW index unless a valid one with these settings exists; True if built."""
    found = connection.execute(
        "SELECT c.reloptions, i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid"
        " WHERE c.relname = %s AND c.relnamespace = %s::regnamespace",
        (partition.index_name, schema),
    ).fetchone()
    if found is not None and found[1] and sorted(found[0] or []) == sorted(settings.reloptions):
        return False
    index = sql.Identifier(schema, partition.index_name)
    connection.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(index))
    connection.execute(
        sql.SQL(
            "CREATE INDEX {name} ON {table} USING hnsw (embedding public.vector_cosine_ops)"
            " WITH (m = {m}, ef_construction = {ef}) WHERE {predicate}"
        ).format(
            name=sql.Identifier(partition.index_name),
            table=sql.Identifier(schema, table),
            m=sql.Literal(settings.m),
            ef=sql.Literal(settings.ef_construction),
            predicate=sql.SQL(partition.predicate),
        )
    )
    return True


class EmbeddedDocumentsDataset(AbstractDataset[pa.Table, ir.Table]):
    """`embeddings.documents`, written from a pyarrow Table of ALL current documents in which only new or
    changed ones carry an `embedding` (the others have null there and are left as stored).

    Example catalog entry::

        embeddings_documents:
          type: thelook_ecommerce_analysis.datasets.embeddings.EmbeddedDocumentsDataset
          credentials: thelook_owner
          db_schema: embeddings
          table_name: documents
          hnsw: {m: 16, ef_construction: 64}

    After each save, `last_result` holds the counts: inserted and updated documents (the ones embedded),
    unchanged ones, and deleted ones (stored ids absent from the input).
    """

    def __init__(
        self,
        *,
        credentials: dict[str, str],
        db_schema: str,
        table_name: str,
        hnsw: dict[str, int] | None = None,
        maintenance_work_mem: str = "512MB",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if (db_schema, table_name) != (DOCUMENTS_SCHEMA, DOCUMENTS_TABLE):
            raise ThelookError(
                f"dataset {db_schema}.{table_name}: the document store is "
                f"{DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE} (embed/documents.py; retrieval reads it and "
                "embed/store.py writes it); fix conf/base/catalog_embeddings.yml"
            )
        self._url = _url(credentials, f"{db_schema}.{table_name}")
        self._db_schema = db_schema
        self._table_name = table_name
        self._hnsw = HnswSettings(**(hnsw or {}))
        self._maintenance_work_mem = maintenance_work_mem
        self.metadata = metadata
        self.last_result: UpsertResult | None = None
        self.indexes_built: list[str] = []

    def save(self, data: pa.Table) -> None:
        missing = {"id", "embedding"} - set(data.column_names)
        if missing:
            raise ThelookError(
                f"dataset {self._db_schema}.{self._table_name}: the documents lack column(s) "
                f"{', '.join(sorted(missing))}; the embed node must produce them"
            )
        changed = data.filter(pc.is_valid(data["embedding"]))
        with connect(self._url, autocommit=True) as connection, connection.transaction():
            connection.execute(
                "SELECT set_config('maintenance_work_mem', %s, true)", (self._maintenance_work_mem,)
            )
            started = time.perf_counter()
            written = write_documents(connection, changed)
            seconds = time.perf_counter() - started
            # Documents the pipeline no longer produces go; examples approved from the app's thumbs-ups
            # (`thelook examples approve`, metadata.verified) are not the pipeline's to delete.
            deleted = connection.execute(
                sql.SQL(
                    "DELETE FROM {} WHERE id <> ALL(%s) "
                    "AND coalesce(metadata->>'verified', 'false') <> 'true'"
                ).format(sql.Identifier(self._db_schema, self._table_name)),
                (data["id"].to_pylist(),),
            ).rowcount
            self.indexes_built = [
                partition.index_name
                for partition in INDEX_PARTITIONS
                if _ensure_hnsw_index(connection, self._db_schema, self._table_name, partition, self._hnsw)
            ]
        self.last_result = UpsertResult(
            inserted=written.inserted,
            updated=written.updated,
            unchanged=data.num_rows - written.inserted - written.updated,
            deleted=deleted,
            seconds=seconds,
        )

    def last_write(self) -> WriteCounts:
        result = self.last_result
        return (
            WriteCounts() if result is None else WriteCounts(inserted=result.inserted, updated=result.updated)
        )

    def load(self) -> ir.Table:
        backend = ibis.connect(self._url)
        return backend.table(self._table_name, database=self._db_schema)

    def _describe(self) -> dict[str, Any]:
        return {
            "table": f"{self._db_schema}.{self._table_name}",
            "hnsw": {"m": self._hnsw.m, "ef_construction": self._hnsw.ef_construction},
        }
