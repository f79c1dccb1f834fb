"""The raw tables' contract (conf/base/globals_raw_data.yml) is the one source of their shape.

Read and checked on its own; then the promise that makes it worth having: a column added to a temporary
copy of the contract (and to the input file, as the generator would write it) reaches the DDL and its
comment, the validation, the load and the question loop's catalog, with no other change.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import make_project, new_database, project_home
from thelook_ecommerce_analysis.contract import (
    CONTRACT_KEY,
    CONTRACT_RELATIVE_PATH,
    load_contract,
    parse_contract,
    read_contract,
)
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.db.raw_tables import add_raw_keys, create_raw_tables
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.catalog import load_catalog
from thelook_ecommerce_analysis.synth import generate

REPO_ROOT = Path(__file__).resolve().parents[1]
NEW_COLUMN = "loyalty_tier"
NEW_COLUMN_COMMENT = "Loyalty tier of the user: Gold or Silver."
TIERS = ["Gold", "Silver"]


def contract_entries() -> dict:
    document = yaml.safe_load((REPO_ROOT / CONTRACT_RELATIVE_PATH).read_text(encoding="utf-8"))
    return copy.deepcopy(document[CONTRACT_KEY])


def with_new_column(entries: dict) -> dict:
    users = entries["users"]
    users["columns"][NEW_COLUMN] = {"type": "string", "comment": NEW_COLUMN_COMMENT}
    users["accepted_values"][NEW_COLUMN] = TIERS
    return entries


def test_the_contract_describes_the_seven_tables_in_load_order() -> None:
    contract = load_contract()
    assert contract.names == (
        "distribution_centers",
        "products",
        "users",
        "orders",
        "inventory_items",
        "order_items",
        "events",
    )
    for key in contract.foreign_keys:
        assert contract.names.index(key.parent) < contract.names.index(key.table), key
    assert contract["orders"].key_columns == ("order_id",)
    assert contract["users"].arrow_schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert {(key.table, key.column) for key in contract.foreign_keys} >= {
        ("order_items", "inventory_item_id"),
        ("inventory_items", "product_distribution_center_id"),
        ("events", "user_id"),
    }
    assert all(column.comment for table in contract.tables.values() for column in table.columns)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda entries: entries["users"]["columns"]["age"].update(type="int"),
            "users.age has type 'int', not one of integer, float, string, timestamp",
        ),
        (
            lambda entries: entries["orders"]["columns"]["user_id"].update(references="customers.id"),
            "orders.user_id references customers.id, which is not a column of a table listed before orders",
        ),
        (
            lambda entries: entries["products"]["columns"]["distribution_center_id"].update(
                references="events.id"
            ),
            "products.distribution_center_id references events.id, which is not a column of a table "
            "listed before products",
        ),
        (
            lambda entries: entries["orders"].update(key_columns=["id"]),
            "orders.key_columns names id, not a column of orders",
        ),
        (
            lambda entries: entries["users"]["columns"]["email"].pop("comment"),
            "users.email needs a type and a comment, e.g. {type: string, comment: '...'}",
        ),
        (
            lambda entries: entries["events"].update(watermark="happened_at"),
            "events.watermark names happened_at, not a column of events",
        ),
    ],
)
def test_a_contract_that_contradicts_itself_is_one_line_naming_the_place(break_it, message) -> None:
    entries = contract_entries()
    break_it(entries)
    with pytest.raises(ThelookError) as raised:
        parse_contract(entries)
    assert str(raised.value) == f"raw tables contract: {message}; fix it in {CONTRACT_RELATIVE_PATH}"


def test_an_unreadable_contract_file_names_itself(tmp_path: Path) -> None:
    broken = tmp_path / "globals_raw_data.yml"
    broken.write_text("raw_tables: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(ThelookError, match=r"globals_raw_data.yml has no 'raw_tables' mapping"):
        read_contract(broken)


def test_a_column_added_to_the_contract_is_added_to_an_existing_table(pg_urls: RoleUrls) -> None:
    contract, extended = (
        parse_contract(contract_entries()),
        parse_contract(with_new_column(contract_entries())),
    )
    with new_database(pg_urls) as urls, psycopg.connect(urls.owner, autocommit=True) as connection:
        create_raw_tables(connection, contract, "raw_data")
        connection.execute("INSERT INTO raw_data.users (id, created_at) VALUES (1, now())")
        create_raw_tables(connection, extended, "raw_data")
        create_raw_tables(connection, extended, "raw_data")  # idempotent
        row = connection.execute(f"SELECT id, {NEW_COLUMN} FROM raw_data.users").fetchall()
        assert row == [(1, None)], "the table keeps its rows and gains the column"


@pytest.fixture(scope="module")
def project_with_new_column(tmp_path_factory) -> Iterator[Path]:
    """A project whose contract has one more users column, over generated data that has it too: every
    user Gold or Silver but one, whose tier breaks the contract's accepted values."""
    raw = tmp_path_factory.mktemp("contract-raw")
    generate(raw, users=150, seed=3, progress=False)
    root = make_project(raw)
    contract_path = root / CONTRACT_RELATIVE_PATH
    document = yaml.safe_load(contract_path.read_text(encoding="utf-8"))
    document[CONTRACT_KEY] = with_new_column(document[CONTRACT_KEY])
    contract_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    users_path = root / "data" / "01_raw" / "users.parquet"
    users = pq.read_table(users_path)
    tiers = [TIERS[index % 2] for index in range(users.num_rows - 1)] + ["Platinum"]
    pq.write_table(users.append_column(NEW_COLUMN, pa.array(tiers, pa.string())), users_path)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_column_added_to_the_contract_reaches_ddl_validation_load_and_catalog(
    pg_urls: RoleUrls, project_with_new_column: Path
) -> None:
    from thelook_ecommerce_analysis.job import run_pipeline

    users_in_input = pq.read_table(project_with_new_column / "data" / "01_raw" / "users.parquet")
    with new_database(pg_urls) as urls:
        with project_home(project_with_new_column):
            run_pipeline("data_processing")
        with psycopg.connect(urls.owner) as connection:
            column = connection.execute(
                "SELECT format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum) "
                "FROM pg_attribute AS a WHERE a.attrelid = 'raw_data.users'::regclass AND a.attname = %s",
                (NEW_COLUMN,),
            ).fetchone()
            loaded = dict(
                connection.execute(f"SELECT {NEW_COLUMN}, count(*) FROM raw_data.users GROUP BY 1").fetchall()
            )
            quarantined = connection.execute(
                "SELECT reason, record::jsonb ->> %s FROM raw_data.etl_quarantine "
                "WHERE source_table = 'users'",
                (NEW_COLUMN,),
            ).fetchall()
        with psycopg.connect(urls.reader) as connection:
            catalog = load_catalog(connection)
        assert column == ("text", NEW_COLUMN_COMMENT), "DDL and comment follow the contract"
        assert quarantined == [(f"{NEW_COLUMN} not in accepted values", "Platinum")], "validation follows"
        assert set(loaded) == set(TIERS), "the load carries the new column"
        assert sum(loaded.values()) == users_in_input.num_rows - 1
        assert NEW_COLUMN in {column.name for column in catalog.columns_of(("raw_data", "users"))}
        joins = {(key.table[1], key.columns[0], key.references[1]) for key in catalog.join_keys}
        assert joins == {(key.table, key.column, key.parent) for key in load_contract().foreign_keys}


