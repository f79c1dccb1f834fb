"""Rows that broke a rule, kept with the reason and the run that rejected them: nothing is dropped
silently, and the run log says how many."""

from __future__ import annotations

import logging
from typing import Any

import ibis.expr.types as ir
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.datasets.reports import WriteCounts
from thelook_ecommerce_analysis.db.admin import connect

logger = logging.getLogger(__name__)

QUARANTINE_TABLE = "etl_quarantine"


class QuarantineDataset(AbstractDataset[ir.Table, None]):
    """Appends (run_id, source table, record key, reason, record as jsonb) to raw_data.etl_quarantine.

    `run_id` is stamped by the run-log hook before the pipeline starts. Re-running a run id replaces
    its rows for that table, so a retried save never duplicates them.
    """

    def __init__(
        self,
        *,
        source_table: str,
        credentials: dict[str, str],
        db_schema: str = "raw_data",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._source_table = source_table
        self._db_schema = db_schema
        self._url = credentials["con"]
        self.metadata = metadata
        self._last_count = 0

    def save(self, data: ir.Table) -> None:
        rows = data.to_pyarrow().to_pylist()
        target = sql.Identifier(self._db_schema, QUARANTINE_TABLE)
        with connect(self._url) as connection, connection.transaction():
            connection.execute(
                sql.SQL("DELETE FROM {} WHERE run_id = ANY(%s) AND source_table = %s").format(target),
                (sorted({row["run_id"] for row in rows}), self._source_table),
            )
            with connection.cursor() as cursor:
                cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {} (run_id, source_table, record_key, reason, record) "
                        "VALUES (%s, %s, %s, %s, %s::jsonb)"
                    ).format(target),
                    [
                        (row["run_id"], self._source_table, row["record_key"], row["reason"], row["record"])
                        for row in rows
                    ],
                )
        self._last_count = len(rows)
        if rows:
            logger.warning("%s: %d row(s) quarantined in %s", self._source_table, len(rows), QUARANTINE_TABLE)

    def last_write(self) -> WriteCounts:
        return WriteCounts(quarantined=self._last_count)

    def load(self) -> None:
        raise DatasetError(f"quarantined rows are read with SQL from {self._db_schema}.{QUARANTINE_TABLE}")

    def _describe(self) -> dict[str, Any]:
        return {"source_table": self._source_table, "table": f"{self._db_schema}.{QUARANTINE_TABLE}"}
