"""The deterministic repairs, each on its own, and the promise that a valid query passes unchanged."""

from __future__ import annotations

import pytest
import sqlglot

from thelook_ecommerce_analysis.contract import load_contract
from thelook_ecommerce_analysis.rag.catalog import Catalog, CatalogColumn, JoinKey, TableKey
from thelook_ecommerce_analysis.rag.guard import guard_sql
from thelook_ecommerce_analysis.rag.knowledge import Knowledge
from thelook_ecommerce_analysis.rag.repair import (
    closest_value,
    drop_aggregates_from_grouping,
    fix_literals,
    fix_unknown_columns,
    fix_unknown_tables,
    repair_literals,
    repair_sql,
    rewrite_backticks,
    rewrite_mysql_habits,
    swap_to_named_table,
    swap_to_table_with_columns,
)


def _columns(**types: str) -> tuple[CatalogColumn, ...]:
    return tuple(CatalogColumn(name, type_) for name, type_ in types.items())


def contract_join_keys(tables: dict[TableKey, tuple[CatalogColumn, ...]]) -> tuple[JoinKey, ...]:
    """The raw tables' foreign keys (as PostgreSQL declares them after a load) among these columns."""
    names = {table: {column.name for column in columns} for table, columns in tables.items()}
    return tuple(
        JoinKey(("raw_data", key.table), (key.column,), ("raw_data", key.parent), (key.parent_column,))
        for key in load_contract().foreign_keys
        if key.column in names.get(("raw_data", key.table), ())
        and key.parent_column in names.get(("raw_data", key.parent), ())
    )


TIMESTAMP = "timestamp with time zone"
TABLES = {
    ("raw_data", "orders"): _columns(
        order_id="bigint", user_id="bigint", status="text", gender="text", created_at=TIMESTAMP
    ),
    ("raw_data", "users"): _columns(id="bigint", gender="text", country="text", created_at=TIMESTAMP),
    ("raw_data", "order_items"): _columns(
        id="bigint", order_id="bigint", product_id="bigint", sale_price="double precision"
    ),
    ("raw_data", "products"): _columns(
        id="bigint", category="text", brand="text", retail_price="double precision"
    ),
    ("raw_data", "inventory_items"): _columns(
        id="bigint", product_id="bigint", product_category="text", sold_at=TIMESTAMP
    ),
    ("metrics", "sales_daily"): _columns(order_date="date", gmv="numeric", orders="bigint"),
    ("metrics", "sales_daily_by_country"): _columns(order_date="date", country="text", gmv="numeric"),
    ("metrics", "signups_monthly"): _columns(signup_month="date", users="bigint"),
}
CATALOG = Catalog(tables=TABLES, join_keys=contract_join_keys(TABLES))
KNOWLEDGE = Knowledge(
    values={
        ("raw_data", "orders", "status"): ("Processing", "Shipped", "Complete", "Cancelled", "Returned"),
        ("raw_data", "orders", "gender"): ("M", "F"),
        ("raw_data", "users", "gender"): ("M", "F"),
    }
)
VALID_QUERIES = [
    "SELECT status, count(*) FROM raw_data.orders GROUP BY status",
    "SELECT o.order_id, u.country FROM raw_data.orders AS o JOIN raw_data.users AS u ON u.id = o.user_id",
    "SELECT date_trunc('month', created_at) AS month, count(*) AS n FROM raw_data.orders GROUP BY 1",
    "WITH t AS (SELECT user_id, count(*) AS n FROM raw_data.orders GROUP BY user_id) SELECT avg(n) FROM t",
    "SELECT EXTRACT(YEAR FROM order_date) AS year, sum(gmv) FROM metrics.sales_daily GROUP BY 1",
    "SELECT count(*) FROM raw_data.orders WHERE status IN ('Complete', 'Returned') AND gender = 'F'",
    "SELECT x.total FROM (SELECT sum(sale_price) AS total FROM raw_data.order_items) AS x",
]


def _tree(sql: str):
    return sqlglot.parse_one(sql, read="postgres")


