"""Independent definitions of every metrics table: hand-written DuckDB SQL over the theLook Parquet files.

They are written from the glossary's definitions, not from the ibis nodes, and deliberately take other
routes where they can (one join with COUNT(DISTINCT) instead of pre-aggregated orders, correlated
subqueries, generate_series for the cohort grid, exact epoch arithmetic instead of whole seconds), so that a
shared mistake is unlikely. Each query reads views named after the seven theLook tables.
"""

from __future__ import annotations

# Per order: its day, month, status and the money of its items, by correlated subqueries.
_PER_ORDER = """
per_order AS (
    SELECT o.order_id, o.user_id, o.status,
           CAST(o.created_at AS DATE) AS order_day,
           CAST(date_trunc('month', o.created_at) AS DATE) AS order_month,
           (SELECT count(*) FROM order_items i
             WHERE i.order_id = o.order_id AND i.status <> 'Cancelled') AS items,
           (SELECT coalesce(sum(i.sale_price), 0) FROM order_items i
             WHERE i.order_id = o.order_id AND i.status <> 'Cancelled') AS gmv,
           (SELECT coalesce(sum(i.sale_price), 0) FROM order_items i
             WHERE i.order_id = o.order_id AND i.status NOT IN ('Cancelled', 'Returned')) AS net
    FROM orders o
)"""

_SALES_MEASURES = """
    count(DISTINCT o.order_id) AS orders,
    count(DISTINCT o.order_id) FILTER (WHERE o.status = 'Cancelled') AS cancelled_orders,
    count(DISTINCT o.order_id) FILTER (WHERE o.status <> 'Cancelled') AS sold_orders,
    count(i.id) FILTER (WHERE o.status <> 'Cancelled' AND i.status <> 'Cancelled') AS items_sold,
    count(i.id) FILTER (WHERE o.status <> 'Cancelled' AND i.status = 'Returned') AS returned_items,
    coalesce(sum(i.sale_price) FILTER (WHERE o.status <> 'Cancelled' AND i.status <> 'Cancelled'), 0) AS gmv,
    coalesce(sum(i.sale_price) FILTER (WHERE o.status <> 'Cancelled' AND i.status = 'Returned'), 0)
        AS returned_value,
    coalesce(sum(i.sale_price) FILTER (WHERE o.status <> 'Cancelled'
                                        AND i.status NOT IN ('Cancelled', 'Returned')), 0) AS net_revenue,
    coalesce(sum(i.sale_price) FILTER (WHERE o.status <> 'Cancelled' AND i.status <> 'Cancelled'), 0)
        / nullif(count(DISTINCT o.order_id) FILTER (WHERE o.status <> 'Cancelled'), 0) AS average_order_value,
    count(DISTINCT o.order_id) FILTER (WHERE o.status = 'Cancelled')
        / count(DISTINCT o.order_id) AS cancellation_rate"""

_PRODUCT_MEASURES = """
    count(i.id) FILTER (WHERE i.status <> 'Cancelled') AS items_sold,
    count(i.id) FILTER (WHERE i.status = 'Returned') AS returned_items,
    coalesce(sum(i.sale_price) FILTER (WHERE i.status <> 'Cancelled'), 0) AS gmv,
    coalesce(sum(i.sale_price) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned')), 0) AS net_revenue,
    coalesce(sum(p.cost) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned')), 0) AS cost_of_goods_sold,
    coalesce(sum(i.sale_price - p.cost) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned')), 0)
        AS margin,
    count(i.id) FILTER (WHERE i.status = 'Returned')
        / nullif(count(i.id) FILTER (WHERE i.status <> 'Cancelled'), 0) AS return_rate,
    sum(i.sale_price - p.cost) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned'))
        / nullif(sum(i.sale_price) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned')), 0)
        AS margin_rate"""

_PER_USER = f"""
WITH {_PER_ORDER.strip()},
per_user AS (
    SELECT u.id AS user_id,
           coalesce(u.traffic_source, 'Unknown') AS acquisition_source,
           coalesce(u.country, 'Unknown') AS country,
           CAST(u.created_at AS DATE) AS signup_date,
           count(p.order_id) FILTER (WHERE p.status <> 'Cancelled') AS orders,
           count(p.order_id) FILTER (WHERE p.status = 'Cancelled') AS cancelled_orders,
           coalesce(sum(p.items) FILTER (WHERE p.status <> 'Cancelled'), 0) AS items_sold,
           coalesce(sum(p.gmv) FILTER (WHERE p.status <> 'Cancelled'), 0) AS lifetime_gmv,
           coalesce(sum(p.net) FILTER (WHERE p.status <> 'Cancelled'), 0) AS lifetime_value,
           min(p.order_day) FILTER (WHERE p.status <> 'Cancelled') AS first_purchase_date,
           max(p.order_day) FILTER (WHERE p.status <> 'Cancelled') AS last_purchase_date
    FROM users u LEFT JOIN per_order p ON p.user_id = u.id
    GROUP BY ALL
)"""

