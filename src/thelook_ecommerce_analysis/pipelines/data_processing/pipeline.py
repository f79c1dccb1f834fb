"""The data_processing pipeline: the same six nodes for each theLook table, one namespace per table.

raw_<table> (Parquet through DuckDB)
  -> check_contract -> clean -> select_incremental -> mark_rejections
     (all but clean read load_start_<table>: the database's clock, the table's watermark, whether it
      already holds rows; a row stamped later than the clock plus a margin is quarantined)
  -> accepted rows: pg_<table>@ibis (IbisUpsertDataset into raw_data.<table>)
  -> rejected rows: quarantine_<table> (raw_data.etl_quarantine, with the reason and the run id, which
     the run-log hook puts in the catalog as `etl_run_id`)

The tables, their rules and their foreign keys come from the contract (conf/base/globals_raw_data.yml).
A child table waits for its parents: its foreign keys are checked against `pg_<parent>@keys`, the
parent's keys as they are in PostgreSQL after the parent was saved in this run.
"""

from __future__ import annotations

from collections.abc import Sequence

from kedro.pipeline import Pipeline, node, pipeline

from thelook_ecommerce_analysis.contract import RawTable, load_contract

from . import nodes

# Parameters every table's namespace shares (not namespaced).
SHARED_PARAMETERS = ("params:allow_empty_input", "params:country_spellings")


def parent_keys(table: RawTable) -> list[str]:
    """The catalog names of the keys this table's foreign keys are checked against, in column order."""
    return [f"pg_{key.parent}@keys" for key in table.foreign_keys]


def table_pipeline(parents: Sequence[str]) -> Pipeline:
    """One table's nodes under generic names; `create_pipeline` maps them onto each table's datasets.
    Only the foreign-key check's inputs differ from table to table: `parents`, the keys it reads."""
    return Pipeline(
        [
            node(
                nodes.check_contract,
                inputs=["raw", "params:rules", "load_start", "params:allow_empty_input"],
                outputs="checked",
                name="check_contract",
            ),
            node(
                nodes.clean_table,
                inputs=["checked", "params:rules", "params:country_spellings"],
                outputs="cleaned",
                name="clean",
            ),
            node(
                nodes.select_incremental,
                inputs=["cleaned", "load_start", "params:rules"],
                outputs="candidates",
                name="select_incremental",
            ),
            node(
                nodes.mark_rejections,
                inputs=["candidates", "params:rules", "load_start", *parents],
                outputs="marked",
                name="mark_rejections",
            ),
            node(nodes.accepted_rows, inputs="marked", outputs="accepted", name="load"),
            node(
                nodes.rejected_rows,
                inputs=["marked", "params:rules", "etl_run_id"],
                outputs="rejected",
                name="quarantine",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One namespace per table of the raw tables' contract (Kedro-Viz folds each into one box)."""
    tables = [
        pipeline(
            table_pipeline(parent_keys(table)),
            namespace=table.name,
            inputs={
                "raw": f"raw_{table.name}",
                "load_start": f"load_start_{table.name}",
                "etl_run_id": "etl_run_id",
                **{keys: keys for keys in parent_keys(table)},
            },
            outputs={"accepted": f"pg_{table.name}@ibis", "rejected": f"quarantine_{table.name}"},
            parameters={
                "params:rules": f"params:raw_tables.{table.name}",
                **{parameter: parameter for parameter in SHARED_PARAMETERS},
            },
        )
        for table in load_contract().tables.values()
    ]
    return Pipeline(tables, tags=["data_processing"])
