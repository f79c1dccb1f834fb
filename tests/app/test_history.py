"""The chat's history as data: which earlier turns a new question is read against, and how text from a
person or a model is shown as written."""

from __future__ import annotations

import pyarrow as pa

from thelook_ecommerce_analysis.app.dashboard_data import markdown_text
from thelook_ecommerce_analysis.app.history import Asked, ChatTurn, conversation_for
from thelook_ecommerce_analysis.rag.conversation import Turn
from thelook_ecommerce_analysis.rag.engine import Answer


def answered(question: str, sql: str, understood_as: str | None = None) -> ChatTurn:
    table = pa.table({"month": ["2025-01-01"], "gmv": [1.0]})
    answer = Answer(question=question, ok=True, sql=sql, table=table, understood_as=understood_as)
    return ChatTurn(Asked(question), answer)


GMV = answered("GMV per month in 2025", "SELECT 1")
JEANS = answered("only for Jeans", "SELECT 2", understood_as="GMV per month in 2025 for Jeans")
FAILED = ChatTurn(Asked("the weather?"), Answer(question="the weather?", error="cannot answer"))
STOPPED = ChatTurn(Asked("orders per day"))


def test_a_typed_question_is_read_against_every_answered_turn_as_the_engine_understood_it() -> None:
    conversation = conversation_for([GMV, FAILED, JEANS, STOPPED], Asked("and for 2024"))
    assert conversation == [
        Turn("GMV per month in 2025", "SELECT 1", ("month", "gmv")),
        Turn("GMV per month in 2025 for Jeans", "SELECT 2", ("month", "gmv")),
    ]


def test_a_suggestion_under_an_older_answer_follows_that_answer() -> None:
    conversation = conversation_for([GMV, JEANS], Asked("Split it by gender", follow_up_of=GMV.id))
    assert [turn.question for turn in conversation] == ["GMV per month in 2025"]


def test_a_stopped_turn_has_no_answer_and_keeps_its_question() -> None:
    assert STOPPED.stopped and STOPPED.asked.text == "orders per day"
    assert not GMV.stopped


def test_markdown_from_a_model_or_a_person_is_shown_as_written() -> None:
    text = "GMV was $2.41M and $1.9M :red[up] ![x](https://example.invalid/?q=1) *bold*"
    escaped = markdown_text(text)
    assert "$" not in escaped.replace("\\$", "")
    assert "![" not in escaped and ":red[" not in escaped and "*bold*" not in escaped
    assert escaped.replace("\\", "") == text.replace("\\", "")
