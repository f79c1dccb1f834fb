"""Row-by-row comparison of two result tables that share a key, with a tolerance for floating point."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

RELATIVE_TOLERANCE = 1e-9
# Durations are summed as whole seconds by the pipeline and exactly by the reference: a difference of up
# to half a second per row, far below this absolute tolerance in hours or days.
ABSOLUTE_TOLERANCE = 1e-3


def _rows_by_key(table: pa.Table, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = table.to_pylist()
    indexed = {tuple(row[key] for key in keys): row for row in rows}
    assert len(indexed) == len(rows), f"duplicate keys {keys} in a result of {len(rows)} rows"
    return indexed


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, float) or isinstance(expected, float):
        return math.isclose(actual, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
    return actual == expected


def assert_same_rows(actual: pa.Table, expected: pa.Table, keys: list[str]) -> None:
    """Same columns, same keys and, for every key, the same values (floats within tolerance)."""
    assert sorted(actual.column_names) == sorted(expected.column_names)
    actual_rows, expected_rows = _rows_by_key(actual, keys), _rows_by_key(expected, keys)
    assert actual_rows.keys() == expected_rows.keys(), (
        f"keys only in pipeline: {sorted(actual_rows.keys() - expected_rows.keys())[:5]}; "
        f"only in reference: {sorted(expected_rows.keys() - actual_rows.keys())[:5]}"
    )
    mismatches = [
        (key, column, actual_rows[key][column], expected_rows[key][column])
        for key in expected_rows
        for column in expected.column_names
        if not _equal(actual_rows[key][column], expected_rows[key][column])
    ]
    assert not mismatches, (
        f"{len(mismatches)} differing values, e.g. (key, column, pipeline, reference): {mismatches[:5]}"
    )
