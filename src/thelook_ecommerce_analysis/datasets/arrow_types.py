"""Arrow <-> PostgreSQL types for binary COPY through pgpq.

PostgreSQL's binary COPY reads every field with the receive function of the TARGET column's type and
trusts the bytes: an int64 sent into an `integer` column is rejected, nanosecond timestamps mean nothing
to it, and pgpq cannot encode dictionaries, nanoseconds or date64 at all. So every batch is cast, column
by column, to the exact Arrow type whose pgpq encoding the target column accepts, and a cast that cannot
succeed fails here with the table, column and both types named instead of a bare server error later.

Types pgpq cannot encode for their column (pgvector's `vector`, uuid, json, enums, domains, ...) are
staged in a type it can (`real[]` for vectors, `text` for the rest) and cast by PostgreSQL while merging.
"""

from __future__ import annotations

from dataclasses import dataclass

import pgpq
import pyarrow as pa
import pyarrow.compute as pc
from pgpq import encoders, schema

from thelook_ecommerce_analysis.errors import ThelookError

# PostgreSQL base types (pg_type.typname) whose binary input pgpq writes directly, by Arrow type.
_NATIVE_ARROW_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "bytea": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "interval": pa.duration("us"),
    "jsonb": pa.string(),
}
_LARGEST_DECIMAL128_PRECISION = 38
_NUMERIC_TYPMOD_OFFSET = 4  # PostgreSQL stores numeric(p, s) as ((p << 16) | s) + 4


@dataclass(frozen=True)
class TargetColumn:
    """One column of the target table as the catalog describes it (pg_attribute + pg_type)."""

    name: str
    sql_type: str  # format_type(): e.g. 'numeric(10,2)', 'vector(384)', 'timestamp with time zone'
    type_name: str  # pg_type.typname: 'numeric', 'vector', 'timestamptz', '_int4' for int4[]
    element_type_name: str | None  # for arrays: the element's typname
    typmod: int


@dataclass(frozen=True)
class ColumnPlan:
    """How one source column reaches its target column.

    `arrow_type` is what each batch is cast to before encoding; `staging_sql_type` is the column type
    that accepts pgpq's encoding of it; `sql_cast` is the target type PostgreSQL must still cast the
    staged value to, or None when COPY can write straight into the target column.
    """

    target: TargetColumn
    arrow_type: pa.DataType
    staging_sql_type: str
    sql_cast: str | None

    @property
    def name(self) -> str:
        return self.target.name


def _numeric_precision_scale(typmod: int) -> tuple[int, int] | None:
    if typmod < _NUMERIC_TYPMOD_OFFSET:
        return None  # unconstrained numeric
    packed = typmod - _NUMERIC_TYPMOD_OFFSET
    return (packed >> 16) & 0xFFFF, packed & 0xFFFF


def _numeric_arrow_type(column: TargetColumn, source: pa.DataType) -> pa.DataType | None:
    """decimal128 with the column's precision and scale; None when only a text round trip is exact
    (floats into an unconstrained numeric, precisions beyond decimal128)."""
    constrained = _numeric_precision_scale(column.typmod)
    if constrained is not None:
        precision, scale = constrained
        return pa.decimal128(precision, scale) if precision <= _LARGEST_DECIMAL128_PRECISION else None
    if pa.types.is_decimal(source) and source.precision <= _LARGEST_DECIMAL128_PRECISION:
        return pa.decimal128(source.precision, source.scale)
    if pa.types.is_integer(source):
        return pa.decimal128(20, 0)  # every 64-bit integer fits
    return None


def plan_column(column: TargetColumn, source: pa.DataType) -> ColumnPlan:
    """The cast and staging route for a source column of type `source` into `column`."""
    if column.type_name == "vector":
        # pgpq writes lists as PostgreSQL arrays; pgvector casts real[] to vector (its binary input
        # format differs from an array's, so COPY cannot write a vector column directly).
        return ColumnPlan(column, pa.list_(pa.float32()), "real[]", column.sql_type)
    if column.type_name == "numeric":
        decimal = _numeric_arrow_type(column, source)
        if decimal is not None:
            return ColumnPlan(column, decimal, column.sql_type, None)
    elif column.type_name in _NATIVE_ARROW_TYPES:
        return ColumnPlan(column, _NATIVE_ARROW_TYPES[column.type_name], column.sql_type, None)
    elif column.element_type_name in _NATIVE_ARROW_TYPES:
        element = _NATIVE_ARROW_TYPES[column.element_type_name]
        return ColumnPlan(column, pa.list_(element), column.sql_type, None)
    return ColumnPlan(column, pa.string(), "text", column.sql_type)


