"""Follow-ups are read against the conversation; questions that stand alone are left alone (no LLM call)."""

from __future__ import annotations

import pytest

from thelook_ecommerce_analysis.rag.conversation import (
    Turn,
    leans_on_conversation,
    rewrite_messages,
    standalone_from_reply,
)

GMV = Turn(
    "What was the GMV per month in 2025?", "SELECT date_trunc('month', day) AS month ...", ("month", "gmv")
)


@pytest.mark.parametrize(
    "question",
    [
        "and only for the Jeans category?",
        "Only for Jeans",
        "same for 2024",
        "What about 2024?",
        "split it by gender",
        "For women",
        "by traffic source",
        "Show that per week instead",
        "top 5",
        "Compare it with the year before",
    ],
)
def test_follow_ups_lean_on_the_conversation(question: str) -> None:
    assert leans_on_conversation(question, [GMV])


@pytest.mark.parametrize(
    "question",
    [
        "How many users signed up through Facebook?",
        "Which brand has the highest margin rate?",
        "What is the average age of our users?",
    ],
)
def test_questions_that_stand_alone_are_not_rewritten(question: str) -> None:
    assert not leans_on_conversation(question, [GMV])


def test_without_a_conversation_nothing_is_a_follow_up() -> None:
    assert not leans_on_conversation("and only for Jeans?", [])


def test_the_rewrite_sees_the_earlier_questions_sql_and_columns_then_the_follow_up() -> None:
    earlier = [Turn(f"question {number}") for number in range(5)] + [GMV]
    messages = rewrite_messages("and only for Jeans?", earlier)
    shown = messages[-1]["content"]
    assert "question 0" not in shown and "question 3" in shown  # the latest turns only
    assert "Its SQL: SELECT date_trunc('month', day) AS month ..." in shown
    assert "Its result columns: month, gmv" in shown
    assert shown.endswith("Follow-up: and only for Jeans?")


@pytest.mark.parametrize(
    ("reply", "standalone"),
    [
        (
            "What was the GMV per month in 2025 for the Jeans category?",
            "What was the GMV per month in 2025 for the Jeans category?",
        ),
        ('Standalone question: "GMV per month in 2024?"\nBecause ...', "GMV per month in 2024?"),
        ("", "What was the GMV per month in 2025; and only for Jeans?"),
        (
            "SELECT sum(gmv) FROM metrics.sales_daily",
            "What was the GMV per month in 2025; and only for Jeans?",
        ),
    ],
)
def test_a_reply_becomes_the_standalone_question_or_both_side_by_side(reply: str, standalone: str) -> None:
    assert standalone_from_reply(reply, "and only for Jeans?", [GMV]) == standalone
