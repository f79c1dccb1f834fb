"""What the postgres image adds to pgvector/pgvector, run with real PostgreSQL 18 binaries (the embedded
wheel's): the init script creates the schemas and roles and sets the roles' passwords from the
environment, and the server's config file loads the tuned settings with the container's overrides.

A cluster of its own (not the session's): the init script changes role passwords, which are cluster-wide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO_ROOT, free_port, world_traversable_temp_dir
from tests.deploy.conftest import run_script
from thelook_ecommerce_analysis.db.admin import connect, create_database, make_url
from thelook_ecommerce_analysis.db.embedded import SUPERUSER, EmbeddedPostgres

OWNER_PASSWORD = "owner pw with 'quotes' :@/ and spaces"
READER_PASSWORD = "reader-pw-7c1f"


@dataclass(frozen=True)
class Cluster:
    server: EmbeddedPostgres
    superuser_password: str
    workdir: Path

    def init_script_environment(self, **overrides: str) -> dict[str, str]:
        """What the image's entrypoint gives docker/postgres/10-init.sh, pointed at this cluster."""
        environment = {
            "POSTGRES_USER": SUPERUSER,
            "POSTGRES_DB": "thelook",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.server.port),
            "PGPASSWORD": self.superuser_password,
            "PATH": f"{self.server.bin_dir}:{os.environ['PATH']}",
            "THELOOK_INIT_SQL": str(REPO_ROOT / "sql" / "init.sql"),
            "THELOOK_OWNER_PASSWORD": OWNER_PASSWORD,
            "THELOOK_READER_PASSWORD": READER_PASSWORD,
        }
        return {**environment, **overrides}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    workdir = world_traversable_temp_dir("thelook-test-image-")
    server = EmbeddedPostgres(workdir / "data", free_port())
    password = server.initdb()
    server.start()
    create_database(make_url(SUPERUSER, password, server.port, "postgres"), "thelook")
    try:
        yield Cluster(server, password, workdir)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def login(cluster: Cluster, user: str, password: str) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1", port=cluster.server.port, dbname="thelook", user=user, password=password
    )


def test_init_script_refuses_to_run_without_a_password(cluster: Cluster) -> None:
    environment = cluster.init_script_environment(THELOOK_READER_PASSWORD="")
    result = run_script("docker/postgres/10-init.sh", env=environment, timeout=60)
    assert result.returncode != 0
    assert "set THELOOK_READER_PASSWORD in .env" in result.stderr
    with connect(make_url(SUPERUSER, cluster.superuser_password, cluster.server.port, "thelook")) as admin:
        assert (
            admin.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'thelook_%'").fetchone()[0] == 0
        )


def test_init_script_creates_schemas_and_gives_the_roles_their_passwords(cluster: Cluster) -> None:
    result = run_script("docker/postgres/10-init.sh", env=cluster.init_script_environment(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert OWNER_PASSWORD not in result.stdout + result.stderr
    with login(cluster, "thelook_owner", OWNER_PASSWORD) as owner:
        owner.execute("CREATE TABLE raw_data.probe (id bigint PRIMARY KEY, embedding vector(3))")
        owner.execute("INSERT INTO raw_data.probe VALUES (1, '[1,2,3]')")
    with login(cluster, "thelook_reader", READER_PASSWORD) as reader:
        assert reader.execute("SELECT count(*) FROM raw_data.probe").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.execute("DELETE FROM raw_data.probe")


def test_init_script_passwords_are_the_only_way_in(cluster: Cluster) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(cluster, "thelook_reader", "change-me")


def postgres_setting(cluster: Cluster, config_file: Path, name: str) -> str:
    """`postgres -C name` with the image's config file, run as the server's account."""
    account = cluster.server.account
    as_account = {"user": account.uid, "group": account.gid, "extra_groups": []} if os.geteuid() == 0 else {}
    command = [cluster.server.bin_dir / "postgres", "-D", cluster.server.data_dir]
    command += ["-c", f"config_file={config_file}", "-C", name]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=cluster.workdir, **as_account
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_server_config_loads_the_tuned_settings_with_container_overrides(cluster: Cluster) -> None:
    etc = cluster.workdir / "etc-postgresql"  # what the Dockerfile copies to /etc/postgresql
    etc.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "docker" / "postgres" / "postgresql.conf", etc / "postgresql.conf")
    shutil.copy(REPO_ROOT / "conf" / "postgresql" / "thelook.conf", etc / "thelook.conf")
    for path in (etc, *etc.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    settings = {
        name: postgres_setting(cluster, etc / "postgresql.conf", name)
        for name in ("jit", "shared_buffers", "work_mem", "maintenance_work_mem", "listen_addresses")
    }
    # `postgres -C` prints memory in the setting's base unit: kB, or 8 kB pages for shared_buffers.
    assert settings == {
        "jit": "off",  # from thelook.conf
        "shared_buffers": str(512 * 1024 // 8),  # 512MB, from thelook.conf
        "work_mem": str(64 * 1024),  # 64MB, from thelook.conf
        "maintenance_work_mem": str(256 * 1024),  # 256MB: the container override (thelook.conf says 1GB)
        "listen_addresses": "*",
    }
