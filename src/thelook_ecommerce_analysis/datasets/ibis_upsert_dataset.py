"""A Kedro dataset that saves an ibis Table from any backend into PostgreSQL with `upsert_batches`.

Why not kedro-datasets' ibis.TableDataset: its SQL runs on the TARGET backend, so it cannot save a
DuckDB expression (read from Parquet) into PostgreSQL, and its upsert is a MERGE with no change check
that rewrites every row on every run. This dataset streams the expression's record batches out of
whatever backend computes it and merges them into PostgreSQL, writing only what changed; loading gives
the table back as an ibis Table on the PostgreSQL backend, so downstream nodes stay lazy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.postgres import Backend as PostgresBackend
from kedro.io import AbstractDataset

from thelook_ecommerce_analysis.datasets.upsert import MergeStatement, UpsertResult, upsert_batches
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError

SaveInput = ir.Table | pa.Table | pa.RecordBatchReader


def _selected_batches(reader: pa.RecordBatchReader, columns: list[str]) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        yield batch.select(columns)


class IbisUpsertDataset(AbstractDataset[SaveInput, ir.Table]):
    """`db_schema.table_name` in PostgreSQL, written by insert/update of changed rows only.

    Example catalog entry::

        order_items_table:
          type: thelook_ecommerce_analysis.datasets.IbisUpsertDataset
          db_schema: raw_data
          table_name: order_items
          key_columns: [id]
          credentials: thelook_owner      # a mapping with `con`: a postgresql:// URL

    After each save, `last_result` holds the counts (inserted, updated, unchanged, deleted).
    """

    def __init__(
        self,
        *,
        table_name: str,
        db_schema: str,
        key_columns: list[str],
        credentials: dict[str, str],
        columns: list[str] | None = None,
        exclude_from_update: list[str] | None = None,
        delete_missing: bool = False,
        batch_size: int = 100_000,
        table_comment: str | None = None,
        column_comments: dict[str, str] | None = None,
        merge_statement: MergeStatement = "merge",
        work_mem: str = "256MB",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        url = (credentials or {}).get("con")
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise ThelookError(
                f"dataset {db_schema}.{table_name}: credentials need `con`, a postgresql:// URL; "
                "run `thelook db start` or set DATABASE_URL"
            )
        if batch_size < 1:
            raise ThelookError(f"dataset {db_schema}.{table_name}: batch_size must be >= 1, not {batch_size}")
        self._url = url
        self._table_name = table_name
        self._db_schema = db_schema
        self._key_columns = list(key_columns)
        self._columns = list(columns) if columns else None
        self._exclude_from_update = list(exclude_from_update or [])
        self._delete_missing = delete_missing
        self._batch_size = batch_size
        self._table_comment = table_comment
        self._column_comments = dict(column_comments or {})
        self._merge_statement = merge_statement
        self._work_mem = work_mem
        self.metadata = metadata
        self._backend: PostgresBackend | None = None
        self.last_result: UpsertResult | None = None

    def _ibis_backend(self) -> PostgresBackend:
        """One ibis connection per dataset instance: connecting costs a round of catalog queries."""
        if self._backend is None:
            self._backend = ibis.connect(self._url)
        return self._backend

    def _as_reader(self, data: SaveInput) -> pa.RecordBatchReader:
        """A stream of record batches of at most `batch_size` rows, never the whole table at once
        (a pa.Table is already in memory; it is only sliced)."""
        if isinstance(data, ir.Table):
            self._check_columns(data.columns)
            expression = data.select(self._columns) if self._columns else data
            return expression.to_pyarrow_batches(chunk_size=self._batch_size)
        if isinstance(data, pa.Table):
            self._check_columns(data.column_names)
            table = data.select(self._columns) if self._columns else data
            return table.to_reader(max_chunksize=self._batch_size)
        if isinstance(data, pa.RecordBatchReader):
            self._check_columns(data.schema.names)
            if not self._columns:
                return data
            return pa.RecordBatchReader.from_batches(
                pa.schema([data.schema.field(name) for name in self._columns]),
                _selected_batches(data, self._columns),
            )
        raise ThelookError(
            f"dataset {self._db_schema}.{self._table_name} saves an ibis Table, a pyarrow Table or a "
            f"RecordBatchReader, not {type(data).__name__}"
        )

    def _check_columns(self, available: list[str]) -> None:
        missing = [name for name in self._columns or [] if name not in available]
        if missing:
            raise ThelookError(
                f"dataset {self._db_schema}.{self._table_name}: columns {', '.join(missing)} are not in "
                f"the data to save (it has {', '.join(available)}); fix `columns` in the catalog"
            )

    def load(self) -> ir.Table:
        return self._ibis_backend().table(self._table_name, database=self._db_schema)

    def save(self, data: SaveInput) -> None:
        reader = self._as_reader(data)
        with connect(self._url, autocommit=True) as connection:
            self.last_result = upsert_batches(
                connection,
                reader,
                self._db_schema,
                self._table_name,
                self._key_columns,
                exclude_from_update=self._exclude_from_update,
                delete_missing=self._delete_missing,
                merge_statement=self._merge_statement,
                work_mem=self._work_mem,
                table_comment=self._table_comment,
                column_comments=self._column_comments,
            )

    def _exists(self) -> bool:
        with connect(self._url, autocommit=True) as connection:
            (exists,) = connection.execute(
                "SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname = %s AND tablename = %s)",
                (self._db_schema, self._table_name),
            ).fetchone()
        return bool(exists)

    def _release(self) -> None:
        if self._backend is not None:
            self._backend.disconnect()
            self._backend = None

    def _describe(self) -> dict[str, Any]:
        return {
            "table": f"{self._db_schema}.{self._table_name}",
            "key_columns": self._key_columns,
            "columns": self._columns,
            "exclude_from_update": self._exclude_from_update,
            "delete_missing": self._delete_missing,
            "merge_statement": self._merge_statement,
            "batch_size": self._batch_size,
        }
