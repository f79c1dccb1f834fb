"""DuckDB against local Spark on the same job, in one run: wall time and peak memory per engine and size.

    .venv/bin/python bench/spark.py --users 10000 100000

For each --users: generates theLook data, then runs `thelook run --pipeline data_processing` and
`--pipeline metrics` once with the default engine (DuckDB reads the Parquet, PostgreSQL computes the
metrics) and once with `--engine spark` (local[*] Spark for both), each engine into a fresh database of
one embedded PostgreSQL (temp dir, free port). Every run is a child process; its peak memory is the
largest sum of resident memory over it and its children (the JVM included), sampled every 0.2 s. The
two databases are compared at the end (row counts per table), so a fast wrong answer cannot win.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from scratch_project import REPO_ROOT, free_port, project_copy, traversable_temp_dir
from thelook_ecommerce_analysis.config import URL_ENVIRONMENT_VARIABLES
from thelook_ecommerce_analysis.db.embedded import EmbeddedPostgres
from thelook_ecommerce_analysis.db.local import start_embedded
from thelook_ecommerce_analysis.synth import generate

THELOOK = Path(sys.executable).parent / "thelook"
ENGINES = ("duckdb", "spark")
PIPELINES = ("data_processing", "metrics")
SAMPLE_S = 0.2


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants (the JVM is a child of the Python driver)."""
    total = 0
    for member in (process, *process.children(recursive=True)):
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_measured(command: list[str], environment: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak tree RSS of one command; its output goes to a log beside the project."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, tree_rss(watched))
        except psutil.NoSuchProcess:
            break
        time.sleep(SAMPLE_S)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, peak


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT schemaname, relname FROM pg_stat_user_tables WHERE schemaname IN ('raw_data', 'metrics') "
            "AND relname NOT IN ('etl_runs', 'etl_quarantine', 'daily_summaries') ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(f'SELECT count(*) FROM {schema}."{table}"').fetchone()[0]
            for schema, table in tables
        }


def measure(users: int, seed: int, server: EmbeddedPostgres, base: Path) -> None:
    raw = Path(tempfile.mkdtemp(prefix="thelook-bench-raw-"))
    generate(raw, users=users, seed=seed, progress=False)
    root = project_copy(raw)
    counts = {}
    try:
        for engine in ENGINES:
            database = f"bench_{engine}_{users}"
            urls = start_embedded(
                server, REPO_ROOT / "sql" / "init.sql", base / "credentials.yml", database=database
            ).urls
            environment = {
                **os.environ,
                "THELOOK_HOME": str(root),
                **{name: getattr(urls, role) for role, name in URL_ENVIRONMENT_VARIABLES.items()},
            }
            for pipeline in PIPELINES:
                seconds, peak = run_measured(
                    [str(THELOOK), "run", "--pipeline", pipeline, "--engine", engine], environment
                )
                memory = f"peak RSS {peak / 2**20:7.0f} MB"
                print(f"{users:>8,} users  {pipeline:<16} {engine:<7} {seconds:8.1f} s  {memory}", flush=True)
            counts[engine] = row_counts(urls.owner)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    same = counts["duckdb"] == counts["spark"]
    print(f"{users:>8,} users  row counts of {len(counts['duckdb'])} tables equal on both engines: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()
    base = traversable_temp_dir("thelook-bench-pg-")
    server = EmbeddedPostgres(
        base / "data", free_port(), settings_file=REPO_ROOT / "conf" / "postgresql" / "thelook.conf"
    )
    print(f"{os.cpu_count()} cores; DuckDB in the job's process against Spark local[*] (driver + JVM)")
    try:
        for users in arguments.users:
            measure(users, arguments.seed, server, base)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
