"""The metrics pipeline: one node per table of the `metrics` schema, all reading the cleaned raw_data tables.

A node function's parameters are named after the theLook tables it reads, and its name is the metrics table
it writes, so the wiring is derived rather than repeated: parameter `orders` reads `pg_orders@ibis` (the
data_processing output, which makes Kedro run this pipeline after it) and function `sales_daily` writes
`metrics_sales_daily` (conf/base/catalog_metrics.yml).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from kedro.pipeline import Node, Pipeline, node

from . import nodes

METRIC_TABLE_NODES: tuple[Callable[..., object], ...] = (
    nodes.sales_daily,
    nodes.sales_daily_by_country,
    nodes.sales_daily_by_category,
    nodes.customer_lifetime_value,
    nodes.cohort_retention_monthly,
    nodes.customer_rfm,
    nodes.buyers_new_vs_returning_monthly,
    nodes.acquisition_source_monthly,
    nodes.product_performance,
    nodes.category_performance,
    nodes.brand_performance,
    nodes.fulfilment_monthly,
    nodes.inventory_sold_aging_monthly,
    nodes.inventory_unsold_aging,
    nodes.web_sessions_daily,
)


def raw_data_input(table: str) -> str:
    """The catalog name under which data_processing publishes a cleaned table as an ibis expression."""
    return f"pg_{table}@ibis"


def metrics_output(table: str) -> str:
    """The catalog name of the upsert dataset that writes metrics.<table>."""
    return f"metrics_{table}"


def _metric_node(compute: Callable[..., object]) -> Node:
    tables_read = list(inspect.signature(compute).parameters)
    return node(
        compute,
        inputs={table: raw_data_input(table) for table in tables_read},
        outputs=metrics_output(compute.__name__),
        name=f"compute_{compute.__name__}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Every metrics table, computed independently from the raw_data tables (no node feeds another)."""
    return Pipeline([_metric_node(compute) for compute in METRIC_TABLE_NODES], tags=["metrics"])
