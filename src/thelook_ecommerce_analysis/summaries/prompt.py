"""The prompt that asks a model for the summary of one period.

It writes every number the way facts.format_* do, as the template (summaries/template.py) does, so a model
that copies numbers from the prompt's tables passes the grounding check.

The prompt is small on purpose (two Markdown tables of a dozen rows): small local models follow a short,
concrete instruction with the numbers in front of them far better than a long one. Its SHA-256 is stored
with each summary; a period is written again only when its prompt (instructions or facts) changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

from thelook_ecommerce_analysis.llm.base import ChatMessage
from thelook_ecommerce_analysis.summaries.facts import (
    COUNT,
    FALL,
    MOVER_DIMENSIONS,
    RATE,
    RISE,
    USD,
    Measure,
    Mover,
    Period,
    PeriodFacts,
    describe_change,
    describe_difference,
    format_value,
)

SYSTEM_PROMPT = (
    "You write the daily business summary of an online clothing shop for its managers. Write 3 to 5 "
    "short sentences of plain prose about the period, using only the facts in the tables. Copy numbers "
    "and changes exactly as the tables write them (for example 'down 12.0%'). Never calculate, round or "
    "invent a number, and leave out anything the tables do not say. No title, no list, no advice."
)
RETRY_INSTRUCTION = (
    "These numbers in your summary are not in the tables: {numbers}. Write the summary again, with only "
    "numbers copied exactly from the tables."
)

_DIMENSION_LABELS = {"traffic source": "traffic source, by converted sessions"}


def _measure_row(measure: Measure) -> str:
    cells = [
        measure.name,
        format_value(measure.current, measure.unit),
        describe_change(measure.change_vs_previous, measure.unit, measure.previous),
        describe_change(measure.change_vs_year_ago, measure.unit, measure.year_ago),
    ]
    return "| " + " | ".join(cells) + " |"


def _mover_cell(mover: Mover | None) -> str:
    return "-" if mover is None else f"{mover.member} ({describe_difference(mover.change, mover.unit)})"


def facts_tables(facts: PeriodFacts) -> str:
    """The facts as the prompt shows them: the period, the measures table and the movers table. Changes
    are in words ('down 12.0%'), which small models copy far more faithfully than signed figures."""
    period, word = facts.period, facts.period.kind
    lines = [
        f"Period: {period.label} ({period.days} {'day' if period.days == 1 else 'days'}).",
        f"Compared with {period.previous_label} and {period.year_ago_label}.",
        "",
        f"| measure | this {word} | against the previous {word} | against a year earlier |",
        "|---|---|---|---|",
        *(_measure_row(measure) for measure in facts.measures),
    ]
    movers = [(dimension, facts.movers_of(dimension)) for dimension, _, _ in MOVER_DIMENSIONS]
    if any(found for _, found in movers):
        lines += [
            "",
            f"Biggest movers against the previous {word} (by GMV unless said otherwise):",
            "",
            "| by | rose most | fell most |",
            "|---|---|---|",
        ]
        for dimension, found in movers:
            cells = [_DIMENSION_LABELS.get(dimension, dimension)]
            cells += [_mover_cell(found.get(RISE)), _mover_cell(found.get(FALL))]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# One worked example (invented figures) before the real facts: small models copy the shape of an answer
# far better than they follow a description of it. It is the prompt's fixed first part, which llama.cpp's
# prompt cache computes once for all periods.
_EXAMPLE_FACTS = PeriodFacts(
    Period(
        kind="day",
        start=date(2024, 3, 12),
        end=date(2024, 3, 12),
        previous_start=date(2024, 3, 11),
        previous_end=date(2024, 3, 11),
        year_ago_start=date(2023, 3, 12),
        year_ago_end=date(2023, 3, 12),
    ),
    (
        Measure("GMV", USD, 4210.0, 3884.0, 3459.0, 0.084, 0.217),
        Measure("Orders", COUNT, 52, 50, 44, 0.04, 0.182),
        Measure("Average order value", USD, 80.96, 77.68, 78.6, 0.042, 0.03),
        Measure("Cancellation rate", RATE, 0.135, 0.147, 0.135, -0.012, 0.0),
        Measure("Return rate", RATE, 0.091, 0.085, 0.114, 0.006, -0.023),
        Measure("Conversion rate", RATE, 0.034, 0.034, 0.029, 0.0, 0.005),
    ),
    (
        Mover("category", RISE, "Jeans", "GMV", USD, 812.4, 500.0, 312.4, 0.6248),
        Mover("category", FALL, "Swim", "GMV", USD, 120.0, 215.1, -95.1, -0.4421),
        Mover("country", RISE, "China", "GMV", USD, 1450.0, 1200.0, 250.0, 0.2083),
        Mover("country", FALL, "Spain", "GMV", USD, 90.0, 151.3, -61.3, -0.4052),
        Mover("traffic source", RISE, "Search", "Converted sessions", COUNT, 14, 10, 4, 0.4),
    ),
)
_EXAMPLE_SUMMARY = (
    "On Tuesday 2024-03-12 the shop took 52 orders worth $4,210, GMV up 8.4% against the previous day and "
    "up 21.7% against a year earlier. The average order value was $80.96, up 4.2%. The cancellation rate "
    "was 13.5%, down 1.2 points, while the return rate rose 0.6 points to 9.1% and conversion stayed at "
    "3.4%. Jeans rose most among categories (up $312.40) and Swim fell most (down $95.10), and China led "
    "the countries (up $250.00)."
)


def _request(facts: PeriodFacts) -> str:
    return f"{facts_tables(facts)}\n\nWrite the summary of {facts.period.label}."


def summary_messages(facts: PeriodFacts) -> list[ChatMessage]:
    """The chat that asks for the summary of one period: instructions, the worked example, the facts."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _request(_EXAMPLE_FACTS)},
        {"role": "assistant", "content": _EXAMPLE_SUMMARY},
        {"role": "user", "content": _request(facts)},
    ]


def retry_messages(facts: PeriodFacts, rejected_text: str, unsupported: Sequence[str]) -> list[ChatMessage]:
    """The same chat, continued with the rejected answer and which of its numbers are not facts: the
    second attempt must differ from the first (at temperature 0, an unchanged prompt returns the same
    text)."""
    return [
        *summary_messages(facts),
        {"role": "assistant", "content": rejected_text},
        {"role": "user", "content": RETRY_INSTRUCTION.format(numbers=", ".join(unsupported))},
    ]


def prompt_hash(messages: Sequence[ChatMessage]) -> str:
    """SHA-256 of the messages as canonical JSON: equal prompts, equal hash."""
    canonical = json.dumps(list(messages), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
