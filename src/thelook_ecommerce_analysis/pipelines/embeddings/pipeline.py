"""The embeddings pipeline: documents about the published tables, metrics, examples and products, embedded.

    embeddings_database_catalog + published tables ─► describe_tables ──┐
    params:embeddings.metrics_glossary              ─► describe_metrics ──┤   embeddings_document_hashes
    embeddings_examples (conf/base/examples.yml)    ─► describe_examples ─┼─► embed_new_or_changed
    pg_products@ibis                                ─► describe_products ─┘   ─► embeddings_documents

The published tables are the datasets the other pipelines write that are ibis tables (`pg_<table>@ibis`)
or metrics tables (`metrics_<table>`). Pipelines do not import each other: pipeline_registry.py, which
sees every pipeline, picks them with `published_table_datasets` and passes them to `create_pipeline`, so a new
metrics table gets its documents without touching this file, and this pipeline always runs last.
"""

from __future__ import annotations

from collections.abc import Iterable

from kedro.pipeline import Pipeline, node

from . import nodes

IBIS_TRANSCODING = "@ibis"
METRICS_TABLE_PREFIX = "metrics_"


def published_table_datasets(pipelines: Iterable[Pipeline]) -> list[str]:
    """Catalog names of the tables `pipelines` write: pg_<table>@ibis and metrics_<table>, sorted."""
    return sorted(
        {
            name
            for pipeline in pipelines
            for name in pipeline.all_outputs()
            if name.endswith(IBIS_TRANSCODING) or name.startswith(METRICS_TABLE_PREFIX)
        }
    )


def keyword_for(dataset: str) -> str:
    """A keyword argument name for a dataset (pg_orders@ibis -> pg_orders)."""
    return dataset.removesuffix(IBIS_TRANSCODING)


def create_pipeline(published_tables: Iterable[str] = (), **kwargs) -> Pipeline:
    """The embeddings pipeline over `published_tables` (catalog names, see `published_table_datasets`).

    pipeline_registry.py always passes them; without them (as `find_pipelines` first builds it) the
    table documents cover no table and nothing orders this pipeline after the others.
    """
    published = {keyword_for(name): name for name in sorted(published_tables)}
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
