"""theLook's business rules hold row by row in a generated data set (the whole timeline)."""

from __future__ import annotations

import duckdb
import pytest

from tests.synth.conftest import scalar

STATUS_TIMESTAMP_RULES = [
    # (a status, the timestamps it must have, the timestamps it must not have)
    ("Processing", [], ["shipped_at", "delivered_at", "returned_at"]),
    ("Cancelled", [], ["shipped_at", "delivered_at", "returned_at"]),
    ("Shipped", ["shipped_at"], ["delivered_at", "returned_at"]),
    ("Complete", ["shipped_at", "delivered_at"], ["returned_at"]),
    ("Returned", ["shipped_at", "delivered_at", "returned_at"], []),
]


@pytest.mark.parametrize("table", ["orders", "order_items"])
@pytest.mark.parametrize(("status", "present", "absent"), STATUS_TIMESTAMP_RULES)
def test_timestamps_match_the_status(
    horizon: duckdb.DuckDBPyConnection, table: str, status: str, present: list[str], absent: list[str]
) -> None:
    conditions = [f"{column} IS NULL" for column in present] + [f"{column} IS NOT NULL" for column in absent]
    assert scalar(horizon, f"SELECT count(*) FROM {table} WHERE status = '{status}'") > 0
    broken = scalar(
        horizon, f"SELECT count(*) FROM {table} WHERE status = '{status}' AND ({' OR '.join(conditions)})"
    )
    assert broken == 0


def test_steps_follow_each_other_within_the_spec_delays(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        """
        SELECT count(*) FROM orders WHERE
            shipped_at < created_at OR shipped_at > created_at + INTERVAL 3 DAY
            OR delivered_at < shipped_at OR delivered_at > shipped_at + INTERVAL 5 DAY
            OR returned_at < delivered_at OR returned_at > delivered_at + INTERVAL 3 DAY
        """,
    )
    assert broken == 0


def test_items_carry_their_orders_status_and_timestamps(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        """
        SELECT count(*) FROM order_items i JOIN orders o USING (order_id)
        WHERE i.status <> o.status OR i.user_id <> o.user_id
           OR i.shipped_at IS DISTINCT FROM o.shipped_at OR i.delivered_at IS DISTINCT FROM o.delivered_at
           OR i.returned_at IS DISTINCT FROM o.returned_at
        """,
    )
    assert broken == 0


def test_items_are_created_up_to_four_hours_before_their_order(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        "SELECT count(*) FROM order_items i JOIN orders o USING (order_id) "
        "WHERE i.created_at > o.created_at OR i.created_at < o.created_at - INTERVAL 4 HOUR",
    )
    assert broken == 0
    well_before = scalar(
        horizon,
        "SELECT count(*) FROM order_items i JOIN orders o USING (order_id) "
        "WHERE i.created_at < o.created_at - INTERVAL 1 HOUR",
    )
    assert well_before > 0


def test_num_of_item_counts_the_order_items(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        "SELECT count(*) FROM orders o "
        "LEFT JOIN (SELECT order_id, count(*) AS n FROM order_items GROUP BY 1) i USING (order_id) "
        "WHERE o.num_of_item IS DISTINCT FROM i.n",
    )
    assert broken == 0


def test_orders_follow_signup_and_copy_the_users_gender(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id "
        "WHERE o.created_at < u.created_at OR o.gender <> u.gender",
    )
    assert broken == 0


def test_sale_price_is_the_retail_price(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id "
        "WHERE i.sale_price IS DISTINCT FROM p.retail_price",
    )
    assert broken == 0


