"""The learning loop: a thumbs-up proposes a question and its SQL as a few-shot example, for review.

Retrieving the most similar example question/SQL pairs is the biggest lever on a small model's SQL
accuracy (STACK_NOTES), so an answer a person confirmed is worth keeping. But retrieved examples reach
EVERY user's prompt and the app has no login, so a thumbs-up only records a candidate (review =
'pending'); it becomes a retrievable example when someone approves it with `thelook examples approve`
(rag/examples_review.py), after the guard of the day has re-checked its SQL. A thumbs-down is recorded
with the question (and the failed SQL) for whoever curates conf/base/examples.yml.

This is the only thing the app writes, so it alone uses the OWNER role; every read goes through the
read-only role. No Streamlit here: the page calls `FeedbackStore.record` and shows one of the notes below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.examples_review import (
    ReviewStatus,
    ensure_feedback_table,
    normalised_question,
)

SAVED_FOR_REVIEW = (
    "Thanks! Saved for review: once a reviewer approves it, similar questions will learn from this answer."
)
RECORDED = "Thanks, your feedback was recorded."


class Verdict(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class FeedbackRecord:
    """What was stored: the feedback row's id and, for a thumbs-up with SQL, its review status."""

    feedback_id: int
    review: ReviewStatus | None

    @property
    def note(self) -> str:
        """What the page tells the person who gave the feedback."""
        return SAVED_FOR_REVIEW if self.review is ReviewStatus.PENDING else RECORDED


_INSERT_FEEDBACK = """
INSERT INTO embeddings.feedback (question, sql, verdict, error, provider, review)
VALUES (%s, %s, %s, %s, %s, %s) RETURNING id
"""


class FeedbackStore:
    """Writes feedback with the owner role. Built once per app process; creates its table if missing,
    so an app started on a database the job has not migrated yet still records feedback."""

    def __init__(self, owner_url: str, sql_dir: Path) -> None:
        self.owner_url = owner_url
        ensure_feedback_table(owner_url, sql_dir)

    def record(
        self,
        question: str,
        query: str | None,
        verdict: Verdict,
        *,
        error: str | None = None,
        provider: str = "",
    ) -> FeedbackRecord:
        """Store one verdict; a thumbs-up on an answer with SQL is a candidate example pending review,
        and nothing reaches embeddings.documents (what retrieval reads) until it is approved."""
        question = normalised_question(question)
        if not question:
            raise ThelookError("feedback needs the question it judges; the question is empty")
        review = ReviewStatus.PENDING if verdict is Verdict.UP and query else None
        with connect(self.owner_url) as connection, connection.transaction():
            (feedback_id,) = connection.execute(
                _INSERT_FEEDBACK,
                (question, query, verdict.value, error, provider, None if review is None else str(review)),
            ).fetchone()
        return FeedbackRecord(feedback_id, review)
