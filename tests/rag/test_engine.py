"""The question loop against the real database and retrieval, with the LLM played by a scripted Ollama
server at the HTTP boundary: corrections, prose, reasoning blocks, timeouts, hostile SQL, bad input."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
import pytest

from tests.rag.ollama_double import MODEL, Script, ollama_double
from thelook_ecommerce_analysis.llm.ollama_provider import OllamaProvider
from thelook_ecommerce_analysis.rag.conversation import REWRITE_PROMPT, Turn
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine

ORDERS = "SELECT count(*) AS orders FROM raw_data.orders"


def sql_block(query: str) -> str:
    return f"Here is the query:\n```sql\n{query}\n```"


@pytest.fixture(scope="module")
def engine_for(loaded_db):
    """An engine over the loaded database whose LLM is the given script (timeout 3 s)."""
    engines = []

    def build(script: Script, **settings) -> tuple[QuestionEngine, Script]:
        context = ollama_double(script)
        host = context.__enter__()
        engines.append(context)
        provider = OllamaProvider(MODEL, host, timeout_s=3.0)
        # One candidate and no answer in words unless a test asks for them: scripted replies come in order.
        chosen = EngineSettings(**{"candidates": 1, "describe": False, **settings})
        return QuestionEngine(loaded_db.reader, provider, chosen), script

    yield build
    for context in engines:
        context.__exit__(None, None, None)


def count_orders(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute(ORDERS).fetchone()[0]


def test_a_good_first_answer_runs_once(engine_for, loaded_db) -> None:
    engine, script = engine_for(Script([sql_block(ORDERS)]))
    answer = engine.ask("How many orders are there?")
    assert answer.ok, answer.error
    assert answer.rows() == [[count_orders(loaded_db.reader)]]
    assert [attempt.source for attempt in answer.attempts] == ["llm"]
    assert len(script.requests) == 1
    assert "LIMIT 1000" in answer.sql
    assert {"embed", "retrieve", "llm", "guard", "validate", "execute", "total"} <= answer.timings_ms.keys()
    assert any(document["kind"] == "example" for document in answer.documents)


def test_unknown_column_with_no_close_name_is_retried_with_the_error_and_real_columns(engine_for) -> None:
    wrong = "SELECT count(*) AS orders FROM raw_data.orders WHERE order_date >= DATE '2020-01-01'"
    right = "SELECT count(*) AS orders FROM raw_data.orders WHERE created_at >= DATE '2020-01-01'"
    engine, script = engine_for(Script([sql_block(wrong), sql_block(right)]))
    answer = engine.ask("How many orders since 2020?")
    assert answer.ok, answer.error
    assert [attempt.source for attempt in answer.attempts] == ["llm", "llm-retry"]
    assert answer.attempts[0].stage == "guard" and "order_date" in answer.attempts[0].error
    retry = script.requests[1]
    retry_text = retry["messages"][-1]["content"]
    assert "order_date" in retry_text and "raw_data.orders has columns:" in retry_text
    assert retry["options"]["temperature"] > 0, "a retry must change the sampling"
    assert retry["messages"] != script.requests[0]["messages"]


def test_a_typo_is_repaired_without_asking_the_model_again(engine_for) -> None:
    typo = "SELECT count(*) AS orders FROM raw_data.orders WHERE statuss = 'Complete'"
    engine, script = engine_for(Script([sql_block(typo)]))
    answer = engine.ask("How many complete orders are there?")
    assert answer.ok, answer.error
    assert [attempt.source for attempt in answer.attempts] == ["llm", "repair:column"]
    assert "status" in answer.sql and len(script.requests) == 1


def test_a_wrong_categorical_value_is_replaced_by_the_real_one(engine_for) -> None:
    guess = "SELECT count(*) AS orders FROM raw_data.orders WHERE status = 'completed'"
    engine, _ = engine_for(Script([sql_block(guess)]))
    answer = engine.ask("How many completed orders?")
    assert answer.ok, answer.error
    assert "'Complete'" in answer.sql
    assert (
        answer.attempts[1].source == "repair:literal"
        and "'completed' -> 'Complete'" in answer.attempts[1].note
    )


def test_prose_then_sql(engine_for) -> None:
    engine, _ = engine_for(Script(["I think you should count the orders table.", sql_block(ORDERS)]))
    answer = engine.ask("How many orders are there?")
    assert answer.ok, answer.error
    assert answer.attempts[0].stage == "extract"


def test_reasoning_blocks_are_split_off(engine_for) -> None:
    engine, _ = engine_for(
        Script(["<think>The orders table has one row per order.</think>" + sql_block(ORDERS)])
    )
    answer = engine.ask("How many orders are there?")
    assert answer.ok
    assert answer.reasoning == "The orders table has one row per order."


def test_a_slow_llm_gives_a_clear_message(engine_for) -> None:
    engine, _ = engine_for(Script([sql_block(ORDERS)], delay_s=5.0))
    answer = engine.ask("How many orders are there?")
    assert not answer.ok
    assert answer.error.startswith("could not reach the language model:")
    assert "\n" not in answer.error


def test_a_dead_llm_gives_a_clear_message(loaded_db) -> None:
    from tests.llm.servers import closed_port

    provider = OllamaProvider(MODEL, f"http://127.0.0.1:{closed_port()}", timeout_s=2.0)
    answer = QuestionEngine(loaded_db.reader, provider).ask("How many orders are there?")
    assert not answer.ok and answer.error.startswith("could not reach the language model:")


def test_an_unanswerable_question_says_why(engine_for) -> None:
    engine, _ = engine_for(Script(["CANNOT ANSWER: the shop records no weather data"]))
    answer = engine.ask("What was the weather in Paris yesterday?")
    assert not answer.ok
    assert answer.error == "could not answer from this data: the shop records no weather data"


def test_hostile_sql_from_the_model_never_runs(engine_for, loaded_db) -> None:
    before = count_orders(loaded_db.reader)
    engine, _ = engine_for(Script([sql_block("DELETE FROM raw_data.orders"), "DROP TABLE raw_data.orders"]))
    answer = engine.ask("Delete all orders")
    assert not answer.ok
    assert all(attempt.stage != "done" for attempt in answer.attempts)
    assert count_orders(loaded_db.reader) == before


def test_garbage_until_the_attempts_run_out(engine_for) -> None:
    engine, script = engine_for(Script(["\x00\x01 ###"]), max_attempts=2)
    answer = engine.ask("How many orders are there?")
    assert not answer.ok and answer.error.startswith("could not answer after 2 attempts")
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "could not answer: the question is empty"),
        ("x" * 5000, "the question has 5,000 characters"),
        ("how many\x00 orders?", "holds a NUL character (at character 9)"),
        (b"how many \xff orders?", "holds bytes that are not UTF-8 text (at character 10)"),
        ("how many \udcff orders?", "holds bytes that are not UTF-8 text (at character 10)"),
    ],
)
def test_bad_questions_are_refused_before_any_work(engine_for, question: str | bytes, message: str) -> None:
    engine, script = engine_for(Script([sql_block(ORDERS)]))
    answer = engine.ask(question)
    assert not answer.ok and message in answer.error
    assert "\n" not in answer.error
    assert script.requests == []
    answer.question.encode("utf-8")  # what is shown and stored of it is printable text
    assert "\x00" not in answer.question


def test_an_answer_too_large_in_bytes_is_stopped_and_said(engine_for) -> None:
    every_email = "(SELECT string_agg(u.email, ', ') FROM raw_data.users AS u)"
    huge = f"SELECT o.order_id, {every_email} AS emails FROM raw_data.orders AS o"
    engine, _ = engine_for(Script([sql_block(huge)]), max_attempts=1, max_result_bytes=250 << 10)
    answer = engine.ask("Show every order with the emails of all users")
    assert not answer.ok and answer.failure == "too_large"
    assert answer.attempts[0].stage == "execute"
    assert answer.attempts[0].error.startswith("the answer is larger than 250 kB (stopped after ")
    assert answer.attempts[0].error.endswith(" rows); ask for fewer rows or shorter columns")


def test_an_empty_result_gets_one_more_try_then_says_so(engine_for) -> None:
    nothing = "SELECT order_id FROM raw_data.orders WHERE order_id < 0"
    engine, script = engine_for(Script([sql_block(nothing)]))
    answer = engine.ask("Which orders have a negative id?")
    assert answer.ok and answer.row_count == 0
    assert answer.notice == "The query ran but returned no rows."
    assert len(script.requests) == 2


RETURNED = "SELECT count(*) AS returned FROM raw_data.orders WHERE status = 'Returned'"


def test_an_unasked_date_filter_is_dropped_without_asking_the_model_again(engine_for, loaded_db) -> None:
    copied = RETURNED + " AND created_at >= date_trunc('month', now()) - INTERVAL '1 month'"
    engine, script = engine_for(Script([sql_block(copied)]))
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok, answer.error
    assert [attempt.source for attempt in answer.attempts] == ["llm", "fit:unasked-period"]
    assert answer.attempts[0].misfit == "unasked-period" and "created_at" in answer.attempts[0].error
    with psycopg.connect(loaded_db.reader) as connection:
        assert answer.rows() == [list(connection.execute(RETURNED).fetchone())]
    assert len(script.requests) == 1 and "fit" in answer.timings_ms
    assert answer.changes == [f"unasked-period: {answer.attempts[0].error}"], "a dropped filter is said"


def test_an_answer_that_does_not_fit_is_retried_with_the_reason(engine_for) -> None:
    listing = "SELECT order_id FROM raw_data.orders WHERE status = 'Returned'"
    engine, script = engine_for(Script([sql_block(listing), sql_block(RETURNED)]))
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok and answer.row_count == 1 and answer.notice is None
    assert [attempt.source for attempt in answer.attempts] == ["llm", "llm-retry"]
    assert answer.attempts[0].stage == "misfit" and answer.attempts[0].misfit == "one-value"
    told = script.requests[1]["messages"][-1]["content"]
    assert told.startswith("That query ran, but the question asks for one number")


def test_when_no_retry_fits_better_the_first_answer_stays_with_a_notice(engine_for) -> None:
    listing = "SELECT order_id FROM raw_data.orders WHERE status = 'Returned'"
    engine, script = engine_for(Script([sql_block(listing)]))
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok and answer.row_count > 1 and "order_id" in answer.sql
    assert answer.notice.startswith("This answer may not be what you asked: the question asks for one number")
    assert len(script.requests) == 2, "one retry per kind of misfit, not one per attempt left"
    assert answer.attempts[0].ok and not answer.attempts[-1].ok


def test_a_named_value_the_query_ignores_brings_the_table_that_holds_it(engine_for, loaded_db) -> None:
    with psycopg.connect(loaded_db.reader) as connection:
        (country,) = connection.execute(
            "SELECT country FROM metrics.sales_daily_by_country GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    ignores = "SELECT sum(gmv) AS gmv FROM metrics.sales_daily"
    uses = f"SELECT sum(gmv) AS gmv FROM metrics.sales_daily_by_country WHERE country = '{country}'"
    engine, script = engine_for(Script([sql_block(ignores), sql_block(uses)]))
    answer = engine.ask(f"What is the total GMV from customers in {country}?")
    assert answer.ok and f"metrics.sales_daily_by_country WHERE country = '{country}'" in answer.sql
    assert answer.attempts[0].misfit == "missing-value"
    retry_system = script.requests[1]["messages"][0]["content"]
    assert "metrics.sales_daily_by_country" in retry_system
    assert f"'{country}' is a value of" in script.requests[1]["messages"][-1]["content"]


def test_only_nulls_count_as_empty_and_the_answer_says_so(engine_for) -> None:
    nulls = "SELECT sum(sale_price) AS total FROM raw_data.order_items WHERE id < 0"
    engine, script = engine_for(Script([sql_block(nulls)]))
    answer = engine.ask("What is the total sale price of the items with a negative id?")
    assert answer.ok and answer.rows() == [[None]]
    assert answer.notice == "The query ran but returned only NULLs."
    assert len(script.requests) == 2
    assert "only NULLs" in script.requests[1]["messages"][-1]["content"]


# -- candidates and the vote ---------------------------------------------------------------------------


@dataclass
class BySeed(Script):
    """Replies chosen by the request's seed: candidates are asked at once, so arrival order is not theirs."""

    by_seed: dict[int, str] = field(default_factory=dict)

    def reply_to(self, request: dict) -> str:
        self.requests.append(request)
        return self.by_seed[request["options"]["seed"]]


