"""The registry wires the pipelines together without their importing one another: the embeddings pipeline
describes every table the other pipelines publish, handed to it by pipeline_registry.py, and runs last."""

from __future__ import annotations

import pytest
from kedro.framework.project import configure_project
from kedro.framework.project import pipelines as project_pipelines

from thelook_ecommerce_analysis.pipeline_registry import register_pipelines
from thelook_ecommerce_analysis.pipelines.embeddings import create_pipeline as embeddings_pipeline


def registered() -> dict:
    configure_project("thelook_ecommerce_analysis")  # what the job does before finding the pipelines
    return register_pipelines()


def node_named(pipeline, name: str):
    return next(node for node in pipeline.nodes if node.name == name)


def test_the_embeddings_pipeline_describes_every_table_the_others_publish() -> None:
    pipelines = registered()
    written = set().union(*(pipelines[name].all_outputs() for name in pipelines if name != "embeddings"))
    published = {name for name in written if name.endswith("@ibis") or name.startswith("metrics_")}
    assert {
        "pg_orders@ibis",
        "pg_products@ibis",
        "metrics_sales_daily",
        "metrics_daily_summaries",
    } <= published
    describe_tables = node_named(pipelines["embeddings"], "describe_tables")
    assert set(describe_tables.inputs) == {"embeddings_database_catalog", *published}


@pytest.mark.parametrize("requested", [["embeddings"], ["metrics", "embeddings"]])
def test_a_run_of_only_some_pipelines_still_describes_every_published_table(requested: list[str]) -> None:
    """`kedro run --pipeline embeddings` (and `thelook run embeddings`) make Kedro build only the requested
    pipelines; the embeddings pipeline must still take every published table, or the run would delete
    their documents."""
    everything = node_named(registered()["embeddings"], "describe_tables").inputs
    project_pipelines.set_requested(requested)
    try:
        only = register_pipelines()
    finally:
        project_pipelines.set_requested(None)
    assert sorted(name for name in only if name != "__default__") == sorted(requested)
    assert node_named(only["embeddings"], "describe_tables").inputs == everything
    assert len(everything) > 20


def test_a_run_without_the_embeddings_does_not_add_them() -> None:
    project_pipelines.set_requested(["metrics"])
    try:
        only = register_pipelines()
    finally:
        project_pipelines.set_requested(None)
    assert "embeddings" not in only and only["__default__"].nodes == only["metrics"].nodes


def test_the_default_pipeline_is_all_of_them_with_the_embeddings_last() -> None:
    pipelines = registered()
    default = pipelines["__default__"]
    assert {node.name for node in default.nodes} == {
        node.name for name, pipeline in pipelines.items() if name != "__default__" for node in pipeline.nodes
    }
    order = [node.name for node in default.nodes]
    producers = [
        node.name for name in ("data_processing", "metrics", "summaries") for node in pipelines[name].nodes
    ]
    assert order.index("describe_tables") > max(order.index(name) for name in producers)
    assert order[-1] == "embed_new_or_changed"


def test_without_published_tables_the_embeddings_pipeline_describes_none() -> None:
    """How `find_pipelines` first builds it, before the registry hands it the published tables."""
    assert node_named(embeddings_pipeline(), "describe_tables").inputs == ["embeddings_database_catalog"]
    nodes = {node.name for node in embeddings_pipeline(published_tables=["pg_orders@ibis"]).nodes}
    assert nodes == {node.name for node in embeddings_pipeline().nodes}
