"""upsert_batches against the real embedded PostgreSQL: counts, writes avoided, types, keys, atomicity."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from tests.datasets.conftest import SCHEMA, rows_of, write_counters
from thelook_ecommerce_analysis.datasets import MERGE_STATEMENTS, UpsertResult, upsert_batches
from thelook_ecommerce_analysis.errors import ThelookError

ROWS = 2_000
BATCH = 500


def order_items(rows: int = ROWS, first_id: int = 1) -> pa.Table:
    """A small order_items-shaped table; values depend only on the id, so re-making it is a no-op."""
    ids = np.arange(first_id, first_id + rows, dtype=np.int64)
    return pa.table(
        {
            "id": ids,
            "order_id": (ids // 2).astype(np.int32),
            "status": pa.array(np.array(["Complete", "Shipped", "Returned"])[ids % 3]).dictionary_encode(),
            "created_at": pa.array(ids * 60_000_000_000 + 1_600_000_000_000_000_000, pa.timestamp("ns")),
            "sale_price": ids * 0.5,
        }
    )


def upsert(connection: psycopg.Connection, table: str, data: pa.Table, **options) -> UpsertResult:
    return upsert_batches(connection, data.to_reader(max_chunksize=BATCH), SCHEMA, table, ["id"], **options)


def with_prices(data: pa.Table, prices: np.ndarray) -> pa.Table:
    return data.set_column(data.schema.get_field_index("sale_price"), "sale_price", pa.array(prices))


def checksum(connection: psycopg.Connection, table: str) -> str | None:
    statement = sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} AS t").format(
        sql.Identifier(SCHEMA, table)
    )
    return connection.execute(statement).fetchone()[0]


def table_exists(connection: psycopg.Connection, table: str) -> bool:
    return connection.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.{table}",)).fetchone()[0]


def test_first_load_creates_the_table_with_its_key_and_counts_every_row(connection, table_name) -> None:
    result = upsert(connection, table_name, order_items())
    assert (result.inserted, result.updated, result.unchanged, result.deleted) == (ROWS, 0, 0, 0)
    key = connection.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (f"{SCHEMA}.{table_name}",),
    ).fetchall()
    assert key == [("id",)]
    types = dict(
        connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            (SCHEMA, table_name),
        ).fetchall()
    )
    assert types == {
        "id": "bigint",
        "order_id": "integer",
        "status": "text",
        "created_at": "timestamp without time zone",
        "sale_price": "double precision",
    }
    assert rows_of(connection, table_name)[0] == (1, 0, "Shipped", dt.datetime(2020, 9, 13, 12, 27, 40), 0.5)


@pytest.mark.parametrize("merge_statement", MERGE_STATEMENTS)
def test_unchanged_rerun_writes_no_row(connection, table_name, merge_statement) -> None:
    upsert(connection, table_name, order_items())
    before = write_counters(connection, table_name)
    result = upsert(connection, table_name, order_items(), merge_statement=merge_statement)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, ROWS)
    assert write_counters(connection, table_name) == before


@pytest.mark.parametrize("merge_statement", MERGE_STATEMENTS)
def test_ten_percent_changed_updates_exactly_those_rows_and_inserts_new_ones(
    connection, table_name, merge_statement
) -> None:
    original = order_items()
    upsert(connection, table_name, original)
    before_inserted, before_updated, _ = write_counters(connection, table_name)
    prices = original["sale_price"].to_numpy().copy()
    changed = np.arange(ROWS) % 10 == 0
    prices[changed] += 1.0
    new_rows = order_items(rows=50, first_id=ROWS + 1)
    data = pa.concat_tables([with_prices(original, prices), new_rows])
    result = upsert(connection, table_name, data, merge_statement=merge_statement)
    assert (result.inserted, result.updated, result.unchanged) == (50, ROWS // 10, ROWS - ROWS // 10)
    inserted, updated, _ = write_counters(connection, table_name)
    assert (inserted - before_inserted, updated - before_updated) == (50, ROWS // 10)
    stored_prices = [row[4] for row in rows_of(connection, table_name)]
    assert stored_prices == [*prices.tolist(), *new_rows["sale_price"].to_pylist()]


def test_both_merge_statements_leave_the_same_table(connection) -> None:
    first, second = order_items(), order_items(rows=300, first_id=ROWS - 99)
    second = with_prices(second, second["sale_price"].to_numpy() * 2)
    outcomes = {}
    for merge_statement in MERGE_STATEMENTS:
        table = f"t_{merge_statement}_{uuid.uuid4().hex[:6]}"
        upsert(connection, table, first)
        result = upsert(connection, table, second, merge_statement=merge_statement)
        outcomes[merge_statement] = (
            result.inserted,
            result.updated,
            result.unchanged,
            checksum(connection, table),
        )
    assert outcomes["merge"] == outcomes["insert_on_conflict"]
    assert outcomes["merge"][:3] == (200, 100, 0)


def test_delete_missing_removes_rows_absent_from_the_input(connection, table_name) -> None:
    upsert(connection, table_name, order_items())
    result = upsert(connection, table_name, order_items(rows=ROWS - 300), delete_missing=True)
    assert (result.inserted, result.updated, result.unchanged, result.deleted) == (0, 0, ROWS - 300, 300)
    assert connection.execute(
        sql.SQL("SELECT count(*), max(id) FROM {}").format(sql.Identifier(SCHEMA, table_name))
    ).fetchone() == (ROWS - 300, ROWS - 300)


def test_without_delete_missing_absent_rows_stay(connection, table_name) -> None:
    upsert(connection, table_name, order_items())
    result = upsert(connection, table_name, order_items(rows=10))
    assert result.deleted == 0
    assert len(rows_of(connection, table_name)) == ROWS


def test_excluded_columns_are_written_on_insert_only(connection, table_name) -> None:
    original = order_items(rows=10)
    upsert(connection, table_name, original)
    later = original.set_column(3, "created_at", pa.array([dt.datetime(2030, 1, 1)] * 10, pa.timestamp("us")))
    only_excluded_changed = upsert(connection, table_name, later, exclude_from_update=["created_at"])
    assert (only_excluded_changed.updated, only_excluded_changed.unchanged) == (0, 10)
    both_changed = upsert(
        connection, table_name, with_prices(later, np.full(10, 9.0)), exclude_from_update=["created_at"]
    )
    assert both_changed.updated == 10
    stored = rows_of(connection, table_name)
    assert [row[3] for row in stored] == original["created_at"].cast(pa.timestamp("us")).to_pylist()
    assert {row[4] for row in stored} == {9.0}


def test_target_types_drive_the_casts(connection, table_name) -> None:
    connection.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint PRIMARY KEY, qty smallint, amount numeric(10,2),"
            " naive_at timestamp, aware_at timestamptz, naive_into_tz timestamptz,"
            " aware_into_naive timestamp, day date, label varchar(10), doc jsonb, tag uuid,"
            " embedding vector(3), sizes integer[], note text DEFAULT 'n/a')"
        ).format(sql.Identifier(SCHEMA, table_name))
    )
    noon_utc = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    source = pa.table(
        {
            "id": pa.array([1, 2], pa.int32()),
            "qty": pa.array([3, 4], pa.int64()),
            "amount": pa.array([1.25, 99.5]),
            "naive_at": pa.array([1_704_110_400_123_456_789] * 2, pa.timestamp("ns")),
            "aware_at": pa.array([noon_utc] * 2, pa.timestamp("ns", tz="Asia/Tokyo")),
            "naive_into_tz": pa.array([dt.datetime(2024, 1, 1, 12)] * 2, pa.timestamp("us")),
            "aware_into_naive": pa.array([noon_utc] * 2, pa.timestamp("us", tz="America/New_York")),
            "day": pa.array([dt.datetime(2024, 2, 29)] * 2, pa.date64()),
            "label": pa.array(["a", "b"], pa.large_string()),
            "doc": pa.array([json.dumps({"k": 1}), "[2]"]),
            "tag": pa.array([str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]),
            "embedding": pa.array([[0.5, 1.0, 2.0], [3.0, 4.0, 5.0]], pa.list_(pa.float64(), 3)),
            "sizes": pa.array([[1, 2], []], pa.list_(pa.int64())),
        }
    )
    for _ in range(2):  # the first load goes through an INSERT from staging (vector, uuid), the second merges
        upsert(connection, table_name, source)
    connection.execute("SET TIME ZONE 'UTC'")
    row = connection.execute(
        sql.SQL(
            "SELECT id, qty, amount, naive_at, aware_at, naive_into_tz, aware_into_naive, day, label,"
            " doc, tag, embedding::text, sizes, note FROM {} WHERE id = 1"
        ).format(sql.Identifier(SCHEMA, table_name))
    ).fetchone()
    assert row == (
        1, 3, Decimal("1.25"), dt.datetime(2024, 1, 1, 12, 0, 0, 123456), noon_utc, noon_utc,
        dt.datetime(2024, 1, 1, 12), dt.date(2024, 2, 29), "a", {"k": 1}, uuid.UUID(int=1), "[0.5,1,2]",
        [1, 2], "n/a",
    )  # fmt: skip
    assert upsert(connection, table_name, source).unchanged == 2


def test_impossible_cast_fails_with_the_column_and_changes_nothing(connection, table_name) -> None:
    upsert(connection, table_name, order_items(rows=5))
    bad = order_items(rows=5).set_column(1, "order_id", pa.array(["1", "2", "abc", "4", "5"]))
    with pytest.raises(ThelookError) as raised:
        upsert(connection, table_name, bad)
    message = str(raised.value)
    assert f"{SCHEMA}.{table_name}.order_id" in message
    assert "source type string" in message
    assert "integer" in message
    assert "'abc'" in message


def test_input_column_missing_from_the_target_is_named(connection, table_name) -> None:
    upsert(connection, table_name, order_items(rows=5))
    extra = order_items(rows=5).append_column("discount", pa.array([0.1] * 5))
    with pytest.raises(ThelookError, match=rf"{SCHEMA}\.{table_name}: column\(s\) discount"):
        upsert(connection, table_name, extra)


def duplicated(rows: int = 20) -> pa.Table:
    """`rows` rows in which id 7 appears three times and id 8 twice."""
    data = order_items(rows)
    return pa.concat_tables([data, data.slice(6, 2), data.slice(6, 1)])


@pytest.mark.parametrize("target_state", ["missing", "empty_without_key", "filled"])
def test_duplicate_keys_are_refused_with_key_and_count(connection, table_name, target_state) -> None:
    if target_state == "empty_without_key":
        connection.execute(
            sql.SQL("CREATE TABLE {} (id bigint, order_id integer, status text, created_at timestamp,"
                    " sale_price double precision)").format(sql.Identifier(SCHEMA, table_name))
        )  # fmt: skip
    if target_state == "filled":
        upsert(connection, table_name, order_items(rows=5))
    before = checksum(connection, table_name) if target_state != "missing" else None
    with pytest.raises(ThelookError) as raised:
        upsert(connection, table_name, duplicated())
    message = str(raised.value)
    assert f"{SCHEMA}.{table_name}" in message
    assert "2 value(s) of key (id)" in message
    assert "(id)=(7) x3" in message
    assert "(id)=(8) x2" in message
    if target_state == "missing":
        assert not table_exists(connection, table_name)
    else:
        assert checksum(connection, table_name) == before


def test_duplicate_key_into_an_empty_keyed_table_names_the_key(connection, table_name) -> None:
    connection.execute(
        sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, order_id integer, status text, created_at timestamp,"
                " sale_price double precision)").format(sql.Identifier(SCHEMA, table_name))
    )  # fmt: skip
    with pytest.raises(ThelookError, match=r"Key \(id\)=\(7\) already exists.*appear once"):
        upsert(connection, table_name, duplicated())
    assert rows_of(connection, table_name) == []


def test_null_key_is_refused(connection, table_name) -> None:
    upsert(connection, table_name, order_items(rows=5))
    data = order_items(rows=5).set_column(0, "id", pa.array([1, 2, None, 4, 5], pa.int64()))
    with pytest.raises(ThelookError, match=r"\(id\)=\(None\) x1"):
        upsert(connection, table_name, data)


def failing_on_third_batch(data: pa.Table, failure: str) -> pa.RecordBatchReader:
    """Two good batches, then a third that cannot be loaded: a value Arrow cannot cast to the
    column's type, a value the server rejects, or the producer crashing."""
    if failure == "uncastable value":
        data = data.cast(data.schema.set(1, pa.field("order_id", pa.string())))

    def batches() -> Iterator[pa.RecordBatch]:
        yield from data.slice(0, 2 * BATCH).to_batches(max_chunksize=BATCH)
        third = data.slice(2 * BATCH, BATCH)
        if failure == "producer crash":
            raise RuntimeError("the producer died")
        if failure == "uncastable value":
            yield third.set_column(1, "order_id", pa.array(["not a number"] * BATCH)).to_batches()[0]
        else:  # PostgreSQL refuses NUL characters in text
            yield third.set_column(2, "status", pa.array(["Compl\x00ete"] * BATCH)).to_batches()[0]

    return pa.RecordBatchReader.from_batches(data.schema, batches())


