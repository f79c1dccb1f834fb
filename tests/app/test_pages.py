"""Both pages in Streamlit's AppTest, against a database loaded by the real pipelines, with the answers
written by the Ollama HTTP double (deterministic). Expected values are computed here from the database
with the reader role, never written into the test. Every test shares the module's one loaded database,
one double and the app's one cached engine."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import (
    APP_ENTRY,
    CANCELLED_PER_MONTH,
    CANCELLED_QUESTION,
    FOLLOW_UP,
    INVENTED_SENTENCE,
    JEANS_QUESTION,
    REPLIES,
    SCRIPTED_SQL,
    STANDALONE,
    SUGGESTION,
    UNANSWERABLE,
    scripted_sentences,
)
from tests.app.ollama_double import OllamaDouble, ollama_double
from tests.conftest import REPO_ROOT, environment
from tests.llm.servers import closed_port
from thelook_ecommerce_analysis.app.dashboard_data import format_kpi, markdown_text
from thelook_ecommerce_analysis.app.feedback import RECORDED, SAVED_FOR_REVIEW
from thelook_ecommerce_analysis.app.history import Asked
from thelook_ecommerce_analysis.app.samples import SAMPLE_QUESTIONS
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.examples_review import ExampleReview, verified_example_id

TIMEOUT_S = 180
VEGA_LITE = "vega_lite_chart"


@pytest.fixture(scope="module")
def double(app_environment: RoleUrls) -> Iterator[OllamaDouble]:
    sentences = scripted_sentences(app_environment.reader)
    with (
        ollama_double(REPLIES, standalone=STANDALONE, sentences=sentences) as server,
        environment(THELOOK_LLM="ollama", OLLAMA_HOST=server.url),
    ):
        yield server


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def started_app() -> AppTest:
    app = AppTest.from_file(str(APP_ENTRY), default_timeout=TIMEOUT_S)
    app.run()
    assert not app.exception, [exception.message for exception in app.exception]
    return app


def ask(app: AppTest, question: str) -> AppTest:
    app.chat_input[0].set_value(question).run()
    assert not app.exception, [exception.message for exception in app.exception]
    return app


def markdown_in(block) -> list[str]:
    """The markdown texts of a block (a chat message), in the order shown."""
    return [element.value for element in block.markdown]


def as_floats(values) -> list[float]:
    return [float(value) for value in values]


def test_every_sample_question_is_scripted_in_the_double() -> None:
    assert set(SAMPLE_QUESTIONS) <= set(SCRIPTED_SQL)


def test_sample_question_renders_the_table_and_a_line_chart(double, app_environment) -> None:
    app = started_app()
    assert len(app.button) >= len(SAMPLE_QUESTIONS), (
        "the sample questions are offered before the first question"
    )
    assert app.main.markdown[0].value.startswith("Ask in plain language"), "nothing stray above it"
    rewrites = len(double.follow_ups)
    app.button(key="sample-0").click().run()
    assert not app.exception, [exception.message for exception in app.exception]
    expected = rows(app_environment.reader, SCRIPTED_SQL[SAMPLE_QUESTIONS[0]])
    shown = app.dataframe[0].value
    assert list(shown.columns) == ["month", "gmv"]
    assert len(shown) == len(expected) > 1
    assert [float(value) for value in shown["gmv"]] == pytest.approx([float(gmv) for _, gmv in expected])
    assert app.selectbox(key=f"chart-{app.session_state['turns'][0].id}").value.startswith(
        "line: gmv by month"
    )
    assert len(app.get(VEGA_LITE)) == 1, "one chart drawn for the answer"
    assert double.questions[-1] == SAMPLE_QUESTIONS[0]
    assert any("The metrics tables answer this." in text.value for text in app.get("text")), "reasoning shown"
    answer = app.session_state["turns"][0].answer
    assert answer.understood_as is None and len(double.follow_ups) == rewrites, "a first question: no rewrite"
    reply = app.chat_message[1]
    assert markdown_text(INVENTED_SENTENCE) not in markdown_in(reply), "an invented number is never shown"
    assert answer.sentence_source == "template"
    assert markdown_text(answer.sentence) in markdown_in(reply)
    assert any("without the model" in caption.value for caption in reply.caption)


def test_a_follow_up_is_understood_and_answered_against_the_first_answer(double, app_environment) -> None:
    app = started_app()
    app.button(key="sample-0").click().run()
    ask(app, FOLLOW_UP)
    assert double.follow_ups[-1] == FOLLOW_UP
    assert double.questions[-1] == JEANS_QUESTION, "the standalone question is what the SQL prompt sees"
    first, second = app.session_state["turns"]
    assert second.answer.understood_as == JEANS_QUESTION and second.answer.ok
    reply = app.chat_message[3]
    assert f"Understood as: {markdown_text(JEANS_QUESTION)}" in [caption.value for caption in reply.caption]
    gold = rows(app_environment.reader, SCRIPTED_SQL[JEANS_QUESTION])
    shown = reply.dataframe[0].value
    assert list(shown.columns) == ["month", "gmv"] and 1 < len(gold) < len(first.answer.table)
    assert as_floats(shown["gmv"]) == pytest.approx([float(gmv) for _, gmv in gold])
    assert [status.label for status in app.status][-1].startswith("Answered in ")
    steps = markdown_in(app.status[-1])[0]
    for label in ("Reading the follow-up", "Finding tables", "Writing SQL", "Checking", "Running",
                  "Putting it in words"):  # fmt: skip
        assert label in steps, steps
    assert "Reading the follow-up" not in markdown_in(app.status[0])[0], "the first question was not one"


def test_the_answer_in_words_states_the_result_above_the_table(double, app_environment) -> None:
    app = ask(started_app(), CANCELLED_QUESTION)
    ((cancelled,),) = rows(app_environment.reader, SCRIPTED_SQL[CANCELLED_QUESTION])
    sentence = f"{int(cancelled):,} orders were cancelled in total."
    answer = app.session_state["turns"][0].answer
    assert (answer.sentence, answer.sentence_source) == (sentence, "llm")
    shown = list(app.chat_message[1].children.values())  # the reply's own elements, in order
    kinds = [node.type for node in shown]
    written = markdown_text(sentence)
    sentence_at = next(i for i, node in enumerate(shown) if node.type == "markdown" and node.value == written)
    assert sentence_at < kinds.index("dataframe"), kinds
    reply = app.chat_message[1]
    assert any("every number in it was checked" in caption.value for caption in reply.caption)


def test_a_suggested_question_is_asked_as_a_follow_up_when_clicked(double, app_environment) -> None:
    app = ask(started_app(), CANCELLED_QUESTION)
    turn = app.session_state["turns"][0]
    offered = [button.label for button in app.button if button.key.startswith(f"suggest-{turn.id}-")]
    assert offered == turn.answer.suggestions and offered[0] == SUGGESTION, offered
    app.button(key=f"suggest-{turn.id}-0").click().run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert double.follow_ups[-1] == SUGGESTION
    second = app.session_state["turns"][1].answer
    assert second.understood_as == CANCELLED_PER_MONTH and second.ok
    gold = rows(app_environment.reader, SCRIPTED_SQL[CANCELLED_PER_MONTH])
    assert as_floats(app.chat_message[3].dataframe[0].value["cancelled_orders"]) == pytest.approx(
        [float(value) for _, value in gold]
    )


def test_a_stopped_question_is_kept_and_can_be_asked_again(double, app_environment) -> None:
    app = started_app()
    # What a cancel click leaves behind: the run stopped while the question was in flight.
    app.session_state["question_in_flight"] = Asked(CANCELLED_QUESTION)
    app.run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert [info.value for info in app.info] == ["Stopped before the answer."]
    assert markdown_in(app.chat_message[0]) == [markdown_text(CANCELLED_QUESTION)]
    assert not app.dataframe
    stopped = app.session_state["turns"][0]
    app.button(key=f"again-{stopped.id}").click().run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert app.session_state["turns"][1].answer.ok
    assert len(app.dataframe) >= 1


def test_single_number_becomes_a_metric_card_and_the_chart_can_be_hidden(double, app_environment) -> None:
    app = ask(started_app(), "How many orders were cancelled in total?")
    ((cancelled,),) = rows(app_environment.reader, SCRIPTED_SQL["How many orders were cancelled in total?"])
    assert app.metric[0].label == "cancelled_orders"
    assert app.metric[0].value == f"{int(cancelled):,}"
    turn = app.session_state["turns"][0]
    app.selectbox(key=f"chart-{turn.id}").set_value("hide chart").run()
    assert not app.metric, "hiding the chart removes the card; the table stays"
    assert len(app.dataframe) >= 1


def test_category_ranking_becomes_a_bar_chart(double, app_environment) -> None:
    app = ask(started_app(), "Which 10 product categories had the highest GMV?")
    turn = app.session_state["turns"][0]
    assert app.selectbox(key=f"chart-{turn.id}").value.startswith("bar: gmv by category")
    assert len(app.dataframe[0].value) == 10
    assert len(app.get(VEGA_LITE)) == 1


def test_unanswerable_question_gets_a_friendly_message(double) -> None:
    app = ask(started_app(), UNANSWERABLE)
    assert any("cannot be answered from the shop's data" in warning.value for warning in app.warning)
    assert not app.dataframe or all("title" in frame.value.columns for frame in app.dataframe)
    assert not app.get(VEGA_LITE)


def test_a_question_with_a_nul_gets_one_clear_message_not_an_exception(double) -> None:
    app = ask(started_app(), "How many orders\x00 are there?")
    assert any("cannot be asked as it is" in error.value for error in app.error)
    assert any("NUL character (at character 16)" in caption.value for caption in app.caption)


def test_the_status_panel_says_when_the_question_engine_is_ready(double) -> None:
    """The engine builds in the background from the first page: the panel shows it warming up or ready,
    and once ready, a rerun says how long the build took."""
    app = started_app()
    engine_line = next(value for value in markdown_in(app.sidebar) if value.startswith("**Question engine**"))
    assert ":orange[warming up (" in engine_line or ":green[ready (built in " in engine_line, engine_line
    ask(app, SAMPLE_QUESTIONS[0])  # waits for what is left of the build
    engine_line = next(value for value in markdown_in(app.sidebar) if value.startswith("**Question engine**"))
    assert re.fullmatch(r"\*\*Question engine\*\* :green\[ready \(built in \d+\.\d s\)\]", engine_line)


def test_dead_llm_gets_its_message_and_the_status_panel_says_so(app_environment) -> None:
    with environment(THELOOK_LLM="ollama", OLLAMA_HOST=f"http://127.0.0.1:{closed_port()}"):
        app = started_app()
        status = [markdown.value for markdown in app.sidebar.markdown]
        assert "**LLM** :red[not answering]" in status, status
        ask(app, SAMPLE_QUESTIONS[0])
    assert any("language model is not answering" in error.value for error in app.error)
    assert any("not reachable" in caption.value for caption in app.caption)


def test_thumbs_up_is_saved_for_review_and_retrieved_only_once_approved(double, app_environment) -> None:
    question = SAMPLE_QUESTIONS[3]
    app = ask(started_app(), question)
    app.feedback[0].set_value(1).run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert SAVED_FOR_REVIEW in [caption.value for caption in app.caption]
    example_id = verified_example_id(question)
    ((candidate_id, review, sql, documents),) = rows(
        app_environment.reader,
        "SELECT f.id, f.review, f.sql, (SELECT count(*) FROM embeddings.documents d WHERE d.id = "
        f"'{example_id}') FROM embeddings.feedback f WHERE f.verdict = 'up' AND f.question = '{question}'",
    )
    assert (review, sql, documents) == ("pending", app.session_state["turns"][0].answer.sql, 0)
    again = ask(app, question)
    retrieved = [document["id"] for document in again.session_state["turns"][1].answer.documents]
    assert example_id not in retrieved, "a thumbs-up alone reaches no prompt"

    review_board = ExampleReview(app_environment.owner, app_environment.reader, REPO_ROOT / "sql")
    review_board.approve(candidate_id)
    approved = ask(again, question)
    retrieved = [document["id"] for document in approved.session_state["turns"][2].answer.documents]
    assert example_id in retrieved, "once approved, the example is retrieved for the same question"
    review_board.reject(candidate_id)


def test_thumbs_down_records_the_question(double, app_environment) -> None:
    app = ask(started_app(), UNANSWERABLE)
    app.feedback[0].set_value(0).run()
    recorded = rows(
        app_environment.reader,
        "SELECT verdict, sql, example_id, review FROM embeddings.feedback WHERE question = "
        f"'{UNANSWERABLE.replace(chr(39), chr(39) * 2)}'",
    )
    assert recorded == [("down", None, None, None)]
    assert RECORDED in [caption.value for caption in app.caption]


def test_the_dashboard_opened_directly_is_one_of_the_apps_pages(double) -> None:
    # Streamlit decides once per process, from a folder named pages/ beside the entry script, that an app
    # is a legacy multipage one: a page opened by its URL then skips main.py (raw file names in the
    # sidebar, no status panel). The real browser sees that (test_browser.py); here, the cause and the
    # first run landing on the dashboard, as opening its URL does.
    assert not (APP_ENTRY.parent / "pages").exists(), "a pages/ folder turns on Streamlit's legacy mode"
    app = AppTest.from_file(str(APP_ENTRY), default_timeout=TIMEOUT_S)
    app.switch_page("views/dashboard.py").run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert [title.value for title in app.title] == ["Dashboard"]
    panel = [markdown.value for markdown in app.sidebar.markdown]
    assert any(line.startswith("**Database** :green[connected]") for line in panel), panel
    assert "**Last ETL run**" in panel


def test_dashboard_renders_every_chart_and_kpis_follow_the_country_filter(double, app_environment) -> None:
    app = started_app()
    app.switch_page("views/dashboard.py").run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert [metric.label for metric in app.metric] == [
        "GMV",
        "Orders",
        "AOV",
        "Cancellation rate",
        "Conversion",
    ]
    assert len(app.get(VEGA_LITE)) == 8, (
        "trend, category, cohorts, RFM, funnel, abandonment, shipping, inventory"
    )
    start, end = app.date_input(key="period").value
    ((all_orders,),) = rows(
        app_environment.reader,
        f"SELECT sum(orders) FROM metrics.sales_daily WHERE order_date BETWEEN '{start}' AND '{end}'",
    )
    assert app.metric[1].value == format_kpi(float(all_orders or 0), "count")
    ((country, orders),) = rows(
        app_environment.reader,
        "SELECT country, sum(orders) FROM metrics.sales_daily_by_country "
        f"WHERE order_date BETWEEN '{start}' AND '{end}' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
    )
    app.selectbox(key="country").set_value(country).run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert app.metric[1].value == format_kpi(float(orders), "count")
    assert int(orders) < int(all_orders), "the filter must change the number for this test to mean anything"
