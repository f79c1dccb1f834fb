"""SummaryWriter against the Ollama HTTP double (the production OllamaProvider over a real socket): a grounded
answer is kept, an ungrounded one is asked again with its wrong numbers and then replaced by the template,
a dead or slow server gives the template at once and is not asked again; plus the prompt and the cleanup."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.llm.servers import closed_port
from tests.ollama_double import serve_ollama
from tests.summaries.examples import EMPTY_DAY, WEEK
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL
from thelook_ecommerce_analysis.summaries.grounding import check_grounded
from thelook_ecommerce_analysis.summaries.prompt import (
    facts_tables,
    prompt_hash,
    retry_messages,
    summary_messages,
)
from thelook_ecommerce_analysis.summaries.template import template_summary
from thelook_ecommerce_analysis.summaries.writer import (
    LLM_SWITCH_VARIABLE,
    RETRY_TEMPERATURE,
    SummaryLLM,
    SummaryWriter,
    clean_text,
)

GROUNDED = (
    "GMV was $123,457 in the week, up 12.0%. Orders rose 9.1% to 1,418. Jeans rose most (up $1,234.50)."
)
UNGROUNDED = "GMV rose by $13,226.78. Orders were 1,500."


@contextmanager
def writer_for(
    replies: list[str],
    *,
    delay_s: float = 0.0,
    timeout_s: float = 30,
    budget_s: float = 600,
    clock=time.monotonic,
) -> Iterator[tuple]:
    """A writer whose model is the Ollama double answering `replies` in turn; yields (writer, requests)."""
    requests: list[dict] = []

    def reply_to(request: dict) -> str:
        requests.append(request)
        return replies[min(len(requests), len(replies)) - 1]

    with serve_ollama(reply_to, delay_s=delay_s) as url:
        llm = SummaryLLM(
            call_timeout_s=timeout_s,
            environ={"THELOOK_LLM": "ollama", "OLLAMA_HOST": url, LLM_SWITCH_VARIABLE: "on"},
        )
        yield SummaryWriter(llm, budget_s=budget_s, max_tokens=256, clock=clock), requests


def test_a_grounded_answer_is_stored_as_the_models_text() -> None:
    with writer_for([f"<think>Look at GMV first.</think>\n**Summary:** {GROUNDED}"]) as (writer, requests):
        written = writer.write(WEEK)
    assert (written.source, written.model, written.text) == ("llm", DEFAULT_OLLAMA_MODEL, GROUNDED)
    assert len(requests) == 1
    assert requests[0]["options"]["temperature"] == 0.0
    assert requests[0]["messages"] == summary_messages(WEEK)


def test_an_ungrounded_answer_is_asked_again_with_its_wrong_numbers() -> None:
    with writer_for([UNGROUNDED, GROUNDED]) as (writer, requests):
        written = writer.write(WEEK)
    assert (written.source, written.text) == ("llm", GROUNDED)
    assert len(requests) == 2
    retry = requests[1]
    assert retry["options"]["temperature"] == RETRY_TEMPERATURE, "the second attempt must differ"
    assert retry["messages"][-2] == {"role": "assistant", "content": UNGROUNDED}
    assert "$13,226.78, 1,500" in retry["messages"][-1]["content"]


def test_two_ungrounded_answers_give_the_template_naming_the_model() -> None:
    with writer_for([UNGROUNDED]) as (writer, requests):
        written = writer.write(WEEK)
    assert written.source == "template"
    assert written.text == template_summary(WEEK)
    assert written.model == DEFAULT_OLLAMA_MODEL, "the model that failed the check is recorded"
    assert "$13,226.78" in written.reason
    assert len(requests) == 2


def test_an_empty_answer_counts_as_ungrounded() -> None:
    with writer_for(["<think>only thinking</think>"]) as (writer, requests):
        written = writer.write(WEEK)
    assert written.source == "template"
    assert "(no text)" in requests[1]["messages"][-1]["content"]


def test_a_dead_server_gives_the_template_and_is_not_asked_again() -> None:
    llm = SummaryLLM(
        call_timeout_s=5,
        environ={"THELOOK_LLM": "ollama", "OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}"},
    )
    writer = SummaryWriter(llm, budget_s=600, max_tokens=256)
    first, second = writer.write(WEEK), writer.write(EMPTY_DAY)
    assert (first.source, first.model) == ("template", None)
    assert "language model is not available" in first.reason
    assert "not reachable" in first.reason
    assert (second.source, second.reason) == ("template", first.reason)
    assert writer.model_calls == 1, "one attempt, then no more"


def test_a_slow_server_runs_into_the_deadline_and_gives_the_template() -> None:
    started = time.perf_counter()
    with writer_for([GROUNDED], delay_s=5, timeout_s=1) as (writer, requests):
        written = writer.write(WEEK)
        elapsed = time.perf_counter() - started
        again = writer.write(EMPTY_DAY)
    assert (written.source, written.model) == ("template", None)
    assert "did not answer within 1 s (deadline)" in written.reason
    assert elapsed < 4, "the call's own deadline ended the wait, not the server"
    assert again.source == "template"
    assert len(requests) == 1, "after a timeout the model is not asked again in this run"


def test_with_the_switch_off_nothing_is_asked() -> None:
    with writer_for([GROUNDED]) as (_, requests):
        llm = SummaryLLM(call_timeout_s=5, environ={LLM_SWITCH_VARIABLE: "off", "THELOOK_LLM": "bogus"})
        written = SummaryWriter(llm, budget_s=600, max_tokens=256).write(WEEK)
    assert (written.source, written.reason) == ("template", f"{LLM_SWITCH_VARIABLE}=off")
    assert requests == []


def test_a_spent_time_budget_gives_templates_for_the_rest() -> None:
    ticks = iter([0.0, 100.0])  # the first summary starts the clock at 0; the second is asked at 100
    with writer_for([GROUNDED], budget_s=50, clock=lambda: next(ticks)) as (writer, requests):
        first, second = writer.write(WEEK), writer.write(EMPTY_DAY)
    assert first.source == "llm"
    assert second.source == "template"
    assert second.model is None
    assert "time budget of 50 s" in second.reason
    assert len(requests) == 1


def test_a_misconfigured_provider_is_a_template_not_a_crash() -> None:
    llm = SummaryLLM(call_timeout_s=5, environ={"THELOOK_LLM": "bogus"})
    written = SummaryWriter(llm, budget_s=600, max_tokens=256).write(WEEK)
    assert written.source == "template"
    assert "THELOOK_LLM='bogus'" in written.reason


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ('  "GMV rose."  ', "GMV rose."),
        ("Summary: GMV rose.\n\nOrders fell.", "GMV rose. Orders fell."),
        ("**Weekly summary:** GMV *rose*. `Orders` fell.<|im_end|>", "GMV rose. Orders fell."),
        ("A one. B two. C three. D four. E five. F six. G seven.", "A one. B two. C three. D four. E five."),
        ("GMV was $85.20. Orders: 3.", "GMV was $85.20. Orders: 3."),
    ],
)
def test_clean_text_keeps_one_paragraph_of_at_most_five_sentences(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


def test_the_prompt_shows_the_facts_as_small_tables_with_changes_in_words() -> None:
    tables = facts_tables(WEEK)
    assert "| GMV | $123,457 | up 12.0% | no data |" in tables
    assert "| Cancellation rate | 14.8% | down 0.3 points | no data |" in tables
    assert "| Return rate | 9.9% | unchanged | no data |" in tables
    assert "| category | Jeans (up $1,234) | Swim (down $800.00) |" in tables
    assert "| traffic source, by converted sessions | Search (up 12) | - |" in tables
    assert "the same week a year earlier (2024-06-24 to 2024-06-30)" in tables
    assert check_grounded(tables.split("Compared with")[1], WEEK).ok, "the prompt's numbers are all facts"


def test_the_prompt_hash_follows_the_facts_and_nothing_else() -> None:
    assert prompt_hash(summary_messages(WEEK)) == prompt_hash(summary_messages(WEEK))
    assert prompt_hash(summary_messages(WEEK)) != prompt_hash(summary_messages(EMPTY_DAY))
    assert len(prompt_hash(summary_messages(WEEK))) == 64


def test_retry_messages_continue_the_chat_with_the_rejected_text() -> None:
    messages = retry_messages(WEEK, "GMV was $1.", ["$1"])
    assert messages[: len(summary_messages(WEEK))] == summary_messages(WEEK)
    assert messages[-2:] == [
        {"role": "assistant", "content": "GMV was $1."},
        {"role": "user", "content": messages[-1]["content"]},
    ]
    assert "$1" in messages[-1]["content"]
