"""Damaged copies of a generated data set, for the pipeline's negative tests.

Each kind breaks one rule that the pipeline must enforce before anything reaches PostgreSQL:

- `wrong_type`: one column stored with the wrong Arrow type (numbers or timestamps as text), as a
  hand-edited CSV-to-Parquet conversion would produce; default column: the table's first float
  column (e.g. order_items.sale_price), else its first timestamp, else its primary key.
- `null_key`: the primary key is NULL in some rows.
- `duplicate_key`: some rows take the primary key of another row (same id, different content), so
  the table has duplicate ids and the same row count.
- `orphan_fk`: a foreign key (default: the table's first, e.g. order_items.order_id) points to ids
  that do not exist in the parent table.
- `truncated`: the Parquet file is cut in the middle, as by a crashed copy; it no longer opens.
- `future_timestamp`: a timestamp column (default: created_at, else the table's first timestamp) moves
  to the year 2099 in some rows, as from a clock set wrong; loaded, such a row would move the table's
  watermark past every real row to come.
- `empty`: the file keeps its schema and loses every row, as an export that failed quietly would.

Only `table` is damaged; the other tables are copied unchanged so that `out_dir` is a complete
raw-data folder. `src_dir` and `out_dir` may be the same folder (the damaged file then replaces the
good one, atomically).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.synth.generator import write_parquet_atomically
from thelook_ecommerce_analysis.synth.schema import FOREIGN_KEYS, PRIMARY_KEYS, TABLES

CORRUPTION_KINDS: tuple[str, ...] = (
    "wrong_type",
    "null_key",
    "duplicate_key",
    "orphan_fk",
    "truncated",
    "future_timestamp",
    "empty",
)
DEFAULT_FRACTION = 0.01
FUTURE_YEAR = 2099


def write_corrupt_variant(
    src_dir: Path,
    out_dir: Path,
    kind: str,
    table: str,
    *,
    column: str | None = None,
    fraction: float = DEFAULT_FRACTION,
    seed: int = 0,
) -> Path:
    """Copy the seven tables from `src_dir` to `out_dir` with `table` damaged by `kind`; return its path.

    `column` picks the column for wrong_type, orphan_fk and future_timestamp (defaults above);
    `fraction` is the share of rows damaged by null_key, duplicate_key, orphan_fk and future_timestamp
    (at least one row); `seed` picks them.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    _check_request(src_dir, kind, table, column)
    out_dir.mkdir(parents=True, exist_ok=True)
    if src_dir.resolve() != out_dir.resolve():
        for name in TABLES:
            shutil.copyfile(src_dir / f"{name}.parquet", out_dir / f"{name}.parquet")
    target = out_dir / f"{table}.parquet"
    if kind == "truncated":
        _truncate(target)
        return target
    rng = np.random.default_rng(seed)
    data = pq.read_table(target)
    damage = {
        "wrong_type": lambda: _wrong_type(data, column or _default_wrong_type_column(data)),
        "null_key": lambda: _null_key(data, PRIMARY_KEYS[table], _pick_rows(rng, data.num_rows, fraction)),
        "duplicate_key": lambda: _duplicate_key(data, PRIMARY_KEYS[table], rng, fraction),
        "orphan_fk": lambda: _orphan_fk(data, column or next(iter(FOREIGN_KEYS[table])), rng, fraction),
        "future_timestamp": lambda: _future_timestamp(
            data, _timestamp_column(data, table, column), _pick_rows(rng, data.num_rows, fraction)
        ),
        "empty": lambda: data.slice(0, 0),
    }
    write_parquet_atomically(damage[kind](), target)
    return target


def _check_request(src_dir: Path, kind: str, table: str, column: str | None) -> None:
    if kind not in CORRUPTION_KINDS:
        raise ThelookError(f"unknown corruption kind {kind!r}; choose one of {', '.join(CORRUPTION_KINDS)}")
    if table not in TABLES:
        raise ThelookError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    missing = [name for name in TABLES if not (src_dir / f"{name}.parquet").is_file()]
    if missing:
        files = ", ".join(f"{name}.parquet" for name in missing)
        raise ThelookError(f"{src_dir} lacks {files}; run `thelook generate` first")
    if kind == "orphan_fk":
        foreign_keys = FOREIGN_KEYS[table]
        if not foreign_keys:
            raise ThelookError(f"{table} has no foreign key to orphan; pick e.g. --table order_items")
        if column is not None and column not in foreign_keys:
            raise ThelookError(
                f"{table}.{column} is not a foreign key; choose one of {', '.join(foreign_keys)}"
            )


