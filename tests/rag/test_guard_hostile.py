"""Both walls, each on its own: the guard refuses every hostile statement, and the read-only role, sent the
very same statements with no guard in front, either refuses them or runs them harmlessly as documented."""

from __future__ import annotations

import contextlib

import psycopg
import pytest

from tests.rag.hostile_statements import HOSTILE_STATEMENTS, Hostile
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.catalog import Catalog
from thelook_ecommerce_analysis.rag.guard import DENIED_FUNCTION_FAMILIES, guard_sql

TEST_STATEMENT_TIMEOUT = "500ms"
"""The reader's role runs with statement_timeout 30s; the second-wall tests lower it to keep sleeps short."""


def statement_id(hostile: Hostile) -> str:
    return " ".join(hostile.sql.split())[:70]


@pytest.mark.parametrize("hostile", HOSTILE_STATEMENTS, ids=statement_id)
def test_the_guard_refuses_it_with_a_reason(hostile: Hostile, catalog: Catalog) -> None:
    result = guard_sql(hostile.sql, catalog)
    assert not result.ok and result.sql == ""
    assert hostile.refusal in result.reason, result.reason
    assert "\n" not in result.reason and "\x1b" not in result.reason


@pytest.mark.parametrize("hostile", HOSTILE_STATEMENTS, ids=statement_id)
def test_the_read_only_role_alone_refuses_it_or_runs_it_harmlessly(
    hostile: Hostile, thelook_db: RoleUrls
) -> None:
    """Sent as the app's role with the guard out of the way, by the simple protocol (so that even
    multi-statement text reaches the server), each on a fresh connection in autocommit mode."""
    options = f"-c statement_timeout={TEST_STATEMENT_TIMEOUT}"
    with psycopg.connect(thelook_db.reader, autocommit=True, options=options) as connection:
        if hostile.database is None:
            with pytest.raises(psycopg.Error):
                connection.execute(hostile.sql)
        else:
            connection.execute(hostile.sql)  # documented as allowed and harmless: it must run


def test_the_hostile_sessions_changed_nothing(thelook_db: RoleUrls) -> None:
    """After every hostile statement has been sent to the reader: the data and the role are intact."""
    for hostile in HOSTILE_STATEMENTS:
        options = f"-c statement_timeout={TEST_STATEMENT_TIMEOUT}"
        with (
            psycopg.connect(thelook_db.reader, autocommit=True, options=options) as connection,
            contextlib.suppress(psycopg.Error),
        ):
            connection.execute(hostile.sql)
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
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    assert settings == ("30s", "on", False), "a new session gets the role's safe defaults back"


def test_the_extended_protocol_refuses_a_second_statement(thelook_db: RoleUrls) -> None:
    """The one gap above (SET statement_timeout = 0; SELECT pg_sleep(...)) closes when queries are sent
    by the extended protocol, as psycopg does for prepared or parameterised queries."""
    with (
        psycopg.connect(thelook_db.reader, autocommit=True) as connection,
        pytest.raises(psycopg.errors.SyntaxError),
    ):
        connection.execute("SET statement_timeout = 0; SELECT pg_sleep(1)", prepare=True)


def test_there_are_enough_hostile_statements_and_all_are_distinct() -> None:
    statements = [hostile.sql for hostile in HOSTILE_STATEMENTS]
    assert len(statements) >= 70
    assert len(set(statements)) == len(statements)


@pytest.mark.parametrize(
    "name",
    sorted({name for family in DENIED_FUNCTION_FAMILIES for name in family.names}),
)
def test_every_denylisted_name_is_refused_however_it_is_written(name: str, catalog: Catalog) -> None:
    """sqlglot knows some functions by other names (version() is CurrentVersion): each exact denylisted
    name must still be caught, in any case, quoted, and schema-qualified."""
    for spelled in (f"{name}()", f"{name.upper()}()", f'"{name}"()', f"pg_catalog.{name}()"):
        result = guard_sql(f"SELECT {spelled}", catalog)
        assert not result.ok and "is not allowed: it" in result.reason, (spelled, result.reason)