def test_the_input_without_the_contracts_new_column_is_refused(
    pg_urls: RoleUrls, project_with_new_column: Path, tmp_path: Path
) -> None:
    from thelook_ecommerce_analysis.job import run_pipeline

    users_path = project_with_new_column / "data" / "01_raw" / "users.parquet"
    saved = tmp_path / "users.parquet"
    shutil.copy(users_path, saved)
    pq.write_table(pq.read_table(users_path).drop_columns([NEW_COLUMN]), users_path)
    try:
        with (
            new_database(pg_urls),
            project_home(project_with_new_column),
            pytest.raises(
                ThelookError,
                match=f"users: contract violated, nothing written: missing column\\(s\\) {NEW_COLUMN}",
            ),
        ):
            run_pipeline("data_processing")
    finally:
        shutil.copy(saved, users_path)


def test_the_foreign_keys_are_declared_and_enforced_after_a_load(pg_urls: RoleUrls) -> None:
    contract = load_contract()
    with new_database(pg_urls) as urls, psycopg.connect(urls.owner, autocommit=True) as connection:
        create_raw_tables(connection, contract, "raw_data")
        connection.execute("INSERT INTO raw_data.users (id, created_at) VALUES (1, now())")
        connection.execute("INSERT INTO raw_data.orders (order_id, user_id) VALUES (10, 1)")
        add_raw_keys(connection, contract, "raw_data")
        add_raw_keys(connection, contract, "raw_data")  # idempotent
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="orders_user_id_fkey"):
            connection.execute("INSERT INTO raw_data.orders (order_id, user_id) VALUES (11, 2)")
        declared = connection.execute(
            "SELECT count(*) FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = 'raw_data'::regnamespace"
        ).fetchone()[0]
        assert declared == len(contract.foreign_keys)
