"""IbisUpsertDataset as Kedro uses it: DuckDB over real Parquet in, ibis on PostgreSQL out, and a
process killed in the middle of a save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.io import DatasetError

from tests.datasets.conftest import SCHEMA, rows_of
from thelook_ecommerce_analysis.datasets import IbisUpsertDataset
from thelook_ecommerce_analysis.errors import ThelookError

ROWS = 1_000


def order_items_parquet(directory: Path, rows: int = ROWS) -> Path:
    path = directory / "order_items.parquet"
    table = pa.table(
        {
            "id": pa.array(range(1, rows + 1), pa.int64()),
            "status": pa.array(["Complete", " shipped "] * (rows // 2)),
            "sale_price": pa.array([float(i) for i in range(rows)]),
            "created_at": pa.array([1_700_000_000_000_000 + i for i in range(rows)], pa.timestamp("us")),
        }
    )
    pq.write_table(table, path)
    return path


def dataset(owner_url: str, table_name: str, **options) -> IbisUpsertDataset:
    return IbisUpsertDataset(
        table_name=table_name,
        db_schema=SCHEMA,
        key_columns=["id"],
        credentials={"con": owner_url},
        save_args=options,
    )


def test_saves_a_duckdb_expression_and_loads_it_back_from_postgres(owner_url, table_name, tmp_path) -> None:
    duckdb = ibis.duckdb.connect()
    source = duckdb.read_parquet(order_items_parquet(tmp_path))
    cleaned = source.mutate(status=source.status.strip().capitalize())
    target = dataset(owner_url, table_name, batch_size=300)
    assert not target.exists()
    target.save(cleaned)
    assert target.exists()
    assert (target.last_result.inserted, target.last_result.unchanged) == (ROWS, 0)
    loaded = target.load()
    assert loaded.get_backend().name == "postgres"
    assert loaded.get_backend() is target.load().get_backend()  # one connection per dataset instance
    counts = loaded.status.value_counts().to_pyarrow()
    assert dict(zip(counts["status"].to_pylist(), counts["status_count"].to_pylist(), strict=True)) == {
        "Complete": ROWS // 2,
        "Shipped": ROWS // 2,
    }
    target.save(cleaned)
    assert (target.last_result.inserted, target.last_result.updated, target.last_result.unchanged) == (
        0,
        0,
        ROWS,
    )


def test_columns_option_writes_only_those_columns(owner_url, table_name, tmp_path) -> None:
    source = pq.read_table(order_items_parquet(tmp_path))
    target = dataset(owner_url, table_name, columns=["id", "sale_price"])
    target.save(source)
    assert target.load().columns == ("id", "sale_price")
    with pytest.raises(DatasetError, match="columns discount are not in the data"):
        dataset(owner_url, table_name, columns=["id", "discount"]).save(source)


def test_record_batch_reader_input_is_streamed(owner_url, table_name, tmp_path) -> None:
    source = pq.read_table(order_items_parquet(tmp_path))
    target = dataset(owner_url, table_name, columns=["id", "status"])
    target.save(source.to_reader(max_chunksize=128))
    assert target.last_result.inserted == ROWS


def test_errors_reach_kedro_as_one_clear_line(owner_url, table_name) -> None:
    target = dataset(owner_url, table_name)
    with pytest.raises(DatasetError) as raised:
        target.save(pa.table({"id": [1, 1], "v": ["a", "b"]}))
    assert isinstance(raised.value.__cause__, ThelookError)
    assert f"{SCHEMA}.{table_name}" in str(raised.value.__cause__)
    with pytest.raises(DatasetError, match="saves an ibis Table, a pyarrow Table or a RecordBatchReader"):
        target.save([{"id": 1}])


def test_bad_credentials_are_refused_at_construction() -> None:
    with pytest.raises(DatasetError, match="credentials need `con`"):
        IbisUpsertDataset(table_name="t", db_schema=SCHEMA, key_columns=["id"], credentials={})


def test_unknown_save_args_are_refused_naming_the_known_ones(owner_url) -> None:
    with pytest.raises(
        DatasetError, match="unknown save_args delete_mising; known: columns, exclude_from_update"
    ):
        dataset(owner_url, "t", delete_mising=True)
    with pytest.raises(DatasetError, match="batch_size must be >= 1, not 0"):
        dataset(owner_url, "t", batch_size=0)


def test_describe_shows_the_settings_but_never_the_url(owner_url, table_name) -> None:
    target = dataset(owner_url, table_name, delete_missing=True)
    description = repr(target)
    assert f"{SCHEMA}.{table_name}" in description
    assert "'delete_missing': True" in description
    assert owner_url not in description
    assert "thelook_owner:" not in description


SLOW_SAVE = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa
    from thelook_ecommerce_analysis.datasets import IbisUpsertDataset

    url, table, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def batches():
        for start in range(0, 100 * rows, rows):
            yield pa.record_batch({"id": pa.array(range(start, start + rows), pa.int64()),
                                   "v": pa.array(["new"] * rows)})
            print("batch sent", flush=True)
            time.sleep(0.2)

    schema = pa.schema([("id", pa.int64()), ("v", pa.string())])
    IbisUpsertDataset(table_name=table, db_schema="raw_data", key_columns=["id"],
                      credentials={"con": url}).save(pa.RecordBatchReader.from_batches(schema, batches()))
    """
)


def test_a_process_killed_mid_save_leaves_the_target_unchanged(owner_url, table_name, connection) -> None:
    target = dataset(owner_url, table_name)
    target.save(pa.table({"id": pa.array(range(100), pa.int64()), "v": ["old"] * 100}))
    before = rows_of(connection, table_name)
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, owner_url, table_name, "50"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
    )
    try:
        for _ in range(3):  # three batches are in the server's hands, none committed
            assert child.stdout.readline().strip() == "batch sent"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert rows_of(connection, table_name) == before
    target.save(pa.table({"id": pa.array(range(50, 150), pa.int64()), "v": ["next"] * 100}))
    assert (target.last_result.inserted, target.last_result.updated) == (50, 50)
    assert rows_of(connection, table_name)[-1] == (149, "next")
