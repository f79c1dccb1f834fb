"""Execution accuracy of the question loop on a set of questions with gold SQL (`thelook eval`).

A question is answered when its final result holds the same multiset of rows as the gold query's:
column order and names ignored, numbers rounded to 2 decimals. The report also says how good the first
attempt alone was and which mechanism (a repair kind, a fit fix, or an LLM retry) rescued each
first-attempt miss. Beside this strict score it gives Spider 2.0's laxer one, which also accepts an
answer that shows every gold column plus others (the brand beside the 5 priciest products' names and
prices): a person reading the answer would call it right, the strict score does not.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import yaml

from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.engine import Answer, Attempt, QuestionEngine
from thelook_ecommerce_analysis.rag.guard import guard_sql
from thelook_ecommerce_analysis.rag.question import question_key
from thelook_ecommerce_analysis.rag.vote import mixed_order, normalised_value, result_signature

NON_LLM_STAGES = ("embed", "retrieve", "values", "guard", "validate", "execute", "repair", "fit")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    sql: str


def load_questions(path: Path) -> list[EvalQuestion]:
    """A YAML list of {id, question, sql}; a malformed file gives one clear error."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ThelookError(f"cannot read questions from {path}: {error}") from None
    if not isinstance(entries, list):
        raise ThelookError(f"{path} must hold a YAML list of {{id, question, sql}}")
    questions = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not {"id", "question", "sql"} <= entry.keys():
            raise ThelookError(f"{path}: entry {position} needs id, question and sql")
        questions.append(EvalQuestion(str(entry["id"]), str(entry["question"]), str(entry["sql"])))
    return questions


def holds_gold_columns(rows: list[Iterable[Any]], gold_rows: list[Iterable[Any]]) -> bool:
    """Spider 2.0's comparison: as many rows, and every gold column's values (in any row order) equal to
    those of a distinct answer column."""
    if len(rows) != len(gold_rows):
        return False
    if not gold_rows:
        return True
    columns = [_sorted_column(column) for column in zip(*rows, strict=True)]
    for gold_column in map(_sorted_column, zip(*gold_rows, strict=True)):
        if gold_column not in columns:
            return False
        columns.remove(gold_column)
    return True


def _sorted_column(values: Iterable[Any]) -> list[Any]:
    return sorted((normalised_value(value) for value in values), key=mixed_order)


def run_query(connection: psycopg.Connection, sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, prepare=True)
        return cursor.fetchall()


@dataclass
class QuestionOutcome:
    question: EvalQuestion
    answer: Answer
    matched: bool
    holds_gold: bool
    first_matched: bool
    rescued_by: str | None
    llm_calls: int
    non_llm_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "question": self.question.question,
            "gold_sql": self.question.sql,
            "sql": self.answer.sql,
            "matched": self.matched,
            "holds_gold_columns": self.holds_gold,
            "first_attempt_matched": self.first_matched,
            "rescued_by": self.rescued_by,
            "llm_calls": self.llm_calls,
            "error": self.answer.error,
            "latency_ms": round(self.answer.timings_ms.get("total", 0.0), 1),
            "non_llm_ms": round(self.non_llm_ms, 1),
        }


