"""`thelook generate` as a user runs it (through click's runner, on real files)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests.synth.conftest import TABLES
from thelook_ecommerce_analysis.cli.generate import generate_command
from thelook_ecommerce_analysis.errors import ThelookError


def run(*args: str):
    return CliRunner().invoke(generate_command, list(args))


def test_generates_the_seven_tables_and_reports_rows(tmp_path: Path) -> None:
    result = run("--users", "300", "--seed", "3", "--as-of", "2026-12-31", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "300 users, seed 3, as of 2026-12-31" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    for table in TABLES:
        rows = pq.read_metadata(tmp_path / f"{table}.parquet").num_rows
        assert f"{rows:>12,} rows" in result.output
    assert "  users                          300 rows" in result.output
    assert "done in" in result.output


def test_corrupt_option_damages_the_named_table(tmp_path: Path) -> None:
    result = run(
        "--users", "200", "--as-of", "2024-01-01", "--out", str(tmp_path), "--corrupt", "wrong_type",
        "--table", "inventory_items",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "corrupted inventory_items.parquet: wrong_type" in result.output
    assert pq.read_schema(tmp_path / "inventory_items.parquet").field("cost").type == pa.string()
    assert pq.read_schema(tmp_path / "order_items.parquet").field("sale_price").type == pa.float64()


def test_default_output_is_the_projects_raw_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\npackage_name = 'x'\n")
    monkeypatch.setenv("THELOOK_HOME", str(tmp_path))
    result = run("--users", "50", "--as-of", "2023-06-01")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "01_raw" / "users.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "--users 0 is not a positive number"),
        (["--users", "-3"], "--users -3 is not a positive number"),
        (["--as-of", "2018-06-01"], "--as-of 2018-06-01 is before the data starts"),
    ],
)
def test_bad_options_fail_with_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--out", str(tmp_path))
    assert isinstance(result.exception, ThelookError)
    assert message in str(result.exception)
    assert "\n" not in str(result.exception)
    assert not list(tmp_path.iterdir())


def test_malformed_date_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--as-of", "31/12/2024", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "31/12/2024" in result.output
