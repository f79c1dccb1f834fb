"""Review of candidate examples: a thumbs-up is a proposal, and only an approved one reaches a prompt.

Retrieved example question/SQL pairs go into EVERY user's prompt, and the app has no login, so one
person's thumbs-up must not decide what another person's model is shown: an attack query stored that way
was run later for someone else asking a similar question. A thumbs-up therefore only records a candidate
(embeddings.feedback, review = 'pending') and writes nothing to embeddings.documents, the one table
retrieval reads: a candidate cannot be retrieved because it is not there. `approve` re-checks the SQL with
the guard as it is today, against the catalog as the read-only role sees it (a query that passed an older
guard may not pass this one), then embeds the question and writes the verified example document; the
embeddings pipeline keeps such documents on every run (metadata.verified). `reject` keeps the row for
the record and removes its document if it had one.

No click or Streamlit here: `thelook examples` (cli.py) and the app's feedback store call down to it.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import sqlglot
from sqlglot import exp

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.embed.documents import DOCUMENTS_SCHEMA, DOCUMENTS_TABLE, DocumentKind
from thelook_ecommerce_analysis.embed.model import MODEL_NAME, embed_query
from thelook_ecommerce_analysis.embed.store import STORED_DOCUMENT_SCHEMA, write_documents
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.catalog import load_catalog
from thelook_ecommerce_analysis.rag.dialect import POSTGRES
from thelook_ecommerce_analysis.rag.guard import guard_sql

FEEDBACK_DDL = Path("app") / "feedback.sql"
"""Relative to the project's sql/ folder."""

VERIFIED_PREFIX = "example:verified:"
"""Ids of approved examples; distinct from the curated `example:<hash>` ids so the two never collide."""


class ReviewStatus(StrEnum):
    """Where a candidate stands; only APPROVED has an example document."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    """It was approved, then a later approval of the same question replaced its SQL in the document."""


@dataclass(frozen=True)
class Candidate:
    """One thumbs-up with SQL as the review sees it."""

    id: int
    question: str
    sql: str
    status: ReviewStatus
    created_at: datetime
    reviewed_at: datetime | None
    example_id: str | None


HIDING_CATEGORIES = frozenset({"Cc", "Cf"})
"""Unicode control and format characters: escape sequences, carriage returns, bidirectional overrides."""


def _escaped(char: str) -> str:
    if char in "\n\t" or unicodedata.category(char) not in HIDING_CATEGORIES:
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def visible(text: str) -> str:
    """`text` with control and format characters (newlines and tabs aside) written as \\xNN or \\uNNNN:
    a reviewer's terminal must show all that would be approved, and an escape sequence (concealed text),
    a carriage return or a right-to-left override could hide or reorder part of it."""
    return "".join(_escaped(char) for char in text)


def normalised_question(question: str) -> str:
    return " ".join(question.split())


def verified_example_id(question: str) -> str:
    """Stable per wording (case and spacing ignored): approving a question again replaces its SQL."""
    digest = hashlib.sha256(normalised_question(question).lower().encode()).hexdigest()[:16]
    return VERIFIED_PREFIX + digest


def tables_read(query: str) -> list[str]:
    """The tables a query reads (CTE names left out), sorted: the engine puts them in the prompt's
    schema when the example is retrieved."""
    try:
        tree = sqlglot.parse_one(query, read=POSTGRES)
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
    """Metadata in the shape the engine reads for examples (question, sql, tables), marked verified so
    that the embeddings pipeline, which did not produce it, leaves it in place."""
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


def ensure_feedback_table(owner_url: str, sql_dir: Path) -> None:
    """Create or migrate embeddings.feedback (sql/app/feedback.sql, idempotent) with the owner role, so
    the app and the review commands work on a database the job has not migrated yet."""
    ddl_path = sql_dir / FEEDBACK_DDL
    if not ddl_path.is_file():
        raise ThelookError(f"feedback table DDL missing at {ddl_path}: run thelook from the thelook project")
    with connect(owner_url, autocommit=True) as connection:
        connection.execute(ddl_path.read_text(encoding="utf-8"))


def example_document(question: str, query: str, feedback_id: int, vector: np.ndarray) -> pa.Table:
    """The verified example document of an approved candidate, as embed.store writes it (one row)."""
    metadata = example_metadata(question, query, feedback_id)
    kind = DocumentKind.EXAMPLE.value
    row = {
        "id": verified_example_id(question),
        "kind": kind,
        "title": question,
        "text": question,
        "content_hash": content_hash(kind, question, question, metadata),
        "metadata": json.dumps(metadata),
        "embedding": np.asarray(vector, dtype=np.float32),
    }
    return pa.Table.from_pylist([row], schema=STORED_DOCUMENT_SCHEMA)


def write_example_document(
    connection: psycopg.Connection,
    question: str,
    query: str,
    feedback_id: int,
    vector: np.ndarray,
    *,
    sql_dir: Path | None = None,
) -> str:
    """Upsert the verified example document of an approved candidate through the one document writer
    (embed/store.py); returns its id. The caller holds the transaction, so the document and the
    candidate's status change together."""
    document = example_document(question, query, feedback_id, vector)
    write_documents(connection, document, sql_dir=sql_dir)
    return document["id"][0].as_py()


