"""The Arrow casts that make batches acceptable to binary COPY, checked without a database."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.datasets.arrow_types import (
    TargetColumn,
    cast_batch,
    ddl_type_for,
    plan_column,
    plan_columns,
)
from thelook_ecommerce_analysis.errors import ThelookError

BIGINT = TargetColumn("id", "bigint", "int8", None, -1)
TIMESTAMP = TargetColumn("at", "timestamp without time zone", "timestamp", None, -1)
TIMESTAMPTZ = TargetColumn("at", "timestamp with time zone", "timestamptz", None, -1)
TEXT = TargetColumn("label", "text", "text", None, -1)
VECTOR = TargetColumn("embedding", "vector(3)", "vector", None, 3)
UUID = TargetColumn("tag", "uuid", "uuid", None, -1)
NUMERIC_10_2 = TargetColumn("amount", "numeric(10,2)", "numeric", None, (10 << 16 | 2) + 4)
NUMERIC = TargetColumn("amount", "numeric", "numeric", None, -1)
INT_ARRAY = TargetColumn("sizes", "integer[]", "_int4", "int4", -1)


def cast_one(values: pa.Array, column: TargetColumn) -> pa.Array:
    batch = pa.record_batch([values], names=[column.name])
    plans = plan_columns(batch.schema, [column], "raw_data.example")
    return cast_batch(batch, plans, "raw_data.example").column(0)


def test_int32_source_is_widened_for_a_bigint_column() -> None:
    cast = cast_one(pa.array([1, 2], pa.int32()), BIGINT)
    assert cast.type == pa.int64()
    assert cast.to_pylist() == [1, 2]


def test_nanosecond_timestamps_are_truncated_to_microseconds() -> None:
    nanoseconds = pa.array([1_700_000_000_123_456_789], pa.timestamp("ns"))
    cast = cast_one(nanoseconds, TIMESTAMP)
    assert cast.type == pa.timestamp("us")
    assert cast.to_pylist() == [dt.datetime(2023, 11, 14, 22, 13, 20, 123456)]


def test_timezone_aware_source_keeps_its_instant_in_a_timestamptz_column() -> None:
    paris = pa.array([dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)], pa.timestamp("us", tz="Europe/Paris"))
    cast = cast_one(paris, TIMESTAMPTZ)
    assert cast.type == pa.timestamp("us", tz="UTC")
    assert cast.to_pylist() == [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)]


def test_naive_source_into_timestamptz_is_read_as_utc() -> None:
    naive = pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("ms"))
    assert cast_one(naive, TIMESTAMPTZ).to_pylist() == [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)]


@pytest.mark.parametrize(
    "values",
    [
        pa.array(["a", "b"], pa.large_string()),
        pa.array(["a", "b"], pa.string_view()),
        pa.array(["a", "b"]).dictionary_encode(),
    ],
    ids=["large_string", "string_view", "dictionary"],
)
def test_string_encodings_become_plain_strings(values: pa.Array) -> None:
    cast = cast_one(values, TEXT)
    assert cast.type == pa.string()
    assert cast.to_pylist() == ["a", "b"]


def test_vectors_are_staged_as_real_arrays_and_cast_by_postgres() -> None:
    plan = plan_column(VECTOR, pa.list_(pa.float64(), 3))
    assert (plan.arrow_type, plan.staging_sql_type, plan.sql_cast) == (
        pa.list_(pa.float32()),
        "real[]",
        "vector(3)",
    )


def test_types_pgpq_cannot_write_are_staged_as_text() -> None:
    plan = plan_column(UUID, pa.string())
    assert (plan.arrow_type, plan.staging_sql_type, plan.sql_cast) == (pa.string(), "text", "uuid")


def test_numeric_uses_the_columns_precision_or_text_when_unconstrained() -> None:
    assert plan_column(NUMERIC_10_2, pa.float64()).arrow_type == pa.decimal128(10, 2)
    assert plan_column(NUMERIC, pa.decimal128(12, 3)).arrow_type == pa.decimal128(12, 3)
    unconstrained_float = plan_column(NUMERIC, pa.float64())
    assert (unconstrained_float.staging_sql_type, unconstrained_float.sql_cast) == ("text", "numeric")


def test_arrays_of_native_types_go_through_copy_directly() -> None:
    plan = plan_column(INT_ARRAY, pa.list_(pa.int64()))
    assert (plan.arrow_type, plan.sql_cast) == (pa.list_(pa.int32()), None)


def test_impossible_cast_names_table_column_and_both_types() -> None:
    with pytest.raises(ThelookError) as raised:
        cast_one(pa.array(["1", "abc"]), BIGINT)
    message = str(raised.value)
    assert "raw_data.example.id" in message
    assert "source type string" in message
    assert "bigint" in message
    assert "'abc'" in message


def test_overflowing_integer_is_an_error_not_a_wraparound() -> None:
    small = TargetColumn("qty", "smallint", "int2", None, -1)
    with pytest.raises(ThelookError, match=r"raw_data\.example\.qty.*int64.*smallint"):
        cast_one(pa.array([70_000]), small)


def test_input_column_missing_from_the_table_is_named() -> None:
    source = pa.schema([("id", pa.int64()), ("surprise", pa.string())])
    with pytest.raises(ThelookError, match=r"raw_data\.example: column\(s\) surprise .* not in the table"):
        plan_columns(source, [BIGINT], "raw_data.example")


@pytest.mark.parametrize(
    ("arrow_type", "ddl"),
    [
        (pa.int32(), "integer"),
        (pa.int64(), "bigint"),
        (pa.float64(), "double precision"),
        (pa.large_string(), "text"),
        (pa.dictionary(pa.int8(), pa.string()), "text"),
        (pa.timestamp("ns"), "timestamp without time zone"),
        (pa.timestamp("us", tz="UTC"), "timestamp with time zone"),
        (pa.decimal128(10, 2), "numeric(10,2)"),
        (pa.list_(pa.float32(), 384), "vector(384)"),
        (pa.list_(pa.string()), "text[]"),
    ],
)
def test_new_tables_get_the_natural_postgres_type(arrow_type: pa.DataType, ddl: str) -> None:
    assert ddl_type_for(pa.field("c", arrow_type)) == ddl


def test_arrow_type_without_postgres_equivalent_is_refused_by_name() -> None:
    with pytest.raises(ThelookError, match=r"'attributes'.*struct"):
        ddl_type_for(pa.field("attributes", pa.struct([("a", pa.int8())])))
