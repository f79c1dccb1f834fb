"""Two snapshots of one seed are two moments of one history, as a cron-run incremental ETL sees them.

EARLIER and LATER are cut from the same timeline: every id of EARLIER is in LATER and means the same
entity, immutable columns are unchanged, statuses only move forward, and what LATER adds was created
after EARLIER.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.synth.conftest import EARLIER, LATER, SNAPSHOT_USERS, TABLES, scalar
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.synth import HORIZON, effective_as_of, generate

KEYS = {table: "order_id" if table == "orders" else "id" for table in TABLES}
# Columns that may change between snapshots: the order's progress; everything else is immutable.
MUTABLE = {
    "orders": {"status", "shipped_at", "delivered_at", "returned_at"},
    "order_items": {"status", "shipped_at", "delivered_at", "returned_at"},
    "inventory_items": {"sold_at"},
}
STATUS_RANK = (
    "CASE {} WHEN 'Processing' THEN 0 WHEN 'Shipped' THEN 1 WHEN 'Complete' THEN 2 WHEN 'Returned' THEN 3 END"
)


@pytest.fixture(scope="module")
def both(snapshot_dirs: tuple[Path, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB with views early_<table> and late_<table>."""
    connection = duckdb.connect()
    for prefix, folder in zip(("early", "late"), snapshot_dirs, strict=True):
        for table in TABLES:
            connection.execute(
                f"CREATE VIEW {prefix}_{table} AS SELECT * FROM read_parquet('{folder / table}.parquet')"
            )
    yield connection
    connection.close()


@pytest.mark.parametrize("table", TABLES)
def test_every_earlier_row_is_in_the_later_snapshot_unchanged(
    both: duckdb.DuckDBPyConnection, table: str
) -> None:
    columns = [name for name, *_ in both.execute(f"DESCRIBE early_{table}").fetchall()]
    immutable = ", ".join(f"e.{c}" for c in columns if c not in MUTABLE.get(table, set()))
    later = immutable.replace("e.", "l.")
    key = KEYS[table]
    early_rows = scalar(both, f"SELECT count(*) FROM early_{table}")
    assert early_rows > 0
    missing_or_changed = scalar(
        both,
        f"SELECT count(*) FROM early_{table} e LEFT JOIN late_{table} l USING ({key}) "
        f"WHERE ({immutable}) IS DISTINCT FROM ({later})",
    )
    assert missing_or_changed == 0


@pytest.mark.parametrize("table", ["users", "orders", "order_items", "inventory_items", "events"])
def test_the_later_snapshot_adds_rows_created_after_the_earlier_date(
    both: duckdb.DuckDBPyConnection, table: str
) -> None:
    key = KEYS[table]
    added = f"FROM late_{table} l WHERE l.{key} NOT IN (SELECT {key} FROM early_{table})"
    assert scalar(both, f"SELECT count(*) {added}") > 0
    created_before = scalar(
        both, f"SELECT count(*) {added} AND l.created_at < TIMESTAMPTZ '{EARLIER} 23:59:59.999999+00'"
    )
    if table == "order_items":  # an item joins the snapshot with its order, which may come up to 4 h later
        created_before = scalar(
            both,
            f"SELECT count(*) {added} AND (SELECT created_at FROM late_orders o "
            f"WHERE o.order_id = l.order_id) <= TIMESTAMPTZ '{EARLIER} 23:59:59.999999+00'",
        )
    assert created_before == 0


@pytest.mark.parametrize("table", ["orders", "order_items"])
def test_statuses_only_move_forward(both: duckdb.DuckDBPyConnection, table: str) -> None:
    key = KEYS[table]
    pairs = f"FROM early_{table} e JOIN late_{table} l USING ({key})"
    backwards = scalar(
        both,
        f"SELECT count(*) {pairs} WHERE (e.status = 'Cancelled') <> (l.status = 'Cancelled') "
        f"OR {STATUS_RANK.format('l.status')} < {STATUS_RANK.format('e.status')}",
    )
    assert backwards == 0
    assert scalar(both, f"SELECT count(*) {pairs} WHERE e.status <> l.status") > 0
    timestamps_lost = scalar(
        both,
        f"SELECT count(*) {pairs} "
        "WHERE (e.shipped_at IS NOT NULL AND l.shipped_at IS DISTINCT FROM e.shipped_at) "
        "OR (e.delivered_at IS NOT NULL AND l.delivered_at IS DISTINCT FROM e.delivered_at) "
        "OR (e.returned_at IS NOT NULL AND l.returned_at IS DISTINCT FROM e.returned_at)",
    )
    assert timestamps_lost == 0


def test_nothing_in_a_snapshot_happens_after_its_date(snapshot_dirs: tuple[Path, Path]) -> None:
    earlier_dir, _ = snapshot_dirs
    cutoff = f"TIMESTAMPTZ '{EARLIER} 23:59:59.999999+00'"
    connection = duckdb.connect()
    checks = {
        "users": ["created_at"],
        "orders": ["created_at", "shipped_at", "delivered_at", "returned_at"],
        "order_items": ["created_at", "shipped_at", "delivered_at", "returned_at"],
        "inventory_items": ["created_at", "sold_at"],
        "events": ["created_at"],
    }
    for table, columns in checks.items():
        late = " OR ".join(f"{column} > {cutoff}" for column in columns)
        rows = f"read_parquet('{earlier_dir / table}.parquet')"
        assert connection.execute(f"SELECT count(*) FROM {rows} WHERE {late}").fetchone()[0] == 0, table


def test_stock_sold_after_the_date_is_still_unsold_in_the_snapshot(both: duckdb.DuckDBPyConnection) -> None:
    sold_later = scalar(
        both,
        "SELECT count(*) FROM early_inventory_items e JOIN late_inventory_items l USING (id) "
        "WHERE e.sold_at IS NULL AND l.sold_at IS NOT NULL",
    )
    assert sold_later > 0


def test_snapshots_hold_only_part_of_the_timeline(snapshot_dirs: tuple[Path, Path]) -> None:
    connection = duckdb.connect()
    early, late = (
        connection.execute(f"SELECT count(*) FROM read_parquet('{folder / 'users'}.parquet')").fetchone()[0]
        for folder in snapshot_dirs
    )
    assert 0 < early < late < SNAPSHOT_USERS


def test_as_of_is_clipped_to_the_horizon_and_refused_before_2019() -> None:
    assert effective_as_of(date(2030, 1, 1)) == HORIZON
    assert effective_as_of(LATER) == LATER
    with pytest.raises(ThelookError, match="before the data starts"):
        effective_as_of(date(2018, 12, 31))


@pytest.mark.parametrize(("users", "seed"), [(0, 1), (-5, 1), (10, -1)])
def test_bad_sizes_are_refused_in_one_line(tmp_path: Path, users: int, seed: int) -> None:
    with pytest.raises(ThelookError) as raised:
        generate(tmp_path, users=users, seed=seed, progress=False)
    assert "\n" not in str(raised.value)
    assert not list(tmp_path.iterdir())


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    occupied = tmp_path / "raw"
    occupied.write_text("not a folder")
    with pytest.raises(ThelookError, match="is a file"):
        generate(occupied, users=10, progress=False)