_HOURS = "(epoch({end}) - epoch({start})) / 3600.0"

REFERENCE_SQL: dict[str, str] = {
    "sales_daily": f"""
        SELECT CAST(o.created_at AS DATE) AS order_date, {_SALES_MEASURES}
        FROM orders o LEFT JOIN order_items i ON i.order_id = o.order_id
        GROUP BY 1""",
    "sales_daily_by_country": f"""
        SELECT CAST(o.created_at AS DATE) AS order_date, coalesce(u.country, 'Unknown') AS country,
               {_SALES_MEASURES}
        FROM orders o
        LEFT JOIN users u ON u.id = o.user_id
        LEFT JOIN order_items i ON i.order_id = o.order_id
        GROUP BY 1, 2""",
    "sales_daily_by_category": """
        SELECT CAST(o.created_at AS DATE) AS order_date,
               coalesce(p.department, 'Unknown') AS department,
               coalesce(p.category, 'Unknown') AS category,
               count(DISTINCT i.order_id) FILTER (WHERE i.status <> 'Cancelled') AS orders,
               count(*) AS items_ordered,
               count(*) FILTER (WHERE i.status = 'Cancelled') AS cancelled_items,
               count(*) FILTER (WHERE i.status <> 'Cancelled') AS items_sold,
               count(*) FILTER (WHERE i.status = 'Returned') AS returned_items,
               coalesce(sum(i.sale_price) FILTER (WHERE i.status <> 'Cancelled'), 0) AS gmv,
               coalesce(sum(i.sale_price) FILTER (WHERE i.status NOT IN ('Cancelled', 'Returned')), 0)
                   AS net_revenue,
               count(*) FILTER (WHERE i.status = 'Cancelled') / count(*) AS item_cancellation_rate
        FROM order_items i
        JOIN orders o ON o.order_id = i.order_id
        JOIN products p ON p.id = i.product_id
        GROUP BY 1, 2, 3""",
    "customer_lifetime_value": f"""
        {_PER_USER}
        SELECT *, lifetime_gmv / nullif(orders, 0) AS average_order_value FROM per_user""",
    "cohort_retention_monthly": """
        WITH purchases AS (
            SELECT user_id, CAST(date_trunc('month', created_at) AS DATE) AS month
            FROM orders WHERE status <> 'Cancelled'
        ),
        firsts AS (SELECT user_id, min(month) AS cohort_month FROM purchases GROUP BY 1),
        sizes AS (SELECT cohort_month, count(*) AS cohort_size FROM firsts GROUP BY 1),
        grid AS (
            SELECT s.cohort_month, s.cohort_size, CAST(g.month AS DATE) AS activity_month
            FROM sizes s,
                 LATERAL (SELECT unnest(generate_series(CAST(s.cohort_month AS TIMESTAMP),
                                                        (SELECT CAST(max(month) AS TIMESTAMP) FROM purchases),
                                                        INTERVAL 1 MONTH)) AS month) g
        )
        SELECT g.cohort_month,
               date_diff('month', g.cohort_month, g.activity_month) AS months_since_first_purchase,
               g.activity_month, g.cohort_size,
               (SELECT count(DISTINCT p.user_id) FROM purchases p JOIN firsts f USING (user_id)
                 WHERE f.cohort_month = g.cohort_month AND p.month = g.activity_month) AS active_users,
               (SELECT count(DISTINCT p.user_id) FROM purchases p JOIN firsts f USING (user_id)
                 WHERE f.cohort_month = g.cohort_month AND p.month = g.activity_month) / g.cohort_size
                   AS retention_rate
        FROM grid g""",
    "customer_rfm": f"""
        {_PER_USER},
        measured AS (
            SELECT user_id, last_purchase_date,
                   (SELECT max(CAST(created_at AS DATE)) FROM orders) AS reference_date,
                   (SELECT max(CAST(created_at AS DATE)) FROM orders) - last_purchase_date AS recency_days,
                   orders AS frequency, lifetime_gmv AS monetary
            FROM per_user WHERE orders > 0
        ),
        scored AS (
            SELECT *,
                ntile(5) OVER (ORDER BY recency_days DESC, frequency, monetary, user_id) AS recency_score,
                ntile(5) OVER (ORDER BY frequency, monetary, recency_days DESC, user_id) AS frequency_score,
                ntile(5) OVER (ORDER BY monetary, frequency, recency_days DESC, user_id) AS monetary_score
            FROM measured
        )
        SELECT *,
               concat(recency_score, frequency_score, monetary_score) AS rfm_cell,
               CASE WHEN recency_score >= 4 AND frequency_score >= 4 THEN 'Champions'
                    WHEN recency_score >= 3 AND frequency_score >= 3 THEN 'Loyal customers'
                    WHEN recency_score >= 4 THEN 'Recent customers'
                    WHEN recency_score <= 2 AND frequency_score >= 3 THEN 'At risk'
                    WHEN recency_score <= 2 THEN 'Hibernating'
                    ELSE 'Needs attention' END AS segment
        FROM scored""",
    "buyers_new_vs_returning_monthly": f"""
        WITH {_PER_ORDER.strip()},
        sold AS (SELECT * FROM per_order WHERE status <> 'Cancelled'),
        firsts AS (SELECT user_id, min(order_month) AS first_month FROM sold GROUP BY 1),
        tagged AS (
            SELECT s.*, s.order_month = f.first_month AS is_new FROM sold s JOIN firsts f USING (user_id)
        )
        SELECT order_month AS month,
               count(DISTINCT user_id) AS buyers,
               count(DISTINCT user_id) FILTER (WHERE is_new) AS new_buyers,
               count(DISTINCT user_id) FILTER (WHERE NOT is_new) AS returning_buyers,
               count(*) AS orders,
               count(*) FILTER (WHERE is_new) AS new_buyer_orders,
               count(*) FILTER (WHERE NOT is_new) AS returning_buyer_orders,
               sum(gmv) AS gmv,
               coalesce(sum(gmv) FILTER (WHERE is_new), 0) AS new_buyer_gmv,
               coalesce(sum(gmv) FILTER (WHERE NOT is_new), 0) AS returning_buyer_gmv,
               coalesce(sum(gmv) FILTER (WHERE is_new), 0) / nullif(sum(gmv), 0) AS new_buyer_gmv_share,
               coalesce(sum(gmv) FILTER (WHERE NOT is_new), 0) / nullif(sum(gmv), 0)
                   AS returning_buyer_gmv_share
        FROM tagged GROUP BY 1""",
    "acquisition_source_monthly": f"""
        {_PER_USER}
        SELECT CAST(date_trunc('month', signup_date) AS DATE) AS signup_month, acquisition_source,
               count(*) AS users,
               count(*) FILTER (WHERE orders > 0) AS buyers,
               sum(orders) AS orders,
               sum(lifetime_gmv) AS lifetime_gmv,
               sum(lifetime_value) AS lifetime_value,
               count(*) FILTER (WHERE orders > 0) / count(*) AS buyer_conversion_rate,
               sum(lifetime_value) / count(*) AS lifetime_value_per_user
        FROM per_user GROUP BY 1, 2""",
    "product_performance": f"""
        SELECT p.id AS product_id, p.name AS product_name, coalesce(p.brand, 'Unknown') AS brand,
               coalesce(p.department, 'Unknown') AS department, coalesce(p.category, 'Unknown') AS category,
               p.retail_price, p.cost, p.retail_price - p.cost AS unit_margin, {_PRODUCT_MEASURES}
        FROM products p LEFT JOIN order_items i ON i.product_id = p.id
        GROUP BY p.id, p.name, p.brand, p.department, p.category, p.retail_price, p.cost""",
    "category_performance": f"""
        SELECT coalesce(p.department, 'Unknown') AS department, coalesce(p.category, 'Unknown') AS category,
               count(DISTINCT p.id) AS products, {_PRODUCT_MEASURES}
        FROM products p LEFT JOIN order_items i ON i.product_id = p.id
        GROUP BY 1, 2""",
    "brand_performance": f"""
        SELECT coalesce(p.brand, 'Unknown') AS brand, count(DISTINCT p.id) AS products, {_PRODUCT_MEASURES}
        FROM products p LEFT JOIN order_items i ON i.product_id = p.id
        GROUP BY 1""",
    "fulfilment_monthly": f"""
        WITH timed AS (
            SELECT CAST(date_trunc('month', o.created_at) AS DATE) AS order_month,
                   coalesce(p.distribution_center_id, 0) AS distribution_center_id,
                   {_HOURS.format(start="o.created_at", end="i.shipped_at")} AS ship_hours,
                   {_HOURS.format(start="i.shipped_at", end="i.delivered_at")} AS deliver_hours
            FROM order_items i
            JOIN orders o ON o.order_id = i.order_id
            LEFT JOIN products p ON p.id = i.product_id
        )
        SELECT t.order_month, t.distribution_center_id,
               coalesce(any_value(d.name), 'Unknown') AS distribution_center_name,
               count(ship_hours) AS shipped_items,
               sum(ship_hours) AS total_hours_to_ship,
               avg(ship_hours) AS mean_hours_to_ship,
               quantile_cont(ship_hours, 0.5) AS median_hours_to_ship,
               quantile_cont(ship_hours, 0.9) AS p90_hours_to_ship,
               count(deliver_hours) AS delivered_items,
               sum(deliver_hours) AS total_hours_to_deliver,
               avg(deliver_hours) AS mean_hours_to_deliver,
               quantile_cont(deliver_hours, 0.5) AS median_hours_to_deliver,
               quantile_cont(deliver_hours, 0.9) AS p90_hours_to_deliver
        FROM timed t LEFT JOIN distribution_centers d ON d.id = t.distribution_center_id
        GROUP BY 1, 2
        HAVING count(ship_hours) > 0""",
    "inventory_sold_aging_monthly": """
        WITH sold AS (
            SELECT CAST(date_trunc('month', sold_at) AS DATE) AS sold_month,
                   coalesce(product_department, 'Unknown') AS department,
                   coalesce(product_category, 'Unknown') AS category,
                   (epoch(sold_at) - epoch(created_at)) / 86400.0 AS days
            FROM inventory_items WHERE sold_at IS NOT NULL
        )
        SELECT sold_month, department, category, count(*) AS sold_items,
               sum(days) AS total_days_in_stock, avg(days) AS mean_days_in_stock,
               quantile_cont(days, 0.5) AS median_days_in_stock, quantile_cont(days, 0.9) AS p90_days_in_stock
        FROM sold GROUP BY 1, 2, 3""",
    "inventory_unsold_aging": """
        WITH as_of AS (
            SELECT max(greatest(created_at, coalesce(sold_at, created_at))) AS moment FROM inventory_items
        ),
        aged AS (
            SELECT i.*, CAST(a.moment AS DATE) AS as_of_date,
                   CAST(floor((epoch(a.moment) - epoch(i.created_at)) / 86400.0) AS BIGINT) AS age
            FROM inventory_items i, as_of a WHERE i.sold_at IS NULL
        )
        SELECT CASE WHEN age <= 30 THEN '0-30 days' WHEN age <= 90 THEN '31-90 days'
                    WHEN age <= 180 THEN '91-180 days' WHEN age <= 365 THEN '181-365 days'
                    ELSE 'over 365 days' END AS age_bucket,
               coalesce(product_department, 'Unknown') AS department,
               coalesce(product_category, 'Unknown') AS category,
               coalesce(product_distribution_center_id, 0) AS distribution_center_id,
               coalesce(any_value(d.name), 'Unknown') AS distribution_center_name,
               min(CASE WHEN age <= 30 THEN 0 WHEN age <= 90 THEN 31 WHEN age <= 180 THEN 91
                        WHEN age <= 365 THEN 181 ELSE 366 END) AS age_bucket_min_days,
               any_value(as_of_date) AS as_of_date,
               count(*) AS units,
               sum(cost) AS stock_cost,
               sum(product_retail_price) AS stock_retail_value,
               sum(age) AS total_age_days,
               avg(age) AS mean_age_days
        FROM aged LEFT JOIN distribution_centers d ON d.id = aged.product_distribution_center_id
        GROUP BY 1, 2, 3, 4""",
    "web_sessions_daily": """
        WITH sessions AS (
            SELECT session_id,
                   CAST(min(created_at) AS DATE) AS session_date,
                   coalesce(first(traffic_source ORDER BY sequence_number, created_at, id), 'Unknown')
                       AS session_traffic_source,
                   count(*) AS events,
                   bool_or(event_type = 'cart') AS has_cart,
                   bool_or(event_type = 'purchase') AS has_purchase
            FROM events GROUP BY session_id
        )
        SELECT session_date, session_traffic_source,
               count(*) AS sessions, sum(events) AS events,
               count(*) FILTER (WHERE has_cart) AS cart_sessions,
               count(*) FILTER (WHERE has_purchase) AS purchase_sessions,
               count(*) FILTER (WHERE has_cart AND NOT has_purchase) AS abandoned_cart_sessions,
               count(*) FILTER (WHERE has_purchase) / count(*) AS conversion_rate,
               count(*) FILTER (WHERE has_cart AND NOT has_purchase)
                   / nullif(count(*) FILTER (WHERE has_cart), 0) AS cart_abandonment_rate
        FROM sessions GROUP BY 1, 2""",
}
