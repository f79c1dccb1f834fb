"""Small read-only views of PostgreSQL that the load needs before writing: parent keys, and where the
load starts (the clock, watermarks, which tables hold rows).

They are datasets, not node code, because reading the database is I/O. Keys arrive as an ibis memtable
so that a DuckDB expression can anti-join against them (ibis cannot join across backends).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.db.admin import connect

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class LoadStart:
    """Where this run's load of one table starts, read in one transaction before the run writes it.

    `now` is the database's clock, not the worker's: etl_runs and the app's questions use that clock
    too, and a worker container's clock may drift. A row stamped later than `future_cutoff` (now plus
    the configured margin) is quarantined, and the watermark ignores such rows, so that one bad
    timestamp can never push a watermark into the future and silently skip every later row.
    """

    table: str
    now: datetime
    future_cutoff: datetime
    watermark: datetime | None
    has_rows: bool


class LoadStartDataset(AbstractDataset[None, LoadStart]):
    """One table's load start: its watermark (the largest value of its `watermark` column already loaded,
    up to now + `future_margin_days`; None when the table is empty, missing or has no watermark), whether
    it already holds rows, and the database's clock.

    Read once per run and kept: every node of the table sees the same clock, and the table as it was
    before this run wrote it (the table's own save comes after all of them).
    """

    def __init__(
        self,
        *,
        db_schema: str,
        table_name: str,
        watermark: str | None,
        future_margin_days: float,
        credentials: dict[str, str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._db_schema = db_schema
        self._table_name = table_name
        self._watermark_column = watermark
        self._future_margin = timedelta(days=future_margin_days)
        self._url = credentials["con"]
        self.metadata = metadata
        self._read: LoadStart | None = None

    def load(self) -> LoadStart:
        if self._read is None:
            with connect(self._url) as connection, connection.transaction():
                now = connection.execute("SELECT now()").fetchone()[0]
                cutoff = now + self._future_margin
                watermark, has_rows = self._table_state(connection, cutoff)
            self._read = LoadStart(self._table_name, now, cutoff, watermark, has_rows)
        return self._read

    def _table_state(self, connection, cutoff: datetime) -> tuple[datetime | None, bool]:
        table, column = self._table_name, self._watermark_column
        if not _table_exists(connection, self._db_schema, table):
            return None, False
        relation = sql.Identifier(self._db_schema, table)
        (has_rows,) = connection.execute(
            sql.SQL("SELECT EXISTS (SELECT FROM {})").format(relation)
        ).fetchone()
        if column is None:
            return None, has_rows
        watermark, later = connection.execute(
            sql.SQL(
                "SELECT (SELECT max({column}) FROM {relation} WHERE {column} <= %(cutoff)s),"
                " (SELECT count(*) FROM {relation} WHERE {column} > %(cutoff)s)"
            ).format(column=sql.Identifier(column), relation=relation),
            {"cutoff": cutoff},
        ).fetchone()
        if later:
            logger.warning(
                "%s.%s holds %d row(s) with %s after %s (loaded before future timestamps were refused); "
                "its watermark ignores them",
                self._db_schema, table, later, column, cutoff.isoformat(timespec="seconds"),
            )  # fmt: skip
        return watermark, has_rows

    def save(self, data: None) -> None:
        raise DatasetError("the load start is read from the database, not saved")

    def _describe(self) -> dict[str, Any]:
        return {
            "table": f"{self._db_schema}.{self._table_name}",
            "watermark": self._watermark_column,
            "future_margin_days": self._future_margin / timedelta(days=1),
        }
