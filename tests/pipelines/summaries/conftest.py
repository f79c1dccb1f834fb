"""A database holding the four metrics tables the summaries read, and a throwaway project to run the job.

The metrics tables are computed by the metrics pipeline's own nodes from a generated snapshot (on DuckDB,
over the Parquet files) and saved into PostgreSQL through their catalog datasets, which is what the job
does minus the raw_data load; the summaries then run on PostgreSQL as in the job.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pytest
from kedro.config import OmegaConfigLoader

from tests.conftest import REPO_ROOT, make_project, project_home
from thelook_ecommerce_analysis.datasets import IbisUpsertDataset
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.pipelines.metrics import nodes as metrics_nodes
from thelook_ecommerce_analysis.settings import CONFIG_LOADER_ARGS
from thelook_ecommerce_analysis.synth import TABLES, generate

USERS = 1500
SEED = 11
AS_OF = date(2025, 6, 30)
SOURCE_TABLES = ("sales_daily", "sales_daily_by_category", "sales_daily_by_country", "web_sessions_daily")


def catalog_dataset(name: str, owner_url: str) -> IbisUpsertDataset:
    """The project's catalog entry `name` as a dataset writing with `owner_url`."""
    loader = OmegaConfigLoader(conf_source=str(REPO_ROOT / "conf"), **CONFIG_LOADER_ARGS)
    entry: dict[str, Any] = dict(loader["catalog"][name])
    entry.pop("type")
    entry["credentials"] = {"con": owner_url}
    return IbisUpsertDataset(**entry)


@pytest.fixture(scope="session")
def summaries_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("summaries-raw")
    generate(out_dir, users=USERS, seed=SEED, as_of=AS_OF, progress=False)
    return out_dir


@pytest.fixture(scope="module")
def metrics_db(fresh_db: RoleUrls, summaries_raw: Path) -> RoleUrls:
    """A fresh database with metrics.sales_daily, sales_daily_by_category, sales_daily_by_country and
    web_sessions_daily filled and commented as the job leaves them."""
    connection = ibis.duckdb.connect()
    connection.raw_sql("SET TimeZone = 'UTC'")
    raw = {
        table: connection.read_parquet(summaries_raw / f"{table}.parquet", table_name=table)
        for table in TABLES
    }
    for table in SOURCE_TABLES:
        compute = getattr(metrics_nodes, table)
        expression = compute(**{name: raw[name] for name in inspect.signature(compute).parameters})
        catalog_dataset(f"metrics_{table}", fresh_db.owner).save(expression.to_pyarrow())
    connection.disconnect()
    return fresh_db


@pytest.fixture(scope="module")
def project(metrics_db: RoleUrls) -> Iterator[Path]:
    """A throwaway copy of this project's conf and sql, pointed at `metrics_db`."""
    root = make_project()
    with project_home(root):
        yield root
    shutil.rmtree(root, ignore_errors=True)


def summary_rows(url: str) -> list[dict[str, Any]]:
    """metrics.daily_summaries as dicts, newest period first."""
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT period_kind, period_start, period_end, text, facts, model, prompt_hash, source, "
            "created_at FROM metrics.daily_summaries ORDER BY period_start DESC, period_kind"
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
