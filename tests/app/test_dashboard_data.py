"""KPI arithmetic and periods of the dashboard, as plain functions."""

from __future__ import annotations

from datetime import date

import pytest

from thelook_ecommerce_analysis.app.dashboard_data import (
    Filters,
    Kpi,
    PeriodTotals,
    format_kpi,
    kpis,
    trend_grain,
)


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    filters = Filters(date(2025, 3, 1), date(2025, 3, 31), country="Spain")
    previous = filters.previous()
    assert (previous.start, previous.end) == (date(2025, 1, 29), date(2025, 2, 28))
    assert previous.days == filters.days == 31
    assert previous.country == "Spain"


def test_ratios_are_recomputed_from_summed_components() -> None:
    current = PeriodTotals(gmv=1000.0, orders=25, sold_orders=20, cancelled_orders=5, sessions=400,
                           purchase_sessions=20)  # fmt: skip
    previous = PeriodTotals(gmv=500.0, orders=10, sold_orders=10, cancelled_orders=0, sessions=0,
                            purchase_sessions=0)  # fmt: skip
    by_name = {kpi.name: kpi for kpi in kpis(current, previous)}
    assert by_name["AOV"].value == 50.0 and by_name["AOV"].previous == 50.0 and by_name["AOV"].change == 0.0
    assert by_name["GMV"].change == pytest.approx(1.0)
    assert by_name["Cancellation rate"].value == 0.2
    assert by_name["Cancellation rate"].change is None, "no change against a previous value of 0"
    assert by_name["Conversion"].value == 0.05 and by_name["Conversion"].previous is None


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(12345.6, "usd", "$12.3k"), (37215.0, "usd", "$37.2k"), (375695.12, "usd", "$376k"),
     (2409871.22, "usd", "$2.41M"), (999960.0, "usd", "$1.00M"), (4321.0, "usd", "$4,321"),
     (87.456, "usd", "$87.46"), (0.0423, "share", "4.2%"), (1234.0, "count", "1,234"),
     (12345.0, "count", "12.3k"), (123456.0, "count", "123k"), (None, "share", "-")],
)  # fmt: skip
def test_kpi_formatting_is_compact_enough_for_a_card(value, unit, text) -> None:
    assert format_kpi(value, unit) == text
    assert len(text) <= 6


def test_kpi_change_is_relative_to_the_previous_value() -> None:
    assert Kpi("GMV", 90.0, 100.0, "usd").change == pytest.approx(-0.1)
    assert Kpi("GMV", None, 100.0, "usd").change is None


@pytest.mark.parametrize(
    ("days", "grain"), [(30, "day"), (92, "day"), (93, "week"), (550, "week"), (700, "month")]
)
def test_trend_grain_keeps_the_number_of_points_readable(days: int, grain: str) -> None:
    start = date(2024, 1, 1)
    assert trend_grain(Filters(start, date.fromordinal(start.toordinal() + days - 1))) == grain
