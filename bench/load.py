"""Loading benchmark: the same Arrow data into PostgreSQL five ways, in one run, with rows/s and ratios.

    python bench/load.py --users 100000

Ways, for an order_items-shaped and an events-shaped table (sizes of theLook at --users):
  ceiling       raw pgpq binary COPY into an empty UNLOGGED table without index (the upper bound)
  first load    IbisUpsertDataset into a missing table (COPY straight in, primary key built after)
  re-run        IbisUpsertDataset again with identical data, then with 10% of rows changed, with both
                merge statements, counting rows written (pg_stat_user_tables) and WAL bytes
  ibis.Table    kedro-datasets' ibis.TableDataset, mode append into a new table
  pandas        DataFrame.to_sql through SQLAlchemy + psycopg
The slow ways run on the first --slow-rows rows (their rows/s is a rate, so it compares; the output
says so). Data comes from data/01_raw/{order_items,events}.parquet when both exist, else from numpy.
The server is DATABASE_URL's when set (the owner role must be able to create tables in raw_data);
otherwise an embedded PostgreSQL in a temp dir, started and stopped here. Goals from the issue: first
load >= 40% of the ceiling's rows/s and >= 10x pandas; an unchanged re-run writes no row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pgpq
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg import sql

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "raw_data"
BATCH_SIZE = 100_000
ORDER_ITEMS_PER_USER = 1.82  # theLook: ~182k order_items and ~2.43M events for 100k users
EVENTS_PER_USER = 24.3
EPOCH_2019_US = 1_546_300_800_000_000


@dataclass(frozen=True)
class Measurement:
    table: str
    way: str
    rows: int
    seconds: float
    rows_written: int | None = None
    wal_bytes: int | None = None
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


# -- data -----------------------------------------------------------------------------------------


def _pick(
    rng: np.random.Generator, pool: list[str], rows: int, weights: list[float] | None = None
) -> pa.Array:
    """`rows` strings drawn from `pool`, as a plain (not dictionary) string column like Parquet's."""
    probabilities = None if weights is None else np.array(weights) / sum(weights)
    return pc.take(pa.array(pool), pa.array(rng.choice(len(pool), size=rows, p=probabilities)))


def _timestamps(rng: np.random.Generator, rows: int, null_share: float = 0.0) -> pa.Array:
    micros = EPOCH_2019_US + rng.integers(0, 5 * 365 * 86_400 * 10**6, size=rows)
    mask = rng.random(rows) < null_share if null_share else None
    return pa.array(micros, pa.timestamp("us"), mask=mask)