@pytest.mark.parametrize(
    ("target_state", "failure"),
    [
        ("missing", "server rejects value"),
        ("missing", "producer crash"),
        *((state, failure) for state in ("empty", "filled")
          for failure in ("uncastable value", "server rejects value", "producer crash")),
    ],
)  # fmt: skip
def test_failure_on_the_third_batch_leaves_the_target_as_it_was(
    connection, table_name, target_state, failure
) -> None:
    if target_state != "missing":
        upsert(connection, table_name, order_items(rows=100 if target_state == "filled" else 0))
    before = checksum(connection, table_name) if target_state != "missing" else None
    changed = with_prices(order_items(), np.zeros(ROWS))
    with pytest.raises(RuntimeError if failure == "producer crash" else ThelookError):
        upsert_batches(connection, failing_on_third_batch(changed, failure), SCHEMA, table_name, ["id"])
    if target_state == "missing":
        assert not table_exists(connection, table_name)
    else:
        assert checksum(connection, table_name) == before
    assert upsert(connection, table_name, changed).rows == ROWS


def test_quoted_identifiers_survive_every_statement(connection) -> None:
    table = f'Order "Items" {uuid.uuid4().hex[:6]}'
    data = pa.table({"Item ID": [1, 2, 3], "Sale Price": [1.0, 2.0, 3.0], 'say "hi"': ["a", "b", "c"]})
    comments = {"Sale Price": 'the price; it\'s "quoted"'}
    for merge_statement in MERGE_STATEMENTS:
        upsert_batches(connection, data.to_reader(), SCHEMA, table, ["Item ID"],
                       merge_statement=merge_statement, table_comment="it's a test",
                       column_comments=comments)  # fmt: skip
    changed = data.set_column(1, "Sale Price", pa.array([1.0, 2.0, 30.0]))
    result = upsert_batches(connection, changed.to_reader(), SCHEMA, table, ["Item ID"], delete_missing=True)
    assert (result.updated, result.unchanged) == (1, 2)
    relation = sql.Identifier(SCHEMA, table)
    prices = connection.execute(sql.SQL('SELECT "Sale Price" FROM {} ORDER BY 1').format(relation)).fetchall()
    assert prices == [(1.0,), (2.0,), (30.0,)]
    comments = connection.execute(
        "SELECT obj_description(%s::regclass), col_description(%s::regclass, 2)",
        (relation.as_string(connection),) * 2,
    ).fetchone()
    assert comments == ("it's a test", 'the price; it\'s "quoted"')


