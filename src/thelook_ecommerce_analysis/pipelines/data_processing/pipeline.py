"""The data_processing pipeline: for each theLook table, the same five steps, wired by its foreign keys.

raw_<table> (Parquet through DuckDB)
  -> check_contract -> clean -> select_incremental -> mark_rejections
     (all but clean read raw_data_load_start: the database's clock, the watermarks, which tables
      already hold rows; a row stamped later than the clock plus a margin is quarantined)
  -> accepted rows: pg_<table>@ibis (IbisUpsertDataset into raw_data.<table>)
  -> rejected rows: quarantine_<table> (raw_data.etl_quarantine, with the reason and the run id)

A child table waits for its parents: its foreign keys (the contract's `references`) are checked against
`pg_<parent>@keys`, the parent's keys as they are in PostgreSQL after the parent was saved in this run.
"""

from __future__ import annotations

from collections.abc import Callable

from kedro.pipeline import Node, Pipeline, node

from thelook_ecommerce_analysis.contract import RawTable, load_contract

from . import nodes


def _bind(function: Callable, **bound) -> Callable:
    """`function` with keyword arguments fixed, as a plain function so that Kedro can inspect it and
    Kedro-Viz shows the original name."""

    def bound_function(*args):
        return function(*args, **bound)

    bound_function.__name__ = bound_function.__qualname__ = function.__name__
    bound_function.__doc__ = function.__doc__
    return bound_function


def _table_nodes(raw_table: RawTable) -> list[Node]:
    table = raw_table.name
    rules = f"params:raw_tables.{table}"
    parent_keys = [f"pg_{key.parent}@keys" for key in raw_table.foreign_keys]
    return [
        node(
            _bind(nodes.check_contract, table_name=table),
            inputs=[f"raw_{table}", rules, "raw_data_load_start", "params:allow_empty_input"],
            outputs=f"{table}_checked",
            name=f"check_contract_{table}",
        ),
        node(
            nodes.clean_table,
            inputs=[f"{table}_checked", rules, "params:country_spellings"],
            outputs=f"{table}_cleaned",
            name=f"clean_{table}",
        ),
        node(
            _bind(nodes.select_incremental, table_name=table),
            inputs=[f"{table}_cleaned", "raw_data_load_start", rules],
            outputs=f"{table}_candidates",
            name=f"select_incremental_{table}",
        ),
        node(
            nodes.mark_rejections,
            inputs=[f"{table}_candidates", rules, "raw_data_load_start", *parent_keys],
            outputs=f"{table}_marked",
            name=f"mark_rejections_{table}",
        ),
        node(
            nodes.accepted_rows,
            inputs=f"{table}_marked",
            outputs=f"pg_{table}@ibis",
            name=f"load_{table}",
        ),
        node(
            nodes.rejected_rows,
            inputs=[f"{table}_marked", rules],
            outputs=f"quarantine_{table}",
            name=f"quarantine_{table}",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """One group of nodes per table of the raw tables' contract, in its load order."""
    return Pipeline(
        [node_ for table in load_contract().tables.values() for node_ in _table_nodes(table)],
        tags=["data_processing"],
    )
