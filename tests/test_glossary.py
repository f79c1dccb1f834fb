"""The glossary defines exactly the columns the nodes produce, and docs/metrics.md is generated from it."""

from __future__ import annotations

import inspect
from pathlib import Path

import ibis
import pytest

from thelook_ecommerce_analysis import glossary
from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.pipelines.metrics import create_pipeline
from thelook_ecommerce_analysis.synth import TABLE_SCHEMAS

GLOSSARY = glossary.load_glossary()
METRIC_FUNCTIONS = {node.func.__name__: node.func for node in create_pipeline().nodes}


def output_columns(table: str) -> list[str]:
    """The columns a node produces, from its expression over unbound tables (nothing is executed)."""
    node_function = METRIC_FUNCTIONS[table]
    unbound = {
        name: ibis.table(ibis.Schema.from_pyarrow(TABLE_SCHEMAS[name]), name=name)
        for name in inspect.signature(node_function).parameters
    }
    return list(node_function(**unbound).columns)


def test_glossary_covers_every_node_and_nothing_else() -> None:
    assert sorted(table.name for table in GLOSSARY) == sorted(METRIC_FUNCTIONS)


@pytest.mark.parametrize("table", GLOSSARY, ids=lambda table: table.name)
def test_every_output_column_is_defined_in_order(table: glossary.TableDefinition) -> None:
    assert list(table.column_names) == output_columns(table.name)


@pytest.mark.parametrize("table", GLOSSARY, ids=lambda table: table.name)
def test_every_definition_is_complete(table: glossary.TableDefinition) -> None:
    assert "one row per" in table.description.lower(), "the table description must state its grain"
    for metric in table.columns:
        assert all(
            value.strip() for value in (metric.name, metric.unit, metric.definition, metric.formula)
        ), metric
        assert "${" not in metric.comment


def test_docs_page_is_up_to_date() -> None:
    page = project_root() / glossary.DOCS_RELATIVE_PATH
    summaries = glossary.load_glossary(key=glossary.SUMMARIES_GLOSSARY_KEY)
    assert page.read_text(encoding="utf-8") == glossary.render_markdown(GLOSSARY, summaries), (
        "docs/metrics.md is stale: run python -m thelook_ecommerce_analysis.glossary"
    )


def test_docs_page_lists_every_column() -> None:
    page = glossary.render_markdown(GLOSSARY)
    for metric in glossary.metric_definitions(GLOSSARY):
        assert f"| `{metric.column}` | {metric.name} |" in page


def test_comment_round_trips_to_the_glossary_text() -> None:
    text = "Net revenue [USD]: GMV minus returns. Formula: gmv - returned_value"
    metric = glossary.parse_column_definition("sales_daily", "net_revenue", text)
    assert (metric.name, metric.unit, metric.formula) == ("Net revenue", "USD", "gmv - returned_value")
    assert metric.comment == text


def test_malformed_definition_names_the_column(tmp_path: Path) -> None:
    bad = tmp_path / "globals_metrics.yml"
    bad.write_text(
        "metrics_glossary:\n  t:\n    family: F\n    key_columns: [a]\n    description: One row per a.\n"
        "    columns:\n      a: 'no unit and no formula'\n",
        encoding="utf-8",
    )
    with pytest.raises(ThelookError, match=r"t\.a is not written as"):
        glossary.load_glossary(bad)


def test_undefined_key_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "globals_metrics.yml"
    bad.write_text(
        "metrics_glossary:\n  t:\n    family: F\n    key_columns: [missing]\n"
        "    description: One row per a.\n    columns:\n      a: 'A [id]: the a. Formula: x.a'\n",
        encoding="utf-8",
    )
    with pytest.raises(ThelookError, match="key column"):
        glossary.load_glossary(bad)
