"""The embeddings pipeline: documents about the published tables, metrics, examples and products, embedded.

    embeddings_database_catalog + published tables ─► describe_tables ──┐
    params:embeddings.metrics_glossary              ─► describe_metrics ──┤   embeddings_document_hashes
    embeddings_examples (conf/base/examples.yml)    ─► describe_examples ─┼─► embed_new_or_changed
    pg_products@ibis                                ─► describe_products ─┘   ─► embeddings_documents

The published tables are the data_processing outputs that are ibis tables (`pg_<table>@ibis`) and the
metrics tables the metrics and summaries pipelines write (`metrics_<table>`), found from those pipelines
rather than listed again, so a new metrics table gets its documents without touching this file, and this
pipeline always runs last.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from thelook_ecommerce_analysis.pipelines.data_processing import create_pipeline as data_processing_pipeline
from thelook_ecommerce_analysis.pipelines.metrics import create_pipeline as metrics_pipeline
from thelook_ecommerce_analysis.pipelines.summaries import create_pipeline as summaries_pipeline

from . import nodes

IBIS_TRANSCODING = "@ibis"
METRICS_TABLE_PREFIX = "metrics_"


def published_table_datasets() -> list[str]:
    """Catalog names of the tables the other pipelines write: pg_<table>@ibis and metrics_<table>."""
    raw = {name for name in data_processing_pipeline().all_outputs() if name.endswith(IBIS_TRANSCODING)}
    summaries = {name for name in summaries_pipeline().outputs() if name.startswith(METRICS_TABLE_PREFIX)}
    return sorted(raw | metrics_pipeline().outputs() | summaries)


def keyword_for(dataset: str) -> str:
    """A keyword argument name for a dataset (pg_orders@ibis -> pg_orders)."""
    return dataset.removesuffix(IBIS_TRANSCODING)


def create_pipeline(**kwargs) -> Pipeline:
    published = {keyword_for(name): name for name in published_table_datasets()}
    return Pipeline(
        [
            node(
                nodes.describe_tables,
                inputs={"database_catalog": "embeddings_database_catalog", **published},
                outputs="embeddings_table_documents",
                name="describe_tables",
            ),
            node(
                nodes.describe_metrics,
                inputs=["params:embeddings.metrics_glossary", "params:embeddings.metrics_schema"],
                outputs="embeddings_metric_documents",
                name="describe_metrics",
            ),
            node(
                nodes.describe_examples,
                inputs="embeddings_examples",
                outputs="embeddings_example_documents",
                name="describe_examples",
            ),
            node(
                nodes.describe_products,
                inputs="pg_products@ibis",
                outputs="embeddings_product_documents",
                name="describe_products",
            ),
            node(
                nodes.embed_new_or_changed,
                inputs=[
                    "embeddings_document_hashes",
                    "params:embeddings.progress",
                    "embeddings_table_documents",
                    "embeddings_metric_documents",
                    "embeddings_example_documents",
                    "embeddings_product_documents",
                ],
                outputs="embeddings_documents",
                name="embed_new_or_changed",
            ),
        ],
        tags=["embeddings"],
    )
