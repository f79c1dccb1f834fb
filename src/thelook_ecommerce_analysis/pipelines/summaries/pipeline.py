"""The summaries pipeline: facts from the metrics tables (ibis), then grounded summaries in words.

    metrics_sales_daily ───────────► summary_periods ─► comparison_windows ─┬─► headline_facts ─┐
    metrics_web_sessions_daily ─────────────────────────────────────────────┤                   │
    metrics_sales_daily_by_category, metrics_sales_daily_by_country ────────┴─► mover_facts ────┤
    summaries_stored (prompt hashes already written), summaries_llm (the model) ────────────────┴─►
        write_summaries ─► metrics_daily_summaries (upsert of the new or changed periods only)

It reads the metrics tables through their catalog datasets, which makes Kedro run it after the metrics
pipeline in the default run; `thelook run --pipeline summaries` reads them from PostgreSQL.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.summary_periods,
                inputs=["metrics_sales_daily", "params:summaries.days"],
                outputs="summary_periods",
                name="choose_summary_periods",
            ),
            node(
                nodes.comparison_windows,
                inputs="summary_periods",
                outputs="summary_windows",
                name="build_comparison_windows",
            ),
            node(
                nodes.headline_facts,
                inputs={
                    "windows": "summary_windows",
                    "sales_daily": "metrics_sales_daily",
                    "web_sessions_daily": "metrics_web_sessions_daily",
                },
                outputs="summary_headlines",
                name="compute_headline_facts",
            ),
            node(
                nodes.mover_facts,
                inputs={
                    "windows": "summary_windows",
                    "sales_daily_by_category": "metrics_sales_daily_by_category",
                    "sales_daily_by_country": "metrics_sales_daily_by_country",
                    "web_sessions_daily": "metrics_web_sessions_daily",
                },
                outputs="summary_movers",
                name="compute_mover_facts",
            ),
            node(
                nodes.write_summaries,
                inputs={
                    "periods": "summary_periods",
                    "headlines": "summary_headlines",
                    "movers": "summary_movers",
                    "stored": "summaries_stored",
                    "llm": "summaries_llm",
                    "parameters": "params:summaries",
                },
                outputs="metrics_daily_summaries",
                name="write_summaries",
            ),
        ],
        tags=["summaries"],
    )