@dataclass
class EvalReport:
    outcomes: list[QuestionOutcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(outcome.matched for outcome in self.outcomes) / max(len(self.outcomes), 1)

    @property
    def holds_gold_accuracy(self) -> float:
        return sum(outcome.holds_gold for outcome in self.outcomes) / max(len(self.outcomes), 1)

    @property
    def first_attempt_accuracy(self) -> float:
        return sum(outcome.first_matched for outcome in self.outcomes) / max(len(self.outcomes), 1)

    @property
    def rescues(self) -> Counter:
        return Counter(outcome.rescued_by for outcome in self.outcomes if outcome.rescued_by)

    def _percentile(self, values: list[float], share: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        latencies = [outcome.answer.timings_ms.get("total", 0.0) for outcome in self.outcomes]
        overheads = [outcome.non_llm_ms for outcome in self.outcomes]
        first_misses = sum(not outcome.first_matched for outcome in self.outcomes)
        return {
            "questions": len(self.outcomes),
            "execution_accuracy": round(self.accuracy, 3),
            "holds_gold_columns_accuracy": round(self.holds_gold_accuracy, 3),
            "first_attempt_accuracy": round(self.first_attempt_accuracy, 3),
            "first_attempt_misses": first_misses,
            "rescued": dict(self.rescues),
            "rescued_share_of_first_misses": round(sum(self.rescues.values()) / first_misses, 3)
            if first_misses
            else None,
            "mean_llm_calls": round(statistics.fmean(o.llm_calls for o in self.outcomes), 2)
            if self.outcomes
            else 0.0,
            "latency_ms_p50": round(self._percentile(latencies, 0.5), 1),
            "latency_ms_p95": round(self._percentile(latencies, 0.95), 1),
            "non_llm_ms_p50": round(self._percentile(overheads, 0.5), 1),
            "non_llm_ms_p95": round(self._percentile(overheads, 0.95), 1),
            "stage_ms_p50_p95": {
                stage: [
                    round(self._percentile(values, 0.5), 1),
                    round(self._percentile(values, 0.95), 1),
                ]
                for stage in NON_LLM_STAGES
                if (values := [o.answer.timings_ms.get(stage, 0.0) for o in self.outcomes])
            },
        }


def _first_attempt_sql(answer: Answer) -> str | None:
    """The SQL the model wrote first, if it got that far."""
    first = next((attempt for attempt in answer.attempts if attempt.source == "llm"), None)
    return first.sql if first else None


def evaluate(
    engine: QuestionEngine,
    questions: list[EvalQuestion],
    progress: Callable[[QuestionOutcome], None] | None = None,
) -> EvalReport:
    """Ask every question, run its gold SQL and compare; gold SQL that fails is an error in the set.

    A stored example (a curated one, or a thumbs-up approved in the app) whose question is one of the set
    never reaches the prompt while the set is evaluated: it would be the answer key."""
    report = EvalReport()
    withheld = frozenset(question_key(question.question) for question in questions)
    engine.settings = replace(
        engine.settings,
        withheld_questions=engine.settings.withheld_questions | withheld,
        describe=False,  # the answer in words and the next questions change no row that is scored
    )
    with connect(engine.reader_url, autocommit=True) as connection:
        for question in questions:
            try:
                gold_rows = run_query(connection, question.sql)
            except psycopg.Error as error:
                raise ThelookError(f"gold SQL of {question.id!r} fails: {str(error).strip()}") from None
            gold = result_signature(gold_rows)
            answer = engine.ask(question.question)
            matched = answer.ok and result_signature(answer.rows()) == gold
            first_matched = _first_matches(connection, engine, answer, gold, matched)
            winner = answer.chosen
            rescued_by = None
            if matched and not first_matched and winner is not None:
                rescued_by = _rescuer(answer, winner)
            outcome = QuestionOutcome(
                question=question,
                answer=answer,
                matched=matched,
                holds_gold=matched or (answer.ok and holds_gold_columns(answer.rows(), gold_rows)),
                first_matched=first_matched,
                rescued_by=rescued_by,
                llm_calls=sum(1 for a in answer.attempts if a.source.startswith("llm")),
                non_llm_ms=sum(answer.timings_ms.get(stage, 0.0) for stage in NON_LLM_STAGES),
            )
            report.outcomes.append(outcome)
            if progress:
                progress(outcome)
    return report


def _rescuer(answer: Answer, winner: Attempt) -> str:
    """The mechanism that produced the right answer: the vote (a sampled candidate won), a repair or fit
    kind, or an LLM retry named by what set it off (an error stage, or the misfit the previous answer had)."""
    if winner.number == 1 and winner.candidate != 0:
        return "vote"  # a sampled candidate, with whatever repairs it needed, outvoted the greedy one
    if winner.source != "llm-retry":
        return winner.source
    before = [a for a in answer.attempts if a.number == winner.number - 1 and a.candidate == 0]
    trigger = (before[-1].misfit or before[-1].stage) if before else "unknown"
    return f"llm-retry after {trigger}"


def _first_matches(connection, engine: QuestionEngine, answer: Answer, gold: Counter, matched: bool) -> bool:
    """Would the model's first query alone, with no repair and no retry, have been right? When that query
    is the answer itself, the comparison already made says so; otherwise it runs once more."""
    if answer.attempts and answer.attempts[0].ok:
        return matched
    sql = _first_attempt_sql(answer)
    if sql is None:
        return False
    verdict = guard_sql(sql, engine.catalog, max_rows=engine.settings.max_rows)
    if not verdict.ok:
        return False
    try:
        return result_signature(run_query(connection, verdict.sql)) == gold
    except psycopg.Error:
        return False