def order_items(rows: int, rng: np.random.Generator) -> pa.Table:
    statuses = ["Complete", "Shipped", "Processing", "Cancelled", "Returned"]
    return pa.table(
        {
            "id": np.arange(1, rows + 1, dtype=np.int64),
            "order_id": rng.integers(1, rows, size=rows),
            "user_id": rng.integers(1, rows // 2 + 2, size=rows),
            "product_id": rng.integers(1, 29_121, size=rows),
            "inventory_item_id": rng.integers(1, 3 * rows, size=rows),
            "status": _pick(rng, statuses, rows, [0.25, 0.30, 0.20, 0.15, 0.10]),
            "created_at": _timestamps(rng, rows),
            "shipped_at": _timestamps(rng, rows, 0.35),
            "delivered_at": _timestamps(rng, rows, 0.65),
            "returned_at": _timestamps(rng, rows, 0.90),
            "sale_price": np.round(rng.uniform(1, 300, size=rows), 2),
        }
    )


def events(rows: int, rng: np.random.Generator) -> pa.Table:
    cities = [f"City {i}" for i in range(5_000)]
    states = [f"State {i}" for i in range(200)]
    uris = ["/home", "/cart", "/purchase", "/cancel"] + [f"/product/{i}" for i in range(29_120)]
    sessions = rows // 5 + 1
    session_of_row = np.sort(rng.integers(0, sessions, size=rows))
    user_mask = rng.random(rows) < 0.3
    return pa.table(
        {
            "id": np.arange(1, rows + 1, dtype=np.int64),
            "user_id": pa.array(rng.integers(1, 100_001, size=rows), mask=user_mask),
            "sequence_number": rng.integers(1, 12, size=rows),
            "session_id": pc.take(pa.array([f"{i:032x}" for i in range(sessions)]), pa.array(session_of_row)),
            "created_at": _timestamps(rng, rows),
            "ip_address": _pick(
                rng, [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(50_000)], rows
            ),
            "city": _pick(rng, cities, rows),
            "state": _pick(rng, states, rows),
            "postal_code": _pick(rng, [f"{i:05d}" for i in range(20_000)], rows),
            "browser": _pick(rng, ["Chrome", "Safari", "Firefox", "IE", "Other"], rows, [50, 20, 20, 5, 5]),
            "traffic_source": _pick(rng, ["Email", "Adwords", "YouTube", "Facebook", "Organic"], rows),
            "uri": _pick(rng, uris, rows),
            "event_type": _pick(rng, ["home", "department", "product", "cart", "purchase", "cancel"], rows),
        }
    )


def source_tables(users: int, raw_dir: Path) -> tuple[dict[str, pa.Table], str]:
    files = {name: raw_dir / f"{name}.parquet" for name in ("order_items", "events")}
    if all(path.exists() for path in files.values()):
        return {name: pq.read_table(path) for name, path in files.items()}, f"Parquet in {raw_dir}"
    rng = np.random.default_rng(42)
    tables = {
        "order_items": order_items(round(users * ORDER_ITEMS_PER_USER), rng),
        "events": events(round(users * EVENTS_PER_USER), rng),
    }
    return tables, f"numpy, --users {users}"


def with_ten_percent_changed(table: pa.Table, bump: float) -> pa.Table:
    """Every tenth row (id % 10 == 0) with one numeric column bumped: what a daily snapshot changes."""
    changed = pc.equal(pc.remainder(table["id"], 10), 0)
    column = "sale_price" if "sale_price" in table.column_names else "sequence_number"
    values = table[column]
    bumped = pc.if_else(changed, pc.add(values, pa.scalar(bump, values.type)), values)
    return table.set_column(table.schema.get_field_index(column), column, bumped)


# -- server ---------------------------------------------------------------------------------------


@contextmanager
def database_url() -> Iterator[str]:
    """DATABASE_URL, or the owner URL of an embedded server living as long as the block."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    from thelook_ecommerce_analysis.db.embedded import EmbeddedPostgres
    from thelook_ecommerce_analysis.db.local import start_embedded

    base = Path(tempfile.mkdtemp(prefix="thelook-bench-pg-"))
    base.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = EmbeddedPostgres(base / "data", port, settings_file=REPO_ROOT / "conf/postgresql/thelook.conf")
    try:
        report = start_embedded(server, REPO_ROOT / "sql/init.sql", base / "credentials.yml")
        yield report.urls.owner
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def wal_position(connection: psycopg.Connection) -> str:
    return connection.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]


def wal_bytes_since(connection: psycopg.Connection, start: str) -> int:
    return int(
        connection.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (start,)).fetchone()[0]
    )


def rows_written(connection: psycopg.Connection, table: str) -> int:
    """Tuples inserted + updated + deleted so far, after flushing this backend's statistics."""
    connection.execute("SELECT pg_stat_force_next_flush()")
    connection.execute("SELECT pg_stat_clear_snapshot()")
    row = connection.execute(
        "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
        " WHERE schemaname = %s AND relname = %s",
        (SCHEMA, table),
    ).fetchone()
    return int(row[0]) if row else 0


# -- the five ways --------------------------------------------------------------------------------


def ceiling(connection: psycopg.Connection, name: str, data: pa.Table) -> Measurement:
    """pgpq binary COPY into an UNLOGGED table with no index: no WAL, no key, no casts."""
    table = f"bench_{name}_ceiling"
    encoder = pgpq.ArrowToPostgresBinaryEncoder(data.schema)
    ddl = encoder.schema().ddl(table, temp_table=False).replace("CREATE TABLE", "CREATE UNLOGGED TABLE", 1)
    connection.execute(f"SET search_path = {SCHEMA}")
    connection.execute(ddl)

    def copy() -> None:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {SCHEMA}.{table} FROM STDIN (FORMAT BINARY)") as out,
        ):
            out.write(encoder.write_header())
            for batch in data.to_batches(max_chunksize=BATCH_SIZE):
                out.write(encoder.write_batch(batch))
            out.write(encoder.finish())

    return Measurement(name, "ceiling: pgpq COPY, UNLOGGED, no index", data.num_rows, timed(copy))


