"""Project hooks: one run at a time, database DDL around the run, a run log, and resource monitoring
per node and save.

Nodes stay pure because everything with side effects that is not a dataset lives here.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node
from psycopg import sql

from thelook_ecommerce_analysis.contract import Contract, parse_contract
from thelook_ecommerce_analysis.datasets.reports import ReportsWrites
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.db.raw_tables import add_raw_keys, create_raw_tables
from thelook_ecommerce_analysis.errors import ThelookError

logger = logging.getLogger(__name__)

# The job's lock: a session-level PostgreSQL advisory lock on this key ('thelook!' in ASCII), taken with
# pg_try_advisory_lock(bigint) by the owner role on a connection held for the whole run. The server drops
# it the moment that connection ends, so a killed run, or one whose database restarted, never leaves it
# behind.
RUN_LOCK_KEY = int.from_bytes(b"thelook!", "big")
RUN_LOCK_APPLICATION_NAME = "thelook run lock"
# The run log keeps the warnings the project's code logs during a run (at most this many, each cut to
# this length), so that a run that succeeded but fell back somewhere says so in raw_data.etl_runs.
MAX_RECORDED_WARNINGS = 50
# The catalog entry through which this run's id reaches the nodes that stamp it (the quarantine).
RUN_ID_DATASET = "etl_run_id"
MAX_WARNING_CHARS = 1000


class RunInProgressError(ThelookError):
    """Another run of the job holds the lock: not a failure of this one, just 'try again later'."""

    def __init__(self) -> None:
        super().__init__(
            "another thelook run is in progress (it holds the job's lock in the database); "
            "not starting another: try again when it has finished"
        )


def _owner_url(context) -> str:
    return context.config_loader["credentials"]["thelook_owner"]["con"]


def _sql_files(project_path: Path, names: list[str]) -> list[Path]:
    return [project_path / "sql" / name for name in names if (project_path / "sql" / name).exists()]


class CreateIndexesHook:
    """Before the run: the raw tables from the contract (params:raw_tables) and the other DDL
    (sql/<schema>/tables.sql). After it: the contract's primary and foreign keys, then indexes and ANALYZE
    (sql/<schema>/indexes.sql). A first load then COPYs into bare heaps, the fastest path, and every key
    and index is built once over the loaded data."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._scripts: dict[str, list[str]] = {}
        self._project_path = Path.cwd()
        self._contract: Contract | None = None
        self._raw_schema = ""

    @hook_impl
    def after_context_created(self, context) -> None:
        self._url = _owner_url(context)
        self._scripts = context.params.get("sql_scripts", {})
        self._project_path = Path(context.project_path)
        self._contract = parse_contract(context.params["raw_tables"])
        self._raw_schema = context.config_loader["globals"]["raw_data_schema"]

    def _apply_contract(self, apply: Callable[[psycopg.Connection, Contract, str], None]) -> None:
        started = time.perf_counter()
        with connect(self._url, autocommit=True) as connection:
            apply(connection, self._contract, self._raw_schema)
        logger.info("%s in %.1f s", apply.__name__, time.perf_counter() - started)

    def _run_scripts(self, stage: str) -> None:
        for path in _sql_files(self._project_path, self._scripts.get(stage, [])):
            started = time.perf_counter()
            with connect(self._url, autocommit=True) as connection:
                connection.execute(path.read_text(encoding="utf-8"))
            logger.info("ran sql/%s in %.1f s", path.relative_to(self._project_path / "sql"),
                        time.perf_counter() - started)  # fmt: skip

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._apply_contract(create_raw_tables)
        self._run_scripts("before_run")

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result, pipeline, catalog) -> None:
        self._apply_contract(add_raw_keys)
        self._run_scripts("after_run")


class RunLockHook:
    """One run of the job at a time per database, however it was started (`thelook run`, run_job.sh,
    `kedro run`, on this machine or another): before anything else of the run (tryfirst), it takes the
    job's advisory lock or raises RunInProgressError; after everything else (trylast), it lets go.

    A database lock rather than a file lock: the Docker worker and a local run share the database, not
    a file system, and what two runs must not do at once is write the same tables.
    """

    def __init__(self) -> None:
        self._url: str | None = None
        self._connection: psycopg.Connection | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock now (so that no other run of the job is alive)."""
        return self._connection is not None and not self._connection.closed

    @hook_impl
    def after_context_created(self, context) -> None:
        self._url = _owner_url(context)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        # A run of this process that failed in another hook's before_pipeline_run never reached
        # after_pipeline_run or on_pipeline_error: its lock goes now.
        self._release()
        connection = connect(self._url, autocommit=True, application_name=RUN_LOCK_APPLICATION_NAME)
        (acquired,) = connection.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK_KEY,)).fetchone()
        if not acquired:
            connection.close()
            busy = RunInProgressError()
            logger.warning("%s", busy)
            raise busy
        self._connection = connection

    def _release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ending the session releases its advisory lock
            self._connection = None

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], run_result, pipeline, catalog) -> None:
        self._release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._release()


class _WarningRecorder(logging.Handler):
    """Keeps the messages of WARNING and above logged under the project's package during one run."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < MAX_RECORDED_WARNINGS:
            self.messages.append(record.getMessage()[:MAX_WARNING_CHARS])


