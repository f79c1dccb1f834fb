"""Running a checked query as the reader, with the answer bounded in bytes as well as rows.

The guard's LIMIT caps rows, not bytes: a few rows of huge strings (`repeat('x', 100000000)`) would
otherwise be read whole into the app's persistent process. The rows are streamed from the server one at
a time (psycopg's `stream` in libpq's single-row mode; it always uses the extended protocol, so the
server still refuses more than one statement) and reading stops, cancelling the query, as soon as the
answer outgrows its budget.
The cap can be passed by at most one row, whose size PostgreSQL itself bounds (1 GB a value, and the
reader role's `work_mem` and `temp_file_limit` bound what it takes to build it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from thelook_ecommerce_analysis.errors import ThelookError

FIXED_VALUE_BYTES = 8
"""What a number, a date or a NULL is counted as: their size does not depend on the data."""


class ResultTooLargeError(ThelookError):
    """The answer grew past the byte cap; the query was cancelled and nothing of it is kept."""

    def __init__(self, max_bytes: int, rows_read: int) -> None:
        super().__init__(
            f"the answer is larger than {format_bytes(max_bytes)} (stopped after {rows_read:,} rows); "
            "ask for fewer rows or shorter columns"
        )
        self.max_bytes = max_bytes
        self.rows_read = rows_read


def format_bytes(count: int) -> str:
    """`16 MB`, `512 kB`: the size in the unit people read."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def value_bytes(value: Any) -> int:
    """An estimate of what one value weighs once read: text and bytes by their length, containers by
    their items, everything else a fixed amount."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(map(value_bytes, value)) + FIXED_VALUE_BYTES
    if isinstance(value, dict):
        return sum(value_bytes(key) + value_bytes(item) for key, item in value.items()) + FIXED_VALUE_BYTES
    return FIXED_VALUE_BYTES


def fetch_bounded(connection: psycopg.Connection, sql: str, max_bytes: int) -> list[Sequence[Any]]:
    """The rows of `sql`, read in chunks; raises ResultTooLargeError (after cancelling the query) when
    the rows read so far weigh more than `max_bytes`. The column names come from validation, which
    described the same statement (a streamed empty result carries none)."""
    rows: list[Sequence[Any]] = []
    total = 0
    with connection.cursor() as cursor:
        # Row by row: libpq's chunked mode would gather a whole chunk of huge rows before the first
        # check; the guard caps an answer at a few thousand rows, so one result object a row costs little.
        stream = cursor.stream(sql)
        try:
            for row in stream:
                rows.append(row)
                total += sum(map(value_bytes, row))
                if total > max_bytes:
                    raise ResultTooLargeError(max_bytes, len(rows))
        finally:
            stream.close()  # an early stop cancels the query on the server and drains the connection
    return rows
