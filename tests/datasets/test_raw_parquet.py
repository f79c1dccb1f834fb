"""RawParquetDataset: a good file loads as ibis.FileDataset would; a missing, empty, truncated or
non-Parquet file is refused with one line naming the file and the problem (no DuckDB text, no SQL).
Kedro wraps a dataset's error in its DatasetError; the job reports the ThelookError inside (root_cause)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.io import DatasetError

from thelook_ecommerce_analysis.datasets.raw_parquet import RawParquetDataset
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.job import root_cause


def dataset(path: Path) -> RawParquetDataset:
    return RawParquetDataset(
        filepath=str(path),
        file_format="parquet",
        table_name=path.stem,
        connection={"backend": "duckdb", "database": ":memory:"},
    )


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"order_id": list(range(1000)), "status": ["Complete"] * 1000}), path)
    return path


def test_a_good_file_loads(good_file: Path) -> None:
    table = dataset(good_file).load()
    assert table.count().execute() == 1000
    assert table.columns == ("order_id", "status")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda content: content[: len(content) // 2], "Parquet magic bytes not found in footer"),
        (lambda content: b"order_id,status\n1,Complete\n", "Parquet magic bytes not found in footer"),
        (lambda content: b"", "Parquet file size is 0 bytes"),
    ],
    ids=["truncated", "csv under a parquet name", "zero bytes"],
)
def test_an_unreadable_file_is_named_in_one_plain_line(good_file: Path, damage, reason: str) -> None:
    good_file.write_bytes(damage(good_file.read_bytes()))
    with pytest.raises(DatasetError) as raised:
        dataset(good_file).load()
    assert isinstance(raised.value.__cause__, ThelookError)
    assert (
        root_cause(raised.value)
        == f"{good_file} is not a readable Parquet file (truncated or damaged): {reason}"
    )


def test_a_missing_file_says_where_it_was_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as raised:
        dataset(tmp_path / "events.parquet").load()
    assert root_cause(raised.value) == (
        f"{tmp_path / 'events.parquet'} is missing: put the export there, or run `thelook generate`"
    )