def upsert_dataset(url: str, table: str, **options):
    from thelook_ecommerce_analysis.datasets import IbisUpsertDataset

    return IbisUpsertDataset(
        table_name=table, db_schema=SCHEMA, key_columns=["id"], credentials={"con": url}, save_args=options
    )


def first_load(url: str, name: str, data: pa.Table) -> Measurement:
    dataset = upsert_dataset(url, f"bench_{name}_upsert")
    seconds = timed(lambda: dataset.save(data))
    return Measurement(name, "IbisUpsertDataset first load (+ primary key)", data.num_rows, seconds)


def first_load_from_duckdb(url: str, name: str, data: pa.Table, workdir: Path) -> Measurement:
    """The pipeline's real input: DuckDB reading Parquet, streamed out as record batches."""
    import ibis

    path = workdir / f"{name}.parquet"
    pq.write_table(data, path)
    expression = ibis.duckdb.connect().read_parquet(path)
    dataset = upsert_dataset(url, f"bench_{name}_from_duckdb")
    seconds = timed(lambda: dataset.save(expression))
    return Measurement(name, "IbisUpsertDataset first load from DuckDB/Parquet", data.num_rows, seconds)


def rerun(
    url: str, connection: psycopg.Connection, name: str, data: pa.Table, *, merge_statement: str, label: str
) -> Measurement:
    table = f"bench_{name}_upsert"
    dataset = upsert_dataset(url, table, merge_statement=merge_statement)
    written_before, wal_start = rows_written(connection, table), wal_position(connection)
    seconds = timed(lambda: dataset.save(data))
    wal = wal_bytes_since(connection, wal_start)
    result = dataset.last_result
    note = f"{result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged"
    return Measurement(
        name, f"re-run {label}, {merge_statement}", data.num_rows, seconds,
        rows_written(connection, table) - written_before, wal, note,
    )  # fmt: skip


def ibis_table_dataset(url: str, name: str, data: pa.Table) -> Measurement:
    """kedro-datasets' own way: it cannot read a DuckDB expression into PostgreSQL, so the data goes
    in as an ibis memtable (what its docs suggest); ibis inserts memtables row by row."""
    import ibis
    from kedro_datasets.ibis import TableDataset
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    dataset = TableDataset(
        table_name=f"bench_{name}_ibis",
        connection={"backend": "postgres", "host": parts["host"], "port": int(parts["port"]),
                    "user": parts["user"], "password": parts["password"], "database": parts["dbname"]},
        database=SCHEMA,
        save_args={"mode": "append", "materialized": "table"},
    )  # fmt: skip
    seconds = timed(lambda: dataset.save(ibis.memtable(data)))
    return Measurement(name, "kedro-datasets ibis.TableDataset append", data.num_rows, seconds)


def pandas_to_sql(url: str, name: str, data: pa.Table) -> Measurement:
    try:
        import sqlalchemy
    except ImportError:
        raise SystemExit("pandas.to_sql needs SQLAlchemy: install the dev extras (`make setup`)") from None
    frame = data.to_pandas()
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        seconds = timed(
            lambda: frame.to_sql(f"bench_{name}_pandas", engine, schema=SCHEMA, index=False, chunksize=10_000)
        )
    finally:
        engine.dispose()
    return Measurement(name, "pandas DataFrame.to_sql", data.num_rows, seconds)


