"""The template summary: the same facts in fixed sentences, stored when no model wrote a grounded text.

Every number is written by facts.format_*, as the prompt writes it, so the template passes the grounding
check by construction (a test holds it to that). It says less than a good model would, but it is never
wrong and never missing.
"""

from __future__ import annotations

from thelook_ecommerce_analysis.summaries.facts import (
    FALL,
    MOVER_DIMENSIONS,
    RATE,
    RISE,
    Measure,
    Period,
    PeriodFacts,
    describe_change,
    describe_difference,
    format_value,
)


def _when(period: Period) -> str:
    return f"On {period.label}" if period.kind == "day" else f"In {period.label}"


def _comparisons(period: Period, measure: Measure) -> str:
    """' (down 12.0% against the previous day, up 3.1% against a year earlier)', or '' with nothing to
    compare with."""
    found = [
        f"{describe_change(change, measure.unit)} against {label}"
        for change, label in (
            (measure.change_vs_previous, f"the previous {period.kind}"),
            (measure.change_vs_year_ago, "a year earlier"),
        )
        if change is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def _rates_sentence(facts: PeriodFacts) -> str | None:
    rates = [
        (measure.name.lower(), format_value(measure.current, RATE))
        for measure in facts.measures
        if measure.unit == RATE and measure.current is not None
    ]
    if not rates:
        return None
    (first_name, first_value), others = rates[0], [f"the {name} {value}" for name, value in rates[1:]]
    listed = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + (others[-1] if others else "")
    return f"The {first_name} was {first_value}" + (f", {listed}" if listed else "") + "."


def _movers_sentence(facts: PeriodFacts) -> str | None:
    phrases = []
    for dimension, measure, unit in MOVER_DIMENSIONS:
        found = facts.movers_of(dimension)
        parts = [
            f"{mover.member} {verb} most ({describe_difference(mover.change, unit)})"
            for direction, verb in ((RISE, "rose"), (FALL, "fell"))
            if (mover := found.get(direction)) is not None
        ]
        if parts:
            what = "" if measure == "GMV" else f" in {measure.lower()}"
            phrases.append(f"by {dimension}{what}, " + " and ".join(parts))
    if not phrases:
        return None
    return f"Against the previous {facts.period.kind}, " + "; ".join(phrases) + "."


def template_summary(facts: PeriodFacts) -> str:
    """Three or four sentences: GMV and orders with their changes, the average order value, the rates
    and the biggest movers (or one sentence saying there were no sales)."""
    period = facts.period
    gmv, orders = facts.measure("GMV"), facts.measure("Orders")
    if gmv is None or orders is None or gmv.current is None or orders.current is None:
        return f"{_when(period)}, there is no sales data."
    sentences = [
        f"{_when(period)}, the shop took {format_value(orders.current, orders.unit)} "
        f"order{'' if orders.current == 1 else 's'} worth "
        f"{format_value(gmv.current, gmv.unit)} in GMV{_comparisons(period, gmv)}."
    ]
    aov = facts.measure("Average order value")
    if aov is not None and aov.current is not None:
        sentences.append(
            f"The average order value was {format_value(aov.current, aov.unit)}{_comparisons(period, aov)}."
        )
    sentences += [sentence for sentence in (_rates_sentence(facts), _movers_sentence(facts)) if sentence]
    return " ".join(sentences)
