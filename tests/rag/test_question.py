"""Questions are made fit for the loop before any work: one line for what cannot be asked, the same for the
app and the command line."""

from __future__ import annotations

import pytest

from thelook_ecommerce_analysis.rag.question import (
    MAX_QUESTION_CHARACTERS,
    BadQuestionError,
    printable,
    read_question,
)


@pytest.mark.parametrize(
    ("raw", "question"),
    [
        ("  How many orders?  ", "How many orders?"),
        ("How many\x0corders?", "How many orders?"),
        ("Wie viele Bestellungen aus Österreich?\n", "Wie viele Bestellungen aus Österreich?"),
        ("Orders\tby\tstatus", "Orders\tby\tstatus"),
        ("Orders from São Paulo?".encode(), "Orders from São Paulo?"),
        ("x" * MAX_QUESTION_CHARACTERS, "x" * MAX_QUESTION_CHARACTERS),
    ],
)
def test_good_questions_pass_cleaned(raw: str | bytes, question: str) -> None:
    assert read_question(raw) == question


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "could not answer: the question is empty"),
        ("\x01\x02 \n", "could not answer: the question is empty"),
        ("x" * (MAX_QUESTION_CHARACTERS + 1), "could not answer: the question has 2,001 characters"),
        ("orders\x00", "could not answer: the question holds a NUL character (at character 7); retype it"),
        (b"\xc3\x28 orders", "holds bytes that are not UTF-8 text (at character 1); retype it"),
        ("orders \udce9t\u00e9", "holds bytes that are not UTF-8 text (at character 8); retype it"),
    ],
)
def test_bad_questions_are_refused_in_one_line(raw: str | bytes, reason: str) -> None:
    with pytest.raises(BadQuestionError) as refused:
        read_question(raw)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("a\x00b", "a\u2400b"), ("a\udcffb", "a\ufffdb"), (b"a\xffb", "a\ufffdb"), ("plain", "plain")],
)
def test_what_is_shown_of_a_question_is_always_printable(raw: str | bytes, shown: str) -> None:
    assert printable(raw) == shown
    shown.encode("utf-8")