class RunLogHook:
    """Records each run in raw_data.etl_runs (start, end, rows written and quarantined, the error, the
    warnings logged) so the app can show the last ETL run, and puts the run id in the catalog
    (`etl_run_id`), where the quarantine nodes read it.

    A run killed, or whose database stopped, leaves its row `running`; the next run, which holds the job's
    lock and so knows that no other run is alive, marks such rows `interrupted`.
    """

    def __init__(self, lock: RunLockHook) -> None:
        self._lock = lock
        self._url: str | None = None
        self._catalog = None
        self._run_id = ""
        self._counts = {"rows_inserted": 0, "rows_updated": 0, "rows_quarantined": 0}
        self._warnings = _WarningRecorder()
        self._package_logger = logging.getLogger(__name__.partition(".")[0])

    @hook_impl
    def after_context_created(self, context) -> None:
        self._url = _owner_url(context)

    def _execute(self, statement: str, parameters: tuple) -> None:
        with connect(self._url, autocommit=True) as connection:
            connection.execute(statement, parameters)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._catalog = catalog
        self._run_id = run_params["run_id"]
        self._counts = dict.fromkeys(self._counts, 0)
        self._package_logger.removeHandler(self._warnings)
        self._warnings = _WarningRecorder()
        self._package_logger.addHandler(self._warnings)
        catalog[RUN_ID_DATASET] = self._run_id
        if self._lock.held:
            self._mark_interrupted_runs()
        self._execute(
            "INSERT INTO raw_data.etl_runs (run_id, pipeline, status) VALUES (%s, %s, 'running') "
            "ON CONFLICT (run_id) DO UPDATE SET status = 'running', started_at = now()",
            (self._run_id, run_params.get("pipeline_name") or "__default__"),
        )

    def _mark_interrupted_runs(self) -> None:
        with connect(self._url, autocommit=True) as connection:
            interrupted = connection.execute(
                "UPDATE raw_data.etl_runs SET status = 'interrupted', error = %s "
                "WHERE status = 'running' AND run_id <> %s RETURNING run_id",
                (
                    f"did not finish (killed, or its database stopped); marked by run {self._run_id}",
                    self._run_id,
                ),
            ).fetchall()
        for (run_id,) in interrupted:
            logger.warning("run %s never finished (killed, or its database stopped): interrupted", run_id)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        dataset = self._catalog[dataset_name] if self._catalog is not None else None
        if isinstance(dataset, ReportsWrites):
            written = dataset.last_write()
            self._counts["rows_inserted"] += written.inserted
            self._counts["rows_updated"] += written.updated
            self._counts["rows_quarantined"] += written.quarantined

    def _finish(self, status: str, error: str | None) -> None:
        self._package_logger.removeHandler(self._warnings)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(column)) for column in self._counts
        )
        self._execute(
            sql.SQL(
                "UPDATE raw_data.etl_runs SET status = %s, finished_at = now(), error = %s, "
                "warnings = %s, {} WHERE run_id = %s"
            ).format(assignments),
            (status, error, self._warnings.messages, *self._counts.values(), self._run_id),
        )

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result, pipeline, catalog) -> None:
        self._finish("success", None)
        logger.info(
            "run %s: %d rows inserted, %d updated, %d quarantined, %d warning(s)",
            self._run_id,
            *self._counts.values(),
            len(self._warnings.messages),
        )

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._finish(
            "failed", str(error).strip().splitlines()[-1][:1000] if str(error).strip() else repr(error)
        )


class ResourceMonitoringHook:
    """Logs seconds and RSS per node AND per dataset save (a lazy ibis node does its real work when its
    output is saved), and flags HIGH MEMORY above `monitoring.high_memory_mb` from the parameters."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._threshold_mb = float("inf")
        self._node_started: dict[str, float] = {}
        self._save_started: dict[str, float] = {}

    @hook_impl
    def after_context_created(self, context) -> None:
        self._threshold_mb = context.params.get("monitoring", {}).get("high_memory_mb", float("inf"))

    def _report(self, what: str, seconds: float) -> None:
        rss_mb = self._process.memory_info().rss / 2**20
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        flag = "HIGH MEMORY " if rss_mb > self._threshold_mb else ""
        log = logger.warning if flag else logger.info
        log("%s%s: %.2f s, RSS %.0f MB (peak %.0f MB)", flag, what, seconds, rss_mb, peak_mb)

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._node_started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        self._report(f"node {node.name}", time.perf_counter() - self._node_started.pop(node.name))

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._save_started[dataset_name] = time.perf_counter()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._report(f"save {dataset_name}", time.perf_counter() - self._save_started.pop(dataset_name))