@pytest.mark.parametrize("sql", VALID_QUERIES)
def test_a_valid_query_passes_every_repair_unchanged(sql: str) -> None:
    tree = _tree(sql)
    steps = (
        rewrite_mysql_habits,
        fix_unknown_tables,
        swap_to_named_table,
        fix_unknown_columns,
        swap_to_table_with_columns,
        drop_aggregates_from_grouping,
        fix_literals,
    )
    for step in steps:
        assert step(tree, CATALOG, KNOWLEDGE) is None, step.__name__
    assert repair_sql(sql, CATALOG, KNOWLEDGE) == []
    assert repair_literals(sql, CATALOG, KNOWLEDGE) is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT YEAR(created_at) AS y, count(*) FROM raw_data.orders GROUP BY 1",
         "SELECT EXTRACT(YEAR FROM created_at) AS y, COUNT(*) FROM raw_data.orders GROUP BY 1"),
        ("SELECT count(*) FROM raw_data.orders WHERE MONTH(created_at) = 3",
         "SELECT COUNT(*) FROM raw_data.orders WHERE EXTRACT(MONTH FROM created_at) = 3"),
        ("SELECT DATE_FORMAT(created_at, '%Y-%m') AS month FROM raw_data.orders",
         "SELECT TO_CHAR(created_at, 'YYYY-MM') AS month FROM raw_data.orders"),
        ("SELECT count(*) FROM raw_data.orders WHERE created_at LIKE '2024%'",
         "SELECT COUNT(*) FROM raw_data.orders "
         "WHERE TO_CHAR(created_at, 'YYYY-MM-DD HH24:MI:SS') LIKE '2024%'"),
    ],
)  # fmt: skip
def test_mysql_habits_become_postgresql(sql: str, expected: str) -> None:
    repaired, notes = rewrite_mysql_habits(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == expected
    assert notes


def test_backticks_are_read_as_mysql_quotes() -> None:
    assert rewrite_backticks("SELECT `status` FROM raw_data.orders") == 'SELECT "status" FROM raw_data.orders'
    assert rewrite_backticks("SELECT status FROM raw_data.orders") is None


def test_unknown_table_gets_the_closest_real_one() -> None:
    repaired, notes = fix_unknown_tables(
        _tree("SELECT count(*) FROM raw_data.order_item"), CATALOG, KNOWLEDGE
    )
    assert repaired.sql(dialect="postgres") == 'SELECT COUNT(*) FROM raw_data.order_items AS "order_item"'
    assert notes == ["table raw_data.order_item -> raw_data.order_items"]


def test_unknown_column_is_renamed_within_its_table_first() -> None:
    sql = "SELECT o.userid, count(*) FROM raw_data.orders AS o GROUP BY o.userid"
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert (
        repaired.sql(dialect="postgres")
        == "SELECT o.user_id, COUNT(*) FROM raw_data.orders AS o GROUP BY o.user_id"
    )
    assert notes[0] == "o.userid -> user_id"


def test_column_on_the_wrong_alias_moves_to_the_table_that_has_it() -> None:
    sql = (
        "SELECT o.country, count(*) FROM raw_data.orders AS o "
        "JOIN raw_data.users AS u ON u.id = o.user_id GROUP BY 1"
    )
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert "u.country" in repaired.sql(dialect="postgres")
    assert notes == ["o.country -> u.country (wrong table)"]


def test_unqualified_unknown_column_searches_the_query_tables() -> None:
    repaired, _ = fix_unknown_columns(
        _tree("SELECT sum(saleprice) FROM raw_data.order_items"), CATALOG, KNOWLEDGE
    )
    assert repaired.sql(dialect="postgres") == "SELECT SUM(sale_price) FROM raw_data.order_items"


def test_a_name_with_no_close_match_is_left_for_the_model() -> None:
    assert fix_unknown_columns(_tree("SELECT revenue FROM raw_data.orders"), CATALOG, KNOWLEDGE) is None


STATUSES = ("Processing", "Shipped", "Complete", "Cancelled", "Returned")


@pytest.mark.parametrize(
    ("literal", "values", "expected"),
    [
        ("completed", STATUSES, "Complete"),
        ("COMPLETE", STATUSES, "Complete"),
        ("cancel", STATUSES, "Cancelled"),
        ("shiped", STATUSES, "Shipped"),
        ("Delivered", STATUSES, None),
        ("female", ("M", "F"), "F"),
        ("male", ("M", "F"), "M"),
    ],
)
def test_closest_value(literal: str, values: tuple[str, ...], expected: str | None) -> None:
    assert closest_value(literal, values) == expected


def test_literals_of_categorical_columns_are_replaced_in_comparisons_and_in_lists() -> None:
    sql = (
        "SELECT count(*) FROM raw_data.orders WHERE status IN ('completed', 'returned') AND gender = 'female'"
    )
    repair = repair_literals(sql, CATALOG, KNOWLEDGE)
    assert repair is not None
    assert repair.sql == (
        "SELECT COUNT(*) FROM raw_data.orders WHERE status IN ('Complete', 'Returned') AND gender = 'F'"
    )
    assert repair.note == "'completed' -> 'Complete'; 'returned' -> 'Returned'; 'female' -> 'F'"


def test_repairs_accumulate_in_order() -> None:
    sql = (
        "SELECT YEAR(created_at) AS y, count(userid) FROM raw_data.order WHERE status = 'Complete' GROUP BY 1"
    )
    repairs = repair_sql(sql, CATALOG, KNOWLEDGE)
    assert [repair.kind for repair in repairs] == ["dialect", "table", "column"]
    assert repairs[-1].sql == (
        'SELECT EXTRACT(YEAR FROM created_at) AS y, COUNT(user_id) FROM raw_data.orders AS "order" '
        "WHERE status = 'Complete' GROUP BY 1"
    )


def test_a_column_named_with_its_table_prefix_loses_the_prefix() -> None:
    catalog = Catalog(tables={("raw_data", "products"): _columns(id="bigint", name="text", brand="text")})
    repaired, notes = fix_unknown_columns(
        _tree("SELECT product_name FROM raw_data.products"), catalog, KNOWLEDGE
    )
    assert repaired.sql(dialect="postgres") == "SELECT name FROM raw_data.products"
    assert notes == ["product_name -> name"]


def test_a_date_like_name_becomes_the_tables_only_date_column() -> None:
    catalog = Catalog(tables={("metrics", "cohorts"): _columns(cohort_month="date", cohort_size="bigint")})
    sql = "SELECT cohort_size FROM metrics.cohorts WHERE created_at >= DATE '2024-01-01'"
    repaired, _ = fix_unknown_columns(_tree(sql), catalog, KNOWLEDGE)
    assert "WHERE cohort_month >= CAST('2024-01-01' AS DATE)" in repaired.sql(dialect="postgres")
    two_dates = Catalog(tables={("raw_data", "orders"): _columns(created_at=TIMESTAMP, shipped_at=TIMESTAMP)})
    assert fix_unknown_columns(_tree("SELECT order_date FROM raw_data.orders"), two_dates, KNOWLEDGE) is None


def test_a_column_qualified_by_a_table_missing_from_the_query_moves_to_one_that_has_it() -> None:
    sql = "SELECT sum(order_items.sale_price) FROM raw_data.order_items AS oi"
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == "SELECT SUM(oi.sale_price) FROM raw_data.order_items AS oi"
    assert notes == ["order_items.sale_price -> oi.sale_price (table not in FROM)"]


def test_a_column_found_only_as_a_suffix_becomes_the_denormalised_copy() -> None:
    sql = "SELECT category, count(*) FROM raw_data.inventory_items GROUP BY category"
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT product_category, COUNT(*) FROM raw_data.inventory_items GROUP BY product_category"
    )
    assert notes == ["category -> product_category", "category -> product_category"]


