"""Small read-only views of PostgreSQL that the load needs before writing: parent keys and watermarks.

They are datasets, not node code, because reading the database is I/O. Keys arrive as an ibis memtable
so that a DuckDB expression can anti-join against them (ibis cannot join across backends).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.db.admin import connect


def _table_exists(connection, schema: str, table: str) -> bool:
    found = connection.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, table)
    ).fetchone()[0]
    return found is not None


class TableKeysDataset(AbstractDataset[None, ir.Table]):
    """The key columns of a PostgreSQL table as an ibis memtable (empty when the table is missing)."""

    def __init__(
        self,
        *,
        table_name: str,
        db_schema: str,
        columns: list[str],
        credentials: dict[str, str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._table_name = table_name
        self._db_schema = db_schema
        self._columns = list(columns)
        self._url = credentials["con"]
        self.metadata = metadata

    def load(self) -> ir.Table:
        query = sql.SQL("SELECT {} FROM {}.{}").format(
            sql.SQL(", ").join(map(sql.Identifier, self._columns)),
            sql.Identifier(self._db_schema),
            sql.Identifier(self._table_name),
        )
        with connect(self._url) as connection:
            if not _table_exists(connection, self._db_schema, self._table_name):
                rows: list[tuple] = []
            else:
                rows = connection.execute(query).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in self._columns]
        arrow = pa.table(
            {name: pa.array(values, pa.int64()) for name, values in zip(self._columns, columns, strict=True)}
        )
        return ibis.memtable(arrow)

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._db_schema}.{self._table_name} keys are read-only")

    def _describe(self) -> dict[str, Any]:
        return {"table": f"{self._db_schema}.{self._table_name}", "columns": self._columns}


class WatermarksDataset(AbstractDataset[None, dict[str, datetime | None]]):
    """For each configured table, the largest value of its watermark column already loaded (or None
    when the table is empty, missing, or has no watermark): where the next incremental load starts."""

    def __init__(
        self,
        *,
        db_schema: str,
        tables: dict[str, dict[str, Any]],
        credentials: dict[str, str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._db_schema = db_schema
        self._tables = tables
        self._url = credentials["con"]
        self.metadata = metadata

    def load(self) -> dict[str, datetime | None]:
        watermarks: dict[str, datetime | None] = {}
        with connect(self._url) as connection:
            for table, settings in self._tables.items():
                column = settings.get("watermark")
                if column is None or not _table_exists(connection, self._db_schema, table):
                    watermarks[table] = None
                    continue
                query = sql.SQL("SELECT max({}) FROM {}.{}").format(
                    sql.Identifier(column), sql.Identifier(self._db_schema), sql.Identifier(table)
                )
                watermarks[table] = connection.execute(query).fetchone()[0]
        return watermarks

    def save(self, data: None) -> None:
        raise DatasetError("watermarks are read from the loaded tables, not saved")

    def _describe(self) -> dict[str, Any]:
        return {"schema": self._db_schema, "tables": sorted(self._tables)}
