"""The metrics pipeline: one node per table of the `metrics` schema, all reading the cleaned raw_data tables.

Each node reads the data_processing outputs it needs (`pg_<table>@ibis`, which makes Kedro run this
pipeline after them) under the names of its function's parameters, and writes `metrics_<table>` (an
upsert dataset in conf/base/catalog_metrics.yml, whose grain and comments come from the glossary). No
node feeds another: each table is computed independently from raw_data.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.sales_daily,
                inputs={"orders": "pg_orders@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_sales_daily",
                name="compute_sales_daily",
            ),
            node(
                nodes.sales_daily_by_country,
                inputs={
                    "orders": "pg_orders@ibis",
                    "order_items": "pg_order_items@ibis",
                    "users": "pg_users@ibis",
                },
                outputs="metrics_sales_daily_by_country",
                name="compute_sales_daily_by_country",
            ),
            node(
                nodes.sales_daily_by_category,
                inputs={
                    "orders": "pg_orders@ibis",
                    "order_items": "pg_order_items@ibis",
                    "products": "pg_products@ibis",
                },
                outputs="metrics_sales_daily_by_category",
                name="compute_sales_daily_by_category",
            ),
            node(
                nodes.customer_lifetime_value,
                inputs={
                    "users": "pg_users@ibis",
                    "orders": "pg_orders@ibis",
                    "order_items": "pg_order_items@ibis",
                },
                outputs="metrics_customer_lifetime_value",
                name="compute_customer_lifetime_value",
            ),
            node(
                nodes.cohort_retention_monthly,
                inputs={"orders": "pg_orders@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_cohort_retention_monthly",
                name="compute_cohort_retention_monthly",
            ),
            node(
                nodes.customer_rfm,
                inputs={"orders": "pg_orders@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_customer_rfm",
                name="compute_customer_rfm",
            ),
            node(
                nodes.buyers_new_vs_returning_monthly,
                inputs={"orders": "pg_orders@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_buyers_new_vs_returning_monthly",
                name="compute_buyers_new_vs_returning_monthly",
            ),
            node(
                nodes.acquisition_source_monthly,
                inputs={
                    "users": "pg_users@ibis",
                    "orders": "pg_orders@ibis",
                    "order_items": "pg_order_items@ibis",
                },
                outputs="metrics_acquisition_source_monthly",
                name="compute_acquisition_source_monthly",
            ),
            node(
                nodes.product_performance,
                inputs={"products": "pg_products@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_product_performance",
                name="compute_product_performance",
            ),
            node(
                nodes.category_performance,
                inputs={"products": "pg_products@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_category_performance",
                name="compute_category_performance",
            ),
            node(
                nodes.brand_performance,
                inputs={"products": "pg_products@ibis", "order_items": "pg_order_items@ibis"},
                outputs="metrics_brand_performance",
                name="compute_brand_performance",
            ),
            node(
                nodes.fulfilment_monthly,
                inputs={
                    "orders": "pg_orders@ibis",
                    "order_items": "pg_order_items@ibis",
                    "products": "pg_products@ibis",
                    "distribution_centers": "pg_distribution_centers@ibis",
                },
                outputs="metrics_fulfilment_monthly",
                name="compute_fulfilment_monthly",
            ),
            node(
                nodes.inventory_sold_aging_monthly,
                inputs={"inventory_items": "pg_inventory_items@ibis"},
                outputs="metrics_inventory_sold_aging_monthly",
                name="compute_inventory_sold_aging_monthly",
            ),
            node(
                nodes.inventory_unsold_aging,
                inputs={
                    "inventory_items": "pg_inventory_items@ibis",
                    "distribution_centers": "pg_distribution_centers@ibis",
                },
                outputs="metrics_inventory_unsold_aging",
                name="compute_inventory_unsold_aging",
            ),
            node(
                nodes.web_sessions_daily,
                inputs={"events": "pg_events@ibis"},
                outputs="metrics_web_sessions_daily",
                name="compute_web_sessions_daily",
            ),
        ],
        tags=["metrics"],
    )