@pytest.mark.parametrize(
    ("sql", "expected", "note"),
    [
        ("SELECT count(*) FROM raw_data.order_items WHERE order_items.category = 'Jeans'",
         "SELECT COUNT(*) FROM raw_data.order_items "
         "JOIN raw_data.products AS products ON order_items.product_id = products.id "
         "WHERE products.category = 'Jeans'",
         "order_items.category -> products.category "
         "(joined raw_data.products on order_items.product_id = products.id)"),
        ("SELECT sum(sale_price) FROM raw_data.order_items AS oi WHERE category = 'Jeans'",
         "SELECT SUM(sale_price) FROM raw_data.order_items AS oi "
         "JOIN raw_data.products AS products ON oi.product_id = products.id "
         "WHERE products.category = 'Jeans'",
         "category -> products.category (joined raw_data.products on oi.product_id = products.id)"),
        ("SELECT o.order_id FROM raw_data.orders AS o WHERE o.country = 'China'",
         "SELECT o.order_id FROM raw_data.orders AS o "
         "JOIN raw_data.users AS users ON o.user_id = users.id WHERE users.country = 'China'",
         "o.country -> users.country (joined raw_data.users on o.user_id = users.id)"),
        ("SELECT o.order_id, o.sale_price FROM raw_data.orders AS o",
         "SELECT o.order_id, order_items.sale_price FROM raw_data.orders AS o "
         "JOIN raw_data.order_items AS order_items ON o.order_id = order_items.order_id",
         "o.sale_price -> order_items.sale_price "
         "(joined raw_data.order_items on o.order_id = order_items.order_id)"),
        ("SELECT count(*) FROM raw_data.order_items AS products WHERE products.category = 'Jeans'",
         "SELECT COUNT(*) FROM raw_data.order_items AS products "
         "JOIN raw_data.products AS products_2 ON products.product_id = products_2.id "
         "WHERE products_2.category = 'Jeans'",
         "products.category -> products_2.category "
         "(joined raw_data.products on products.product_id = products_2.id)"),
    ],
)  # fmt: skip
def test_a_column_of_a_table_one_join_away_joins_that_table(sql: str, expected: str, note: str) -> None:
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == expected
    assert notes == [note]
    assert guard_sql(expected, CATALOG, max_rows=1000).ok


