"""Friendly failure messages chosen from what the engine recorded, and the CSV download."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.app.answers import (
    LLM_DOWN_PREFIX,
    TIMEOUT_ERROR,
    FailureKind,
    classify_failure,
    csv_bytes,
    friendly_failure,
)
from thelook_ecommerce_analysis.rag.engine import Answer, Attempt


def failed(error: str, *attempts: Attempt) -> Answer:
    return Answer(question="q", ok=False, error=error, attempts=list(attempts))


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (failed("could not answer from this data: no weather", Attempt(1, "llm", None, "unanswerable")),
         FailureKind.UNANSWERABLE),
        (failed(f"{LLM_DOWN_PREFIX}: Ollama at http://x is not reachable", Attempt(1, "llm", None, "llm")),
         FailureKind.LLM_DOWN),
        (failed("could not answer after 3 attempts: x",
                Attempt(1, "llm", "SELECT 1", "execute", error=TIMEOUT_ERROR)), FailureKind.TIMEOUT),
        (failed("could not answer after 3 attempts: column x does not exist",
                Attempt(1, "llm", "SELECT x", "validate", error="column x does not exist")),
         FailureKind.OTHER),
    ],
)  # fmt: skip
def test_failures_are_classified_from_the_attempts(answer: Answer, kind: FailureKind) -> None:
    assert classify_failure(answer) is kind


def test_friendly_failure_keeps_the_engine_line_as_detail() -> None:
    answer = failed(f"{LLM_DOWN_PREFIX}: Ollama at http://x is not reachable")
    message = friendly_failure(answer)
    assert message.kind is FailureKind.LLM_DOWN
    assert "not answering" in message.headline
    assert message.detail == answer.error


def test_csv_has_a_header_and_every_row() -> None:
    table = pa.table(
        {"category": ["Jeans", "Tops, Tees"], "gmv": pa.array([Decimal("1.50"), Decimal("2.00")])}
    )
    lines = csv_bytes(table).decode().splitlines()
    assert lines[0] == '"category","gmv"'
    assert lines[1:] == ['"Jeans",1.50', '"Tops, Tees",2.00']
