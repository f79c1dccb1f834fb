"""Both walls, each on its own: the guard refuses every hostile statement, and the read-only role, sent the
very same statements with no guard in front, either refuses them or runs them harmlessly as documented.
The figures of docs/guard.md ("what each wall stops alone") are computed here and checked against the doc."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import INIT_SQL, REPO_ROOT
from tests.rag.hostile_statements import HOSTILE_CLASSES, HOSTILE_STATEMENTS, Hostile, HostileClass
from thelook_ecommerce_analysis.cli.sql_check import sql_check_command
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.allowlist import DENIED_FUNCTION_FAMILIES
from thelook_ecommerce_analysis.rag.catalog import Catalog
from thelook_ecommerce_analysis.rag.guard import guard_sql

TEST_STATEMENT_TIMEOUT = "500ms"
"""The reader's role runs with statement_timeout 30s; the second-wall tests lower it to keep sleeps and
huge series short (the statement is still stopped by the role's own session, not by the test)."""

GUARD_DOC = REPO_ROOT / "docs" / "guard.md"


def statement_id(hostile: Hostile) -> str:
    return " ".join(hostile.sql.split())[:70]


def run_as_reader(url: str, sql: str, statement_timeout: str = TEST_STATEMENT_TIMEOUT) -> str | None:
    """Send `sql` as the app's role with the guard out of the way, by the simple protocol (so that even
    multi-statement text reaches the server), on a fresh connection in autocommit mode; the name of the
    error PostgreSQL stopped it with, or None when it ran."""
    options = f"-c statement_timeout={statement_timeout}"
    with psycopg.connect(url, autocommit=True, options=options) as connection:
        try:
            connection.execute(sql)
        except psycopg.Error as error:
            return type(error).__name__
    return None


@pytest.fixture(scope="module")
def role_outcomes(thelook_db: RoleUrls) -> dict[str, str | None]:
    """Every hostile statement sent once to the reader alone: what stopped it (None: it ran)."""
    return {hostile.sql: run_as_reader(thelook_db.reader, hostile.sql) for hostile in HOSTILE_STATEMENTS}


@pytest.mark.parametrize("hostile", HOSTILE_STATEMENTS, ids=statement_id)
def test_the_guard_refuses_it_with_a_reason(hostile: Hostile, catalog: Catalog) -> None:
    result = guard_sql(hostile.sql, catalog)
    assert not result.ok and result.sql == ""
    assert hostile.refusal in result.reason, result.reason
    assert "\n" not in result.reason and "\x1b" not in result.reason


@pytest.mark.parametrize("hostile", HOSTILE_STATEMENTS, ids=statement_id)
def test_the_read_only_role_alone_refuses_it_or_runs_it_harmlessly(
    hostile: Hostile, role_outcomes: dict[str, str | None]
) -> None:
    stopped_by = role_outcomes[hostile.sql]
    if hostile.database is None:
        assert stopped_by is not None, "the reader ran it; it must be refused or stopped"
    else:
        assert stopped_by is None, f"documented as harmless and allowed, but stopped by {stopped_by}"


def test_the_hostile_sessions_changed_nothing(
    thelook_db: RoleUrls, role_outcomes: dict[str, str | None]
) -> None:
    """After every hostile statement has been sent to the reader: the data and the role are intact."""
    assert len(role_outcomes) == len(HOSTILE_STATEMENTS)
    with psycopg.connect(thelook_db.admin) as connection:
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM raw_data.orders), (SELECT count(*) FROM raw_data.order_items),"
            " (SELECT count(*) FROM public.secrets), to_regclass('raw_data.evil'), "
            "to_regclass('raw_data.stolen')"
        ).fetchone()
    assert counts == (40, 60, 1, None, None)
    with psycopg.connect(thelook_db.reader) as connection:
        settings = connection.execute(
            "SELECT current_setting('statement_timeout'), current_setting('default_transaction_read_only'),"
            " current_setting('temp_file_limit'), current_setting('work_mem'),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    assert settings == ("30s", "on", "256MB", "32MB", False), "a new session gets the role's safe defaults"


def test_the_extended_protocol_refuses_a_second_statement(thelook_db: RoleUrls) -> None:
    """A string of several statements, sent by the simple protocol, may SET away the session's own
    statement_timeout and work_mem before its SELECT (PostgreSQL lets every role change those two). That
    closes when queries are sent by the extended protocol, as psycopg does for prepared or parameterised
    queries and the app's executor does for every query."""
    with (
        psycopg.connect(thelook_db.reader, autocommit=True) as connection,
        pytest.raises(psycopg.errors.SyntaxError),
    ):
        connection.execute("SET statement_timeout = 0; SELECT count(*) FROM raw_data.orders", prepare=True)


def test_there_are_enough_hostile_statements_and_all_are_distinct() -> None:
    statements = [hostile.sql for hostile in HOSTILE_STATEMENTS]
    assert len(statements) >= 200
    assert len(set(statements)) == len(statements)
    assert all(len(hostile_class.statements) >= 6 for hostile_class in HOSTILE_CLASSES)


def _spelled_with_arguments(name: str, catalog: Catalog) -> list[str]:
    """The four spellings of a call of `name`, with the first argument list sqlglot can parse for it."""
    for arguments in ("", "'x'", "'x', 1"):
        spellings = [
            f"{spelled}({arguments})" for spelled in (name, name.upper(), f'"{name}"', f"pg_catalog.{name}")
        ]
        if not guard_sql(f"SELECT {spellings[0]}", catalog).reason.startswith("not valid PostgreSQL"):
            return spellings
    raise AssertionError(f"no argument list parses for {name}")


@pytest.mark.parametrize(
    "name",
    sorted({name for family in DENIED_FUNCTION_FAMILIES for name in family.names}),
)
def test_every_named_dangerous_function_is_refused_with_its_reason_however_it_is_written(
    name: str, catalog: Catalog
) -> None:
    """sqlglot knows some functions by other names (version() is CurrentVersion): each dangerous name must
    still be refused with its family's reason, in any case, quoted, and schema-qualified."""
    for spelled in _spelled_with_arguments(name, catalog):
        result = guard_sql(f"SELECT {spelled}", catalog)
        assert not result.ok and "is not allowed: it" in result.reason, (spelled, result.reason)


# -- what each wall stops alone ------------------------------------------------------------------------


def wall_figures(
    hostile_class: HostileClass, catalog: Catalog, role_outcomes: dict[str, str | None]
) -> tuple[int, int, int]:
    """(statements tried, refused by the guard, refused or stopped by the role with no guard)."""
    statements = hostile_class.statements
    by_guard = sum(not guard_sql(hostile.sql, catalog).ok for hostile in statements)
    by_role = sum(role_outcomes[hostile.sql] is not None for hostile in statements)
    return len(statements), by_guard, by_role


def figures_table(catalog: Catalog, role_outcomes: dict[str, str | None]) -> list[str]:
    """The rows of docs/guard.md's table, as markdown."""
    rows = []
    for hostile_class in HOSTILE_CLASSES:
        tried, by_guard, by_role = wall_figures(hostile_class, catalog, role_outcomes)
        rows.append(f"| {hostile_class.name} | {tried} | {by_guard} | {by_role} |")
    return rows


def test_each_wall_alone_stops_every_statement_of_the_classes_issue_14_names(
    catalog: Catalog, role_outcomes: dict[str, str | None]
) -> None:
    """Attribute notation, session signalling, sleep and resource exhaustion: refused by the guard, and
    refused or stopped by the role with no guard in front, every statement of each class."""
    required = [hostile_class for hostile_class in HOSTILE_CLASSES if hostile_class.both_walls]
    assert {hostile_class.name for hostile_class in required} >= {
        "attribute notation: (x).f and t.f call f(x)",
        "session signalling",
        "sleep",
        "resource exhaustion",
    }
    for hostile_class in required:
        tried, by_guard, by_role = wall_figures(hostile_class, catalog, role_outcomes)
        assert tried == by_guard == by_role, (hostile_class.name, tried, by_guard, by_role)


@pytest.mark.parametrize(
    "hostile",
    [
        hostile
        for hostile_class in HOSTILE_CLASSES
        if hostile_class.both_walls
        for hostile in hostile_class.statements
    ],
    ids=statement_id,
)
def test_thelook_sql_check_refuses_it_in_one_line(hostile: Hostile, thelook_db: RoleUrls) -> None:
    result = CliRunner().invoke(sql_check_command, [], input=hostile.sql)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("refused: ") and hostile.refusal in result.stderr.splitlines()[0]


def test_the_figures_in_docs_guard_md_are_the_measured_ones(
    catalog: Catalog, role_outcomes: dict[str, str | None]
) -> None:
    rows = figures_table(catalog, role_outcomes)
    print("\n".join(rows))  # the table for docs/guard.md, shown with -s
    documented = GUARD_DOC.read_text()
    missing = [row for row in rows if row not in documented]
    assert not missing, "docs/guard.md's table is out of date; these rows are measured:\n" + "\n".join(rows)
    total_tried = sum(len(hostile_class.statements) for hostile_class in HOSTILE_CLASSES)
    assert f"{total_tried} statements" in documented


# -- the role's hardening on its own -------------------------------------------------------------------

REVOKED_NAMES = (
    "pg_cancel_backend",
    "pg_terminate_backend",
    "pg_stat_get_activity",
    "pg_stat_get_backend_activity",
    "pg_stat_get_backend_client_addr",
    "pg_stat_get_backend_idset",
    "pg_stat_get_progress_info",
    "pg_lock_status",
    "pg_blocking_pids",
    "pg_safe_snapshot_blocking_pids",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_advisory_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_advisory_unlock_all",
    "ts_stat",
    "ts_rewrite",
    "query_to_xml",
    "table_to_xml_and_xmlschema",
    "cursor_to_xml",
    "pg_log_backend_memory_contexts",
    "pg_notify",
    "txid_current",
    "repeat",
    "lpad",
    "rpad",
    "format",
    "array_fill",
)


def test_every_overload_of_the_revoked_functions_is_closed_to_the_reader(thelook_db: RoleUrls) -> None:
    with psycopg.connect(thelook_db.admin) as connection:
        overloads = connection.execute(
            "SELECT p.oid::regprocedure::text, has_function_privilege('thelook_reader', p.oid, 'EXECUTE')"
            " FROM pg_proc AS p WHERE p.pronamespace = 'pg_catalog'::regnamespace"
            " AND (p.proname = ANY(%s) OR p.proname LIKE 'pg\\_stat\\_get\\_backend\\_%%'"
            "      OR p.proname LIKE 'pg\\_%%advisory\\_%%')",
            (list(REVOKED_NAMES),),
        ).fetchall()
    assert len(overloads) > 2 * len(REVOKED_NAMES) - 10, "several overloads each"
    assert [signature for signature, executable in overloads if executable] == []


def test_the_activity_views_are_closed_to_the_reader(thelook_db: RoleUrls) -> None:
    with psycopg.connect(thelook_db.admin) as connection:
        readable = connection.execute(
            "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'pg_catalog'::regnamespace"
            " AND c.relname IN ('pg_stat_activity', 'pg_locks', 'pg_stat_ssl', 'pg_stat_gssapi',"
            " 'pg_stat_replication', 'pg_stat_progress_copy', 'pg_stat_progress_vacuum', 'pg_prepared_xacts')"
            " AND has_table_privilege('thelook_reader', c.oid, 'SELECT')"
        ).fetchall()
    assert readable == []


def test_the_owner_keeps_what_the_job_needs(thelook_db: RoleUrls) -> None:
    """The job's run lock is an advisory lock and its tests watch pg_stat_activity: the owner role gets
    back every function and view the reader lost."""
    with psycopg.connect(thelook_db.owner, autocommit=True) as connection:
        locked, sessions, text, temp_limit = connection.execute(
            "SELECT pg_try_advisory_lock(74), (SELECT count(*) FROM pg_stat_activity), repeat('ab', 2),"
            " current_setting('temp_file_limit')"
        ).fetchone()
        connection.execute("SELECT pg_advisory_unlock(74)")
    assert (locked, text) == (True, "abab") and sessions >= 1
    assert temp_limit == "8GB", "the owner has the server's limit (conf/postgresql/thelook.conf)"


def test_the_temp_file_limit_alone_stops_a_huge_series(thelook_db: RoleUrls) -> None:
    """With the role's own 30 s timeout, the series that wrote 1.1 GB of temp files is stopped at 256 MB
    (in ~4 s on 2 cores), not by the timeout."""
    stopped_by = run_as_reader(
        thelook_db.reader, "SELECT count(*) FROM generate_series(1, 100000000)", statement_timeout="30s"
    )
    assert stopped_by == "ConfigurationLimitExceeded"


def test_the_reader_cannot_lift_its_temp_file_limit(thelook_db: RoleUrls) -> None:
    for attempt in ("SET temp_file_limit = -1", "SELECT set_config('temp_file_limit', '-1', false)"):
        assert run_as_reader(thelook_db.reader, attempt) == "InsufficientPrivilege", attempt


def test_init_sql_runs_again_and_keeps_the_hardening(thelook_db: RoleUrls) -> None:
    with psycopg.connect(thelook_db.admin, autocommit=True) as connection:
        connection.execute(Path(INIT_SQL).read_text())
        connection.execute(Path(INIT_SQL).read_text())
    assert run_as_reader(thelook_db.reader, "SELECT (1).pg_sleep") == "InsufficientPrivilege"
    with (
        psycopg.connect(thelook_db.owner, autocommit=True) as connection,
        contextlib.closing(connection.cursor()) as cursor,
    ):
        assert cursor.execute("SELECT pg_try_advisory_xact_lock(75)").fetchone() == (True,)