def test_columns_needing_the_same_table_share_one_join() -> None:
    sql = "SELECT brand, count(*) FROM raw_data.order_items WHERE category = 'Jeans' GROUP BY brand"
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT products.brand, COUNT(*) FROM raw_data.order_items "
        "JOIN raw_data.products AS products ON order_items.product_id = products.id "
        "WHERE products.category = 'Jeans' GROUP BY products.brand"
    )
    assert repaired.sql(dialect="postgres").count("JOIN") == 1
    assert sorted(notes) == [
        "brand -> products.brand (joined raw_data.products on order_items.product_id = products.id)",
        "brand -> products.brand (raw_data.products joined above)",
        "category -> products.category (raw_data.products joined above)",
    ]
    assert guard_sql(repaired.sql(dialect="postgres"), CATALOG, max_rows=1000).ok


def test_the_join_goes_into_the_select_that_has_the_column() -> None:
    sql = (
        "SELECT u.country FROM raw_data.users AS u WHERE u.id IN "
        "(SELECT oi.order_id FROM raw_data.order_items AS oi WHERE oi.brand = 'Levi')"
    )
    repaired, _ = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT u.country FROM raw_data.users AS u WHERE u.id IN "
        "(SELECT oi.order_id FROM raw_data.order_items AS oi "
        "JOIN raw_data.products AS products ON oi.product_id = products.id WHERE products.brand = 'Levi')"
    )


def test_a_multi_column_join_key_joins_on_every_pair() -> None:
    catalog = Catalog(
        tables={
            ("raw_data", "order_lines"): _columns(order_id="bigint", line="bigint", quantity="bigint"),
            ("raw_data", "shipments"): _columns(order_id="bigint", line="bigint", carrier="text"),
        },
        join_keys=(
            JoinKey(
                ("raw_data", "order_lines"),
                ("order_id", "line"),
                ("raw_data", "shipments"),
                ("order_id", "line"),
            ),
        ),
    )
    repaired, _ = fix_unknown_columns(
        _tree("SELECT l.carrier FROM raw_data.order_lines AS l"), catalog, KNOWLEDGE
    )
    assert repaired.sql(dialect="postgres") == (
        "SELECT shipments.carrier FROM raw_data.order_lines AS l JOIN raw_data.shipments AS shipments "
        "ON l.order_id = shipments.order_id AND l.line = shipments.line"
    )