def plan_columns(source: pa.Schema, targets: list[TargetColumn], relation: str) -> tuple[ColumnPlan, ...]:
    """One plan per source column, in source order; a source column the target lacks is an error."""
    by_name = {column.name: column for column in targets}
    missing = [name for name in source.names if name not in by_name]
    if missing:
        raise ThelookError(
            f"cannot load {relation}: column(s) {', '.join(missing)} of the input are not in the table "
            f"(it has {', '.join(by_name)}); add them to the table or drop them from the input"
        )
    return tuple(plan_column(by_name[field.name], field.type) for field in source)


def _is_coarser_time_unit(source: pa.DataType, target: pa.DataType) -> bool:
    """True for nanoseconds into microseconds: truncating below a microsecond is what PostgreSQL,
    whose timestamps stop at microseconds, would do anyway."""
    time_types = (pa.types.is_timestamp, pa.types.is_time, pa.types.is_duration)
    same_kind = any(is_kind(source) and is_kind(target) for is_kind in time_types)
    return same_kind and source.unit == "ns" and target.unit == "us"


def cast_column(values: pa.Array, plan: ColumnPlan, relation: str) -> pa.Array:
    """`values` as `plan.arrow_type`, or one error naming the column and both types."""
    target = plan.arrow_type
    if values.type == target:
        return values
    try:
        return pc.cast(values, target, safe=not _is_coarser_time_unit(values.type, target))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise ThelookError(
            f"cannot load {relation}.{plan.name}: source type {values.type} does not convert to "
            f"{plan.target.sql_type} (Arrow {target}): {reason}; fix the data or the column's type"
        ) from None


def cast_batch(batch: pa.RecordBatch, plans: tuple[ColumnPlan, ...], relation: str) -> pa.RecordBatch:
    """The batch with every column cast to its plan's Arrow type, columns in plan order."""
    try:
        arrays = [cast_column(batch.column(plan.name), plan, relation) for plan in plans]
    except KeyError as error:
        raise ThelookError(
            f"cannot load {relation}: a batch lacks column {error}; every batch must have the stream's schema"
        ) from None
    return pa.RecordBatch.from_arrays(arrays, names=[plan.name for plan in plans])


def encoder_for(plans: tuple[ColumnPlan, ...]) -> pgpq.ArrowToPostgresBinaryEncoder:
    """pgpq's encoder for batches cast by `cast_batch`; jsonb columns need its Jsonb output, whose
    binary form carries a version byte that plain text lacks."""
    arrow_schema = pa.schema([pa.field(plan.name, plan.arrow_type) for plan in plans])
    builders = {
        field.name: encoders.StringEncoderBuilder.new_with_output(field, schema.Jsonb())
        if plan.target.type_name == "jsonb" and plan.sql_cast is None
        else pgpq.ArrowToPostgresBinaryEncoder.infer_encoder(field)
        for field, plan in zip(arrow_schema, plans, strict=True)
    }
    return pgpq.ArrowToPostgresBinaryEncoder.new_with_encoders(arrow_schema, builders)


def _scalar_ddl_type(arrow_type: pa.DataType) -> str | None:
    checks: list[tuple[bool, str]] = [
        (pa.types.is_boolean(arrow_type), "boolean"),
        (arrow_type in (pa.int8(), pa.int16(), pa.uint8()), "smallint"),
        (arrow_type in (pa.int32(), pa.uint16()), "integer"),
        (arrow_type in (pa.int64(), pa.uint32(), pa.uint64()), "bigint"),
        (arrow_type in (pa.float16(), pa.float32()), "real"),
        (pa.types.is_float64(arrow_type), "double precision"),
        (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type), "text"),
        (pa.types.is_string_view(arrow_type), "text"),
        (pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type), "bytea"),
        (pa.types.is_fixed_size_binary(arrow_type), "bytea"),
        (pa.types.is_date(arrow_type), "date"),
        (pa.types.is_time(arrow_type), "time"),
        (pa.types.is_duration(arrow_type), "interval"),
    ]
    return next((ddl for matches, ddl in checks if matches), None)


def ddl_type_for(field: pa.Field) -> str:
    """The PostgreSQL column type for a new table column holding `field`: fixed-size float lists
    become pgvector's vector(n), other lists arrays, dictionaries their value type."""
    arrow_type = field.type
    if pa.types.is_dictionary(arrow_type):
        return ddl_type_for(pa.field(field.name, arrow_type.value_type))
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_fixed_size_list(arrow_type) and pa.types.is_floating(arrow_type.value_type):
        return f"vector({arrow_type.list_size})"
    if (
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
    ):
        return ddl_type_for(pa.field(field.name, arrow_type.value_type)) + "[]"
    scalar = _scalar_ddl_type(arrow_type)
    if scalar is None:
        raise ThelookError(
            f"cannot create a column for {field.name!r}: Arrow type {arrow_type} has no PostgreSQL "
            "equivalent here; cast it to a plain type first or create the table yourself"
        )
    return scalar
