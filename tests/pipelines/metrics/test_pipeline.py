"""The metrics pipeline reads exactly the cleaned raw_data tables and writes one catalog dataset per table,
whose grain and comments the catalog takes from the glossary."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.glossary import TableDefinition, load_glossary
from thelook_ecommerce_analysis.pipelines.metrics import create_pipeline
from thelook_ecommerce_analysis.settings import CONFIG_LOADER_ARGS
from thelook_ecommerce_analysis.synth import TABLES

GLOSSARY = load_glossary()


@pytest.fixture(scope="module")
def catalog_config() -> dict[str, Any]:
    """The project's catalog as Kedro resolves it (globals interpolated), without touching a database."""
    loader = OmegaConfigLoader(conf_source=str(project_root() / "conf"), **CONFIG_LOADER_ARGS)
    return loader["catalog"]


def test_inputs_are_the_cleaned_raw_data_tables() -> None:
    assert create_pipeline().inputs() == {f"pg_{table}@ibis" for table in TABLES}


def test_each_node_reads_the_raw_tables_its_function_names_and_writes_its_own_table() -> None:
    """The wiring is written out in pipeline.py; it must agree with what each function computes from."""
    for node in create_pipeline().nodes:
        parameters = list(inspect.signature(node.func).parameters)
        assert node._inputs == {name: f"pg_{name}@ibis" for name in parameters}, node.name
        assert node.outputs == [f"metrics_{node.func.__name__}"], node.name
        assert node.name == f"compute_{node.func.__name__}"


def test_one_output_per_metrics_table() -> None:
    assert create_pipeline().outputs() == {f"metrics_{table.name}" for table in GLOSSARY}


@pytest.mark.parametrize("table", GLOSSARY, ids=lambda table: table.name)
def test_catalog_entry_takes_grain_and_comments_from_the_glossary(
    table: TableDefinition, catalog_config: dict[str, Any]
) -> None:
    entry = catalog_config[f"metrics_{table.name}"]
    assert entry["type"] == "thelook_ecommerce_analysis.datasets.IbisUpsertDataset"
    assert (entry["db_schema"], entry["table_name"]) == ("metrics", table.name)
    assert entry["credentials"] == "thelook_owner"
    assert entry["save_args"]["delete_missing"] is True
    assert entry["key_columns"] == list(table.key_columns)
    assert entry["save_args"]["table_comment"] == table.description
    assert entry["save_args"]["column_comments"] == {
        metric.column: metric.comment for metric in table.columns
    }
    assert entry["metadata"]["kedro-viz"]["layer"] == "reporting"