CANCELLED = "SELECT count(*) AS orders FROM raw_data.orders WHERE status = 'Cancelled'"
RETURNED_AGAIN = "SELECT count(order_id) AS returned_orders FROM raw_data.orders WHERE status IN ('Returned')"
GREEDY, FIRST_SAMPLE, SECOND_SAMPLE = 100, 101, 102


def three_candidates(engine_for, greedy: str, first: str, second: str, delay_s: float = 0.0):
    replies = {GREEDY: greedy, FIRST_SAMPLE: first, SECOND_SAMPLE: second}
    return engine_for(BySeed([], delay_s=delay_s, by_seed=replies), candidates=3, max_attempts=1)


def test_the_candidates_that_agree_outvote_the_greedy_one(engine_for, loaded_db) -> None:
    engine, script = three_candidates(
        engine_for, sql_block(CANCELLED), sql_block(RETURNED), sql_block(RETURNED_AGAIN)
    )
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok, answer.error
    with psycopg.connect(loaded_db.reader) as connection:
        assert answer.rows() == [list(connection.execute(RETURNED).fetchone())]
    assert answer.vote == "2 of 3 candidates agree (2 different answers)"
    assert [(a.source, a.candidate, a.temperature) for a in answer.attempts] == [
        ("llm", 0, 0.0),
        ("llm-sample", 1, 0.7),
        ("llm-sample", 2, 0.7),
    ]
    assert answer.chosen is answer.attempts[1] and "Returned" in answer.sql
    assert sorted(request["options"]["seed"] for request in script.requests) == [
        GREEDY,
        FIRST_SAMPLE,
        SECOND_SAMPLE,
    ]


