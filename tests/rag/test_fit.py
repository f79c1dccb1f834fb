"""The fit checks: what a question's words commit an answer to, and each check on its own, including that
an answer which fits passes untouched."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
import sqlglot

from thelook_ecommerce_analysis.rag.catalog import Catalog, CatalogColumn, JoinKey
from thelook_ecommerce_analysis.rag.fit import (
    Result,
    check_fit,
    disconnected_join,
    empty_result,
    fanned_out_count,
    hidden_grouping,
    many_rows_for_one_value,
    missing_period,
    missing_threshold,
    missing_value,
    open_year,
    other_years,
    pinned_column,
    read_intent,
    row_limit,
    unasked_period,
)

TIMESTAMP = "timestamp with time zone"
CATALOG = Catalog(
    tables={
        ("raw_data", "orders"): (
            CatalogColumn("order_id", "bigint"),
            CatalogColumn("user_id", "bigint"),
            CatalogColumn("status", "text"),
            CatalogColumn("created_at", TIMESTAMP),
            CatalogColumn("shipped_at", TIMESTAMP),
        ),
        ("raw_data", "products"): (
            CatalogColumn("id", "bigint"),
            CatalogColumn("category", "text"),
            CatalogColumn("department", "text"),
            CatalogColumn("retail_price", "double precision"),
        ),
        ("metrics", "sales_daily_by_country"): (
            CatalogColumn("order_date", "date"),
            CatalogColumn("country", "text"),
            CatalogColumn("gmv", "numeric"),
        ),
    }
)
VALUES = {
    ("raw_data", "orders", "status"): ("Processing", "Shipped", "Complete", "Cancelled", "Returned"),
    ("raw_data", "products", "department"): ("Men", "Women"),
    ("metrics", "sales_daily_by_country", "country"): ("China", "Spain", "United States"),
}


def _rows(count: int, *, nulls: bool = False) -> pa.Table:
    return pa.table({"value": pa.array([None if nulls else index for index in range(count)], pa.int64())})


def _select(sql: str):
    return sqlglot.parse_one(sql, read="postgres")


def _intent(question: str):
    return read_intent(question, VALUES)


@pytest.mark.parametrize(
    ("question", "names_period"),
    [
        ("How many orders have been returned?", False),
        ("What is our total GMV of all time?", False),
        ("How many users signed up in each year?", False),  # a breakdown, not a filter
        ("How many orders were placed last month?", True),
        ("What was the GMV in 2024?", True),
        ("How many orders were shipped in March?", True),
        ("How many orders since the start of the quarter?", True),
    ],
)
def test_a_period_is_named_only_by_words_that_filter(question: str, names_period: bool) -> None:
    assert _intent(question).names_period is names_period


@pytest.mark.parametrize(
    ("question", "limit"),
    [
        ("Which category has the highest average retail price?", 1),
        ("On which day did we have the highest GMV?", 1),
        ("What are the 5 most expensive products by retail price?", 5),
        ("Which 3 products brought in the most GMV?", 3),
        ("Show the top ten brands by margin", 10),
        ("Which categories have the highest return rates?", None),  # plural: how many is open
        ("Which product categories sold the most items?", None),
        ("How many orders were placed per day in the last 30 days?", None),  # a period, not 30 rows
        ("Which product sold at least 10 units?", None),  # 'at least' is no superlative
        ("How many orders were placed?", None),
    ],
)
def test_the_rows_a_question_asks_for(question: str, limit: int | None) -> None:
    assert _intent(question).row_limit == limit


@pytest.mark.parametrize(
    ("question", "one_value"),
    [
        ("How many orders have been returned?", True),
        ("What is the total GMV from customers in China?", True),
        ("How many orders were placed by users younger than 20?", True),  # 'by users' is who, not a split
        ("How many users came from each traffic source?", False),
        ("What is the average price by category?", False),
        ("What is the average order value per month?", False),
        ("Which category sells most?", False),
    ],
)
def test_questions_that_ask_for_one_number(question: str, one_value: bool) -> None:
    assert _intent(question).one_value is one_value


def test_values_are_named_only_capitalised_and_whole() -> None:
    intent = _intent("What is the total GMV from customers in China, not Chinatown, for Men?")
    assert [(named.value, named.columns) for named in intent.named_values] == [
        ("Men", ("raw_data.products.department",)),
        ("China", ("metrics.sales_daily_by_country.country",)),
    ]
    assert _intent("How many orders were returned?").named_values == ()  # lower-case 'returned'


def test_an_unasked_date_filter_is_dropped_and_the_rest_kept() -> None:
    query = _select(
        "SELECT count(*) FROM raw_data.orders WHERE status = 'Returned' "
        "AND created_at >= date_trunc('month', current_date) - INTERVAL '1 month'"
    )
    misfit = unasked_period(_intent("How many orders have been returned?"), query, Result(1, False), CATALOG)
    assert misfit is not None and misfit.kind == "unasked-period"
    assert misfit.sql == "SELECT COUNT(*) FROM raw_data.orders WHERE status = 'Returned'"


def test_a_date_filter_stays_when_the_question_names_a_period_or_compares_two_columns() -> None:
    filtered = _select("SELECT count(*) FROM raw_data.orders WHERE created_at >= DATE '2024-01-01'")
    assert unasked_period(_intent("How many orders in 2024?"), filtered, Result(1, False), CATALOG) is None
    late = _select("SELECT count(*) FROM raw_data.orders WHERE shipped_at > created_at + INTERVAL '3 days'")
    assert unasked_period(_intent("How many orders shipped late?"), late, Result(1, False), CATALOG) is None


def test_an_unasked_date_filter_in_a_subquery_is_dropped_with_its_where() -> None:
    query = _select(
        "SELECT avg(n) FROM (SELECT user_id, count(*) AS n FROM raw_data.orders "
        "WHERE created_at > now() - INTERVAL '30 days' GROUP BY user_id) AS t"
    )
    misfit = unasked_period(_intent("How many orders does a user place?"), query, Result(1, False), CATALOG)
    assert misfit.sql == (
        "SELECT AVG(n) FROM (SELECT user_id, COUNT(*) AS n FROM raw_data.orders GROUP BY user_id) AS t"
    )


@pytest.mark.parametrize(
    ("question", "years"),
    [
        ("What was the GMV in 2024?", (2024,)),
        ("Compare the orders of 2023 and 2022", (2022, 2023)),
        ("How many users signed up since 2024?", ()),  # open on purpose
        ("How many orders were placed before 2023?", ()),
        ("How many orders were placed last month?", ()),
        ("How did GMV in 2025 compare with the year before?", ()),
        ("What was the GMV in each month of 2024?", (2024,)),
        ("How many orders were placed in March 2024?", ()),  # a month: the year alone is too loose
        ("What was the revenue in Q3 2024?", ()),
    ],
)
def test_the_years_a_question_keeps_to(question: str, years: tuple[int, ...]) -> None:
    assert _intent(question).years == years


def test_a_named_year_left_open_is_closed_at_the_end_of_the_last_named_year() -> None:
    query = _select("SELECT count(*) FROM raw_data.orders AS o WHERE o.created_at >= '2022-01-01'")
    misfit = open_year(_intent("How many orders were placed during 2022?"), query, Result(1, False), CATALOG)
    assert misfit.kind == "open-year" and "2022" in misfit.reason
    assert misfit.sql == (
        "SELECT COUNT(*) FROM raw_data.orders AS o "
        "WHERE o.created_at >= '2022-01-01' AND o.created_at < CAST('2023-01-01' AS DATE)"
    )
    reversed_sides = _select("SELECT count(*) FROM raw_data.orders WHERE DATE '2022-01-01' <= created_at")
    intent = _intent("Orders in 2021 and 2022")
    assert "< CAST('2023-01-01' AS DATE)" in open_year(intent, reversed_sides, Result(1, False), CATALOG).sql


@pytest.mark.parametrize(
    ("question", "where"),
    [
        ("How many orders were placed in 2022?", "created_at >= '2022-01-01' AND created_at < '2023-01-01'"),
        ("How many orders were placed in 2022?", "EXTRACT(YEAR FROM created_at) = 2022"),
        ("How many orders were placed since 2022?", "created_at >= '2022-01-01'"),
        ("How many orders in the last 30 days of 2022?", "created_at >= now() - INTERVAL '30 days'"),
        ("How many orders shipped in 2022?", "shipped_at > created_at AND created_at >= '2022-01-01' "
         "AND created_at <= '2022-12-31'"),
    ],
)  # fmt: skip
def test_a_year_bounded_or_open_on_purpose_is_left_alone(question: str, where: str) -> None:
    query = _select(f"SELECT count(*) FROM raw_data.orders WHERE {where}")
    assert open_year(_intent(question), query, Result(1, False), CATALOG) is None


def test_an_answer_dated_outside_the_named_years_is_kept_to_them() -> None:
    months = pa.table({"month": [date(2025, 12, 1), date(2026, 1, 1)], "gmv": [1.0, 2.0]})
    result = Result.of(months)
    assert result.years_shown == (2025, 2026)
    intent = _intent("What was the GMV per month in 2025?")
    relative = _select(
        "SELECT date_trunc('month', order_date) AS month, sum(gmv) FROM metrics.sales_daily_by_country "
        "WHERE order_date >= current_date - INTERVAL '1 year' AND country = 'China' GROUP BY 1"
    )
    misfit = other_years(intent, relative, result, CATALOG)
    assert misfit.kind == "other-years" and "2026" in misfit.reason and "dropped" in misfit.reason
    assert misfit.sql == (
        "SELECT DATE_TRUNC('MONTH', order_date) AS month, SUM(gmv) FROM metrics.sales_daily_by_country "
        "WHERE country = 'China' AND order_date >= CAST('2025-01-01' AS DATE) "
        "AND order_date < CAST('2026-01-01' AS DATE) GROUP BY 1"
    )
    unfiltered = _select("SELECT order_date, gmv FROM metrics.sales_daily_by_country")
    assert (
        "WHERE order_date >= CAST('2025-01-01' AS DATE)"
        in other_years(intent, unfiltered, result, CATALOG).sql
    )
    both_years = _intent("What was the GMV per month in 2025 and 2026?")
    assert other_years(both_years, unfiltered, result, CATALOG) is None
    assert other_years(_intent("What was the GMV per month?"), unfiltered, result, CATALOG) is None


def test_a_date_filter_relative_to_today_for_a_named_year_is_replaced_by_that_year() -> None:
    query = _select("SELECT count(*) FROM raw_data.orders WHERE created_at >= now() - INTERVAL '1 year'")
    misfit = other_years(_intent("How many orders were placed in 2025?"), query, Result(1, False), CATALOG)
    assert misfit.sql == (
        "SELECT COUNT(*) FROM raw_data.orders "
        "WHERE created_at >= CAST('2025-01-01' AS DATE) AND created_at < CAST('2026-01-01' AS DATE)"
    )
    assert "names no year" in misfit.reason


def test_years_outside_the_named_ones_over_two_date_columns_are_left_alone() -> None:
    result = Result.of(pa.table({"created_at": [date(2024, 5, 1)], "shipped_at": [date(2025, 1, 2)]}))
    query = _select("SELECT created_at, shipped_at FROM raw_data.orders")
    intent = _intent("Orders placed in 2024 and when they shipped")
    assert other_years(intent, query, result, CATALOG) is None


def test_a_column_pinned_by_the_filter_is_dropped_from_a_one_number_answer() -> None:
    query = _select(
        "SELECT department, avg(retail_price) AS price FROM raw_data.products "
        "WHERE department = 'Men' GROUP BY department"
    )
    intent = _intent("What is the average price of products in the Men department?")
    misfit = pinned_column(intent, query, Result(1, False), CATALOG)
    assert misfit.sql == "SELECT AVG(retail_price) AS price FROM raw_data.products WHERE department = 'Men'"
    breakdown = _intent("What is the average price in each department?")
    assert pinned_column(breakdown, query, Result(1, False), CATALOG) is None


def test_a_grouping_the_answer_does_not_show_is_dropped_for_one_number() -> None:
    query = _select("SELECT count(*) FROM raw_data.orders WHERE status <> 'Cancelled' GROUP BY order_id")
    misfit = hidden_grouping(
        _intent("How many orders were not cancelled?"), query, Result(900, False), CATALOG
    )
    assert misfit.sql == "SELECT COUNT(*) FROM raw_data.orders WHERE status <> 'Cancelled'"
    shown = _select("SELECT status, count(*) FROM raw_data.orders GROUP BY status")
    assert hidden_grouping(_intent("How many orders?"), shown, Result(5, False), CATALOG) is None


def test_an_ordered_answer_is_cut_to_the_rows_asked_for() -> None:
    query = _select(
        "SELECT category, avg(retail_price) AS price FROM raw_data.products GROUP BY category "
        "ORDER BY price DESC LIMIT 1000"
    )
    intent = _intent("Which category has the highest average retail price?")
    misfit = row_limit(intent, query, Result(26, False), CATALOG)
    assert misfit.sql.endswith("ORDER BY price DESC LIMIT 1")
    assert row_limit(intent, query, Result(1, False), CATALOG) is None


def test_an_unordered_answer_with_too_many_rows_is_for_the_model() -> None:
    query = _select("SELECT order_date, max(gmv) FROM metrics.sales_daily_by_country GROUP BY order_date")
    misfit = row_limit(
        _intent("On which day did we have the highest GMV?"), query, Result(90, False), CATALOG
    )
    assert misfit.sql is None and "LIMIT 1" in misfit.reason


def test_no_rows_or_only_nulls_is_empty() -> None:
    query = _select("SELECT sum(gmv) FROM metrics.sales_daily_by_country")
    intent = _intent("What is the GMV?")
    assert empty_result(intent, query, Result.of(_rows(0)), CATALOG).kind == "empty"
    assert "only NULLs" in empty_result(intent, query, Result.of(_rows(2, nulls=True)), CATALOG).reason
    assert empty_result(intent, query, Result.of(_rows(1)), CATALOG) is None


def test_many_rows_for_one_number_is_for_the_model() -> None:
    query = _select("SELECT order_id FROM raw_data.orders WHERE status = 'Returned'")
    intent = _intent("How many orders have been returned?")
    assert many_rows_for_one_value(intent, query, Result(40, False), CATALOG).sql is None
    assert many_rows_for_one_value(intent, query, Result(1, False), CATALOG) is None


def test_a_breakdown_by_period_needs_a_period_column() -> None:
    intent = _intent("How many orders were placed in each year?")
    by_status = _select("SELECT status, count(*) FROM raw_data.orders GROUP BY status")
    assert missing_period(intent, by_status, Result(5, False), CATALOG).kind == "missing-period"
    for fits in (
        "SELECT EXTRACT(YEAR FROM created_at) AS y, count(*) FROM raw_data.orders GROUP BY 1",
        "SELECT date_trunc('year', created_at), count(*) FROM raw_data.orders GROUP BY 1",
        "SELECT order_date, gmv FROM metrics.sales_daily_by_country",
    ):
        assert missing_period(intent, _select(fits), Result(5, False), CATALOG) is None


def test_a_named_value_shown_as_a_group_is_used() -> None:
    intent = _intent("What is the GMV of China compared with Spain?")
    grouped = _select("SELECT country, sum(gmv) FROM metrics.sales_daily_by_country GROUP BY country")
    assert missing_value(intent, grouped, Result(3, False), CATALOG) is None


def test_a_named_value_the_query_ignores_points_at_where_it_lives() -> None:
    intent = _intent("What is the total GMV from customers in China?")
    ignores = _select("SELECT sum(gmv) FROM metrics.sales_daily_by_country")
    misfit = missing_value(intent, ignores, Result(1, False), CATALOG)
    assert "'China' is a value of metrics.sales_daily_by_country.country" in misfit.reason
    assert misfit.tables == (("metrics", "sales_daily_by_country"),)
    uses = _select("SELECT sum(gmv) FROM metrics.sales_daily_by_country WHERE country = 'China'")
    assert missing_value(intent, uses, Result(1, False), CATALOG) is None


@pytest.mark.parametrize(
    ("question", "thresholds"),
    [
        ("How many users are older than 60?", (60,)),
        ("How many orders have more than two items?", (2,)),
        ("Which customers spent at least $1,000 in total?", (1000,)),
        ("How many products are priced over 2k?", (2000,)),
        ("How many users aged 65 or more live in Spain?", (65,)),
        ("How many users are between 20 and 30 years old?", (20, 30)),
        ("Which categories have a return rate above 10%?", (10,)),
        ("How many orders were placed between 2023 and 2024?", ()),  # years are a period
        ("How many orders are older than 2 weeks?", ()),  # may be written as 14 days
        ("What are the top 5 brands over time?", ()),
    ],
)
def test_the_bounds_a_question_sets(question: str, thresholds: tuple[float, ...]) -> None:
    assert _intent(question).thresholds == thresholds


def test_a_bound_the_query_drops_is_for_the_model() -> None:
    intent = _intent("How many users are older than 60?")
    dropped = _select("SELECT count(*) AS users FROM raw_data.users")
    misfit = missing_threshold(intent, dropped, Result(1, False), CATALOG)
    assert misfit.kind == "missing-threshold" and misfit.sql is None
    assert "bounds what it counts by 60" in misfit.reason


@pytest.mark.parametrize(
    ("question", "sql"),
    [
        ("How many users are older than 60?", "SELECT count(*) FROM raw_data.users WHERE age > 60"),
        ("How many users are older than 60?", "SELECT count(*) FROM raw_data.users WHERE age >= 61"),
        (
            "Which categories have a return rate above 10%?",
            "SELECT category FROM metrics.category_performance WHERE return_rate > 0.1",
        ),
        (
            "How many orders took more than 5 days to arrive?",
            "SELECT count(*) FROM raw_data.orders WHERE delivered_at > created_at + INTERVAL '5 days'",
        ),
    ],
)
def test_a_bound_written_strictly_inclusively_as_a_fraction_or_an_interval_is_used(
    question: str, sql: str
) -> None:
    assert missing_threshold(_intent(question), _select(sql), Result(1, False), CATALOG) is None


ORDERS, ORDER_ITEMS, USERS = ("raw_data", "orders"), ("raw_data", "order_items"), ("raw_data", "users")
JOINED_CATALOG = Catalog(
    tables={
        ORDERS: (CatalogColumn("order_id", "bigint"), CatalogColumn("user_id", "bigint")),
        ORDER_ITEMS: (CatalogColumn("id", "bigint"), CatalogColumn("order_id", "bigint")),
        USERS: (CatalogColumn("id", "bigint"), CatalogColumn("age", "integer")),
    },
    join_keys=(
        JoinKey(ORDER_ITEMS, ("order_id",), ORDERS, ("order_id",)),
        JoinKey(ORDERS, ("user_id",), USERS, ("id",)),
    ),
)


@pytest.mark.parametrize(
    ("question", "sql", "fixed"),
    [
        (
            "How many orders contain more than one item?",
            "SELECT count(*) FROM raw_data.order_items AS oi JOIN raw_data.orders AS o "
            "ON oi.order_id = o.order_id WHERE o.num_of_item > 1",
            "SELECT COUNT(DISTINCT o.order_id) FROM raw_data.order_items AS oi JOIN raw_data.orders AS o "
            "ON oi.order_id = o.order_id WHERE o.num_of_item > 1",
        ),
        (
            "How many users have placed an order?",
            "SELECT count(*) AS users FROM raw_data.users AS u JOIN raw_data.orders AS o ON o.user_id = u.id",
            "SELECT COUNT(DISTINCT u.id) AS users FROM raw_data.users AS u JOIN raw_data.orders AS o "
            "ON o.user_id = u.id",
        ),
    ],
)
def test_a_count_of_joined_rows_for_how_many_parents_counts_the_parents(
    question: str, sql: str, fixed: str
) -> None:
    misfit = fanned_out_count(_intent(question), _select(sql), Result(1, False), JOINED_CATALOG)
    assert misfit.kind == "fan-out"
    assert misfit.sql == fixed


def test_a_join_on_its_own_columns_is_joined_on_the_foreign_key() -> None:
    sql = (
        "SELECT sum(oi.sale_price) AS gmv FROM raw_data.orders AS o "
        "JOIN raw_data.order_items AS oi ON oi.id = oi.order_id WHERE o.status <> 'Cancelled'"
    )
    misfit = disconnected_join(_intent("What is our GMV?"), _select(sql), Result(1, False), JOINED_CATALOG)
    assert misfit.kind == "disconnected-join"
    assert "JOIN raw_data.order_items AS oi ON oi.order_id = o.order_id WHERE" in misfit.sql
    connected = sql.replace("oi.id = oi.order_id", "oi.order_id = o.order_id")
    assert disconnected_join(_intent("x"), _select(connected), Result(1, False), JOINED_CATALOG) is None


@pytest.mark.parametrize(
    ("question", "sql"),
    [
        # the question counts the joined rows themselves
        (
            "How many order items belong to orders of users over 60?",
            "SELECT count(*) FROM raw_data.order_items AS oi JOIN raw_data.orders AS o "
            "ON oi.order_id = o.order_id JOIN raw_data.users AS u ON u.id = o.user_id WHERE u.age > 60",
        ),
        # many orders to one user: joining the parent multiplies nothing
        (
            "How many orders were placed by users over 60?",
            "SELECT count(*) FROM raw_data.orders AS o JOIN raw_data.users AS u ON u.id = o.user_id "
            "WHERE u.age > 60",
        ),
        # already distinct
        (
            "How many users have placed an order?",
            "SELECT count(DISTINCT u.id) FROM raw_data.users AS u "
            "JOIN raw_data.orders AS o ON o.user_id = u.id",
        ),
    ],
)
def test_a_count_that_does_not_fan_out_is_left_alone(question: str, sql: str) -> None:
    assert fanned_out_count(_intent(question), _select(sql), Result(1, False), JOINED_CATALOG) is None


FITTING = [
    (
        "How many orders have been returned?",
        "SELECT count(*) FROM raw_data.orders WHERE status = 'Returned'",
        1,
    ),
    (
        "What was the GMV in each month of 2024?",
        "SELECT date_trunc('month', order_date) AS month, sum(gmv) FROM metrics.sales_daily_by_country "
        "WHERE order_date >= DATE '2024-01-01' AND order_date < DATE '2025-01-01' GROUP BY 1",
        12,
    ),
    (
        "Which category has the highest average retail price?",
        "SELECT category, avg(retail_price) AS p FROM raw_data.products GROUP BY category "
        "ORDER BY p DESC LIMIT 1",
        1,
    ),
    (
        "List the orders that were cancelled",
        "SELECT order_id FROM raw_data.orders WHERE status = 'Cancelled'",
        80,
    ),
    (
        "What is the total GMV from customers in China?",
        "SELECT sum(gmv) FROM metrics.sales_daily_by_country WHERE country = 'China'",
        1,
    ),
    (
        "How many orders have more than two items?",
        "SELECT count(*) FROM raw_data.orders WHERE num_of_item > 2",
        1,
    ),
]


@pytest.mark.parametrize(("question", "sql", "rows"), FITTING)
def test_an_answer_that_fits_passes_every_check(question: str, sql: str, rows: int) -> None:
    assert check_fit(_intent(question), sql, _rows(rows), CATALOG) is None


def test_the_first_deterministic_fix_wins_and_model_only_misfits_are_told_together() -> None:
    fixable = "SELECT count(*) FROM raw_data.orders WHERE created_at > now() - INTERVAL '7 days'"
    misfit = check_fit(_intent("How many orders are there?"), fixable, _rows(1), CATALOG)
    assert misfit.kind == "unasked-period" and misfit.sql == "SELECT COUNT(*) FROM raw_data.orders"
    for_the_model = "SELECT order_date, gmv FROM metrics.sales_daily_by_country"
    misfit = check_fit(_intent("What is the total GMV in China?"), for_the_model, _rows(30), CATALOG)
    assert misfit.sql is None and misfit.kind == "one-value"
    assert "one number" in misfit.reason and "'China'" in misfit.reason
    assert misfit.tables == (("metrics", "sales_daily_by_country"),)


def test_sql_that_is_not_one_select_is_not_judged() -> None:
    union = "SELECT 1 UNION SELECT 2"
    assert check_fit(_intent("How many orders are there?"), union, _rows(2), CATALOG) is None
