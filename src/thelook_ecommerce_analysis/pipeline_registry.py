"""Project pipelines: every folder under pipelines/ is found; `__default__` is the whole job.

This is the one place that sees every pipeline, so it wires what one needs from the others: the
embeddings pipeline describes the tables the other pipelines publish (pg_<table>@ibis, metrics_<table>),
and gets their catalog names from here rather than by importing those pipelines.
"""

import importlib
import pkgutil

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from thelook_ecommerce_analysis import pipelines as pipelines_package
from thelook_ecommerce_analysis.pipelines import embeddings
from thelook_ecommerce_analysis.pipelines.embeddings.pipeline import published_table_datasets

EMBEDDINGS = "embeddings"


def _other_pipelines() -> list[Pipeline]:
    """Every pipeline under pipelines/ but the embeddings one, built here because `find_pipelines` builds
    only the requested ones (`kedro run --pipeline embeddings` finds the embeddings pipeline alone)."""
    names = [
        module.name
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg and module.name != EMBEDDINGS
    ]
    return [
        importlib.import_module(f"{pipelines_package.__name__}.{name}").create_pipeline()
        for name in sorted(names)
    ]


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines; the default runs them all, in dependency order."""
    pipelines = find_pipelines(raise_errors=True)
    if EMBEDDINGS in pipelines:
        published = published_table_datasets(_other_pipelines())
        pipelines[EMBEDDINGS] = embeddings.create_pipeline(published_tables=published)
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