def drop_bench_tables(connection: psycopg.Connection, name: str) -> None:
    """A server given by DATABASE_URL may hold the tables of an earlier run: first loads must be first."""
    for way in ("ceiling", "upsert", "from_duckdb", "ibis", "pandas"):
        connection.execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, f"bench_{name}_{way}"))
        )


def measure_table(url: str, name: str, data: pa.Table, slow_rows: int, workdir: Path) -> list[Measurement]:
    with psycopg.connect(url, autocommit=True) as connection:
        drop_bench_tables(connection, name)
        results = [ceiling(connection, name, data), first_load(url, name, data)]
        # As the pipeline's after-run hook does (ANALYZE); VACUUM also sets the hint bits that the first
        # reader of freshly COPYed rows would otherwise write, which would bias whichever re-run comes first.
        connection.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(SCHEMA, f"bench_{name}_upsert"))
        )
        results.append(first_load_from_duckdb(url, name, data, workdir))
        for merge_statement in ("merge", "insert_on_conflict"):
            results.append(
                rerun(url, connection, name, data, merge_statement=merge_statement, label="unchanged")
            )
        for bump, merge_statement in ((1, "merge"), (2, "insert_on_conflict")):
            changed = with_ten_percent_changed(data, bump)
            results.append(
                rerun(url, connection, name, changed, merge_statement=merge_statement, label="10% changed")
            )
        subset = data.slice(0, slow_rows)
        results += [ibis_table_dataset(url, name, subset), pandas_to_sql(url, name, subset)]
    return results


# -- report ---------------------------------------------------------------------------------------


def report(results: list[Measurement], source: str) -> None:
    print(f"\nData: {source}. Rows/s is rows / wall seconds; 'x ceil' = share of the ceiling's rows/s.")
    columns = ("rows", 9), ("s", 7), ("rows/s", 10), ("x ceil", 7), ("written", 9), ("WAL", 10)
    header = f"{'table':<12} {'way':<52} " + " ".join(f"{title:>{width}}" for title, width in columns)
    print(header)
    print("-" * len(header))
    for table in dict.fromkeys(result.table for result in results):
        rows = [result for result in results if result.table == table]
        top = rows[0].rows_per_second
        for result in rows:
            written = "" if result.rows_written is None else f"{result.rows_written:,}"
            wal = "" if result.wal_bytes is None else f"{result.wal_bytes / 1e6:,.1f} MB"
            print(
                f"{table:<12} {result.way:<52} {result.rows:>9,} {result.seconds:>7.2f} "
                f"{result.rows_per_second:>10,.0f} {result.rows_per_second / top:>7.2f} "
                f"{written:>9} {wal:>10}" + (f"  ({result.note})" if result.note else "")
            )
        by_way = {result.way: result for result in rows}
        first = by_way["IbisUpsertDataset first load (+ primary key)"].rows_per_second
        pandas = by_way["pandas DataFrame.to_sql"].rows_per_second
        unchanged = by_way["re-run unchanged, merge"]
        print(
            f"{table:<12} goals: first load {first / top:.0%} of ceiling (goal >= 40%), "
            f"{first / pandas:.0f}x pandas (goal >= 10x), unchanged re-run wrote "
            f"{unchanged.rows_written} rows and {unchanged.wal_bytes / 1e3:,.0f} kB of WAL (goal: 0 rows)\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", type=int, default=100_000, help="size of the generated data (theLook users)"
    )
    parser.add_argument(
        "--slow-rows", type=int, default=200_000, help="rows for the ibis.Table and pandas ways"
    )
    parser.add_argument("--raw-dir", type=Path, default=REPO_ROOT / "data" / "01_raw")
    arguments = parser.parse_args()
    tables, source = source_tables(arguments.users, arguments.raw_dir)
    results: list[Measurement] = []
    with database_url() as url, tempfile.TemporaryDirectory() as workdir:
        for name, data in tables.items():
            print(f"{name}: {data.num_rows:,} rows ...", flush=True)
            results += measure_table(url, name, data, arguments.slow_rows, Path(workdir))
    report(results, source)


if __name__ == "__main__":
    main()