def test_when_every_candidate_disagrees_the_greedy_one_answers(engine_for) -> None:
    engine, _ = three_candidates(engine_for, sql_block(RETURNED), sql_block(CANCELLED), sql_block(ORDERS))
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok and answer.chosen is answer.attempts[0]
    assert answer.vote == "1 of 3 candidates agree (3 different answers)"


def test_a_candidate_that_ran_beats_candidates_that_failed(engine_for) -> None:
    engine, _ = three_candidates(
        engine_for, sql_block("SELECT rolname FROM pg_catalog.pg_roles"), "no sql here", sql_block(RETURNED)
    )
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok and answer.chosen.candidate == 2
    assert answer.attempts[0].stage == "guard" and answer.attempts[1].stage == "extract"


def test_when_most_candidates_say_the_data_cannot_answer_the_answer_says_so(engine_for) -> None:
    cannot = "CANNOT ANSWER: the shop records no weather"
    engine, _ = three_candidates(engine_for, cannot, sql_block(ORDERS), cannot)
    answer = engine.ask("What was the weather in Paris?")
    assert not answer.ok and answer.failure == "unanswerable"
    assert answer.error == "could not answer from this data: the shop records no weather"


def test_candidates_are_asked_at_once(engine_for) -> None:
    engine, _ = three_candidates(
        engine_for, sql_block(ORDERS), sql_block(ORDERS), sql_block(ORDERS), delay_s=1.0
    )
    answer = engine.ask("How many orders are there?")
    assert answer.ok
    assert answer.timings_ms["llm"] < 2500, "three 1 s replies took as long as asking one after another"
    assert answer.timings_ms["execute"] < answer.timings_ms["total"]
    assert answer.vote == "3 of 3 candidates agree (1 different answer)"