def test_a_column_no_joinable_table_has_is_left_for_the_model() -> None:
    assert (
        fix_unknown_columns(_tree("SELECT o.revenue FROM raw_data.orders AS o"), CATALOG, KNOWLEDGE) is None
    )
    assert (
        fix_unknown_columns(
            _tree("SELECT count(*) FROM raw_data.users WHERE category = 'Jeans'"), CATALOG, KNOWLEDGE
        )
        is None
    )


def test_a_date_like_name_is_not_guessed_through_a_join() -> None:
    tables = {
        ("raw_data", "orders"): _columns(
            order_id="bigint", user_id="bigint", created_at=TIMESTAMP, shipped_at=TIMESTAMP
        ),
        ("raw_data", "users"): _columns(id="bigint", created_at=TIMESTAMP),
    }
    catalog = Catalog(tables=tables, join_keys=contract_join_keys(tables))
    assert fix_unknown_columns(_tree("SELECT order_date FROM raw_data.orders"), catalog, KNOWLEDGE) is None


def test_a_table_named_in_a_qualifier_replaces_the_one_in_from() -> None:
    sql = "SELECT EXTRACT(YEAR FROM created_at) AS y, count(users.id) FROM metrics.signups_monthly GROUP BY y"
    repaired, notes = swap_to_named_table(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT EXTRACT(YEAR FROM created_at) AS y, COUNT(users.id) FROM raw_data.users GROUP BY y"
    )
    assert notes == ["metrics.signups_monthly -> raw_data.users (it has created_at, id)"]
    assert guard_sql(repaired.sql(dialect="postgres"), CATALOG, max_rows=1000).ok


def test_the_named_table_must_hold_every_column_the_query_asks_of_its_table() -> None:
    sql = "SELECT signup_month, count(users.id) FROM metrics.signups_monthly GROUP BY 1"
    assert swap_to_named_table(_tree(sql), CATALOG, KNOWLEDGE) is None


def test_a_one_table_query_moves_to_the_only_table_with_all_its_columns() -> None:
    sql = "SELECT sum(gmv) AS gmv FROM metrics.sales_daily WHERE country = 'China'"
    repaired, _ = swap_to_table_with_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT SUM(gmv) AS gmv FROM metrics.sales_daily_by_country WHERE country = 'China'"
    )
    aliased = "SELECT sum(s.gmv) FROM metrics.sales_daily AS s WHERE s.country = 'China'"
    repaired, _ = swap_to_table_with_columns(_tree(aliased), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT SUM(s.gmv) FROM metrics.sales_daily_by_country AS s WHERE s.country = 'China'"
    )


def test_date_trunc_of_an_untyped_text_literal_is_typed_as_a_timestamp() -> None:
    sql = "SELECT sum(gmv) FROM metrics.sales_daily WHERE order_date >= date_trunc('year', '2024-01-01')"
    repaired, notes = rewrite_mysql_habits(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres").endswith(
        "WHERE order_date >= DATE_TRUNC('YEAR', CAST('2024-01-01' AS TIMESTAMP))"
    )
    assert notes == ["date_trunc(..., '2024-01-01') -> the literal typed as a timestamp"]


def test_a_swap_respells_a_column_the_model_prefixed_with_a_table_name() -> None:
    sql = "SELECT sum(gmv) FROM metrics.sales_daily WHERE customer_country = 'China'"
    repaired, notes = swap_to_table_with_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == (
        "SELECT SUM(gmv) FROM metrics.sales_daily_by_country WHERE country = 'China'"
    )
    assert notes == [
        "metrics.sales_daily -> metrics.sales_daily_by_country (it has country, gmv); "
        "customer_country -> country"
    ]
    # a column the old table has must be in the new one as it is: 'orders' is not respelled
    assert (
        swap_to_table_with_columns(
            _tree("SELECT sum(orders) FROM metrics.sales_daily WHERE customer_country = 'China'"),
            CATALOG,
            KNOWLEDGE,
        )
        is None
    )


