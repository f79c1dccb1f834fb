"""Kedro datasets of the summaries pipeline: what is already written, and the model to write with.

- `StoredSummariesDataset` reads the key, prompt hash, source and model of every stored summary, so that
  the pipeline asks the model only for periods whose prompt changed (empty before the first run).
- `SummaryLLMDataset` hands the pipeline the model as a `SummaryLLM`, which picks the provider only when a
  summary is first needed: the LLM is an input of the writing node, visible in Kedro-Viz like any other,
  and a run with nothing new never touches it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from kedro.io import AbstractDataset, DatasetError
from psycopg import sql

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.deadline import DEFAULT_LLM_TIMEOUT_S
from thelook_ecommerce_analysis.summaries.writer import SummaryLLM

STORED_SUMMARIES_SCHEMA = pa.schema(
    [
        pa.field("period_kind", pa.string()),
        pa.field("period_start", pa.date32()),
        pa.field("prompt_hash", pa.string()),
        pa.field("source", pa.string()),
        pa.field("model", pa.string()),
    ]
)


class StoredSummariesDataset(AbstractDataset[None, pa.Table]):
    """(period_kind, period_start, prompt_hash, source, model) of `db_schema.table_name`, one row per
    stored summary; an empty table when it does not exist yet."""

    def __init__(
        self,
        *,
        db_schema: str,
        table_name: str,
        credentials: dict[str, str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        url = (credentials or {}).get("con")
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise ThelookError(
                f"dataset {db_schema}.{table_name} (stored summaries): credentials need `con`, a "
                "postgresql:// URL; run `thelook db start` or set DATABASE_URL"
            )
        self._url = url
        self._db_schema = db_schema
        self._table_name = table_name
        self.metadata = metadata

    def load(self) -> pa.Table:
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, STORED_SUMMARIES_SCHEMA.names)),
            sql.Identifier(self._db_schema, self._table_name),
        )
        with connect(self._url) as connection:
            (exists,) = connection.execute(
                "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
                (self._db_schema, self._table_name),
            ).fetchone()
            rows = connection.execute(query).fetchall() if exists else []
        return pa.Table.from_pylist(
            [dict(zip(STORED_SUMMARIES_SCHEMA.names, row, strict=True)) for row in rows],
            schema=STORED_SUMMARIES_SCHEMA,
        )

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._db_schema}.{self._table_name}: stored summaries are read-only here")

    def _describe(self) -> dict[str, Any]:
        return {"table": f"{self._db_schema}.{self._table_name}"}


class SummaryLLMDataset(AbstractDataset[None, SummaryLLM]):
    """The model the summaries ask, configured as the app's is (THELOOK_LLM, OLLAMA_HOST, ...; see
    docs/llm.md), with `call_timeout_s` as each call's total deadline unless THELOOK_LLM_TIMEOUT is set.
    THELOOK_SUMMARIES_LLM=off writes template summaries without any model."""

    def __init__(
        self, *, call_timeout_s: float = DEFAULT_LLM_TIMEOUT_S, metadata: dict[str, Any] | None = None
    ) -> None:
        if call_timeout_s <= 0:
            raise ThelookError(
                f"dataset summaries_llm: call_timeout_s must be positive, not {call_timeout_s}"
            )
        self._call_timeout_s = float(call_timeout_s)
        self.metadata = metadata

    def load(self) -> SummaryLLM:
        return SummaryLLM(call_timeout_s=self._call_timeout_s)

    def save(self, data: None) -> None:
        raise DatasetError("summaries_llm is a model to ask, not data to save")

    def _describe(self) -> dict[str, Any]:
        return {"call_timeout_s": self._call_timeout_s}
