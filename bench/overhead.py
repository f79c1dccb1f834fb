"""The question loop's own time per question, without the model's: every stage but the LLM.

    HF_HUB_OFFLINE=1 python bench/overhead.py [evaluation/dev_set.yml] [--rounds 2]

The model is replaced by one that answers each question's gold SQL at once (in process, no server), so what
is timed is exactly the loop's non-LLM work: embedding the question, retrieval, guard, validation,
execution, value matching, repairs and fit checks (evaluate.NON_LLM_STAGES, the stages `thelook eval`
reports as non-LLM overhead). Printed beside each other from the same run: the first question after the
engine was built (cold) and the rest (warm), then the slowest questions with their slowest stage.
Run after `make run` (the numbers mean something on the 100,000-user database).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine
from thelook_ecommerce_analysis.rag.evaluate import NON_LLM_STAGES, load_questions


class GoldModel:
    """Answers the SQL it was given for the current question, instantly."""

    def __init__(self) -> None:
        self.sql = ""

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        return LLMReply(text=f"```sql\n{self.sql}\n```", reasoning=None, model="gold", seconds=0.0)

    def describe(self) -> str:
        return "gold SQL (bench)"

    def health(self) -> tuple[bool, str]:
        return True, "answers instantly"


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100)) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="?", default="evaluation/dev_set.yml", type=Path)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the questions (the first is cold)")
    arguments = parser.parse_args()
    questions = load_questions(arguments.questions)
    model = GoldModel()
    started = time.perf_counter()
    engine = QuestionEngine(database_url("reader"), model, EngineSettings(candidates=1, describe=False))
    print(
        f"engine built in {time.perf_counter() - started:.2f} s; "
        f"{len(questions)} questions x {arguments.rounds}"
    )
    overheads: list[tuple[int, str, float, dict[str, float]]] = []
    for round_number in range(arguments.rounds):
        for question in questions:
            model.sql = question.sql
            answer = engine.ask(question.question)
            stages = {stage: answer.timings_ms.get(stage, 0.0) for stage in NON_LLM_STAGES}
            overheads.append((round_number, question.id, sum(stages.values()), stages))
    cold = overheads[0]
    first_round = [total for round_number, _, total, _ in overheads if round_number == 0]
    later = [total for round_number, _, total, _ in overheads if round_number > 0]
    print(f"first question after the build (cold): {cold[2]:.0f} ms ({cold[1]})")
    print(f"{'non-LLM ms':<28} {'p50':>8} {'p95':>8} {'max':>8}")

    def row(name: str, values: list[float]) -> str:
        return (
            f"{name:<28} {percentile(values, 0.5):>8.0f} {percentile(values, 0.95):>8.0f} {max(values):>8.0f}"
        )

    for name, values in (("round 1 (cold caches)", first_round), ("later rounds (warm)", later)):
        if values:
            print(row(name, values))
    for stage in NON_LLM_STAGES:
        values = [stages[stage] for _, _, _, stages in overheads if stages[stage]]
        if values:
            print(row(f"  {stage}", values))
    print("slowest questions:")
    for round_number, question_id, total, stages in sorted(overheads, key=lambda row: -row[2])[:5]:
        slowest = max(stages, key=stages.get)
        where = f"round {round_number + 1} {question_id}"
        print(f"  {where:<36} {total:>7.0f} ms, {slowest} {stages[slowest]:.0f} ms")


if __name__ == "__main__":
    main()
