"""The facts nodes on PostgreSQL equal independent SQL over the same metrics tables (reference_sql.py); on
small hand-made tables, the choice of periods and the line between "no data" and a real zero."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import psycopg
import pyarrow as pa
import pytest

from tests.pipelines.metrics.comparison import assert_same_rows
from tests.pipelines.summaries.conftest import SOURCE_TABLES, catalog_dataset
from tests.pipelines.summaries.reference_sql import HEADLINES, MOVERS, PERIODS
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.pipelines.summaries import nodes
from thelook_ecommerce_analysis.summaries.facts import MEASURES, MOVER_DIMENSIONS

DAYS = 4


def reference(url: str, query: str) -> pa.Table:
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(query, {"days": DAYS})
        names = [column.name for column in cursor.description]
        return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


@pytest.fixture(scope="module")
def facts(metrics_db: RoleUrls) -> dict[str, pa.Table]:
    """The three facts tables, computed by the nodes on the PostgreSQL metrics tables."""
    tables = {name: catalog_dataset(f"metrics_{name}", metrics_db.owner).load() for name in SOURCE_TABLES}
    periods = nodes.summary_periods(tables["sales_daily"], DAYS)
    windows = nodes.comparison_windows(periods)
    return {
        "periods": periods.to_pyarrow(),
        "headlines": nodes.headline_facts(
            windows, tables["sales_daily"], tables["web_sessions_daily"]
        ).to_pyarrow(),
        "movers": nodes.mover_facts(
            windows,
            tables["sales_daily_by_category"],
            tables["sales_daily_by_country"],
            tables["web_sessions_daily"],
        ).to_pyarrow(),
    }


@pytest.mark.parametrize(
    ("table", "query", "keys"),
    [
        ("periods", PERIODS, ["period_kind", "period_start"]),
        ("headlines", HEADLINES, ["period_kind", "period_start", "measure"]),
        ("movers", MOVERS, ["period_kind", "period_start", "dimension", "direction"]),
    ],
)
def test_facts_equal_the_reference_sql(
    table: str, query: str, keys: list[str], facts: dict[str, pa.Table], metrics_db: RoleUrls
) -> None:
    expected = reference(metrics_db.reader, query)
    assert expected.num_rows > 0, "an empty reference would prove nothing"
    assert_same_rows(facts[table], expected, keys)


def test_every_period_has_every_measure_and_movers_in_every_dimension(facts: dict[str, pa.Table]) -> None:
    periods = facts["periods"].to_pylist()
    assert [row["period_kind"] for row in periods].count("day") == DAYS
    assert {row["period_kind"] for row in periods} == {"day", "week", "month"}
    measures = {
        (row["period_kind"], row["period_start"], row["measure"]) for row in facts["headlines"].to_pylist()
    }
    assert measures == {(p["period_kind"], p["period_start"], name) for p in periods for name, _ in MEASURES}
    movers = facts["movers"].to_pylist()
    assert {row["dimension"] for row in movers} == {dimension for dimension, _, _ in MOVER_DIMENSIONS}
    assert all((row["change"] > 0) == (row["direction"] == "rise") for row in movers)
    year_ago = [row["year_ago"] for row in facts["headlines"].to_pylist() if row["measure"] == "GMV"]
    assert all(value is not None for value in year_ago), "the snapshot covers the year before"


# --- small hand-made tables (DuckDB), where every expected value can be written down ---------------


def _sales_daily(days: dict[date, dict[str, Any]]) -> ibis.Table:
    columns = ["gmv", "orders", "sold_orders", "cancelled_orders", "items_sold", "returned_items"]
    return ibis.memtable(
        [
            {"order_date": day, **{name: values.get(name, 0) for name in columns}}
            for day, values in days.items()
        ],
        schema={"order_date": "date", "gmv": "float64", **{name: "int64" for name in columns[1:]}},
    )


def _sessions(days: dict[date, tuple[int, int]]) -> ibis.Table:
    return ibis.memtable(
        [
            {"session_date": day, "session_traffic_source": "Search", "sessions": s, "purchase_sessions": p}
            for day, (s, p) in days.items()
        ],
        schema={"session_date": "date", "session_traffic_source": "string", "sessions": "int64",
                "purchase_sessions": "int64"},
    )  # fmt: skip


def test_periods_count_back_from_the_last_order_day_to_complete_weeks_and_months() -> None:
    wednesday = date(2025, 7, 16)
    sales = _sales_daily({date(2025, 1, 2): {"orders": 1}, wednesday: {"orders": 1}})
    periods = {row["period_kind"]: row for row in nodes.summary_periods(sales, 1).to_pyarrow().to_pylist()}
    assert periods["day"]["period_start"] == wednesday
    assert periods["day"]["year_ago_start"] == date(2024, 7, 16)
    week = periods["week"]
    assert (week["period_start"], week["period_end"]) == (date(2025, 7, 7), date(2025, 7, 13))
    assert (week["previous_start"], week["previous_end"]) == (date(2025, 6, 30), date(2025, 7, 6))
    assert (week["year_ago_start"], week["year_ago_end"]) == (date(2024, 7, 8), date(2024, 7, 14))
    month = periods["month"]
    assert (month["period_start"], month["period_end"]) == (date(2025, 6, 1), date(2025, 6, 30))
    assert (month["previous_start"], month["previous_end"]) == (date(2025, 5, 1), date(2025, 5, 31))
    assert (month["year_ago_start"], month["year_ago_end"]) == (date(2024, 6, 1), date(2024, 6, 30))


def test_no_data_is_null_and_a_day_without_orders_is_zero() -> None:
    first, quiet, last = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)
    sales = _sales_daily(
        {
            first: {"gmv": 200.0, "orders": 4, "sold_orders": 4, "items_sold": 5, "returned_items": 1},
            last: {"gmv": 90.0, "orders": 3, "sold_orders": 2, "cancelled_orders": 1, "items_sold": 2},
        }
    )
    sessions = _sessions({first: (10, 2), quiet: (5, 0), last: (20, 1)})
    periods = nodes.summary_periods(sales, 2).filter(ibis._.period_kind == "day")
    headlines = (
        nodes.headline_facts(nodes.comparison_windows(periods), sales, sessions).to_pyarrow().to_pylist()
    )
    by_key = {(row["period_start"], row["measure"]): row for row in headlines}

    gmv = by_key[(last, "GMV")]
    assert (gmv["current"], gmv["previous"], gmv["year_ago"]) == (90.0, 0.0, None), "quiet day 0, no year"
    assert gmv["change_vs_previous"] is None, "no relative change against zero"
    assert by_key[(last, "Average order value")]["current"] == 45.0
    assert by_key[(last, "Cancellation rate")]["current"] == pytest.approx(1 / 3)
    assert by_key[(last, "Conversion rate")]["current"] == pytest.approx(0.05)
    assert by_key[(quiet, "Orders")]["current"] == 0.0
    assert by_key[(quiet, "Return rate")]["current"] is None, "no item sold: no rate"
    assert by_key[(quiet, "Return rate")]["previous"] == pytest.approx(0.2)
    rate_change = by_key[(quiet, "Conversion rate")]
    assert rate_change["change_vs_previous"] == pytest.approx(0 - 0.2), "rates change in points"