_CANDIDATES = """
SELECT id, question, sql, review, created_at, reviewed_at, example_id FROM embeddings.feedback
WHERE review = ANY(%(statuses)s) {only_id} ORDER BY created_at, id {lock}
"""

_REVIEWED = "UPDATE embeddings.feedback SET review = %s, example_id = %s, reviewed_at = now() WHERE id = %s"

_SUPERSEDE = """
UPDATE embeddings.feedback SET review = 'superseded', reviewed_at = now()
WHERE example_id = %(example_id)s AND id <> %(id)s AND review = 'approved'
"""

_DELETE_OWN_DOCUMENT = f"""
DELETE FROM {DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE}
WHERE id = %(example_id)s AND metadata->>'feedback_id' = %(id)s
"""


def _documents_table_exists(connection: psycopg.Connection) -> bool:
    """The pipeline creates embeddings.documents; the review may run on a database it has not filled."""
    table = f"{DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE}"
    found = connection.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    return found is not None and found[0] is not None


def _candidate(row: tuple) -> Candidate:
    identifier, question, query, status, created_at, reviewed_at, example_id = row
    return Candidate(identifier, question, query, ReviewStatus(status), created_at, reviewed_at, example_id)


def _find(connection: psycopg.Connection, candidate_id: int, *, lock: bool = False) -> Candidate:
    """One candidate in any state; `lock` holds its row for the rest of the caller's transaction, so two
    reviewers deciding at once are applied one after the other."""
    query = _CANDIDATES.format(only_id="AND id = %(id)s", lock="FOR UPDATE" if lock else "")
    parameters = {"statuses": [str(status) for status in ReviewStatus], "id": candidate_id}
    row = connection.execute(query, parameters).fetchone()
    if row is None:
        raise unknown_candidate(candidate_id)
    return _candidate(row)


def unknown_candidate(candidate_id: int) -> ThelookError:
    return ThelookError(
        f"no candidate example #{candidate_id} in embeddings.feedback (only a thumbs-up on an answer with "
        "SQL is one); `thelook examples list --all` shows them"
    )


def guard_refusal(candidate_id: int, reason: str) -> ThelookError:
    return ThelookError(
        f"candidate #{candidate_id} not approved: its SQL no longer passes the SQL guard ({reason}); "
        f"reject it with `thelook examples reject {candidate_id}`"
    )


NO_DOCUMENTS_TABLE = (
    f"{DOCUMENTS_SCHEMA}.{DOCUMENTS_TABLE} does not exist yet, so there is nowhere to store the example: "
    "run `thelook run` first"
)


class ExampleReview:
    """The review of candidate examples: the owner role writes, the read-only role supplies the catalog
    that the guard checks against (exactly the tables the app may read)."""

    def __init__(
        self,
        owner_url: str,
        reader_url: str,
        sql_dir: Path,
        embed: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        self.owner_url = owner_url
        self.reader_url = reader_url
        self._embed = embed or embed_query
        self._sql_dir = sql_dir
        ensure_feedback_table(owner_url, sql_dir)

    def candidates(self, statuses: tuple[ReviewStatus, ...] = (ReviewStatus.PENDING,)) -> list[Candidate]:
        """Candidates in the given states, oldest first."""
        with connect(self.owner_url) as connection:
            rows = connection.execute(
                _CANDIDATES.format(only_id="", lock=""), {"statuses": [str(status) for status in statuses]}
            ).fetchall()
        return [_candidate(row) for row in rows]

    def candidate(self, candidate_id: int) -> Candidate:
        """One candidate, in any state."""
        with connect(self.owner_url) as connection:
            return _find(connection, candidate_id)

    def approve(self, candidate_id: int) -> Candidate:
        """Re-check the SQL with today's guard, then embed the question and write the verified example;
        a refused query changes nothing. Approving again re-checks and rewrites the document."""
        candidate = self.candidate(candidate_id)
        with connect(self.reader_url) as reader:
            verdict = guard_sql(candidate.sql, load_catalog(reader))
        if not verdict.ok:
            raise guard_refusal(candidate_id, verdict.reason)
        vector = self._embed(candidate.question)
        with connect(self.owner_url) as connection, connection.transaction():
            if not _documents_table_exists(connection):
                raise ThelookError(NO_DOCUMENTS_TABLE)
            _find(connection, candidate_id, lock=True)
            example_id = write_example_document(
                connection, candidate.question, candidate.sql, candidate_id, vector, sql_dir=self._sql_dir
            )
            connection.execute(_SUPERSEDE, {"example_id": example_id, "id": candidate_id})
            connection.execute(_REVIEWED, (str(ReviewStatus.APPROVED), example_id, candidate_id))
            return _find(connection, candidate_id)

    def reject(self, candidate_id: int) -> Candidate:
        """Mark it rejected and delete its example document if it still owns one (a later approval of
        the same question may own that id now); the row stays for the record."""
        with connect(self.owner_url) as connection, connection.transaction():
            candidate = _find(connection, candidate_id, lock=True)
            if candidate.example_id and _documents_table_exists(connection):
                connection.execute(
                    _DELETE_OWN_DOCUMENT, {"example_id": candidate.example_id, "id": str(candidate_id)}
                )
            connection.execute(_REVIEWED, (str(ReviewStatus.REJECTED), candidate.example_id, candidate_id))
            return _find(connection, candidate_id)