def test_no_swap_when_several_tables_or_none_hold_the_columns_or_the_query_joins() -> None:
    several = "SELECT created_at FROM metrics.sales_daily"  # orders and users both have it
    none = "SELECT revenue FROM metrics.sales_daily"
    joined = (
        "SELECT sum(s.gmv) FROM metrics.sales_daily AS s JOIN metrics.signups_monthly AS m "
        "ON m.signup_month = s.order_date WHERE country = 'China'"
    )
    for sql in (several, none, joined):
        assert swap_to_table_with_columns(_tree(sql), CATALOG, KNOWLEDGE) is None, sql


def test_an_aggregate_in_group_by_is_dropped_by_position_or_alias() -> None:
    by_position = "SELECT sum(sale_price) AS total FROM raw_data.order_items GROUP BY 1 ORDER BY 1"
    repaired, notes = drop_aggregates_from_grouping(_tree(by_position), CATALOG, KNOWLEDGE)
    assert (
        repaired.sql(dialect="postgres")
        == "SELECT SUM(sale_price) AS total FROM raw_data.order_items ORDER BY 1"
    )
    assert notes == ["GROUP BY 1 dropped"]
    by_alias = (
        "SELECT product_id, sum(sale_price) AS total FROM raw_data.order_items GROUP BY product_id, total"
    )
    repaired, _ = drop_aggregates_from_grouping(_tree(by_alias), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres").endswith("GROUP BY product_id")


def test_a_name_merely_containing_a_date_word_is_not_date_like() -> None:
    sql = "SELECT lifetime_gmv FROM metrics.signups_monthly"
    assert fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE) is None
    dated = "SELECT created_at FROM metrics.signups_monthly"
    repaired, _ = fix_unknown_columns(_tree(dated), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres") == "SELECT signup_month FROM metrics.signups_monthly"


def test_an_ambiguous_column_takes_the_first_table_that_has_it() -> None:
    sql = (
        "SELECT created_at, count(*) FROM raw_data.orders AS o JOIN raw_data.users AS u ON u.id = o.user_id "
        "GROUP BY 1"
    )
    repaired, notes = fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE)
    assert repaired.sql(dialect="postgres").startswith("SELECT o.created_at, COUNT(*)")
    assert notes == ["created_at -> o.created_at (ambiguous: in o, u)"]
    assert guard_sql(repaired.sql(dialect="postgres"), CATALOG, max_rows=1000).ok


def test_a_column_merged_by_using_is_not_ambiguous() -> None:
    sql = "SELECT order_id, sale_price FROM raw_data.orders JOIN raw_data.order_items USING (order_id)"
    assert fix_unknown_columns(_tree(sql), CATALOG, KNOWLEDGE) is None


def test_a_value_of_another_column_moves_the_filter_to_that_column_and_says_so() -> None:
    """The model names a real value under the wrong column: the value decides the column, and the note
    says what changed (a rewrite that changes what is counted is never silent)."""
    repaired, notes = fix_literals(
        _tree("SELECT count(*) FROM raw_data.orders WHERE gender = 'cancelled'"), CATALOG, KNOWLEDGE
    )
    assert (
        repaired.sql(dialect="postgres") == "SELECT COUNT(*) FROM raw_data.orders WHERE status = 'Cancelled'"
    )
    assert notes == ["gender = 'cancelled' -> status = 'Cancelled' ('Cancelled' is a status, not a gender)"]
    qualified, _ = fix_literals(
        _tree("SELECT count(*) FROM raw_data.orders AS o WHERE o.gender = 'Returned'"), CATALOG, KNOWLEDGE
    )
    assert qualified.sql(dialect="postgres").endswith("WHERE o.status = 'Returned'")


def test_a_value_two_other_columns_hold_or_none_holds_is_left_alone() -> None:
    knowledge = Knowledge(
        values={
            **KNOWLEDGE.values,
            ("raw_data", "orders", "channel"): ("Returned", "Web"),
        }
    )
    for sql in [
        "SELECT count(*) FROM raw_data.orders WHERE gender = 'Returned'",  # status and channel hold it
        "SELECT count(*) FROM raw_data.orders WHERE gender = 'Jeans'",  # no column holds it
    ]:
        assert fix_literals(_tree(sql), CATALOG, knowledge) is None, sql
