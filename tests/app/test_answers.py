"""Friendly failure messages chosen by the kind of failure the engine set, and the CSV download."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.app.answers import csv_bytes, friendly_failure
from thelook_ecommerce_analysis.rag.engine import Answer, FailureKind


@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_kind_of_failure_has_its_own_wording_and_keeps_the_engine_line(kind: FailureKind) -> None:
    answer = Answer(question="q", ok=False, error="the engine's own line", failure=kind)
    message = friendly_failure(answer)
    assert message.kind is kind
    assert message.detail == "the engine's own line"
    others = {
        friendly_failure(Answer(question="q", failure=other)).headline
        for other in FailureKind
        if other != kind
    }
    assert message.headline not in others


def test_an_answer_without_a_kind_reads_as_not_answered() -> None:
    assert friendly_failure(Answer(question="q", error="x")).kind is FailureKind.NO_ANSWER


def test_csv_has_a_header_and_every_row() -> None:
    table = pa.table(
        {"category": ["Jeans", "Tops, Tees"], "gmv": pa.array([Decimal("1.50"), Decimal("2.00")])}
    )
    lines = csv_bytes(table).decode().splitlines()
    assert lines[0] == '"category","gmv"'
    assert lines[1:] == ['"Jeans",1.50', '"Tops, Tees",2.00']
