"""Every metrics node, run on DuckDB over a generated snapshot, equals an independent SQL computation."""

from __future__ import annotations

import inspect
from collections import Counter, defaultdict
from datetime import UTC, datetime

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.glossary import load_glossary
from thelook_ecommerce_analysis.pipelines.metrics import create_pipeline, nodes

from .comparison import assert_same_rows
from .reference_sql import REFERENCE_SQL

GLOSSARY = {table.name: table for table in load_glossary()}


def compute(table: str, raw_tables: dict[str, ir.Table]) -> pa.Table:
    """Run the node that builds `table`, feeding each parameter the theLook table of the same name."""
    node_function = getattr(nodes, table)
    arguments = {name: raw_tables[name] for name in inspect.signature(node_function).parameters}
    return node_function(**arguments).to_pyarrow()


@pytest.fixture(scope="module")
def results(raw_tables: dict[str, ir.Table]) -> dict[str, pa.Table]:
    return {node.func.__name__: compute(node.func.__name__, raw_tables) for node in create_pipeline().nodes}


@pytest.mark.parametrize("table", list(GLOSSARY))
def test_node_matches_independent_sql(
    table: str, results: dict[str, pa.Table], reference_db: duckdb.DuckDBPyConnection
) -> None:
    expected = reference_db.sql(REFERENCE_SQL[table]).fetch_arrow_table()
    assert expected.num_rows > 0, f"the reference for {table} is empty: the comparison would prove nothing"
    assert_same_rows(results[table], expected, list(GLOSSARY[table].key_columns))


def test_every_glossary_table_has_a_reference_query() -> None:
    assert set(REFERENCE_SQL) == set(GLOSSARY)


def test_country_rows_add_up_to_the_daily_totals(results: dict[str, pa.Table]) -> None:
    """Each order has one country, so the country split must reproduce sales_daily exactly."""
    summed: dict[object, Counter] = defaultdict(Counter)
    for row in results["sales_daily_by_country"].to_pylist():
        summed[row["order_date"]].update({name: row[name] for name in ("orders", "sold_orders", "gmv")})
    daily = {row["order_date"]: row for row in results["sales_daily"].to_pylist()}
    assert summed.keys() == daily.keys()
    for day, totals in summed.items():
        assert totals["orders"] == daily[day]["orders"]
        assert totals["sold_orders"] == daily[day]["sold_orders"]
        assert totals["gmv"] == pytest.approx(daily[day]["gmv"])


def test_cohorts_are_fully_retained_in_their_first_month(results: dict[str, pa.Table]) -> None:
    first_months = [
        row
        for row in results["cohort_retention_monthly"].to_pylist()
        if row["months_since_first_purchase"] == 0
    ]
    assert first_months
    assert all(row["active_users"] == row["cohort_size"] for row in first_months)


def test_rfm_scores_are_quintiles(results: dict[str, pa.Table]) -> None:
    """Each score splits the buyers into five groups whose sizes differ by at most one."""
    rows = results["customer_rfm"].to_pylist()
    for score in ("recency_score", "frequency_score", "monetary_score"):
        sizes = Counter(row[score] for row in rows)
        assert set(sizes) == {1, 2, 3, 4, 5}
        assert max(sizes.values()) - min(sizes.values()) <= 1


def test_nodes_are_deterministic(raw_tables: dict[str, ir.Table], results: dict[str, pa.Table]) -> None:
    """A rerun on the same data must give identical values, or the upsert would rewrite rows every run."""
    for table in ("customer_rfm", "sales_daily", "fulfilment_monthly"):
        again = compute(table, raw_tables)
        keys = list(GLOSSARY[table].key_columns)
        assert again.sort_by([(key, "ascending") for key in keys]).equals(
            results[table].sort_by([(key, "ascending") for key in keys])
        )


def test_status_rules_on_a_hand_made_day() -> None:
    """Cancelled items stay out of GMV, Returned ones stay in GMV but out of net revenue."""
    placed = datetime(2024, 3, 1, 12, tzinfo=UTC)
    orders = ibis.memtable(
        {
            "order_id": [1, 2, 3],
            "user_id": [10, 11, 12],
            "status": ["Complete", "Cancelled", "Returned"],
            "created_at": [placed, placed, placed],
        }
    )
    order_items = ibis.memtable(
        {
            "id": [100, 101, 102, 103],
            "order_id": [1, 1, 2, 3],
            "status": ["Complete", "Complete", "Cancelled", "Returned"],
            "sale_price": [10.0, 15.5, 99.0, 20.0],
        }
    )
    (day,) = nodes.sales_daily(orders, order_items).to_pyarrow().to_pylist()
    assert (day["orders"], day["cancelled_orders"], day["sold_orders"]) == (3, 1, 2)
    assert (day["items_sold"], day["returned_items"]) == (3, 1)
    assert day["gmv"] == pytest.approx(45.5)
    assert day["net_revenue"] == pytest.approx(25.5)
    assert day["average_order_value"] == pytest.approx(45.5 / 2)
    assert day["cancellation_rate"] == pytest.approx(1 / 3)
