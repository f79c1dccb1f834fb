"""A Kedro dataset that saves an ibis Table from any backend into PostgreSQL with `upsert_batches`.

Why not kedro-datasets' ibis.TableDataset: its SQL runs on the TARGET backend, so it cannot save a
DuckDB expression (read from Parquet) into PostgreSQL, and its upsert is a MERGE with no change check
that rewrites every row on every run. This dataset streams the expression's record batches out of
whatever backend computes it and merges them into PostgreSQL, writing only what changed; loading gives
the table back as an ibis Table on the PostgreSQL backend, so downstream nodes stay lazy.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.postgres import Backend as PostgresBackend
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.datasets import spark
from thelook_ecommerce_analysis.datasets.reports import WriteCounts
from thelook_ecommerce_analysis.datasets.upsert import UpsertResult, upsert_batches
from thelook_ecommerce_analysis.db.admin import connect

SaveInput = ir.Table | pa.Table | pa.RecordBatchReader


def _selected_batches(reader: pa.RecordBatchReader, columns: list[str]) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        yield batch.select(columns)


class IbisUpsertDataset(AbstractDataset[SaveInput, ir.Table]):
    """`db_schema.table_name` in PostgreSQL, written by insert/update of changed rows only; loaded as an
    ibis Table on the PostgreSQL backend.

    Examples:
        Using the YAML API (conf/base/catalog.yml)::

            pg_order_items@ibis:
              type: thelook_ecommerce_analysis.datasets.IbisUpsertDataset
              credentials: thelook_owner    # a mapping with `con`: a postgresql:// URL
              db_schema: raw_data
              table_name: order_items
              key_columns: [id]
              save_args:
                exclude_from_update: [created_at]

            metrics_sales_daily:
              type: thelook_ecommerce_analysis.datasets.IbisUpsertDataset
              credentials: thelook_owner
              db_schema: metrics
              table_name: sales_daily
              key_columns: [order_date]
              save_args:
                delete_missing: true        # rows absent from the input are deleted
                table_comment: Daily sales.
                column_comments: {gmv: Gross merchandise value.}

        Using the Python API::

            >>> import ibis
            >>> from thelook_ecommerce_analysis.datasets import IbisUpsertDataset
            >>>
            >>> dataset = IbisUpsertDataset(
            ...     table_name="scores",
            ...     db_schema="public",
            ...     key_columns=["id"],
            ...     credentials={"con": "postgresql://owner:secret@127.0.0.1:5433/thelook"},
            ...     save_args={"delete_missing": True},
            ... )
            >>> dataset.save(ibis.memtable({"id": [1, 2], "score": [0.5, 0.7]}))
            >>> dataset.last_write()
            WriteCounts(inserted=2, updated=0, quarantined=0)
            >>> dataset.load().count().execute()
            2

    `save_args` (defaults in DEFAULT_SAVE_ARGS): `columns` to write (default: all), `exclude_from_update`
    (written on insert, never overwritten), `delete_missing`, `batch_size` (rows per streamed batch),
    `merge_statement` ("merge" or "insert_on_conflict"), `work_mem` for the merge, `table_comment` and
    `column_comments` (COMMENTs set on every save). After each save, `last_result` holds the counts
    (inserted, updated, unchanged, deleted).

    `load_args` (defaults in DEFAULT_LOAD_ARGS): `connection`, the ibis backend that loads run on, is
    None for PostgreSQL itself (the table stays in the database and downstream expressions run there);
    `{backend: pyspark, <Spark properties>}` reads the table into Spark through JDBC instead, in
    `partitions` slices of an integer key (conf/spark/ sets this for the distributed engine).
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {"connection": None, "partitions": 8}

    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {
        "columns": None,
        "exclude_from_update": [],
        "delete_missing": False,
        "batch_size": 100_000,
        "merge_statement": "merge",
        "work_mem": "256MB",
        "table_comment": None,
        "column_comments": {},
    }

    def __init__(
        self,
        *,
        table_name: str,
        db_schema: str,
        key_columns: list[str],
        credentials: dict[str, str],
        save_args: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        where = f"dataset {db_schema}.{table_name}"
        url = (credentials or {}).get("con")
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise DatasetError(
                f"{where}: credentials need `con`, a postgresql:// URL; "
                "run `thelook db start` or set DATABASE_URL"
            )
        for name, given, known in (
            ("save_args", save_args, self.DEFAULT_SAVE_ARGS),
            ("load_args", load_args, self.DEFAULT_LOAD_ARGS),
        ):
            if unknown := sorted(set(given or {}) - set(known)):
                raise DatasetError(f"{where}: unknown {name} {', '.join(unknown)}; known: {', '.join(known)}")
        self._load_args = {**deepcopy(self.DEFAULT_LOAD_ARGS), **(load_args or {})}
        self._save_args = {**deepcopy(self.DEFAULT_SAVE_ARGS), **(save_args or {})}
        if self._save_args["batch_size"] < 1:
            raise DatasetError(f"{where}: batch_size must be >= 1, not {self._save_args['batch_size']}")
        self._url = url
        self._table_name = table_name
        self._db_schema = db_schema
        self._key_columns = list(key_columns)
        self._columns = list(self._save_args["columns"]) if self._save_args["columns"] else None
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
            if spark.is_spark(expression):
                return spark.record_batches(expression, self._save_args["batch_size"])
            return expression.to_pyarrow_batches(chunk_size=self._save_args["batch_size"])
        if isinstance(data, pa.Table):
            self._check_columns(data.column_names)
            table = data.select(self._columns) if self._columns else data
            return table.to_reader(max_chunksize=self._save_args["batch_size"])
        if isinstance(data, pa.RecordBatchReader):
            self._check_columns(data.schema.names)
            if not self._columns:
                return data
            return pa.RecordBatchReader.from_batches(
                pa.schema([data.schema.field(name) for name in self._columns]),
                _selected_batches(data, self._columns),
            )
        raise DatasetError(
            f"dataset {self._db_schema}.{self._table_name} saves an ibis Table, a pyarrow Table or a "
            f"RecordBatchReader, not {type(data).__name__}"
        )

    def _check_columns(self, available: list[str]) -> None:
        missing = [name for name in self._columns or [] if name not in available]
        if missing:
            raise DatasetError(
                f"dataset {self._db_schema}.{self._table_name}: columns {', '.join(missing)} are not in "
                f"the data to save (it has {', '.join(available)}); fix `columns` in the catalog"
            )

    def last_write(self) -> WriteCounts:
        result = self.last_result
        return (
            WriteCounts() if result is None else WriteCounts(inserted=result.inserted, updated=result.updated)
        )

    def load(self) -> ir.Table:
        connection = dict(self._load_args["connection"] or {})
        if not connection:
            return self._ibis_backend().table(self._table_name, database=self._db_schema)
        if connection.pop("backend", None) != spark.SPARK_BACKEND:
            raise DatasetError(
                f"dataset {self._db_schema}.{self._table_name}: load_args.connection.backend must be "
                f"{spark.SPARK_BACKEND} (or no connection, for PostgreSQL itself)"
            )
        partition_column, bounds = self._integer_key_bounds()
        return spark.read_postgres_table(
            spark.spark_backend(connection),
            self._url,
            self._db_schema,
            self._table_name,
            partition_column=partition_column,
            bounds=bounds,
            partitions=self._load_args["partitions"],
        )

    def _integer_key_bounds(self) -> tuple[str | None, tuple[int, int] | None]:
        """The single integer key and its range, which Spark splits into slices; (None, None) for a
        composite or non-integer key."""
        if len(self._key_columns) != 1:
            return None, None
        (key,) = self._key_columns
        with connect(self._url, autocommit=True) as connection:
            low, high = connection.execute(
                sql.SQL("SELECT min({key}), max({key}) FROM {table}").format(
                    key=sql.Identifier(key), table=sql.Identifier(self._db_schema, self._table_name)
                )
            ).fetchone()
        if isinstance(low, int) and isinstance(high, int):
            return key, (low, high)
        return None, None

    def save(self, data: SaveInput) -> None:
        reader = self._as_reader(data)
        with connect(self._url, autocommit=True) as connection:
            self.last_result = upsert_batches(
                connection,
                reader,
                self._db_schema,
                self._table_name,
                self._key_columns,
                exclude_from_update=self._save_args["exclude_from_update"],
                delete_missing=self._save_args["delete_missing"],
                merge_statement=self._save_args["merge_statement"],
                work_mem=self._save_args["work_mem"],
                table_comment=self._save_args["table_comment"],
                column_comments=self._save_args["column_comments"],
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
        shown = ("columns", "exclude_from_update", "delete_missing", "merge_statement", "batch_size")
        return {
            "table": f"{self._db_schema}.{self._table_name}",
            "key_columns": self._key_columns,
            "save_args": {name: self._save_args[name] for name in shown},
        }
