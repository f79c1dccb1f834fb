"""The summaries pipeline's place in the job: registered, run after the metrics it reads and before the
embeddings that describe its table; its catalog entry takes grain and comments from the glossary; it
imports no other pipeline."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.project import configure_project

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.glossary import SUMMARIES_GLOSSARY_KEY, load_glossary
from thelook_ecommerce_analysis.pipeline_registry import register_pipelines
from thelook_ecommerce_analysis.pipelines.summaries import create_pipeline
from thelook_ecommerce_analysis.settings import CONFIG_LOADER_ARGS

PIPELINE_DIR = REPO_ROOT / "src" / "thelook_ecommerce_analysis" / "pipelines" / "summaries"


@pytest.fixture(scope="module")
def config() -> OmegaConfigLoader:
    return OmegaConfigLoader(conf_source=str(REPO_ROOT / "conf"), **CONFIG_LOADER_ARGS)


def test_reads_metrics_tables_and_writes_daily_summaries() -> None:
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "metrics_sales_daily",
        "metrics_sales_daily_by_category",
        "metrics_sales_daily_by_country",
        "metrics_web_sessions_daily",
        "summaries_stored",
        "summaries_llm",
        "params:summaries",
        "params:summaries.days",
    }
    assert pipeline.outputs() == {"metrics_daily_summaries"}


def test_the_default_run_writes_summaries_after_the_metrics_and_before_the_embeddings() -> None:
    configure_project("thelook_ecommerce_analysis")  # what the job does before finding the pipelines
    pipelines = register_pipelines()
    order = [node.name for node in pipelines["__default__"].nodes]
    metrics = [node.name for node in pipelines["metrics"].nodes]
    assert "summaries" in pipelines
    assert order.index("write_summaries") > max(order.index(name) for name in metrics)
    assert order.index("write_summaries") < order.index("describe_tables")
    (describe,) = [node for node in pipelines["embeddings"].nodes if node.name == "describe_tables"]
    assert "metrics_daily_summaries" in describe.inputs, "the chat's retrieval gets a table document"


def test_catalog_entry_takes_grain_and_comments_from_the_glossary(config: OmegaConfigLoader) -> None:
    (table,) = load_glossary(key=SUMMARIES_GLOSSARY_KEY)
    entry: dict[str, Any] = config["catalog"]["metrics_daily_summaries"]
    assert entry["type"] == "thelook_ecommerce_analysis.datasets.IbisUpsertDataset"
    assert (entry["db_schema"], entry["table_name"]) == ("metrics", "daily_summaries")
    assert entry["key_columns"] == list(table.key_columns) == ["period_kind", "period_start"]
    assert entry["save_args"]["table_comment"] == table.description
    assert entry["save_args"]["column_comments"] == {
        metric.column: metric.comment for metric in table.columns
    }
    assert entry["save_args"]["delete_missing"] is False, "older summaries stay"
    free_text = config["catalog"]["embeddings_database_catalog"]["free_text_columns"]
    assert "metrics.daily_summaries.text" in free_text, "summary texts are never listed as values"


def test_parameters_are_sane(config: OmegaConfigLoader) -> None:
    parameters = config["parameters"]["summaries"]
    assert parameters["days"] >= 1
    assert parameters["budget_s"] > config["catalog"]["summaries_llm"]["call_timeout_s"]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    found |= {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    return found


@pytest.mark.parametrize("module", ["nodes.py", "pipeline.py", "__init__.py"])
def test_imports_no_other_pipeline_nor_anything_above(module: str) -> None:
    imported = _imported_modules(PIPELINE_DIR / module)
    forbidden = ("pipelines.", ".app", ".rag", ".cli")
    assert not [name for name in imported if any(part in name for part in forbidden)], imported
