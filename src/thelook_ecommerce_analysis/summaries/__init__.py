"""Summaries in words: a period's facts, the prompt and the template that put them into sentences, and the
check that every number a model wrote is one of those facts.

A ground-floor library (no Kedro, no Streamlit): the `summaries` pipeline computes the facts with ibis and
calls `SummaryWriter`; the app reads what was stored.
"""

from thelook_ecommerce_analysis.summaries.facts import (
    Measure,
    Mover,
    Period,
    PeriodFacts,
    assemble_facts,
)
from thelook_ecommerce_analysis.summaries.grounding import GroundingCheck, check_grounded
from thelook_ecommerce_analysis.summaries.writer import (
    LLM_SWITCH_VARIABLE,
    SummaryLLM,
    SummaryWriter,
    WrittenSummary,
)

__all__ = [
    "LLM_SWITCH_VARIABLE",
    "GroundingCheck",
    "Measure",
    "Mover",
    "Period",
    "PeriodFacts",
    "SummaryLLM",
    "SummaryWriter",
    "WrittenSummary",
    "assemble_facts",
    "check_grounded",
]