def test_comments_are_applied_and_a_comment_on_an_unknown_column_is_refused(connection, table_name) -> None:
    upsert(connection, table_name, order_items(rows=3), table_comment="Items", column_comments={"id": "Key"})
    with pytest.raises(ThelookError, match=r"no column.* nope"):
        upsert(connection, table_name, order_items(rows=3), column_comments={"nope": "?"})


def test_insert_on_conflict_without_a_unique_key_is_refused_clearly(connection, table_name) -> None:
    connection.execute(
        sql.SQL("CREATE TABLE {} (id bigint, v text)").format(sql.Identifier(SCHEMA, table_name))
    )
    data = pa.table({"id": [1], "v": ["a"]})
    upsert(connection, table_name, data)
    with pytest.raises(
        ThelookError, match="insert_on_conflict needs a primary key or unique index on \\(id\\)"
    ):
        upsert(connection, table_name, data, merge_statement="insert_on_conflict")
    assert upsert(connection, table_name, data).unchanged == 1  # MERGE needs no constraint


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key_columns": []}, "key_columns is empty"),
        ({"key_columns": ["nope"]}, r"key column\(s\) nope are not in the input"),
        ({"key_columns": ["id"], "exclude_from_update": ["id"]}, "cannot be excluded from update"),
        ({"key_columns": ["id"], "merge_statement": "upsert"}, "merge_statement='upsert'"),
    ],
)
def test_wrong_settings_are_refused_before_anything_is_sent(connection, table_name, options, message) -> None:
    with pytest.raises(ThelookError, match=message):
        upsert_batches(connection, order_items(rows=3).to_reader(), SCHEMA, table_name, **options)
    assert not table_exists(connection, table_name)


def test_runs_as_a_savepoint_inside_the_callers_transaction(owner_url, table_name) -> None:
    with psycopg.connect(owner_url) as connection:
        with connection.transaction():
            upsert(connection, table_name, order_items(rows=10))
            upsert(connection, table_name, order_items(rows=20))
        assert len(rows_of(connection, table_name)) == 20
    with psycopg.connect(owner_url) as connection:
        with pytest.raises(RuntimeError), connection.transaction():
            upsert(connection, table_name, order_items(rows=30))
            raise RuntimeError("the caller changed its mind")
        assert len(rows_of(connection, table_name)) == 20
