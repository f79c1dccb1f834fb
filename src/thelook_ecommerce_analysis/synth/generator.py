"""`generate`: write one as-of snapshot of a seed's theLook timeline as seven Parquet files.

The files are what the pipeline reads from data/01_raw/, one per table, replaced atomically so that a
job starting while the generator runs sees either the old file or the new one, never half a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.synth import rules
from thelook_ecommerce_analysis.synth.schema import TABLE_SCHEMAS, TABLES
from thelook_ecommerce_analysis.synth.snapshot import Snapshot
from thelook_ecommerce_analysis.synth.timeline import build_timeline, end_of_day_us

PARQUET_COMPRESSION = "zstd"
DEFAULT_USERS = 100_000
DEFAULT_SEED = 42


def effective_as_of(as_of: date | None) -> date:
    """The snapshot date: `as_of` (default today, UTC) clipped to the timeline's horizon.

    Raises ThelookError for a date before the timeline starts, where there is nothing to cut.
    """
    day = as_of if as_of is not None else datetime.now(UTC).date()
    if isinstance(day, datetime):
        day = day.date()
    if day < rules.TIMELINE_START:
        raise ThelookError(
            f"--as-of {day.isoformat()} is before the data starts ({rules.TIMELINE_START.isoformat()}); "
            f"pick a date from {rules.TIMELINE_START.isoformat()} to {rules.HORIZON.isoformat()}"
        )
    return min(day, rules.HORIZON)


def check_size(users: int, seed: int) -> None:
    if users <= 0:
        raise ThelookError(f"--users {users} is not a positive number of users; use e.g. --users 100000")
    if seed < 0:
        raise ThelookError(f"--seed {seed} is negative; use a seed >= 0")


def generate(
    out_dir: Path,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Write `<out_dir>/<table>.parquet` for the seven theLook tables; return rows per table.

    `users` and `seed` fix the whole timeline (users counts sign-ups up to the horizon, 2026-12-31);
    `as_of` (default today, clipped to the horizon) picks the snapshot: what existed by the end of
    that day, UTC.
    """
    check_size(users, seed)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ThelookError(f"--out {out_dir} is a file; give a folder for the seven Parquet files")
    cutoff = end_of_day_us(effective_as_of(as_of))
    snapshot = Snapshot(build_timeline(users, seed, progress), cutoff)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        table: build_and_write(table, snapshot.columns(table), out_dir / f"{table}.parquet", progress)
        for table in TABLES
    }


def build_and_write(
    table: str, columns: dict[str, Callable[[], pa.Array]], path: Path, progress: bool
) -> int:
    """Build a table column by column and write it, with one progress step per column and one for the
    write; return its row count. Only one table's columns are in memory at a time."""
    with tqdm(total=len(columns) + 1, desc=f"{table:<20}", unit="step", disable=not progress) as bar:
        arrays = []
        for build in columns.values():
            arrays.append(build())
            bar.update()
        arrow_table = pa.Table.from_arrays(arrays, schema=TABLE_SCHEMAS[table])
        write_parquet_atomically(arrow_table, path)
        bar.update()
    return arrow_table.num_rows


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write to a hidden temp file beside `path`, then rename over it: readers never see half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, temporary, compression=PARQUET_COMPRESSION)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
