"""The answer in words: a model's sentence is shown only when every number in it is one of the result's;
otherwise, or when rows may not reach the model, the template sentence is."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.llm.base import LLMReply
from thelook_ecommerce_analysis.rag.sentence import (
    ROWS_SHOWN,
    describe_result,
    result_slice,
    rows_may_reach_the_model,
    template_sentence,
)

YEARS = pa.table({"year": [2024, 2025], "gmv": [2151042.7, 2409871.22]})


class Saying:
    """An LLMProvider that says one thing and counts the calls (these tests need no HTTP: the HTTP
    boundary is tested through the engine in test_engine.py)."""

    def __init__(self, text: str) -> None:
        self.text, self.calls = text, 0

    def complete(self, messages, *, temperature=0.0, seed=None, max_tokens=512) -> LLMReply:
        self.calls += 1
        return LLMReply(self.text, None, "scripted", 0.0)


@pytest.mark.parametrize(
    "sentence",
    [
        "GMV in 2025 was $2.41M, up from $2.15M in 2024.",
        "GMV was 2,409,871.22 in 2025 against 2,151,042.70 in 2024.",
        "In 2025 GMV reached about $2.4 million.",
    ],
)
def test_a_sentence_whose_numbers_are_the_results_is_shown(sentence: str) -> None:
    said = describe_result(Saying(sentence), "GMV per year?", YEARS, rows_to_model=True)
    assert said.source == "llm" and said.text == sentence


@pytest.mark.parametrize(
    ("sentence", "invented"),
    [("GMV in 2025 was $2.41M, up 12% on 2024.", "12%"), ("GMV grew by $258,828.52.", "$258,828.52")],
)
def test_a_sentence_with_an_invented_number_falls_back_to_the_template(sentence: str, invented: str) -> None:
    said = describe_result(Saying(sentence), "GMV per year?", YEARS, rows_to_model=True)
    assert said.source == "template" and said.text == template_sentence(YEARS)
    assert invented in said.unsupported


def test_rows_kept_from_the_model_mean_the_template_and_no_call() -> None:
    model = Saying("anything")
    said = describe_result(model, "GMV per year?", YEARS, rows_to_model=False)
    assert said.source == "template" and model.calls == 0


@pytest.mark.parametrize("reply", ["```sql\nSELECT 1\n```", "CANNOT ANSWER: no", "   "])
def test_a_reply_that_is_no_sentence_gives_the_template(reply: str) -> None:
    assert describe_result(Saying(reply), "GMV per year?", YEARS, rows_to_model=True).source == "template"


def test_fractions_may_be_written_as_percentages_and_dates_by_their_parts() -> None:
    table = pa.table({"month": [date(2025, 3, 1)], "cancellation_rate": [0.1523]})
    said = describe_result(
        Saying("In March 2025, 15.2% of orders were cancelled."), "rate?", table, rows_to_model=True
    )
    assert said.source == "llm"


@pytest.mark.parametrize(
    ("table", "sentence"),
    [
        (pa.table({"orders": [125023]}), "Orders: 125,023."),
        (pa.table({"category": ["Jeans"], "gmv": [1234.5]}), "Category Jeans, gmv 1,234.50."),
        (YEARS, "2 rows; the first: year 2024, gmv 2,151,042.70."),
        (pa.table({"orders": pa.array([], pa.int64())}), "The query returned no rows."),
    ],
)
def test_template_sentences(table: pa.Table, sentence: str) -> None:
    assert template_sentence(table) == sentence


def test_the_model_sees_a_bounded_slice_with_values_quoted() -> None:
    table = pa.table({"name": [f"Product {i}" for i in range(50)], "price": [float(i) for i in range(50)]})
    shown = result_slice(table).splitlines()
    assert shown[0] == "name | price" and shown[1] == "'Product 0' | 0.00"
    assert len(shown) == 1 + ROWS_SHOWN + 1 and shown[-1] == "(40 more rows not shown)"


def test_the_deployment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THELOOK_LLM_SEES_ROWS", raising=False)
    assert rows_may_reach_the_model()
    monkeypatch.setenv("THELOOK_LLM_SEES_ROWS", "false")
    assert not rows_may_reach_the_model()
