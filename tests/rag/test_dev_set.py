"""The shipped question sets: the dev set and the held-out test set are big enough, distinct from each
other and from the few-shot examples, and every gold query passes the guard and runs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest
import yaml

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.catalog import load_catalog
from thelook_ecommerce_analysis.rag.evaluate import holds_gold_columns, load_questions, result_signature
from thelook_ecommerce_analysis.rag.fit import check_fit, read_intent
from thelook_ecommerce_analysis.rag.guard import guard_sql
from thelook_ecommerce_analysis.rag.knowledge import load_knowledge

DEV_SET = REPO_ROOT / "evaluation" / "dev_set.yml"
TEST_SET = REPO_ROOT / "evaluation" / "test_set.yml"


def _normalised(question: str) -> str:
    return re.sub(r"\W+", " ", question.lower()).strip()


def test_the_dev_set_has_40_distinct_questions_none_of_them_a_few_shot_example() -> None:
    questions = load_questions(DEV_SET)
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    assert len(questions) >= 40
    assert len({question.id for question in questions}) == len(questions)
    shown = {_normalised(example["question"]) for example in examples}
    assert not {_normalised(question.question) for question in questions} & shown


def test_every_gold_query_runs_for_the_read_only_role(loaded_db) -> None:
    with psycopg.connect(loaded_db.reader) as connection:
        for question in load_questions(DEV_SET):
            rows = connection.execute(question.sql).fetchall()
            assert rows, f"{question.id} returns nothing on the test data"


def test_the_test_set_has_50_distinct_questions_none_of_them_in_the_dev_set_or_the_examples() -> None:
    """The test set is the reported number only while it stays held out: a question the dev set or the
    few-shot examples already ask (spelled with other capitals or punctuation) would leak into it."""
    questions = load_questions(TEST_SET)
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    assert len(questions) >= 50
    assert len({question.id for question in questions}) == len(questions)
    assert len({_normalised(question.question) for question in questions}) == len(questions)
    seen = {_normalised(example["question"]) for example in examples}
    seen |= {_normalised(question.question) for question in load_questions(DEV_SET)}
    assert not {_normalised(question.question) for question in questions} & seen
    assert not {question.id for question in questions} & {question.id for question in load_questions(DEV_SET)}


def test_every_test_set_gold_query_passes_the_guard_and_runs_for_the_read_only_role(loaded_db) -> None:
    """Gold queries go through the same guard as the loop's answers, against the catalog the reader sees;
    some select a month or a segment the small test data lacks, so an empty result is allowed here."""
    with psycopg.connect(loaded_db.reader, autocommit=True) as connection:
        catalog = load_catalog(connection)
        refused, failed = [], []
        for question in load_questions(TEST_SET):
            guarded = guard_sql(question.sql, catalog)
            if not guarded.ok:
                refused.append(f"{question.id}: {guarded.reason}")
                continue
            try:
                connection.execute(guarded.sql).fetchall()
            except psycopg.Error as error:
                failed.append(f"{question.id}: {error}")
    assert refused == []
    assert failed == []


def test_result_comparison_ignores_column_order_and_rounds_floats() -> None:
    assert result_signature([(1, "a", 2.004)]) == result_signature([("a", 2.0, 1)])
    assert result_signature([(1, "a")]) != result_signature([(1, "b")])
    assert result_signature([(Decimal("2019"), 12)]) == result_signature([(2019, Decimal("12.00"))])
    assert result_signature([(2019.5, 12)]) != result_signature([(2019, 12)])
    month = datetime(2025, 9, 1, tzinfo=UTC)
    assert result_signature([(month, 1)]) == result_signature([(date(2025, 9, 1), 1)])
    assert result_signature([(month.replace(hour=3), 1)]) != result_signature([(date(2025, 9, 1), 1)])
    assert result_signature([(1,), (1,)]) != result_signature([(1,)])


def test_an_answer_holds_the_gold_columns_when_it_shows_each_of_them_plus_others() -> None:
    gold = [("Jeans", 120.0), ("Tops", 80.0)]
    assert holds_gold_columns([("Levi's", "Jeans", 120.004), ("Gap", "Tops", 80.0)], gold)
    assert holds_gold_columns([("Tops", 80.0), ("Jeans", 120.0)], gold), "row order is free"
    assert not holds_gold_columns([("Jeans",), ("Tops",)], gold), "a gold column is missing"
    assert not holds_gold_columns([("Jeans", 120.0)], gold), "a row is missing"
    assert not holds_gold_columns([("Jeans", 120.0), ("Tops", 81.0)], gold)
    assert not holds_gold_columns([(120.0, 1), (80.0, 2)], [(120.0, 120.0), (80.0, 80.0)]), (
        "one column, twice"
    )


def test_a_malformed_questions_file_gives_one_clear_error(tmp_path) -> None:
    broken = tmp_path / "questions.yml"
    broken.write_text("- id: x\n  question: only a question\n")
    with pytest.raises(ThelookError, match="entry 1 needs id, question and sql"):
        load_questions(broken)


def test_every_right_answer_we_ship_fits_its_own_question(loaded_db) -> None:
    """The fit checks' false-positive test: each curated example's SQL and each dev-set gold query answer
    their questions by construction, so no check may call them a misfit (an empty result on the small
    test data excepted, which is the data's doing, not the query's)."""
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    answers = [(example["question"], example["sql"]) for example in examples]
    answers += [(question.question, question.sql) for question in load_questions(DEV_SET)]
    with psycopg.connect(loaded_db.reader, autocommit=True) as connection:
        catalog = load_catalog(connection)
        knowledge = load_knowledge(connection, catalog)
        misfits = []
        for question, sql in answers:
            checked = guard_sql(sql, catalog).sql
            cursor = connection.execute(checked)
            rows = cursor.fetchall()
            table = pa.table(
                {f"c{i}": pa.array([row[i] for row in rows]) for i in range(len(cursor.description))}
            )
            misfit = check_fit(read_intent(question, knowledge.values), checked, table, catalog)
            if misfit is not None and misfit.kind != "empty":
                misfits.append(f"{question} -> {misfit.kind}: {misfit.reason}")
    assert len(answers) > 100
    assert misfits == []
