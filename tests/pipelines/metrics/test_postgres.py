"""The same nodes on PostgreSQL: equal to DuckDB's results, commented from the glossary, and a second save of
unchanged data writes no row. This is the path of the real job (raw_data tables in, upsert datasets out),
minus the Kedro session, which the end-to-end tests cover."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.config import OmegaConfigLoader

from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.datasets import IbisUpsertDataset
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.glossary import load_glossary
from thelook_ecommerce_analysis.pipelines.metrics import nodes
from thelook_ecommerce_analysis.settings import CONFIG_LOADER_ARGS
from thelook_ecommerce_analysis.synth import PRIMARY_KEYS, TABLES

from .comparison import assert_same_rows

GLOSSARY = load_glossary()


def metrics_dataset(table: str, owner_url: str) -> IbisUpsertDataset:
    """The catalog's dataset for metrics.<table>, built from the resolved catalog entry."""
    loader = OmegaConfigLoader(conf_source=str(project_root() / "conf"), **CONFIG_LOADER_ARGS)
    entry: dict[str, Any] = dict(loader["catalog"][f"metrics_{table}"])
    entry.pop("type")
    entry["credentials"] = {"con": owner_url}
    return IbisUpsertDataset(**entry)


@pytest.fixture(scope="module")
def postgres_raw_tables(fresh_db: RoleUrls, raw_parquet_dir: Path) -> Iterator[dict[str, ir.Table]]:
    """The generated snapshot loaded into raw_data.* of a fresh database, as ibis tables on PostgreSQL."""
    datasets = {}
    for table in TABLES:
        dataset = IbisUpsertDataset(
            table_name=table,
            db_schema="raw_data",
            key_columns=[PRIMARY_KEYS[table]],
            credentials={"con": fresh_db.owner},
        )
        dataset.save(pq.read_table(raw_parquet_dir / f"{table}.parquet"))
        datasets[table] = dataset
    yield {table: dataset.load() for table, dataset in datasets.items()}
    for dataset in datasets.values():
        dataset.release()


@pytest.fixture(scope="module")
def saved_metrics(
    fresh_db: RoleUrls, postgres_raw_tables: dict[str, ir.Table]
) -> dict[str, tuple[IbisUpsertDataset, ir.Table]]:
    """Every metrics table computed on PostgreSQL and saved once through its catalog dataset."""
    saved = {}
    for table in GLOSSARY:
        node_function = getattr(nodes, table.name)
        expression = node_function(
            **{name: postgres_raw_tables[name] for name in inspect.signature(node_function).parameters}
        )
        dataset = metrics_dataset(table.name, fresh_db.owner)
        dataset.save(expression)
        saved[table.name] = (dataset, expression)
    return saved


@pytest.mark.parametrize("table", GLOSSARY, ids=lambda table: table.name)
def test_postgres_results_equal_duckdb_results(
    table: Any, saved_metrics: dict[str, tuple[IbisUpsertDataset, ir.Table]], raw_tables: dict[str, ir.Table]
) -> None:
    dataset, _ = saved_metrics[table.name]
    node_function = getattr(nodes, table.name)
    on_duckdb = node_function(
        **{name: raw_tables[name] for name in inspect.signature(node_function).parameters}
    ).to_pyarrow()
    in_postgres: pa.Table = dataset.load().to_pyarrow()
    assert in_postgres.num_rows > 0
    assert_same_rows(in_postgres, on_duckdb, list(table.key_columns))


def test_every_table_and_column_is_commented(
    fresh_db: RoleUrls, saved_metrics: dict[str, tuple[IbisUpsertDataset, ir.Table]]
) -> None:
    with connect(fresh_db.reader) as connection:
        rows = connection.execute(
            """SELECT c.relname, a.attname,
                      col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class')
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE n.nspname = 'metrics' AND c.relkind = 'r'"""
        ).fetchall()
    expected = {(table.name, metric.column): metric.comment for table in GLOSSARY for metric in table.columns}
    assert {(table, column): comment for table, column, comment, _ in rows} == expected
    descriptions = {table: description for table, _, _, description in rows}
    assert descriptions == {table.name: table.description for table in GLOSSARY}


def test_second_save_of_unchanged_data_writes_nothing(
    saved_metrics: dict[str, tuple[IbisUpsertDataset, ir.Table]],
) -> None:
    written = {}
    for table, (dataset, expression) in saved_metrics.items():
        dataset.save(expression)
        result = dataset.last_result
        written[table] = result.inserted + result.updated + result.deleted
    assert written == dict.fromkeys(saved_metrics, 0)
