"""Independent definitions of the summaries' facts: hand-written PostgreSQL over the metrics tables.

Written from the pipeline's documented rules, not from the ibis nodes, and by other routes where they exist:
the last complete week from ISODOW instead of truncating the next day, the last complete month from "is
tomorrow the 1st?", every window's totals by correlated subqueries, the comparison periods by self-joins,
and the movers by DISTINCT ON. `%(days)s` is the number of days summarised.
"""

from __future__ import annotations

_PERIODS = """
periods AS (
    SELECT 'day'::text AS period_kind, g.day AS period_start, g.day AS period_end,
           g.day - 1 AS previous_start, g.day - 1 AS previous_end,
           (g.day - interval '1 year')::date AS year_ago_start,
           (g.day - interval '1 year')::date AS year_ago_end
    FROM (SELECT max(order_date) AS d FROM metrics.sales_daily) last,
         LATERAL (SELECT (last.d - k) AS day FROM generate_series(0, %(days)s - 1) AS k) g
    UNION ALL
    SELECT 'week', w.monday, w.monday + 6, w.monday - 7, w.monday - 1, w.monday - 364, w.monday - 358
    FROM (SELECT max(order_date) AS d FROM metrics.sales_daily) last,
         LATERAL (SELECT last.d - (extract(isodow FROM last.d)::int %% 7) - 6 AS monday) w
    UNION ALL
    SELECT 'month', m.first::date, (m.first + interval '1 month' - interval '1 day')::date,
           (m.first - interval '1 month')::date, (m.first - interval '1 day')::date,
           (m.first - interval '1 year')::date,
           (m.first - interval '1 year' + interval '1 month' - interval '1 day')::date
    FROM (SELECT max(order_date) AS d FROM metrics.sales_daily) last,
         LATERAL (SELECT CASE WHEN extract(day FROM last.d + 1) = 1 THEN date_trunc('month', last.d)
                              ELSE date_trunc('month', last.d) - interval '1 month' END AS first) m
)"""

PERIODS = f"WITH {_PERIODS.strip()} SELECT * FROM periods"

HEADLINES = f"""
WITH {_PERIODS.strip()},
windows AS (
    SELECT p.period_kind, p.period_start, c.comparison, c.first_day, c.last_day
    FROM periods p, LATERAL (VALUES ('current', p.period_start, p.period_end),
                                    ('previous', p.previous_start, p.previous_end),
                                    ('year_ago', p.year_ago_start, p.year_ago_end))
                            AS c(comparison, first_day, last_day)
),
totals AS (
    SELECT w.*,
           w.first_day >= (SELECT min(order_date) FROM metrics.sales_daily) AS covered,
           (SELECT coalesce(sum(s.gmv::numeric), 0)::float8 FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS gmv,
           (SELECT coalesce(sum(s.orders), 0) FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS orders,
           (SELECT coalesce(sum(s.sold_orders), 0) FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS sold_orders,
           (SELECT coalesce(sum(s.cancelled_orders), 0) FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS cancelled_orders,
           (SELECT coalesce(sum(s.items_sold), 0) FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS items_sold,
           (SELECT coalesce(sum(s.returned_items), 0) FROM metrics.sales_daily s
             WHERE s.order_date BETWEEN w.first_day AND w.last_day) AS returned_items,
           (SELECT coalesce(sum(v.sessions), 0) FROM metrics.web_sessions_daily v
             WHERE v.session_date BETWEEN w.first_day AND w.last_day) AS sessions,
           (SELECT coalesce(sum(v.purchase_sessions), 0) FROM metrics.web_sessions_daily v
             WHERE v.session_date BETWEEN w.first_day AND w.last_day) AS purchase_sessions
    FROM windows w
),
measures AS (
    SELECT t.period_kind, t.period_start, t.comparison, m.measure, m.unit,
           CASE WHEN t.covered THEN m.value END AS value
    FROM totals t, LATERAL (VALUES
        ('GMV', 'usd', t.gmv),
        ('Orders', 'count', t.orders::float8),
        ('Average order value', 'usd', t.gmv / nullif(t.sold_orders, 0)),
        ('Cancellation rate', 'rate', t.cancelled_orders::float8 / nullif(t.orders, 0)),
        ('Return rate', 'rate', t.returned_items::float8 / nullif(t.items_sold, 0)),
        ('Conversion rate', 'rate', t.purchase_sessions::float8 / nullif(t.sessions, 0))
    ) m(measure, unit, value)
)
SELECT c.period_kind, c.period_start, c.measure, c.unit,
       c.value AS current, p.value AS previous, y.value AS year_ago,
       CASE WHEN c.unit = 'rate' THEN c.value - p.value
            ELSE (c.value - p.value) / nullif(abs(p.value), 0) END AS change_vs_previous,
       CASE WHEN c.unit = 'rate' THEN c.value - y.value
            ELSE (c.value - y.value) / nullif(abs(y.value), 0) END AS change_vs_year_ago
FROM measures c
JOIN measures p ON p.period_kind = c.period_kind AND p.period_start = c.period_start
               AND p.measure = c.measure AND p.comparison = 'previous'
JOIN measures y ON y.period_kind = c.period_kind AND y.period_start = c.period_start
               AND y.measure = c.measure AND y.comparison = 'year_ago'
WHERE c.comparison = 'current'
"""

