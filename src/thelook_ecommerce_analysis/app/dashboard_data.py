"""The dashboard's numbers: small aggregate queries over the metrics tables, the KPI arithmetic, and the
Altair charts that draw them. No Streamlit here, so the queries run in tests against a real database and
the arithmetic is tested as plain functions.

Every query reads the `metrics` schema through the read-only role and returns Arrow. Ratios are always
recomputed from summed components (AOV = GMV / sold orders), never averaged, as the metric glossary
demands. Which filter reaches which chart follows from the tables' grain: country splits the sales and
customer tables, department the category and inventory tables, and web sessions have neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import altair as alt
import psycopg
import pyarrow as pa

from thelook_ecommerce_analysis.app.charts import chartable
from thelook_ecommerce_analysis.summaries.facts import period_label


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; None means all countries / departments."""

    start: date
    end: date
    country: str | None = None
    department: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Filters(end - timedelta(days=self.days - 1), end, self.country, self.department)

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "country": self.country, "department": self.department}


def fetch_table(connection: psycopg.Connection, query: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run one query and return its rows as an Arrow table (column names from the cursor)."""
    with connection.cursor() as cursor:
        cursor.execute(query, params or {})
        names = [column.name for column in cursor.description or []]
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return chartable(pa.table([pa.array(list(values)) for values in columns], names=names))


# --- filter choices --------------------------------------------------------------------------------

DATE_BOUNDS = "SELECT min(order_date), max(order_date) FROM metrics.sales_daily"
COUNTRIES = "SELECT DISTINCT country FROM metrics.sales_daily_by_country ORDER BY country"
DEPARTMENTS = "SELECT DISTINCT department FROM metrics.category_performance ORDER BY department"


def date_bounds(connection: psycopg.Connection) -> tuple[date, date] | None:
    """First and last order day in the data, or None when nothing is loaded yet."""
    first, last = connection.execute(DATE_BOUNDS).fetchone()
    return (first, last) if first is not None else None


def choices(connection: psycopg.Connection, query: str) -> list[str]:
    return [row[0] for row in connection.execute(query).fetchall()]


# --- KPIs ------------------------------------------------------------------------------------------

_COUNTRY = "(%(country)s::text IS NULL OR country = %(country)s)"
_DEPARTMENT = "(%(department)s::text IS NULL OR department = %(department)s)"

SALES_TOTALS = f"""
SELECT coalesce(sum(gmv), 0)::float8 AS gmv, coalesce(sum(orders), 0)::bigint AS orders,
       coalesce(sum(sold_orders), 0)::bigint AS sold_orders,
       coalesce(sum(cancelled_orders), 0)::bigint AS cancelled_orders
FROM metrics.sales_daily_by_country
WHERE order_date BETWEEN %(start)s AND %(end)s AND {_COUNTRY}
"""

SESSION_TOTALS = """
SELECT coalesce(sum(sessions), 0)::bigint AS sessions,
       coalesce(sum(purchase_sessions), 0)::bigint AS purchase_sessions
FROM metrics.web_sessions_daily
WHERE session_date BETWEEN %(start)s AND %(end)s
"""


@dataclass(frozen=True)
class PeriodTotals:
    """The additive components of the KPIs over one period."""

    gmv: float
    orders: int
    sold_orders: int
    cancelled_orders: int
    sessions: int
    purchase_sessions: int


@dataclass(frozen=True)
class Kpi:
    """One KPI card: value now, value in the previous period, and the relative change (None when
    the previous value is 0 or missing)."""

    name: str
    value: float | None
    previous: float | None
    unit: str

    @property
    def change(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)


def period_totals(connection: psycopg.Connection, filters: Filters) -> PeriodTotals:
    sales = connection.execute(SALES_TOTALS, filters.params()).fetchone()
    sessions = connection.execute(SESSION_TOTALS, filters.params()).fetchone()
    return PeriodTotals(float(sales[0]), int(sales[1]), int(sales[2]), int(sales[3]), *map(int, sessions))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def kpi_values(totals: PeriodTotals) -> dict[str, float | None]:
    """The five KPIs of one period, ratios recomputed from the summed components."""
    return {
        "GMV": totals.gmv,
        "Orders": float(totals.orders),
        "AOV": _ratio(totals.gmv, totals.sold_orders),
        "Cancellation rate": _ratio(totals.cancelled_orders, totals.orders),
        "Conversion": _ratio(totals.purchase_sessions, totals.sessions),
    }


KPI_UNITS = {
    "GMV": "usd",
    "Orders": "count",
    "AOV": "usd",
    "Cancellation rate": "share",
    "Conversion": "share",
}


def kpis(current: PeriodTotals, previous: PeriodTotals) -> list[Kpi]:
    now, before = kpi_values(current), kpi_values(previous)
    return [Kpi(name, now[name], before[name], KPI_UNITS[name]) for name in now]


_COMPACT_STEPS = ((1e3, "k"), (1e6, "M"), (1e9, "B"))


def _three_digits(number: float) -> str:
    return f"{number:.{2 if abs(number) < 10 else 1 if abs(number) < 100 else 0}f}"


def _compact(value: float) -> str:
    """Three significant digits with a suffix from 10,000 up ('37.2k', '376k', '2.41M'): a KPI card is
    ~150 px wide on a laptop, and '$375,695' did not fit in it ('$37...')."""
    if abs(value) < 10_000:
        return f"{value:,.0f}"
    for size, suffix in _COMPACT_STEPS[:-1]:
        text = _three_digits(value / size)
        if abs(float(text)) < 1000:  # 999,960 rounds to '1000': it is 1.00M, not 1000k
            return f"{text}{suffix}"
    size, suffix = _COMPACT_STEPS[-1]
    return f"{_three_digits(value / size)}{suffix}"


def format_kpi(value: float | None, unit: str) -> str:
    """A KPI card's value, compact: '$37.2k', '$82.50', '1,234', '123k', '4.2%', or '-' for a value that
    cannot be computed (no orders)."""
    if value is None:
        return "-"
    if unit == "usd":
        return f"${_compact(value)}" if abs(value) >= 100 else f"${value:,.2f}"
    if unit == "share":
        return f"{value:.1%}"
    return _compact(value)


# --- summaries in words ----------------------------------------------------------------------------

SUMMARIES = """
SELECT period_kind, period_start, period_end, text, model, source
FROM metrics.daily_summaries
ORDER BY period_end DESC, array_position(ARRAY['day', 'week', 'month'], period_kind), period_start DESC
LIMIT %(limit)s
"""
SUMMARIES_SHOWN = 120
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$:])")


@dataclass(frozen=True)
class StoredSummary:
    """One row of metrics.daily_summaries, as the dashboard shows it."""

    period_kind: str
    period_start: date
    period_end: date
    text: str
    model: str | None
    source: str

    @property
    def label(self) -> str:
        """The selector's entry: 'Sunday 2025-06-29', 'The week of 2025-06-23 to 2025-06-29', 'June 2025'."""
        label = period_label(self.period_kind, self.period_start, self.period_end)
        return label[0].upper() + label[1:]

    @property
    def provenance(self) -> str:
        """Who wrote the text, in one line under it."""
        if self.source == "llm":
            return f"Written by {self.model} from the period's facts; every number in it was checked."
        if self.model:
            return f"Template summary: the text of {self.model} had numbers that are not among the facts."
        return "Template summary: no language model answered when it was written."


def stored_summaries(connection: psycopg.Connection, limit: int = SUMMARIES_SHOWN) -> list[StoredSummary]:
    """The latest summaries, newest period first (days before the week and month ending with them);
    none before the summaries pipeline first ran."""
    (exists,) = connection.execute("SELECT to_regclass('metrics.daily_summaries') IS NOT NULL").fetchone()
    if not exists:
        return []
    return [StoredSummary(*row) for row in connection.execute(SUMMARIES, {"limit": limit}).fetchall()]


def markdown_text(text: str) -> str:
    """`text` escaped for st.markdown, which would read '$85 ... $90' as LaTeX, '*' as emphasis,
    ':red[...]' as colour and '![](url)' as an image to fetch (the chat shows model text through it too)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


# --- chart data ------------------------------------------------------------------------------------


def trend_grain(filters: Filters) -> str:
    """Days for up to three months, weeks up to a year and a half, months beyond: ~15-90 points."""
    if filters.days <= 92:
        return "day"
    return "week" if filters.days <= 550 else "month"


GMV_TREND = f"""
SELECT date_trunc(%(grain)s, order_date)::date AS period, sum(gmv)::float8 AS gmv,
       sum(net_revenue)::float8 AS net_revenue
FROM metrics.sales_daily_by_country
WHERE order_date BETWEEN %(start)s AND %(end)s AND {_COUNTRY}
GROUP BY 1 ORDER BY 1
"""

GMV_BY_CATEGORY = f"""
SELECT category, department, sum(gmv)::float8 AS gmv
FROM metrics.sales_daily_by_category
WHERE order_date BETWEEN %(start)s AND %(end)s AND {_DEPARTMENT}
GROUP BY 1, 2 ORDER BY gmv DESC LIMIT 15
"""

COHORT_RETENTION = """
SELECT cohort_month, months_since_first_purchase, retention_rate::float8 AS retention_rate,
       cohort_size::bigint AS cohort_size
FROM metrics.cohort_retention_monthly
WHERE cohort_month BETWEEN date_trunc('month', %(start)s::date) AND %(end)s
  AND months_since_first_purchase <= 12
ORDER BY 1, 2
"""

RFM_SEGMENTS = """
SELECT r.segment, count(*)::bigint AS buyers, sum(r.monetary)::float8 AS monetary,
       avg(r.recency_days)::float8 AS mean_recency_days
FROM metrics.customer_rfm r JOIN metrics.customer_lifetime_value c USING (user_id)
WHERE (%(country)s::text IS NULL OR c.country = %(country)s)
GROUP BY 1 ORDER BY buyers DESC
"""

WEB_FUNNEL = """
SELECT session_traffic_source AS traffic_source, sum(sessions)::bigint AS sessions,
       sum(cart_sessions)::bigint AS cart_sessions, sum(purchase_sessions)::bigint AS purchase_sessions,
       (sum(abandoned_cart_sessions)::float8 / nullif(sum(cart_sessions), 0)) AS cart_abandonment_rate
FROM metrics.web_sessions_daily
WHERE session_date BETWEEN %(start)s AND %(end)s
GROUP BY 1 ORDER BY sessions DESC
"""

SHIPPING_TIMES = """
SELECT order_month, sum(total_hours_to_ship)::float8 / nullif(sum(shipped_items), 0) / 24 AS days_to_ship,
       sum(total_hours_to_deliver)::float8 / nullif(sum(delivered_items), 0) / 24 AS days_to_deliver
FROM metrics.fulfilment_monthly
WHERE order_month BETWEEN date_trunc('month', %(start)s::date) AND %(end)s
GROUP BY 1 ORDER BY 1
"""

INVENTORY_AGING = f"""
SELECT age_bucket, min(age_bucket_min_days) AS bucket_start, department, sum(units)::bigint AS units,
       sum(stock_cost)::float8 AS stock_cost
FROM metrics.inventory_unsold_aging
WHERE {_DEPARTMENT}
GROUP BY age_bucket, department ORDER BY bucket_start, department
"""


def chart_data(connection: psycopg.Connection, filters: Filters) -> dict[str, pa.Table]:
    """Every chart's table for these filters, by chart name."""
    params = filters.params() | {"grain": trend_grain(filters)}
    queries = {
        "gmv_trend": GMV_TREND,
        "gmv_by_category": GMV_BY_CATEGORY,
        "cohort_retention": COHORT_RETENTION,
        "rfm_segments": RFM_SEGMENTS,
        "web_funnel": WEB_FUNNEL,
        "shipping_times": SHIPPING_TIMES,
        "inventory_aging": INVENTORY_AGING,
    }
    return {name: fetch_table(connection, query, params) for name, query in queries.items()}


# --- charts ----------------------------------------------------------------------------------------


def gmv_trend_chart(table: pa.Table) -> alt.Chart:
    return (
        alt.Chart(table)
        .transform_fold(["gmv", "net_revenue"], as_=["measure", "usd"])
        .mark_line(point=table.num_rows <= 60)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("usd:Q", title="USD"),
            color=alt.Color("measure:N", title=None),
            tooltip=["period:T", "measure:N", alt.Tooltip("usd:Q", format="$,.0f")],
        )
    )


