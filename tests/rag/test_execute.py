"""The reader's executor bounds an answer in bytes as well as rows, on the real server: a few rows of huge
strings stop early (the client's memory stays small), the query is cancelled, and the session goes on."""

from __future__ import annotations

import psutil
import psycopg
import pytest

from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.execute import ResultTooLargeError, fetch_bounded, format_bytes

HUGE_ROWS = (
    "SELECT n, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1250000) AS g) AS filler "
    "FROM generate_series(1, 8) AS n"
)
"""8 rows of 40 MB each (320 MB if read whole), built with functions the reader may call."""


@pytest.fixture
def reader(thelook_db: RoleUrls):
    with psycopg.connect(thelook_db.reader, autocommit=True) as connection:
        yield connection


def test_a_normal_answer_is_read_whole(reader) -> None:
    query = "SELECT order_id, status FROM raw_data.orders ORDER BY order_id"
    rows = fetch_bounded(reader, query, max_bytes=1 << 20)
    assert len(rows) > 1
    assert [tuple(row) for row in rows] == reader.execute(query).fetchall()


def test_an_empty_answer_is_empty(reader) -> None:
    assert fetch_bounded(reader, "SELECT order_id FROM raw_data.orders WHERE false", 1024) == []


def test_huge_rows_stop_at_the_cap_without_filling_the_clients_memory(reader) -> None:
    process = psutil.Process()
    before = process.memory_info().rss
    with pytest.raises(ResultTooLargeError) as raised:
        fetch_bounded(reader, HUGE_ROWS, max_bytes=16 << 20)
    grown_mb = (process.memory_info().rss - before) / (1 << 20)
    assert raised.value.rows_read == 1
    assert str(raised.value) == (
        "the answer is larger than 16 MB (stopped after 1 rows); ask for fewer rows or shorter columns"
    )
    # One 40 MB row is read (by libpq, then as a Python string) before the cap is seen; the other 280 MB
    # never reach the client.
    assert grown_mb < 200, f"the client grew by {grown_mb:.0f} MB"


def test_the_session_is_usable_after_a_stopped_answer(reader) -> None:
    with pytest.raises(ResultTooLargeError):
        fetch_bounded(reader, HUGE_ROWS, max_bytes=1 << 20)
    assert reader.execute("SELECT 1").fetchone() == (1,)
    assert reader.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_many_small_rows_add_up_to_the_cap(reader) -> None:
    query = "SELECT n, md5(n::text) AS digest FROM generate_series(1, 100000) AS n"
    with pytest.raises(ResultTooLargeError) as raised:
        fetch_bounded(reader, query, max_bytes=100_000)
    assert 2000 < raised.value.rows_read < 3000  # 40 bytes a row: 32 of text and 8 for the number


def test_the_executor_still_refuses_two_statements(reader) -> None:
    with pytest.raises(psycopg.errors.SyntaxError):
        fetch_bounded(reader, "SET statement_timeout = 0; SELECT 1", 1024)


@pytest.mark.parametrize(
    ("count", "shown"), [(16 << 20, "16 MB"), (512 << 10, "512 kB"), (3 << 30, "3 GB"), (100, "100 bytes")]
)
def test_sizes_read_as_people_write_them(count: int, shown: str) -> None:
    assert format_bytes(count) == shown