MOVERS = f"""
WITH {_PERIODS.strip()},
recent AS (
    SELECT p.period_kind, p.period_start, c.comparison, c.first_day, c.last_day
    FROM periods p, LATERAL (VALUES ('current', p.period_start, p.period_end),
                                    ('previous', p.previous_start, p.previous_end))
                            AS c(comparison, first_day, last_day)
),
amounts AS (
    SELECT 'category' AS dimension, 'GMV' AS measure, 'usd' AS unit, r.period_kind, r.period_start,
           r.comparison, s.category AS member, s.gmv::numeric AS amount
    FROM recent r JOIN metrics.sales_daily_by_category s ON s.order_date BETWEEN r.first_day AND r.last_day
    UNION ALL
    SELECT 'department', 'GMV', 'usd', r.period_kind, r.period_start, r.comparison, s.department,
           s.gmv::numeric
    FROM recent r JOIN metrics.sales_daily_by_category s ON s.order_date BETWEEN r.first_day AND r.last_day
    UNION ALL
    SELECT 'country', 'GMV', 'usd', r.period_kind, r.period_start, r.comparison, s.country, s.gmv::numeric
    FROM recent r JOIN metrics.sales_daily_by_country s ON s.order_date BETWEEN r.first_day AND r.last_day
    UNION ALL
    SELECT 'traffic source', 'Converted sessions', 'count', r.period_kind, r.period_start, r.comparison,
           v.session_traffic_source, v.purchase_sessions::numeric
    FROM recent r JOIN metrics.web_sessions_daily v ON v.session_date BETWEEN r.first_day AND r.last_day
),
per_member AS (
    SELECT dimension, measure, unit, period_kind, period_start, member,
           coalesce(sum(amount) FILTER (WHERE comparison = 'current'), 0)::float8 AS current,
           coalesce(sum(amount) FILTER (WHERE comparison = 'previous'), 0)::float8 AS previous
    FROM amounts GROUP BY 1, 2, 3, 4, 5, 6
),
rises AS (
    SELECT DISTINCT ON (dimension, period_kind, period_start) 'rise'::text AS direction, *
    FROM per_member WHERE current > previous
    ORDER BY dimension, period_kind, period_start, current - previous DESC, member
),
falls AS (
    SELECT DISTINCT ON (dimension, period_kind, period_start) 'fall'::text AS direction, *
    FROM per_member WHERE current < previous
    ORDER BY dimension, period_kind, period_start, current - previous, member
)
SELECT period_kind, period_start, dimension, direction, member, measure, unit, current, previous,
       current - previous AS change, (current - previous) / nullif(previous, 0) AS relative_change
FROM (SELECT * FROM rises UNION ALL SELECT * FROM falls) moved
"""
