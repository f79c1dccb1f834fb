"""`thelook sql-check` as a user runs it: SQL on stdin, verdict on stdout/stderr and in the exit code."""

from __future__ import annotations

from click.testing import CliRunner

from tests.conftest import free_port
from thelook_ecommerce_analysis.cli import FriendlyGroup
from thelook_ecommerce_analysis.cli.sql_check import sql_check_command
from thelook_ecommerce_analysis.db.local import RoleUrls


def test_allowed_sql_prints_the_normalised_query_and_exits_0(thelook_db: RoleUrls) -> None:
    result = CliRunner().invoke(
        sql_check_command,
        ["--max-rows", "50"],
        input="select status, count(*) from orders group by 1 limit 500\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "SELECT status, COUNT(*) FROM raw_data.orders GROUP BY 1 LIMIT 50"


def test_refused_sql_prints_the_reason_and_hints_and_exits_1(thelook_db: RoleUrls) -> None:
    result = CliRunner().invoke(sql_check_command, [], input="SELECT order_date FROM orders")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == 'refused: unknown column "order_date" in raw_data.orders'
    assert lines[1].startswith("  hint: raw_data.orders has: order_id, user_id, status")


def test_hostile_sql_is_refused_in_one_line(thelook_db: RoleUrls) -> None:
    result = CliRunner().invoke(sql_check_command, [], input="SELECT 1;\n-- bye\nDROP TABLE raw_data.orders")
    assert result.exit_code == 1
    assert result.stderr == "refused: only one statement is allowed, found 2 (SELECT, DROP)\n"


def test_the_catalog_is_the_readers(thelook_db: RoleUrls) -> None:
    """raw_data.etl_state exists, but the reader may not select it: sql-check must say it is unknown."""
    result = CliRunner().invoke(sql_check_command, [], input="SELECT token FROM raw_data.etl_state")
    assert result.exit_code == 1
    assert 'unknown table "raw_data.etl_state"' in result.stderr


def test_max_rows_must_be_positive(thelook_db: RoleUrls) -> None:
    result = CliRunner().invoke(sql_check_command, ["--max-rows", "0"], input="SELECT 1")
    assert result.exit_code == 2
    assert "--max-rows" in result.stderr


def test_an_unreachable_database_is_one_clear_line(thelook_db: RoleUrls, monkeypatch) -> None:
    """Registered under thelook's FriendlyGroup (as `thelook` does), a dead server gives `error: ...`."""
    monkeypatch.setenv("THELOOK_READER_URL", f"postgresql://nobody:x@127.0.0.1:{free_port()}/thelook")
    group = FriendlyGroup("thelook")
    group.add_command(sql_check_command, "sql-check")
    result = CliRunner().invoke(group, ["sql-check"], input="SELECT 1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot connect to postgresql://nobody:***@127.0.0.1:")
    assert "Traceback" not in result.output
