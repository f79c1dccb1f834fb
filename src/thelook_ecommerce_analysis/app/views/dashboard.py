"""The dashboard page: the latest summary in words (metrics.daily_summaries, with earlier ones on request),
KPI cards with the change against the previous period, then sales, customers, web, fulfilment and inventory
charts over the metrics tables, filtered by period, country and department."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import streamlit as st

from thelook_ecommerce_analysis.app import dashboard_data as data
from thelook_ecommerce_analysis.app.resources import reader_url
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.errors import ThelookError

ALL = "All"
DEFAULT_PERIOD_DAYS = 30
CACHE_TTL_S = 300


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def filter_choices(url: str) -> tuple[tuple[date, date] | None, list[str], list[str]]:
    with connect(url) as connection:
        return (
            data.date_bounds(connection),
            data.choices(connection, data.COUNTRIES),
            data.choices(connection, data.DEPARTMENTS),
        )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Reading the metrics tables...")
def dashboard_numbers(url: str, filters: data.Filters) -> tuple[list[data.Kpi], dict[str, pa.Table]]:
    with connect(url) as connection:
        current = data.period_totals(connection, filters)
        previous = data.period_totals(connection, filters.previous())
        return data.kpis(current, previous), data.chart_data(connection, filters)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def summaries(url: str) -> list[data.StoredSummary]:
    with connect(url) as connection:
        return data.stored_summaries(connection)


def render_summary(stored: list[data.StoredSummary]) -> None:
    """The newest summary in words, and a selector for the earlier ones."""
    if not stored:
        st.caption("No summary in words yet: `thelook run` writes them after the metrics.")
        return
    labels = [summary.label for summary in stored]
    chosen = st.selectbox("Summary of", labels, key="summary")
    summary = stored[labels.index(chosen)]
    st.markdown(data.markdown_text(summary.text))
    st.caption(summary.provenance)


def chosen_filters(first: date, last: date, countries: list[str], departments: list[str]) -> data.Filters:
    period_col, country_col, department_col = st.columns([2, 1, 1])
    default_start = max(first, last - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    period = period_col.date_input(
        "Period", value=(default_start, last), min_value=first, max_value=last, key="period"
    )
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (default_start, last)
    country = country_col.selectbox("Country", [ALL, *countries], key="country")
    department = department_col.selectbox("Department", [ALL, *departments], key="department")
    return data.Filters(
        start, end, None if country == ALL else country, None if department == ALL else department
    )


def show_chart(title: str, table: pa.Table, chart, caption: str) -> None:
    st.markdown(f"**{title}**")
    if table.num_rows == 0:
        st.info("No data for these filters.")
    else:
        st.altair_chart(chart(table), width="stretch")
    st.caption(caption)


def render_kpis(kpis: list[data.Kpi], filters: data.Filters) -> None:
    for column, kpi in zip(st.columns(len(kpis)), kpis, strict=True):
        delta = f"{kpi.change:+.1%}" if kpi.change is not None else None
        colour = "inverse" if kpi.name == "Cancellation rate" else "normal"
        column.metric(kpi.name, data.format_kpi(kpi.value, kpi.unit), delta, delta_color=colour, border=True)
    previous = filters.previous()
    st.caption(
        f"{filters.start} to {filters.end} ({filters.days} days) against {previous.start} to {previous.end}. "
        "Conversion is purchase sessions over all web sessions, site-wide (sessions have no country)."
    )


st.title("Dashboard")
try:
    bounds, countries, departments = filter_choices(reader_url())
except ThelookError as error:
    st.error(f"The metrics cannot be read: {error}")
    st.stop()
if bounds is None:
    st.info("No data loaded yet: run `thelook run` to load the data and compute the metrics.")
    st.stop()

render_summary(summaries(reader_url()))
filters = chosen_filters(*bounds, countries, departments)
kpis, tables = dashboard_numbers(reader_url(), filters)
render_kpis(kpis, filters)

# The dashboard's charts, two per row: (title, table, chart builder, caption).
CHART_ROWS = [
    [
        ("GMV trend", "gmv_trend", data.gmv_trend_chart,
         f"Per {data.trend_grain(filters)}; GMV counts returned items, net revenue does not. "
         "Country filter applies."),
        ("GMV by category (top 15)", "gmv_by_category", data.gmv_by_category_chart,
         "Department filter applies."),
    ],
    [
        ("Cohort retention", "cohort_retention", data.cohort_heatmap,
         "Buyers grouped by first-purchase month (cohorts starting in the period), active in later months."),
        ("RFM segments", "rfm_segments", data.rfm_chart, "All buyers, all time; country filter applies."),
    ],
    [
        ("Web funnel by traffic source", "web_funnel", data.funnel_chart,
         "Sessions, sessions with a cart, sessions with a purchase."),
        ("Cart abandonment by traffic source", "web_funnel", data.abandonment_chart,
         "Share of sessions with a cart that did not purchase."),
    ],
    [
        ("Shipping times", "shipping_times", data.shipping_chart,
         "Mean days from order to shipping and from shipping to delivery, per order month."),
        ("Unsold inventory by age", "inventory_aging", data.inventory_chart,
         "Stock on hand at the data's last inventory event; department filter applies."),
    ],
]  # fmt: skip
for row in CHART_ROWS:
    for column, (title, table, build, caption) in zip(st.columns(len(row)), row, strict=True):
        with column:
            show_chart(title, tables[table], build, caption)
