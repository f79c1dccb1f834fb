"""Every share in the spec holds in a generated data set, within sampling error.

The tolerance is four standard errors of a binomial share plus half a point, so a seed cannot pass
with a wrong weight (a 5-point error is many tolerances away) yet the deterministic data never flakes.
"""

from __future__ import annotations

import math

import duckdb
import pytest

from tests.synth.conftest import HORIZON_USERS, scalar


def assert_shares(connection: duckdb.DuckDBPyConnection, query: str, expected: dict) -> None:
    """`query` returns (value, count) rows; their shares must match `expected` (missing = 0)."""
    counts = dict(connection.execute(query).fetchall())
    total = sum(counts.values())
    assert set(counts) <= set(expected), f"unexpected values {set(counts) - set(expected)}"
    for value, share in expected.items():
        observed = counts.get(value, 0) / total
        tolerance = 4 * math.sqrt(share * (1 - share) / total) + 0.005
        assert observed == pytest.approx(share, abs=tolerance), f"{value}: {observed:.4f} vs {share}"


def test_final_order_statuses(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT status, count(*) FROM orders GROUP BY 1",
        {"Complete": 0.25, "Shipped": 0.30, "Processing": 0.20, "Cancelled": 0.15, "Returned": 0.10},
    )


def test_gender_is_even(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(horizon, "SELECT gender, count(*) FROM users GROUP BY 1", {"M": 0.5, "F": 0.5})


def test_user_traffic_sources(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT traffic_source, count(*) FROM users GROUP BY 1",
        {"Search": 0.70, "Organic": 0.15, "Facebook": 0.06, "Email": 0.05, "Display": 0.04},
    )


def test_event_traffic_sources_use_their_own_vocabulary(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT traffic_source, count(*) FROM (SELECT DISTINCT session_id, traffic_source FROM events) "
        "GROUP BY 1",
        {"Email": 0.45, "Adwords": 0.30, "YouTube": 0.10, "Facebook": 0.10, "Organic": 0.05},
    )


def test_browsers(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT browser, count(*) FROM (SELECT DISTINCT session_id, browser FROM events) GROUP BY 1",
        {"Chrome": 0.50, "Safari": 0.20, "Firefox": 0.20, "IE": 0.05, "Other": 0.05},
    )


def test_countries_with_their_dirty_spellings_folded_in(horizon: duckdb.DuckDBPyConnection) -> None:
    shares = {
        "China": 0.34, "United States": 0.225, "Brasil": 0.146, "South Korea": 0.053, "France": 0.047,
        "United Kingdom": 0.046, "Germany": 0.042, "Spain": 0.040, "Japan": 0.025, "Australia": 0.022,
        "Belgium": 0.0125, "Poland": 0.001, "Colombia": 0.0005,
    }  # fmt: skip
    assert_shares(
        horizon,
        "SELECT CASE country WHEN 'España' THEN 'Spain' WHEN 'Deutschland' THEN 'Germany' ELSE country END, "
        "count(*) FROM users GROUP BY 1",
        shares,
    )


def test_items_per_order(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon, "SELECT num_of_item, count(*) FROM orders GROUP BY 1", {1: 0.70, 2: 0.20, 3: 0.05, 4: 0.05}
    )


def test_orders_per_user_counting_users_without_orders(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT coalesce(n, 0), count(*) FROM users "
        "LEFT JOIN (SELECT user_id, count(*) AS n FROM orders GROUP BY 1) o ON o.user_id = users.id "
        "GROUP BY 1",
        {0: 0.20, 1: 0.50, 2: 0.20, 3: 0.05, 4: 0.05},
    )


def test_ages_are_uniform_from_12_to_70(horizon: duckdb.DuckDBPyConnection) -> None:
    assert_shares(
        horizon,
        "SELECT CASE WHEN age < 31 THEN 'young' WHEN age < 51 THEN 'middle' ELSE 'older' END, count(*) "
        "FROM users GROUP BY 1",
        {"young": 19 / 59, "middle": 20 / 59, "older": 20 / 59},
    )


def test_a_fortieth_of_users_signed_up_in_the_last_week(horizon: duckdb.DuckDBPyConnection) -> None:
    recent = 0.025 + 0.975 * 7 / (8 * 365 - 7)  # the 2.5% plus the uniform rest's share of a week
    assert_shares(
        horizon,
        "SELECT created_at > (SELECT max(created_at) FROM users) - INTERVAL 7 DAY, count(*) "
        "FROM users GROUP BY 1",
        {True: recent, False: 1 - recent},
    )


def test_sizes_scale_like_the_public_snapshot(horizon: duckdb.DuckDBPyConnection) -> None:
    """Per user: 1.25 orders, 1.45 items per order, ~4.9 stock rows and ~24.3 events (public: 100k users
    -> 125k orders, 182k items, 491k stock rows, 2.43M events)."""
    users = scalar(horizon, "SELECT count(*) FROM users")
    assert users == HORIZON_USERS
    expected_per_user = {"orders": 1.25, "order_items": 1.8125, "inventory_items": 4.91, "events": 24.3}
    for table, per_user in expected_per_user.items():
        assert scalar(horizon, f"SELECT count(*) FROM {table}") / users == pytest.approx(
            per_user, rel=0.05
        ), table