def test_products_and_distribution_centers_follow_the_catalogue(horizon: duckdb.DuckDBPyConnection) -> None:
    assert scalar(horizon, "SELECT count(*) FROM products") == 29_120
    assert scalar(horizon, "SELECT count(*) FROM distribution_centers") == 10
    assert scalar(horizon, "SELECT count(DISTINCT category) FROM products") == 26
    per_department = dict(
        horizon.execute("SELECT department, count(DISTINCT category) FROM products GROUP BY 1").fetchall()
    )
    assert per_department == {"Men": 14, "Women": 22}
    men = scalar(horizon, "SELECT count(*) FROM products WHERE department = 'Men'")
    assert 12_600 <= men <= 13_600
    largest = horizon.execute(
        "SELECT department, category FROM products GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert largest == ("Women", "Intimates")
    assert (
        scalar(
            horizon,
            "SELECT count(*) FROM products WHERE cost < 0.4 * retail_price OR cost > 0.6 * retail_price",
        )
        == 0
    )
    assert (
        scalar(horizon, "SELECT count(*) FROM products WHERE NOT regexp_full_match(sku, '[0-9a-f]{32}')") == 0
    )
    assert scalar(horizon, "SELECT count(DISTINCT sku) FROM products") == 29_120
    assert (
        scalar(
            horizon, "SELECT count(*) FROM products WHERE name NOT LIKE brand || ' ' || department || '''s %'"
        )
        == 0
    )
    memphis = horizon.execute(
        "SELECT latitude, longitude FROM distribution_centers WHERE name = 'Memphis TN'"
    ).fetchone()
    assert memphis == pytest.approx((35.1174, -89.9711))


def test_inventory_rows_copy_their_product(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        """
        SELECT count(*) FROM inventory_items ii JOIN products p ON p.id = ii.product_id
        WHERE (ii.cost, ii.product_category, ii.product_name, ii.product_brand, ii.product_retail_price,
               ii.product_department, ii.product_sku, ii.product_distribution_center_id)
           IS DISTINCT FROM (p.cost, p.category, p.name, p.brand, p.retail_price, p.department, p.sku,
                             p.distribution_center_id)
        """,
    )
    assert broken == 0


def test_sold_stock_is_stocked_up_to_60_days_before_the_sale(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = scalar(
        horizon,
        "SELECT count(*) FROM order_items oi JOIN orders o USING (order_id) "
        "JOIN inventory_items ii ON ii.id = oi.inventory_item_id "
        "WHERE ii.sold_at IS DISTINCT FROM o.created_at OR ii.created_at > ii.sold_at "
        "OR ii.created_at < ii.sold_at - INTERVAL 60 DAY",
    )
    assert broken == 0


def test_unsold_stock_is_one_to_three_rows_per_sold_item_from_2020(
    horizon: duckdb.DuckDBPyConnection,
) -> None:
    unsold, sold, unsold_from_2020 = horizon.execute(
        "SELECT count(*) FILTER (WHERE sold_at IS NULL), count(*) FILTER (WHERE sold_at IS NOT NULL), "
        "min(created_at) FILTER (WHERE sold_at IS NULL) >= TIMESTAMPTZ '2020-01-01 00:00:00+00' "
        "FROM inventory_items"
    ).fetchone()
    assert sold == scalar(horizon, "SELECT count(*) FROM order_items")
    assert 1.0 * sold <= unsold <= 3.0 * sold
    assert unsold_from_2020


def test_purchase_sessions_browse_the_whole_basket_then_buy(horizon: duckdb.DuckDBPyConnection) -> None:
    """One session per order item: home, department/product/cart per item of the order, purchase."""
    sessions = horizon.execute(
        """
        SELECT session_id, string_agg(event_type, ',' ORDER BY sequence_number) AS path,
               max(sequence_number) = count(*) AND min(sequence_number) = 1 AS numbered,
               count(DISTINCT user_id) AS users
        FROM events WHERE user_id IS NOT NULL GROUP BY session_id
        """
    ).fetchall()
    assert len(sessions) == scalar(horizon, "SELECT count(*) FROM order_items")
    for _, path, numbered, users in sessions:
        steps = path.split(",")
        basket = (len(steps) - 2) // 3
        assert steps == ["home", *(["department", "product", "cart"] * basket), "purchase"]
        assert 1 <= basket <= 4 and numbered and users == 1


def test_purchase_sessions_buy_the_orders_products(horizon: duckdb.DuckDBPyConnection) -> None:
    """The products a session looks at are exactly those of the order its user placed."""
    broken = scalar(
        horizon,
        """
        WITH viewed AS (
            SELECT user_id, session_id, list_sort(list(CAST(split_part(uri, '/', 3) AS BIGINT))) AS products,
                   max(created_at) AS bought_at
            FROM events WHERE event_type = 'product' AND user_id IS NOT NULL GROUP BY ALL),
        ordered AS (
            SELECT o.user_id, o.created_at, list_sort(list(i.product_id)) AS products
            FROM orders o JOIN order_items i USING (order_id) GROUP BY ALL)
        SELECT count(*) FROM viewed v
        WHERE NOT EXISTS (SELECT 1 FROM ordered o WHERE o.user_id = v.user_id AND o.products = v.products
                          AND v.bought_at <= o.created_at AND v.bought_at >= o.created_at - INTERVAL 4 HOUR)
        """,
    )
    assert broken == 0


def test_ghost_sessions_follow_one_of_four_patterns(horizon: duckdb.DuckDBPyConnection) -> None:
    paths = dict(
        horizon.execute(
            "SELECT path, count(*) FROM (SELECT string_agg(event_type, ',' ORDER BY sequence_number) AS path "
            "FROM events WHERE user_id IS NULL GROUP BY session_id) GROUP BY path"
        ).fetchall()
    )
    assert set(paths) == {"product,cart,cancel", "department,product,cart", "product", "department,product"}
    assert sum(paths.values()) == 5 * scalar(horizon, "SELECT count(*) FROM users")
    assert (
        scalar(horizon, "SELECT count(*) FROM events WHERE event_type = 'cancel' AND user_id IS NOT NULL")
        == 0
    )


def test_uris_have_thelooks_forms(horizon: duckdb.DuckDBPyConnection) -> None:
    forms = {
        "home": "/home",
        "cart": "/cart",
        "purchase": "/purchase",
        "cancel": "/cancel",
        "product": "/product/[0-9]+",
        "department": "/department/(men|women)/category/[^/ ]+/brand/[^/ ]+",
    }
    for event_type, pattern in forms.items():
        broken = scalar(
            horizon,
            f"SELECT count(*) FROM events "
            f"WHERE event_type = '{event_type}' AND NOT regexp_full_match(uri, '{pattern}')",
        )
        assert broken == 0, event_type


def test_events_carry_session_attributes_and_the_users_place(horizon: duckdb.DuckDBPyConnection) -> None:
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    broken = {
        "one ip, browser, source and place per session": "SELECT count(*) FROM "
        "(SELECT session_id FROM events GROUP BY 1 "
        "HAVING count(DISTINCT (ip_address, browser, traffic_source, city)) > 1)",
        "a user's events are at the user's place": "SELECT count(*) FROM events e "
        "JOIN users u ON u.id = e.user_id "
        "WHERE (e.city, e.state, e.postal_code) IS DISTINCT FROM (u.city, u.state, u.postal_code)",
        "dotted ipv4": "SELECT count(*) FROM events "
        "WHERE NOT regexp_full_match(ip_address, '(\\d{1,3}\\.){3}\\d{1,3}')",
        "uuid session ids": f"SELECT count(*) FROM events WHERE NOT regexp_full_match(session_id, '{uuid}')",
    }
    for rule, query in broken.items():
        assert scalar(horizon, query) == 0, rule


def test_users_are_plausible_people_in_real_places(horizon: duckdb.DuckDBPyConnection) -> None:
    broken = {
        "age": "age NOT BETWEEN 12 AND 70",
        "gender": "gender NOT IN ('M', 'F')",
        "signup": "created_at < TIMESTAMPTZ '2019-01-01 00:00:00+00'",
        "email": "email <> lower(first_name || last_name) || '@' || split_part(email, '@', 2)",
        "spanish city": "country = 'Spain' AND city NOT IN "
        "('Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Zaragoza', 'Málaga', 'Bilbao', 'Murcia')",
    }
    for rule, condition in broken.items():
        assert scalar(horizon, f"SELECT count(*) FROM users WHERE {condition}") == 0, rule
    new_york = horizon.execute(
        "SELECT DISTINCT state, postal_code, round(latitude), round(longitude) FROM users "
        "WHERE city = 'New York'"
    ).fetchall()
    assert new_york == [("New York", "10001", 41.0, -74.0)]


def test_the_public_datas_country_dirt_is_kept(horizon: duckdb.DuckDBPyConnection) -> None:
    """A few Spanish and German users are spelled 'España' and 'Deutschland', in their countries' cities."""
    dirty = dict(
        horizon.execute(
            "SELECT country, count(*) FROM users WHERE country IN ('España', 'Deutschland') GROUP BY 1"
        ).fetchall()
    )
    assert set(dirty) == {"España", "Deutschland"}
    clean = dict(
        horizon.execute(
            "SELECT country, count(*) FROM users WHERE country IN ('Spain', 'Germany') GROUP BY 1"
        ).fetchall()
    )
    assert dirty["España"] < 0.05 * clean["Spain"] and dirty["Deutschland"] < 0.05 * clean["Germany"]
    assert (
        scalar(
            horizon,
            "SELECT count(*) FROM users "
            "WHERE country = 'España' AND city NOT IN (SELECT city FROM users WHERE country = 'Spain')",
        )
        == 0
    )
