"""A three-turn conversation with the REAL embedded model (llama.cpp) on the real database, end to end:
"What was our GMV per month in 2025?" -> "only for the Jeans category" -> "and for 2024". Each follow-up
must be read as a standalone question that names what it kept and what it changed, and every answer's
rows must match the turn's gold SQL. The conversation and its gold SQL are evaluation/followups.yml's
first; the model is the default bundled one (what a user gets) unless THELOOK_LLM_BUNDLED names another,
on a port of its own (never a `thelook llm serve` that may be running)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
import yaml

from tests.conftest import REPO_ROOT, environment, free_port
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.llm.local_server import BUNDLED_VARIABLE, DEFAULT_BUNDLED
from thelook_ecommerce_analysis.llm.select import ChosenProvider, LLMSettings, choose_provider
from thelook_ecommerce_analysis.rag.conversation import Turn
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine
from thelook_ecommerce_analysis.rag.vote import result_signature

pytestmark = pytest.mark.slow

FOLLOWUPS = REPO_ROOT / "evaluation" / "followups.yml"
CONVERSATION = "gmv_jeans_by_year"
MODEL = os.environ.get(BUNDLED_VARIABLE, DEFAULT_BUNDLED)


@pytest.fixture(scope="module")
def real_model() -> Iterator[ChosenProvider]:
    with environment(**{BUNDLED_VARIABLE: MODEL}):
        settings = LLMSettings.from_environment(
            {"THELOOK_LLM": "local", "THELOOK_LLM_THREADS": "2", "THELOOK_LLM_PORT": str(free_port())}
        )
        chosen = choose_provider(settings)
        try:
            yield chosen
        finally:
            chosen.provider.close()


def conversation_turns() -> list[dict]:
    (conversation,) = [c for c in yaml.safe_load(FOLLOWUPS.read_text()) if c["id"] == CONVERSATION]
    return conversation["turns"]


def test_three_turns_are_read_as_standalone_questions_and_answered_with_the_gold_rows(
    loaded_db: RoleUrls, real_model: ChosenProvider
) -> None:
    engine = QuestionEngine(loaded_db.reader, real_model, EngineSettings(candidates=1))
    earlier: list[Turn] = []
    turns = conversation_turns()
    assert len(turns) == 3
    # Autocommit: no transaction stays open (idle) while the model thinks, which the reader role ends at 60 s.
    with psycopg.connect(loaded_db.reader, autocommit=True) as connection:
        for number, turn in enumerate(turns, start=1):
            started = time.perf_counter()
            answer = engine.ask(turn["question"], conversation=earlier)
            print(f"\n{MODEL} turn {number}: {time.perf_counter() - started:.1f} s, "
                  f"understood as {answer.understood_as!r}, sql {answer.sql!r}")  # fmt: skip
            for attempt in answer.attempts:  # what the loop tried, for a failure's log
                sql = " ".join((attempt.sql or "").split())
                print(f"  {attempt.source} {attempt.stage} {attempt.misfit or attempt.error or ''}: {sql}")
            print(f"  notice: {answer.notice}; vote: {answer.vote}")
            if number == 1:
                assert answer.understood_as is None, "a first question stands alone: no rewrite"
            else:
                standalone = (answer.understood_as or "").lower()
                missing = [term for term in turn["mentions"] if str(term).lower() not in standalone]
                assert not missing, f"turn {number} read as {answer.understood_as!r}, without {missing}"
            gold = connection.execute(turn["sql"]).fetchall()
            assert len(gold) > 1, "the gold must have rows to compare for this test to mean anything"
            assert answer.ok, f"turn {number}: {answer.error}"
            assert result_signature(answer.rows()) == result_signature(gold), (
                f"turn {number}: {answer.sql} gave {answer.rows()[:3]}..., gold {gold[:3]}..."
            )
            assert answer.sentence, "every answer comes in words"
            earlier.append(Turn(answer.understood_as or turn["question"], answer.sql, tuple(answer.columns)))
