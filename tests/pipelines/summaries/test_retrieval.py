"""The chat can answer "what happened last week?" from the summaries: on the session's database loaded by
the real job, the table's documents exist (with no summary text listed as a category value), and questions
worded unlike the curated examples retrieve metrics.daily_summaries in the top 5."""

from __future__ import annotations

import psycopg
import pytest

from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.embed import embed_query
from thelook_ecommerce_analysis.rag.retrieve import retrieve

pytestmark = pytest.mark.slow

TABLE = "metrics.daily_summaries"
QUESTIONS = [
    "Tell me in words what happened in the shop during the past week",
    "Write me a short recap of yesterday",
    "What is the story of the previous month?",
]


def test_the_summaries_table_has_its_documents_and_lists_no_prose_as_values(loaded_db: RoleUrls) -> None:
    with psycopg.connect(loaded_db.reader) as connection:
        documents = dict(
            connection.execute(
                "SELECT id, metadata FROM embeddings.documents WHERE metadata->>'table' = 'daily_summaries'"
            ).fetchall()
        )
    assert f"table:{TABLE}" in documents
    assert {f"column:{TABLE}.{column}" for column in ("period_kind", "text", "facts")} <= documents.keys()
    assert documents[f"column:{TABLE}.period_kind"]["distinct_values"] == ["day", "month", "week"]
    assert documents[f"column:{TABLE}.text"]["distinct_values"] is None, "a summary is not a category"
    assert documents[f"column:{TABLE}.prompt_hash"]["distinct_values"] is None


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_about_a_past_period_retrieves_the_summaries(question: str, loaded_db: RoleUrls) -> None:
    with psycopg.connect(loaded_db.reader) as connection:
        found = retrieve(connection, embed_query(question), question, k=5)
    tables = {f"{d.metadata['schema']}.{d.metadata['table']}" for d in found if "table" in d.metadata}
    tables |= {table for d in found for table in d.metadata.get("tables", [])}
    assert TABLE in tables, [document.id for document in found]