def _pick_rows(rng: np.random.Generator, count: int, fraction: float) -> np.ndarray:
    return rng.choice(count, size=min(count, max(1, round(fraction * count))), replace=False)


def _replace_column(data: pa.Table, column: str, values: pa.Array) -> pa.Table:
    position = data.schema.get_field_index(column)
    return data.set_column(position, pa.field(column, values.type), values)


def _default_wrong_type_column(data: pa.Table) -> str:
    for wanted in (pa.types.is_floating, pa.types.is_timestamp):
        for field in data.schema:
            if wanted(field.type):
                return field.name
    return data.schema.names[0]


def _wrong_type(data: pa.Table, column: str) -> pa.Table:
    if column not in data.column_names:
        raise ThelookError(f"no column {column!r} to retype; choose one of {', '.join(data.column_names)}")
    return _replace_column(data, column, data.column(column).cast(pa.string()).combine_chunks())


def _row_mask(count: int, rows: np.ndarray) -> pa.BooleanArray:
    mask = np.zeros(count, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def _null_key(data: pa.Table, key: str, rows: np.ndarray) -> pa.Table:
    return _replace_column(
        data,
        key,
        pc.if_else(
            _row_mask(data.num_rows, rows),
            pa.nulls(data.num_rows, pa.int64()),
            data.column(key).combine_chunks(),
        ),
    )


def _duplicate_key(data: pa.Table, key: str, rng: np.random.Generator, fraction: float) -> pa.Table:
    """Give some rows the key of other rows (a row never takes its own key, so ids really repeat)."""
    if data.num_rows < 2:
        raise ThelookError(f"a table of {data.num_rows} row(s) cannot have a duplicate key")
    rows = _pick_rows(rng, data.num_rows - 1, fraction)
    keys = data.column(key).to_numpy().copy()
    keys[rows] = keys[rows + 1]
    return _replace_column(data, key, pa.array(keys))


def _orphan_fk(data: pa.Table, column: str, rng: np.random.Generator, fraction: float) -> pa.Table:
    """Point some foreign keys past the largest id in use, where no parent row exists."""
    rows = _pick_rows(rng, data.num_rows, fraction)
    original = data.column(column).combine_chunks()
    values = pc.fill_null(original, 0).to_numpy().copy()
    values[rows] = (pc.max(original).as_py() or 0) + 1_000_000 + np.arange(len(rows))
    nulls = original.is_null().to_numpy(zero_copy_only=False).copy()
    nulls[rows] = False
    return _replace_column(data, column, pa.array(values, mask=nulls))


def _timestamp_column(data: pa.Table, table: str, column: str | None) -> str:
    """`column` if it is a timestamp column of `table`; by default created_at, else the first one."""
    timestamps = [field.name for field in data.schema if pa.types.is_timestamp(field.type)]
    if not timestamps:
        raise ThelookError(
            f"{table} has no timestamp column to move into the future; pick e.g. --table orders"
        )
    if column is None:
        return "created_at" if "created_at" in timestamps else timestamps[0]
    if column not in timestamps:
        raise ThelookError(
            f"{table}.{column} is not a timestamp column; choose one of {', '.join(timestamps)}"
        )
    return column


def _future_timestamp(data: pa.Table, column: str, rows: np.ndarray) -> pa.Table:
    """The picked rows' `column` becomes noon of 1 January FUTURE_YEAR (UTC)."""
    original = data.column(column).combine_chunks()
    moment = pa.scalar(
        datetime(FUTURE_YEAR, 1, 1, 12, tzinfo=UTC if original.type.tz else None), original.type
    )
    return _replace_column(data, column, pc.if_else(_row_mask(data.num_rows, rows), moment, original))


def _truncate(path: Path) -> None:
    content = path.read_bytes()
    temporary = path.with_name(f".{path.name}.truncated.tmp")
    temporary.write_bytes(content[: len(content) // 2])
    temporary.replace(path)
