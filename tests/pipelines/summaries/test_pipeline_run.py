"""The summaries pipeline as the job runs it (a Kedro session with the project's hooks, catalog and
parameters), with the model at the HTTP boundary: the Ollama double answering grounded text, ungrounded
text, slowly, or not at all.

Covers: summaries of the latest days, week and month stored with their facts, prompt hash, model and source,
commented from the glossary; a rerun with nothing new asks the model nothing and writes nothing; a changed
fact rewrites only the periods it belongs to; ungrounded answers, a dead and a slow model give template
summaries, a successful run, and a warning in the log and in raw_data.etl_runs; templates no model answered
for are asked again once a model answers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import environment
from tests.llm.servers import closed_port
from tests.ollama_double import serve_ollama
from tests.pipelines.summaries.conftest import summary_rows
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.glossary import SUMMARIES_GLOSSARY_KEY, load_glossary
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL
from thelook_ecommerce_analysis.summaries.facts import PeriodFacts
from thelook_ecommerce_analysis.summaries.grounding import check_grounded
from thelook_ecommerce_analysis.summaries.prompt import prompt_hash, summary_messages

pytestmark = pytest.mark.slow

LAST_DAY = date(2025, 6, 30)  # the generated snapshot's last order day (conftest.AS_OF)
EXPECTED_PERIODS = [
    ("day", date(2025, 6, 30)),
    ("day", date(2025, 6, 29)),
    ("day", date(2025, 6, 28)),
    ("week", date(2025, 6, 23)),  # the latest complete Monday-to-Sunday week
    ("month", date(2025, 6, 1)),  # June ends on the last day: complete
]
INVENTED = "GMV jumped by $987,654,321 and orders tripled to 31,337."
_ROW = re.compile(r"^\| (?P<measure>[^|]+) \| (?P<value>[^|]+) \| (?P<previous>[^|]+) \|", re.MULTILINE)


def grounded_reply(request: dict) -> str:
    """What a faithful model writes: the period and its GMV, orders and GMV change copied from the facts
    table of the last user message."""
    facts = request["messages"][-1]["content"]
    cells = {match["measure"]: match for match in _ROW.finditer(facts)}
    label = re.search(r"Write the summary of (.+)\.$", facts, re.MULTILINE)[1]
    return (
        f"In {label}, GMV was {cells['GMV']['value']} ({cells['GMV']['previous']} against the period "
        f"before), from {cells['Orders']['value']} orders. The conversion rate was "
        f"{cells['Conversion rate']['value']}."
    )


@contextmanager
def model(reply, *, delay_s: float = 0.0, **variables: str) -> Iterator[list[dict]]:
    """The Ollama double as the job's model; yields the chat requests it received."""
    requests: list[dict] = []

    def reply_to(request: dict) -> str:
        requests.append(request)
        return reply(request)

    with (
        serve_ollama(reply_to, delay_s=delay_s) as url,
        environment(THELOOK_SUMMARIES_LLM="on", THELOOK_LLM="ollama", OLLAMA_HOST=url, **variables),
    ):
        yield requests


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    """The warnings the pipeline's nodes log during the test."""

    class Recorder(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    recorder = Recorder()
    nodes_logger = logging.getLogger("thelook_ecommerce_analysis.pipelines.summaries.nodes")
    nodes_logger.addHandler(recorder)
    yield recorder.messages
    nodes_logger.removeHandler(recorder)


@pytest.fixture
def no_summaries(metrics_db: RoleUrls, project: Path) -> RoleUrls:
    """The test starts with no stored summary."""
    with psycopg.connect(metrics_db.owner) as connection:
        connection.execute("DROP TABLE IF EXISTS metrics.daily_summaries")
    return metrics_db


def last_run(url: str) -> tuple:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT status, error, warnings, rows_inserted, rows_updated FROM raw_data.etl_runs "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()


def test_the_job_stores_grounded_model_summaries_and_a_rerun_asks_nothing(no_summaries: RoleUrls) -> None:
    with model(grounded_reply) as requests:
        run_pipeline("summaries")
        first = summary_rows(no_summaries.owner)
        assert len(requests) == len(EXPECTED_PERIODS), "one call per period"
        run_pipeline("summaries")
        assert len(requests) == len(EXPECTED_PERIODS), "a rerun with nothing new asks the model nothing"
    assert sorted((row["period_kind"], row["period_start"]) for row in first) == sorted(EXPECTED_PERIODS)
    for row in first:
        facts = PeriodFacts.from_json(row["facts"])
        assert (facts.period.kind, facts.period.start, facts.period.end) == (
            row["period_kind"],
            row["period_start"],
            row["period_end"],
        )
        assert (row["source"], row["model"]) == ("llm", DEFAULT_OLLAMA_MODEL)
        assert row["prompt_hash"] == prompt_hash(summary_messages(facts)), "the stored facts made the prompt"
        assert check_grounded(row["text"], facts).ok
        assert row["text"].startswith(f"In {facts.period.label}, GMV was $")
    assert summary_rows(no_summaries.owner) == first, "the rerun rewrote nothing (created_at included)"
    status, error, warnings, inserted, updated = last_run(no_summaries.owner)
    assert (status, error, warnings, inserted, updated) == ("success", None, [], 0, 0)


def test_the_table_and_its_columns_are_commented_from_the_glossary(no_summaries: RoleUrls) -> None:
    run_pipeline("summaries")  # THELOOK_SUMMARIES_LLM is off in tests: templates, no model
    (table,) = load_glossary(key=SUMMARIES_GLOSSARY_KEY)
    with psycopg.connect(no_summaries.reader) as connection:
        rows = connection.execute(
            "SELECT a.attname, col_description(a.attrelid, a.attnum), "
            "obj_description(a.attrelid, 'pg_class') FROM pg_attribute a "
            "WHERE a.attrelid = 'metrics.daily_summaries'::regclass AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum"
        ).fetchall()
        (kinds,) = connection.execute(
            "SELECT array_agg(DISTINCT source) FROM metrics.daily_summaries"
        ).fetchone()
    assert [name for name, _, _ in rows] == list(table.column_names)
    assert {name: comment for name, comment, _ in rows} == {m.column: m.comment for m in table.columns}
    assert {description for _, _, description in rows} == {table.description}
    assert kinds == ["template"]


def test_a_changed_fact_rewrites_only_the_periods_it_belongs_to(no_summaries: RoleUrls) -> None:
    with model(grounded_reply) as requests:
        run_pipeline("summaries")
        before = {(row["period_kind"], row["period_start"]): row for row in summary_rows(no_summaries.owner)}
        with psycopg.connect(no_summaries.owner) as connection:
            connection.execute(
                "UPDATE metrics.sales_daily SET gmv = gmv + 1000 WHERE order_date = %s", (LAST_DAY,)
            )
        try:
            run_pipeline("summaries")
        finally:
            with psycopg.connect(no_summaries.owner) as connection:
                connection.execute(
                    "UPDATE metrics.sales_daily SET gmv = gmv - 1000 WHERE order_date = %s", (LAST_DAY,)
                )
    after = {(row["period_kind"], row["period_start"]): row for row in summary_rows(no_summaries.owner)}
    rewritten = sorted(key for key in after if after[key]["prompt_hash"] != before[key]["prompt_hash"])
    assert rewritten == [("day", LAST_DAY), ("month", date(2025, 6, 1))], "the day and its month only"
    assert len(requests) == len(EXPECTED_PERIODS) + 2
    assert all(after[key]["created_at"] > before[key]["created_at"] for key in rewritten)
    assert all(after[key] == before[key] for key in after if key not in rewritten)


def test_ungrounded_answers_give_templates_and_a_warning(
    no_summaries: RoleUrls, warnings_logged: list[str]
) -> None:
    with model(lambda request: INVENTED) as requests:
        run_pipeline("summaries")
    rows = summary_rows(no_summaries.owner)
    assert {(row["source"], row["model"]) for row in rows} == {("template", DEFAULT_OLLAMA_MODEL)}
    assert len(requests) == 2 * len(EXPECTED_PERIODS), "each period asked twice, then the template"
    assert all(check_grounded(row["text"], PeriodFacts.from_json(row["facts"])).ok for row in rows)
    status, error, warnings, inserted, _ = last_run(no_summaries.owner)
    assert (status, error, inserted) == ("success", None, len(EXPECTED_PERIODS))
    (warning,) = [text for text in warnings if text.startswith("summaries:")]
    assert "numbers that are not facts twice ($987,654,321, 31,337)" in warning
    assert f"for {len(EXPECTED_PERIODS)} period(s)" in warning
    assert warnings_logged == [warning], "the same warning is in the log"


@pytest.mark.parametrize("failure", ["dead", "slow"])
def test_a_dead_or_slow_model_never_fails_the_job(
    failure: str, no_summaries: RoleUrls, warnings_logged: list[str]
) -> None:
    started = time.perf_counter()
    if failure == "dead":
        with environment(
            THELOOK_SUMMARIES_LLM="on", THELOOK_LLM="ollama", OLLAMA_HOST=f"http://127.0.0.1:{closed_port()}"
        ):
            run_pipeline("summaries")
        expected = "not reachable"
    else:
        with model(grounded_reply, delay_s=5, THELOOK_LLM_TIMEOUT="1") as requests:
            run_pipeline("summaries")
        assert len(requests) == 1, "after the first timeout the model is not asked again"
        expected = "did not answer within 1 s (deadline)"
    assert time.perf_counter() - started < 60
    rows = summary_rows(no_summaries.owner)
    assert {(row["source"], row["model"]) for row in rows} == {("template", None)}
    assert len(rows) == len(EXPECTED_PERIODS)
    status, error, warnings, _, _ = last_run(no_summaries.owner)
    assert (status, error) == ("success", None)
    (warning,) = [text for text in warnings if text.startswith("summaries:")]
    assert "the language model is not available" in warning
    assert expected in warning
    assert warnings_logged == [warning]

    with model(grounded_reply) as requests:
        run_pipeline("summaries")
    assert len(requests) == len(EXPECTED_PERIODS), "templates no model answered for are asked again"
    assert {row["source"] for row in summary_rows(no_summaries.owner)} == {"llm"}
