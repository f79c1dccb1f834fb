"""What the status panel reports: whether the database answers, the last ETL run, and links to the tools
that are configured. No Streamlit here; the panel caches these for a minute.

A person looking at an odd answer first needs to know whether the data is fresh (last run, its rows, its
error) and which model wrote the SQL; both are one glance away in the sidebar.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg

from thelook_ecommerce_analysis.config import environment
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError


@dataclass(frozen=True)
class DatabaseStatus:
    ok: bool
    detail: str
    latency_ms: float | None = None


@dataclass(frozen=True)
class EtlRun:
    """One row of raw_data.etl_runs."""

    run_id: str
    pipeline: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    rows_inserted: int
    rows_updated: int
    rows_quarantined: int
    error: str | None

    @property
    def summary(self) -> str:
        """'success · data_processing · 2025-09-30 06:00 UTC · 1,234 rows inserted, 5 updated'."""
        when = self.started_at.strftime("%Y-%m-%d %H:%M %Z").strip()
        rows = f"{self.rows_inserted:,} rows inserted, {self.rows_updated:,} updated"
        if self.rows_quarantined:
            rows += f", {self.rows_quarantined:,} quarantined"
        return f"{self.status} · {self.pipeline} · {when} · {rows}"


LAST_RUN = """
SELECT run_id, pipeline, started_at, finished_at, status, rows_inserted, rows_updated, rows_quarantined, error
FROM raw_data.etl_runs ORDER BY started_at DESC LIMIT 1
"""


def check_database(url: str) -> DatabaseStatus:
    """Connect and run a trivial query, timing the round trip; never raises."""
    started = time.perf_counter()
    try:
        with connect(url) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
    except (ThelookError, psycopg.Error) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return DatabaseStatus(False, first_line)
    latency = (time.perf_counter() - started) * 1000
    return DatabaseStatus(True, f"PostgreSQL {version.split()[0]}", latency)


def last_etl_run(url: str) -> EtlRun | None:
    """The most recent job run, or None before the first run (the table does not exist yet)."""
    try:
        with connect(url) as connection:
            row = connection.execute(LAST_RUN).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return EtlRun(*row) if row else None


def tool_links(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Kedro-Viz and pgAdmin links, for those whose URL variable is set."""
    settings = environment(environ)
    links = {"Kedro-Viz": settings.kedro_viz_url, "pgAdmin": settings.pgadmin_url}
    return {name: url for name, url in links.items() if url}
