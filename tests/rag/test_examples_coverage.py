"""The few-shot examples cover the raw grain and stay apart from the question sets.

Retrieved examples are the biggest lever on a small model's SQL, and a model copies the shape of what it
is shown. Examples only over metrics tables teach it to reach for a metrics table, and it invents the
columns it lacks. So every raw table and every foreign-key path of the contract has an example that
joins along it. The examples must not be paraphrases of the dev or test questions, or both numbers would
measure recall of the examples rather than answers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sqlglot
import yaml
from sqlglot import exp

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.contract import load_contract
from thelook_ecommerce_analysis.embed import embed_texts
from thelook_ecommerce_analysis.rag.evaluate import load_questions

EXAMPLES_FILE = REPO_ROOT / "conf" / "base" / "examples.yml"
EXAMPLES = yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))["examples"]
RAW_SCHEMA = "raw_data"
PARAPHRASE_COSINE = 0.9
"""all-MiniLM-L6-v2 puts a reworded question above this ("How many orders contain more than three items?"
against a dev question on orders with more than N items: 0.92); questions on one topic that ask another
measure or grain stay below it ("new versus returning buyers each month" against "new buyers in total":
0.89)."""

ColumnRef = tuple[str, str]


def joined_column_pairs(sql: str) -> set[frozenset[ColumnRef]]:
    """Every `a.x = b.y` of a query between columns of two raw tables, as {(table, column), (table, col)}."""
    tree = sqlglot.parse_one(sql, read="postgres")
    tables = {table.alias_or_name: table.name for table in tree.find_all(exp.Table) if table.db == RAW_SCHEMA}
    pairs = set()
    for equality in tree.find_all(exp.EQ):
        left, right = equality.this, equality.expression
        if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
            continue
        if left.table in tables and right.table in tables and tables[left.table] != tables[right.table]:
            pairs.add(frozenset({(tables[left.table], left.name), (tables[right.table], right.name)}))
    return pairs


def test_the_join_finder_reads_aliases_and_ignores_filters() -> None:
    pairs = joined_column_pairs(
        "SELECT 1 FROM raw_data.order_items AS oi JOIN raw_data.products p ON p.id = oi.product_id "
        "WHERE oi.status = 'Returned' AND p.brand = p.name"
    )
    assert pairs == {frozenset({("products", "id"), ("order_items", "product_id")})}


def test_every_foreign_key_path_has_an_example_that_joins_along_it() -> None:
    joined = set().union(*(joined_column_pairs(example["sql"]) for example in EXAMPLES))
    missing = [
        f"{key.table}.{key.column} -> {key.parent}.{key.parent_column}"
        for key in load_contract().foreign_keys
        if frozenset({(key.table, key.column), (key.parent, key.parent_column)}) not in joined
    ]
    assert missing == []


def test_every_raw_table_has_an_example_that_uses_no_metrics_table() -> None:
    raw_only = [example["sql"] for example in EXAMPLES if "metrics." not in example["sql"]]
    used = {
        table.name
        for sql in raw_only
        for table in sqlglot.parse_one(sql, read="postgres").find_all(exp.Table)
        if table.db == RAW_SCHEMA
    }
    assert set(load_contract().names) - used == set()


@pytest.mark.parametrize("question_set", ["dev_set", "test_set"])
def test_no_example_is_a_paraphrase_of_a_question_it_is_measured_on(question_set: str) -> None:
    """Cosine of the real embedding model between every example question and every question of the set."""
    questions = load_questions(REPO_ROOT / "evaluation" / f"{question_set}.yml")
    shown = [example["question"] for example in EXAMPLES]
    asked = [question.question for question in questions]
    similarity = embed_texts(shown, progress=False) @ embed_texts(asked, progress=False).T
    too_close = [  # the set's question is named by its id only: a held-out question stays unread
        f"{shown[row]!r} ~ {questions[column].id} ({similarity[row, column]:.2f})"
        for row, column in itertools.product(range(len(shown)), range(len(asked)))
        if similarity[row, column] >= PARAPHRASE_COSINE
    ]
    assert too_close == [], "example too close to a question of the set"
    assert float(np.max(similarity)) > 0.3  # the comparison really ran on related texts
