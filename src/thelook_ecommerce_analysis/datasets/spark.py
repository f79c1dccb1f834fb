"""Apache Spark behind the same datasets: one session per configuration, PostgreSQL tables read through
Spark's JDBC source, and results streamed out as Arrow record batches.

Why here and not in the nodes: the nodes are ibis expressions and do not know which engine runs them.
Only the datasets decide: the raw Parquet opens in Spark (`connection: {backend: pyspark, ...}`), the
PostgreSQL tables the metrics read open through JDBC, partitioned on their key so that every executor
reads a slice, and the upsert dataset takes the results batch by batch.

Streaming: ibis's own `to_pyarrow_batches` on PySpark collects the whole result into pandas on the driver
first. `record_batches` instead has every partition turn its Arrow batches into Arrow IPC bytes on the
executor (`mapInArrow`) and pulls them one partition at a time (`toLocalIterator`), so the driver holds
one partition's batches, never the whole table.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from kedro.io import DatasetError

if TYPE_CHECKING:
    from ibis.backends.pyspark import Backend as SparkBackend

SPARK_BACKEND = "pyspark"
JDBC_DRIVER = "org.postgresql.Driver"

_backends: dict[tuple[tuple[str, str], ...], SparkBackend] = {}


def _require_pyspark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        raise DatasetError(
            "the spark environment needs PySpark: install it with "
            "`pip install 'thelook-ecommerce-analysis[spark]'` (and Java 17: `make spark`)"
        )


def spark_backend(config: Mapping[str, Any]) -> SparkBackend:
    """The ibis PySpark backend over one SparkSession built from `config` (Spark properties such as
    `spark.master`, which must be known before the session starts); the same configuration gives the
    same backend, so tables from the Parquet files and from PostgreSQL meet in one session."""
    _require_pyspark()
    key = tuple(sorted((name, str(value)) for name, value in config.items()))
    if key not in _backends:
        from pyspark.sql import SparkSession

        # Local Python workers run this interpreter (it has pyarrow), not the first `python3` on PATH;
        # PySpark reads only the environment for this, and a cluster's own setting wins.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        _check_local_jars(config)
        builder = SparkSession.builder.appName("thelook")
        for name, value in key:
            builder = builder.config(name, value)
        try:
            session = builder.getOrCreate()
        except Exception as error:  # PySpark's own errors (no Java, a bad master) name no fix
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DatasetError(
                f"Spark did not start ({first_line}): it needs Java 17 or newer (`make spark` installs it "
                "when run as root) and a reachable spark.master"
            ) from None
        session.sparkContext.setLogLevel("ERROR")
        _backends[key] = ibis.pyspark.connect(session)
    return _backends[key]


def _check_local_jars(config: Mapping[str, Any]) -> None:
    """A driver jar named by a local path must exist: Spark itself would only fail at the first JDBC
    read, deep in a stack trace, with `ClassNotFoundException: org.postgresql.Driver`."""
    for jar in filter(None, str(config.get("spark.jars", "")).split(",")):
        if "://" not in jar and not Path(jar).is_file():
            raise DatasetError(
                f"spark.jars names {jar}, which does not exist: install the PostgreSQL JDBC driver "
                "(`make spark`, Debian's libpostgresql-jdbc-java) or point spark.jars at it"
            )


def jdbc_options(url: str) -> dict[str, str]:
    """Spark's JDBC options for a postgresql:// URL (user and password apart, as the driver wants)."""
    parts = urlsplit(url)
    options = {
        "url": f"jdbc:postgresql://{parts.hostname or '127.0.0.1'}:{parts.port or 5432}{parts.path}",
        "driver": JDBC_DRIVER,
    }
    if parts.username:
        options["user"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    return options


def read_postgres_table(
    backend: SparkBackend,
    url: str,
    db_schema: str,
    table_name: str,
    *,
    partition_column: str | None,
    bounds: tuple[int, int] | None,
    partitions: int,
) -> ir.Table:
    """`db_schema.table_name` as a Spark table of the same name (a JDBC table in Spark's session
    catalog, so ibis names it as PostgreSQL does), read in `partitions` slices of `partition_column`
    (an integer key) between `bounds`, or in one slice when there is no such column or no rows."""
    options = jdbc_options(url) | {"dbtable": f"{db_schema}.{table_name}"}
    if partition_column and bounds and partitions > 1:
        options |= {
            "partitionColumn": partition_column,
            "lowerBound": str(bounds[0]),
            "upperBound": str(bounds[1] + 1),
            "numPartitions": str(partitions),
        }
    session = backend._session
    session.sql(f"CREATE DATABASE IF NOT EXISTS `{db_schema}`")
    session.sql(f"DROP TABLE IF EXISTS `{db_schema}`.`{table_name}`")  # bounds move between loads
    session.catalog.createTable(f"{db_schema}.{table_name}", source="jdbc", **options)
    return backend.table(table_name, database=db_schema)


def record_batches(expression: ir.Table, chunk_size: int) -> pa.RecordBatchReader:
    """The rows of a PySpark-backed expression as a stream of record batches of at most `chunk_size`
    rows, typed as ibis types them (the same Arrow schema `to_pyarrow_batches` gives elsewhere)."""
    backend = expression._find_backend()
    backend._run_pre_execute_hooks(expression)  # registers the memtables it uses, as ibis's own writers do
    frame = backend._session.sql(backend.compile(expression))
    schema = expression.schema().to_pyarrow()
    backend._session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))

    def ipc_bytes(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """On an executor: each Arrow batch as one row holding its IPC stream bytes. A closure, so that
        Spark ships it by value: executors need pyarrow, not this package."""
        import pyarrow

        for batch in batches:
            sink = pyarrow.BufferOutputStream()
            with pyarrow.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_batch(batch)
            yield pyarrow.RecordBatch.from_pydict({"ipc": [sink.getvalue().to_pybytes()]})

    encoded = frame.mapInArrow(ipc_bytes, "ipc binary")

    def batches() -> Iterator[pa.RecordBatch]:
        for row in encoded.toLocalIterator(prefetchPartitions=True):
            for batch in pa.ipc.open_stream(row.ipc):
                if batch.num_rows:
                    yield batch.cast(schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def is_spark(expression: ir.Table) -> bool:
    return expression._find_backend().name == SPARK_BACKEND
