"""The whole loop with the REAL embedded model (the default bundled one on llama.cpp), on dev-set questions:
retrieval, prompt, three candidates and their vote, guard, validation, execution, compared with the gold
SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.llm.select import LLMSettings, choose_provider
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine
from thelook_ecommerce_analysis.rag.evaluate import evaluate, load_questions

pytestmark = pytest.mark.slow

DEV_SET = REPO_ROOT / "evaluation" / "dev_set.yml"
QUESTIONS = ("orders_total", "users_total", "returned_orders", "female_users", "products_per_department")


def test_the_real_model_answers_dev_set_questions_end_to_end(loaded_db, tmp_path: Path) -> None:
    settings = LLMSettings.from_environment({"THELOOK_LLM": "local", "THELOOK_LLM_THREADS": "2"})
    provider = choose_provider(settings)
    engine = QuestionEngine(loaded_db.reader, provider, EngineSettings(candidates=3))
    questions = [question for question in load_questions(DEV_SET) if question.id in QUESTIONS]
    report = evaluate(engine, questions)
    assert len(report.outcomes) == len(QUESTIONS)
    for outcome in report.outcomes:
        assert outcome.answer.sql, f"{outcome.question.id}: {outcome.answer.error}"
        assert outcome.answer.timings_ms["llm"] > 0
        assert outcome.answer.vote and " of 3 candidates agree" in outcome.answer.vote
        assert sum(a.source == "llm-sample" for a in outcome.answer.attempts) == 2
    matched = [outcome.question.id for outcome in report.outcomes if outcome.matched]
    assert len(matched) >= 4, f"only {matched} matched the gold results"