# -- follow-ups and the answer in words ---------------------------------------------------------------

ORDERS_TURN = Turn("How many orders are there?", ORDERS, ("orders",))


def test_a_follow_up_is_read_as_a_standalone_question_first(engine_for, loaded_db) -> None:
    standalone = "How many orders have been returned?"
    engine, script = engine_for(Script([standalone, sql_block(RETURNED)]))
    answer = engine.ask("and only the returned ones?", conversation=[ORDERS_TURN])
    assert answer.ok, answer.error
    assert answer.understood_as == standalone
    assert script.requests[0]["messages"][0]["content"] == REWRITE_PROMPT
    assert "Earlier question 1: How many orders are there?" in script.requests[0]["messages"][-1]["content"]
    assert script.requests[1]["messages"][-1]["content"] == standalone, (
        "the loop sees the standalone question"
    )
    with psycopg.connect(loaded_db.reader) as connection:
        assert answer.rows() == [list(connection.execute(RETURNED).fetchone())]


def test_a_question_that_stands_alone_spends_no_call_on_a_rewrite(engine_for) -> None:
    engine, script = engine_for(Script([sql_block(RETURNED)]))
    answer = engine.ask("How many orders have been returned?", conversation=[ORDERS_TURN])
    assert answer.ok and answer.understood_as is None
    assert len(script.requests) == 1


def test_the_answer_in_words_uses_the_rows_numbers(engine_for, loaded_db) -> None:
    with psycopg.connect(loaded_db.reader) as connection:
        (returned,) = connection.execute(RETURNED).fetchone()
    engine, _ = engine_for(
        Script([sql_block(RETURNED), f"{returned} orders have been returned."]), describe=True
    )
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok, answer.error
    assert answer.sentence == f"{returned} orders have been returned." and answer.sentence_source == "llm"
    assert "Show it per month" in answer.suggestions and len(answer.suggestions) <= 3


def test_a_model_that_invents_a_number_gets_the_template_sentence(engine_for) -> None:
    engine, _ = engine_for(
        Script([sql_block(RETURNED), "999999 orders were returned, up 12%."]), describe=True
    )
    answer = engine.ask("How many orders have been returned?")
    assert answer.ok and answer.sentence_source == "template"
    assert answer.sentence.startswith("Returned: ") and "999999" not in answer.sentence


def test_stages_are_told_as_they_happen(engine_for) -> None:
    heard: list[tuple[str, bool]] = []
    engine, _ = engine_for(Script([sql_block(RETURNED)]))
    answer = engine.ask(
        "How many orders have been returned?", progress=lambda stage, ms: heard.append((stage, ms is None))
    )
    assert answer.ok
    started = [stage for stage, starting in heard if starting]
    assert started[:3] == ["rewrite", "embed", "retrieve"] and "llm" in started and "execute" in started
    assert len(started) == len(heard) / 2, "every stage that starts also ends"
