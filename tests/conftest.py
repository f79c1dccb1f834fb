"""Shared fixtures: ONE embedded PostgreSQL per test session, and a fresh database where isolation matters.

The server lives in the system temp dir on a free port, so tests never touch the developer's own
data/postgres or conf/local/credentials.yml. The session exports DATABASE_URL, THELOOK_READER_URL and
THELOOK_ADMIN_URL, which every part of thelook honours, so code under test needs no special wiring.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg import sql

from thelook_ecommerce_analysis.config import URL_ENVIRONMENT_VARIABLES
from thelook_ecommerce_analysis.db.admin import apply_init_sql, connect, with_database
from thelook_ecommerce_analysis.db.embedded import EmbeddedPostgres
from thelook_ecommerce_analysis.db.local import RoleUrls, start_embedded

REPO_ROOT = Path(__file__).resolve().parents[1]
INIT_SQL = REPO_ROOT / "sql" / "init.sql"

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The job's summaries in words (pipelines/summaries) ask no model in tests unless a test turns it on
# (tests/pipelines/summaries): otherwise every full run would start or find an LLM server.
os.environ.setdefault("THELOOK_SUMMARIES_LLM", "off")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def world_traversable_temp_dir(prefix: str) -> Path:
    """A temp dir the unprivileged server user can enter (mkdtemp makes 0700 dirs)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block, restoring the previous values afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def database_environment(urls: RoleUrls):
    """Point every part of thelook at `urls` for the duration of the block."""
    return environment(**{name: getattr(urls, role) for role, name in URL_ENVIRONMENT_VARIABLES.items()})


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    """The session's embedded server, started once and stopped at the end."""
    base = world_traversable_temp_dir("thelook-test-pg-")
    server = EmbeddedPostgres(
        base / "data", free_port(), settings_file=REPO_ROOT / "conf" / "postgresql" / "thelook.conf"
    )
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_urls(pg_server: EmbeddedPostgres) -> Iterator[RoleUrls]:
    """URLs of the admin, owner and reader roles on the session's `thelook` database."""
    credentials = pg_server.data_dir.parent / "credentials.yml"
    report = start_embedded(pg_server, INIT_SQL, credentials)
    with database_environment(report.urls):
        yield report.urls


def _password(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).password or "")


@contextmanager
def new_database(pg_urls: RoleUrls) -> Iterator[RoleUrls]:
    """A new database initialised by sql/init.sql, with every part of thelook pointed at it; dropped
    when the block ends."""
    name = f"thelook_test_{uuid.uuid4().hex[:10]}"
    with connect(with_database(pg_urls.admin, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    urls = RoleUrls(*(with_database(url, name) for url in (pg_urls.admin, pg_urls.owner, pg_urls.reader)))
    apply_init_sql(urls.admin, INIT_SQL, _password(urls.owner), _password(urls.reader))
    try:
        with database_environment(urls):
            yield urls
    finally:
        with connect(with_database(pg_urls.admin, "postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def fresh_db(pg_urls: RoleUrls) -> Iterator[RoleUrls]:
    """A new, initialised database for one test module; dropped afterwards."""
    with new_database(pg_urls) as urls:
        yield urls


def keep_sold_products(raw: Path) -> None:
    """Cut a generated catalogue to the products that were sold (and their stock rows), so that a test
    embeds a few hundred product documents instead of 29,120; every foreign key still holds."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sold = pq.read_table(raw / "order_items.parquet", columns=["product_id"])["product_id"].unique()
    for table, column in (("products", "id"), ("inventory_items", "product_id")):
        data = pq.read_table(raw / f"{table}.parquet")
        pq.write_table(data.filter(pc.is_in(data[column], value_set=sold)), raw / f"{table}.parquet")


def make_project(raw_source: Path | None = None) -> Path:
    """A throwaway Kedro project with this checkout's conf and sql (no local credentials: the test
    database's environment variables win); its data/01_raw is a copy of `raw_source` when given."""
    root = world_traversable_temp_dir("thelook-project-")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "conf", root / "conf")
    shutil.rmtree(root / "conf" / "local")
    (root / "conf" / "local").mkdir()
    shutil.copytree(REPO_ROOT / "sql", root / "sql")
    (root / "data").mkdir()
    if raw_source is not None:
        shutil.copytree(raw_source, root / "data" / "01_raw")
    return root


def project_home(root: Path):
    """Point thelook at the project `root` for the duration of the block."""
    return environment(THELOOK_HOME=str(root))


@pytest.fixture(scope="session")
def loaded_db(pg_urls: RoleUrls, tmp_path_factory) -> Iterator[RoleUrls]:
    """ONE database per test session loaded by the real job (all three pipelines) from a small generated
    data set, for the tests that only read: the question loop, evaluation, the app. thelook is pointed at
    it only while loading; tests use its URLs explicitly (or `database_environment`)."""
    from thelook_ecommerce_analysis.job import run_pipeline
    from thelook_ecommerce_analysis.synth import generate

    raw = tmp_path_factory.mktemp("loaded-raw")
    generate(raw, users=600, seed=5, progress=False)
    keep_sold_products(raw)
    root = make_project(raw)
    with new_database(pg_urls) as urls:
        with project_home(root):
            run_pipeline()
        with database_environment(pg_urls):
            yield urls
    shutil.rmtree(root, ignore_errors=True)