def gmv_by_category_chart(table: pa.Table) -> alt.Chart:
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", sort="-x", title=None),
            x=alt.X("gmv:Q", title="GMV (USD)"),
            color=alt.Color("department:N"),
            tooltip=["category:N", "department:N", alt.Tooltip("gmv:Q", format="$,.0f")],
        )
    )


def cohort_heatmap(table: pa.Table) -> alt.Chart:
    base = alt.Chart(table).encode(
        x=alt.X("months_since_first_purchase:O", title="months since first purchase"),
        y=alt.Y("cohort_month:O", timeUnit="yearmonth", title="cohort"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("retention_rate:Q", scale=alt.Scale(scheme="blues"), title="retention"),
        tooltip=[
            alt.Tooltip("cohort_month:T", timeUnit="yearmonth", title="cohort"),
            "months_since_first_purchase:O",
            alt.Tooltip("retention_rate:Q", format=".1%"),
            "cohort_size:Q",
        ],
    )
    return cells


def rfm_chart(table: pa.Table) -> alt.Chart:
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort="-x", title=None),
            x=alt.X("buyers:Q", title="buyers"),
            color=alt.Color("monetary:Q", title="GMV (USD)", scale=alt.Scale(scheme="greens")),
            tooltip=[
                "segment:N",
                "buyers:Q",
                alt.Tooltip("monetary:Q", format="$,.0f"),
                alt.Tooltip("mean_recency_days:Q", format=".0f"),
            ],
        )
    )


