"""The learning loop: a thumbs-up turns a question and its SQL into a verified few-shot example at once.

Retrieving the most similar example question/SQL pairs is the biggest lever on a small model's SQL
accuracy (STACK_NOTES), so an answer a person confirmed is worth keeping: it is embedded with the same
model as every other document and written to embeddings.documents as kind 'example' with
metadata.verified = true, where the very next similar question retrieves it. A thumbs-down is recorded
with the question (and the failed SQL) for whoever curates conf/base/examples.yml.

This is the only thing the app writes, so it alone uses the OWNER role; every read goes through the
read-only role. No Streamlit here: the page calls `FeedbackStore.record`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import sqlglot
from pgvector.psycopg import register_vector
from sqlglot import exp

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.embed.documents import DOCUMENTS_SCHEMA, DOCUMENTS_TABLE, DocumentKind
from thelook_ecommerce_analysis.embed.model import MODEL_NAME, embed_query
from thelook_ecommerce_analysis.errors import ThelookError

FEEDBACK_DDL = Path("app") / "feedback.sql"
"""Relative to the project's sql/ folder."""

VERIFIED_PREFIX = "example:verified:"
"""Ids of verified examples; distinct from the curated `example:<hash>` ids so the two never collide."""


class Verdict(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class FeedbackRecord:
    """What was stored: the feedback row's id and, for a thumbs-up, the example document's id."""

    feedback_id: int
    example_id: str | None


def normalised_question(question: str) -> str:
    return " ".join(question.split())


def verified_example_id(question: str) -> str:
    """Stable per wording (case and spacing ignored): confirming a question again replaces its SQL."""
    digest = hashlib.sha256(normalised_question(question).lower().encode()).hexdigest()[:16]
    return VERIFIED_PREFIX + digest


def tables_read(query: str) -> list[str]:
    """The tables a query reads (CTE names left out), sorted: the engine puts them in the prompt's
    schema when the example is retrieved."""
    try:
        tree = sqlglot.parse_one(query, read="postgres")
    except sqlglot.errors.SqlglotError:
        return []
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted(
        {
            f"{table.db}.{table.name}" if table.db else table.name
            for table in tree.find_all(exp.Table)
            if table.name not in ctes
        }
    )


def example_metadata(question: str, query: str, feedback_id: int) -> dict[str, Any]:
    """Metadata in the shape the engine reads for examples (question, sql, tables), marked verified."""
    return {
        "question": normalised_question(question),
        "sql": query.strip().rstrip(";"),
        "tables": tables_read(query),
        "verified": True,
        "feedback_id": feedback_id,
    }


def content_hash(kind: str, title: str, text: str, metadata: dict[str, Any]) -> str:
    """SHA-256 over model, kind, title, text and metadata, like the pipeline's documents."""
    payload = json.dumps([MODEL_NAME, kind, title, text, metadata], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


_INSERT_FEEDBACK = """
INSERT INTO embeddings.feedback (question, sql, verdict, error, provider)
VALUES (%s, %s, %s, %s, %s) RETURNING id
"""

_UPSERT_EXAMPLE = f"""
INSERT INTO {DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE} (id, kind, title, text, content_hash, metadata, embedding)
VALUES (%(id)s, %(kind)s, %(title)s, %(text)s, %(hash)s, %(metadata)s, %(embedding)s)
ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, text = EXCLUDED.text,
    content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding,
    updated_at = now()
"""


class FeedbackStore:
    """Writes feedback with the owner role. Built once per app process; creates its table if missing,
    so an app started on a database the job has not migrated yet still records feedback."""

    def __init__(
        self, owner_url: str, sql_dir: Path, embed: Callable[[str], np.ndarray] | None = None
    ) -> None:
        self.owner_url = owner_url
        self._embed = embed or embed_query
        ddl_path = sql_dir / FEEDBACK_DDL
        if not ddl_path.is_file():
            raise ThelookError(
                f"feedback table DDL missing at {ddl_path}: run the app from the thelook project"
            )
        with connect(owner_url, autocommit=True) as connection:
            connection.execute(ddl_path.read_text(encoding="utf-8"))

    def record(
        self,
        question: str,
        query: str | None,
        verdict: Verdict,
        *,
        error: str | None = None,
        provider: str = "",
    ) -> FeedbackRecord:
        """Store one verdict; a thumbs-up on an answer with SQL also stores the verified example, in the
        same transaction, embedded now so the next question can retrieve it."""
        question = normalised_question(question)
        if not question:
            raise ThelookError("feedback needs the question it judges; the question is empty")
        verified = verdict is Verdict.UP and bool(query)
        vector = self._embed(question) if verified else None
        with connect(self.owner_url) as connection, connection.transaction():
            feedback_id = connection.execute(
                _INSERT_FEEDBACK, (question, query, verdict.value, error, provider)
            ).fetchone()[0]
            example_id = None
            if verified:
                example_id = self._store_example(connection, question, query or "", feedback_id, vector)
                connection.execute(
                    "UPDATE embeddings.feedback SET example_id = %s WHERE id = %s", (example_id, feedback_id)
                )
        return FeedbackRecord(feedback_id, example_id)

    @staticmethod
    def _store_example(
        connection: psycopg.Connection, question: str, query: str, feedback_id: int, vector: np.ndarray
    ) -> str:
        register_vector(connection)
        metadata = example_metadata(question, query, feedback_id)
        kind = DocumentKind.EXAMPLE.value
        example_id = verified_example_id(question)
        connection.execute(
            _UPSERT_EXAMPLE,
            {
                "id": example_id,
                "kind": kind,
                "title": question,
                "text": question,
                "hash": content_hash(kind, question, question, metadata),
                "metadata": psycopg.types.json.Jsonb(metadata),
                "embedding": np.asarray(vector, dtype=np.float32),
            },
        )
        return example_id
