"""The embedded server as the rest of thelook relies on it: extensions, HNSW, binary COPY, roles."""

from __future__ import annotations

import numpy as np
import pgpq
import psycopg
import pyarrow as pa
import pytest
from pgvector.psycopg import register_vector

from thelook_ecommerce_analysis.db.local import RoleUrls


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_server_runs_postgresql_18_with_vector_and_trigram(pg_urls: RoleUrls) -> None:
    with psycopg.connect(pg_urls.owner) as connection:
        version = connection.execute("SHOW server_version_num").fetchone()[0]
        extensions = dict(connection.execute("SELECT extname, extversion FROM pg_extension").fetchall())
        jit = connection.execute("SHOW jit").fetchone()[0]
    assert int(version) >= 180000
    assert _version_tuple(extensions["vector"]) >= (0, 8)
    assert "pg_trgm" in extensions
    assert jit == "off", "the tuned settings file was not applied"


def test_hnsw_index_returns_the_exact_nearest_neighbour_first(fresh_db: RoleUrls) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(1000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[123] + rng.normal(scale=0.05, size=384).astype(np.float32)
    exact_nearest = int(np.argmax(vectors @ query / np.linalg.norm(query)))
    with psycopg.connect(fresh_db.owner) as connection:
        register_vector(connection)
        connection.execute("CREATE TABLE embeddings.probe (id int PRIMARY KEY, v vector(384))")
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO embeddings.probe VALUES (%s, %s)", list(enumerate(vectors)))
        connection.execute("CREATE INDEX ON embeddings.probe USING hnsw (v vector_cosine_ops)")
        connection.execute("ANALYZE embeddings.probe")
        connection.execute("SET enable_seqscan = off")
        knn = "SELECT id FROM embeddings.probe ORDER BY v <=> %s LIMIT 5"
        plan = "\n".join(row[0] for row in connection.execute("EXPLAIN " + knn, (query,)).fetchall())
        nearest = [row[0] for row in connection.execute(knn, (query,)).fetchall()]
    assert "probe_v_idx" in plan
    assert nearest[0] == exact_nearest == 123


def test_binary_copy_loads_100k_rows(fresh_db: RoleUrls) -> None:
    rows = 100_000
    table = pa.table(
        {
            "id": pa.array(np.arange(rows), pa.int64()),
            "price": pa.array(np.linspace(0, 100, rows), pa.float64()),
            "name": pa.array([f"item {i}" for i in range(rows)], pa.string()),
            "created_at": pa.array(np.arange(rows) * 1_000_000, pa.timestamp("us", tz="UTC")),
        }
    )
    encoder = pgpq.ArrowToPostgresBinaryEncoder(table.schema)
    with psycopg.connect(fresh_db.owner) as connection:
        connection.execute(
            "CREATE TABLE raw_data.copy_probe "
            "(id bigint, price double precision, name text, created_at timestamptz)"
        )
        with connection.cursor().copy("COPY raw_data.copy_probe FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.write(encoder.write_header())
            for batch in table.to_batches(max_chunksize=20_000):
                copy.write(encoder.write_batch(batch))
            copy.write(encoder.finish())
        count, total, last = connection.execute(
            "SELECT count(*), sum(id), max(created_at) FROM raw_data.copy_probe"
        ).fetchone()
    assert count == rows
    assert total == rows * (rows - 1) // 2
    assert last.timestamp() == rows - 1


@pytest.mark.parametrize(
    ("statement", "expected_error"),
    [
        ("INSERT INTO raw_data.guarded VALUES (1)", psycopg.errors.ReadOnlySqlTransaction),
        ("CREATE TABLE raw_data.intruder (x int)", psycopg.errors.ReadOnlySqlTransaction),
        ("SELECT pg_read_file('/etc/passwd')", psycopg.errors.InsufficientPrivilege),
        ("SELECT * FROM pg_catalog.pg_authid", psycopg.errors.InsufficientPrivilege),
    ],
)
def test_reader_role_cannot_write_or_read_files(
    fresh_db: RoleUrls, statement: str, expected_error: type[Exception]
) -> None:
    with psycopg.connect(fresh_db.owner) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS raw_data.guarded (x int)")
    with psycopg.connect(fresh_db.reader) as connection:
        assert connection.execute("SELECT count(*) FROM raw_data.guarded").fetchone()[0] == 0
        with pytest.raises(expected_error):
            connection.execute(statement)


def test_reader_cannot_leave_read_only_mode_to_write(fresh_db: RoleUrls) -> None:
    """The second wall holds on its own: even a session that turns read-only off has no privilege."""
    with psycopg.connect(fresh_db.owner) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS raw_data.guarded (x int)")
    with psycopg.connect(fresh_db.reader) as connection:
        settings = dict(
            connection.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('statement_timeout', 'default_transaction_read_only')"
            ).fetchall()
        )
        superuser = connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        connection.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("INSERT INTO raw_data.guarded VALUES (1)")
        connection.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("CREATE TABLE metrics.intruder (x int)")
        connection.rollback()
    assert settings == {"statement_timeout": "30000", "default_transaction_read_only": "on"}
    assert superuser.fetchone()[0] is False


def test_init_sql_is_idempotent(fresh_db: RoleUrls) -> None:
    from tests.conftest import INIT_SQL, _password
    from thelook_ecommerce_analysis.db.admin import apply_init_sql

    apply_init_sql(fresh_db.admin, INIT_SQL, _password(fresh_db.owner), _password(fresh_db.reader))
    apply_init_sql(fresh_db.admin, INIT_SQL, _password(fresh_db.owner), _password(fresh_db.reader))
    with psycopg.connect(fresh_db.reader) as connection:
        schemas = {
            row[0]
            for row in connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname IN ('raw_data','metrics','embeddings')"
            )
        }
    assert schemas == {"raw_data", "metrics", "embeddings"}
