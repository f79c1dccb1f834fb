"""The Spark side of the datasets: the session from conf/spark/, JDBC options, streamed record batches."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from kedro.io import DatasetError

from tests.conftest import make_project, project_home
from tests.spark.test_spark_run import missing_spark_part
from thelook_ecommerce_analysis.cli import main
from thelook_ecommerce_analysis.config import URL_ENVIRONMENT_VARIABLES
from thelook_ecommerce_analysis.datasets import IbisUpsertDataset
from thelook_ecommerce_analysis.datasets.spark import jdbc_options, record_batches, spark_backend
from thelook_ecommerce_analysis.job import SPARK_ENV, local_credentials_for

REPO_ROOT = Path(__file__).resolve().parents[2]
URL = "postgresql://thelook_owner:p%40ss@db.example:6543/thelook"


def project_spark_session() -> dict[str, str]:
    """The Spark properties of conf/spark/globals.yml, as the spark environment uses them."""
    session = yaml.safe_load((REPO_ROOT / "conf" / "spark" / "globals.yml").read_text())["spark_session"]
    return {name: value for name, value in session.items() if name != "backend"}


def test_jdbc_options_come_from_the_postgresql_url() -> None:
    assert jdbc_options(URL) == {
        "url": "jdbc:postgresql://db.example:6543/thelook",
        "driver": "org.postgresql.Driver",
        "user": "thelook_owner",
        "password": "p@ss",
    }


def test_a_missing_driver_jar_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"spark.jars names .*nowhere.jar, which does not exist"):
        spark_backend({"spark.master": "local[1]", "spark.jars": str(tmp_path / "nowhere.jar")})


@pytest.mark.parametrize(
    ("load_args", "message"),
    [
        ({"engine": "spark"}, "unknown load_args engine"),
        ({"connection": {"backend": "duckdb"}}, "load_args.connection.backend must be pyspark"),
    ],
)
def test_load_args_are_checked(load_args: dict, message: str) -> None:
    def dataset() -> IbisUpsertDataset:
        return IbisUpsertDataset(
            table_name="orders",
            db_schema="raw_data",
            key_columns=["order_id"],
            credentials={"con": URL},
            load_args=load_args,
        )

    with pytest.raises(DatasetError, match=message):
        dataset().load()


def some_transform(table: ibis.Table) -> ibis.Table:
    """A filter and new columns, as a node would write them (timestamps cast as conform_types does)."""
    kept = table.filter(table.id % 2 == 0)
    in_utc = kept.created_at.cast(dt.Timestamp(timezone="UTC", scale=6))
    return kept.mutate(doubled=kept.id * 2, created_at=in_utc)


@pytest.mark.slow
def test_record_batches_stream_in_chunks_with_ibis_types(tmp_path: Path) -> None:
    if missing := missing_spark_part():
        pytest.skip(missing)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = 2500
    pq.write_table(
        pa.table(
            {
                "id": list(range(rows)),
                "name": [f"n{index}" if index % 7 else None for index in range(rows)],
                "created_at": [start + timedelta(seconds=index, microseconds=index) for index in range(rows)],
            }
        ),
        tmp_path / "rows.parquet",
    )
    spark = spark_backend(project_spark_session())
    expression = some_transform(spark.read_parquet(str(tmp_path / "rows.parquet")))
    batches = list(record_batches(expression, chunk_size=400))
    assert len(batches) >= 3
    assert all(0 < batch.num_rows <= 400 for batch in batches)
    assert all(batch.schema == expression.schema().to_pyarrow() for batch in batches)
    streamed = pa.Table.from_batches(batches).sort_by("id")
    on_duckdb = some_transform(ibis.read_parquet(tmp_path / "rows.parquet")).to_pyarrow().sort_by("id")
    assert streamed.equals(on_duckdb.cast(streamed.schema))


def test_engine_spark_with_another_env_is_one_clear_line() -> None:
    result = CliRunner().invoke(main, ["run", "--engine", "spark", "--env", "local"])
    assert result.exit_code == 1
    assert "--engine spark runs the spark environment; drop --env local" in result.output


def test_another_environment_reaches_the_database_of_conf_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kedro reads conf/local/ only in the local environment: a spark run gets its URLs through the
    environment variables conf/base/credentials.yml reads, for the run only; a variable already set wins."""
    root = make_project()
    (root / "conf" / "local" / "credentials.yml").write_text(
        "thelook_owner: {con: 'postgresql://thelook_owner:x@127.0.0.1:1/thelook'}\n"
        "thelook_reader: {con: 'postgresql://thelook_reader:y@127.0.0.1:1/thelook'}\n"
    )
    for variable in URL_ENVIRONMENT_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("THELOOK_READER_URL", "postgresql://mine@elsewhere/thelook")
    try:
        with project_home(root):
            with local_credentials_for(SPARK_ENV):
                seen = {name: os.environ.get(name) for name in URL_ENVIRONMENT_VARIABLES.values()}
            with local_credentials_for(None):
                assert os.environ.get("DATABASE_URL") is None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert seen["DATABASE_URL"] == "postgresql://thelook_owner:x@127.0.0.1:1/thelook"
    assert seen["THELOOK_READER_URL"] == "postgresql://mine@elsewhere/thelook"
    assert seen["THELOOK_ADMIN_URL"] is None
    assert os.environ.get("DATABASE_URL") is None