def funnel_chart(table: pa.Table) -> alt.Chart:
    """Sessions, carts and purchases side by side per traffic source."""
    return (
        alt.Chart(table)
        .transform_fold(["sessions", "cart_sessions", "purchase_sessions"], as_=["stage", "count"])
        .mark_bar()
        .encode(
            x=alt.X("traffic_source:N", title=None),
            xOffset=alt.XOffset("stage:N", sort=["sessions", "cart_sessions", "purchase_sessions"]),
            y=alt.Y("count:Q", title="sessions"),
            color=alt.Color("stage:N", sort=["sessions", "cart_sessions", "purchase_sessions"], title=None),
            tooltip=["traffic_source:N", "stage:N", "count:Q"],
        )
    )


def abandonment_chart(table: pa.Table) -> alt.Chart:
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("traffic_source:N", sort="-y", title=None),
            y=alt.Y("cart_abandonment_rate:Q", axis=alt.Axis(format="%"), title="cart abandonment"),
            tooltip=["traffic_source:N", alt.Tooltip("cart_abandonment_rate:Q", format=".1%")],
        )
    )


def shipping_chart(table: pa.Table) -> alt.Chart:
    return (
        alt.Chart(table)
        .transform_fold(["days_to_ship", "days_to_deliver"], as_=["stage", "days"])
        .mark_line(point=True)
        .encode(
            x=alt.X("order_month:T", title=None),
            y=alt.Y("days:Q", title="mean days"),
            color=alt.Color("stage:N", title=None),
            tooltip=["order_month:T", "stage:N", alt.Tooltip("days:Q", format=".1f")],
        )
    )


def inventory_chart(table: pa.Table) -> alt.Chart:
    buckets = list(dict.fromkeys(table.column("age_bucket").to_pylist())) if table.num_rows else None
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("age_bucket:N", sort=buckets, title="days in stock"),
            y=alt.Y("units:Q", title="unsold units"),
            color=alt.Color("department:N"),
            tooltip=["age_bucket:N", "department:N", "units:Q", alt.Tooltip("stock_cost:Q", format="$,.0f")],
        )
    )
