"""Facts of two periods, built by hand, for the tests of the ground-floor summaries library."""

from __future__ import annotations

from datetime import date

from thelook_ecommerce_analysis.summaries.facts import (
    COUNT,
    FALL,
    RATE,
    RISE,
    USD,
    Measure,
    Mover,
    Period,
    PeriodFacts,
)

WEEK = PeriodFacts(
    Period(
        kind="week",
        start=date(2025, 6, 23),
        end=date(2025, 6, 29),
        previous_start=date(2025, 6, 16),
        previous_end=date(2025, 6, 22),
        year_ago_start=date(2024, 6, 24),
        year_ago_end=date(2024, 6, 30),
    ),
    (
        Measure("GMV", USD, 123_456.78, 110_230.0, None, 0.12, None),
        Measure("Orders", COUNT, 1_418, 1_300, None, 0.0908, None),
        Measure("Average order value", USD, 87.06, 84.79, None, 0.0268, None),
        Measure("Cancellation rate", RATE, 0.1483, 0.1512, None, -0.0029, None),
        Measure("Return rate", RATE, 0.0991, 0.0991, None, 0.0, None),
        Measure("Conversion rate", RATE, 0.0321, 0.0298, None, 0.0023, None),
    ),
    (
        Mover("category", RISE, "Jeans", "GMV", USD, 9_000.0, 7_765.5, 1_234.5, 0.159),
        Mover("category", FALL, "Swim", "GMV", USD, 1_200.0, 2_000.0, -800.0, -0.4),
        Mover("traffic source", RISE, "Search", "Converted sessions", COUNT, 40, 28, 12, 0.4286),
    ),
)
"""A week with no data a year earlier (first year of the shop)."""

EMPTY_DAY = PeriodFacts(
    Period(
        kind="day",
        start=date(2025, 6, 29),
        end=date(2025, 6, 29),
        previous_start=date(2025, 6, 28),
        previous_end=date(2025, 6, 28),
        year_ago_start=date(2024, 6, 29),
        year_ago_end=date(2024, 6, 29),
    ),
    (
        Measure("GMV", USD, 0.0, 74.6, 88.4, -1.0, -1.0),
        Measure("Orders", COUNT, 0, 1, 1, -1.0, -1.0),
        Measure("Average order value", USD, None, 74.6, 88.4, None, None),
        Measure("Cancellation rate", RATE, None, 0.0, 0.0, None, None),
        Measure("Return rate", RATE, None, 0.0, 0.0, None, None),
        Measure("Conversion rate", RATE, 0.0, 0.25, 0.2, -0.25, -0.2),
    ),
    (Mover("country", FALL, "China", "GMV", USD, 0.0, 74.6, -74.6, -1.0),),
)
"""A day without any order."""
