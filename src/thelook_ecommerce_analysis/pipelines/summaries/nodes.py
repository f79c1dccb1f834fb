"""Nodes of the summaries pipeline: the facts of each period with ibis, then the summaries in words.

The facts come from the metrics tables, never from the model:
- `summary_periods`: which periods to summarise, counted back from the last order day in the data (the
  latest `days` days, the latest complete Monday-to-Sunday week, the latest complete calendar month),
  each with its previous period and the same period a year earlier;
- `comparison_windows`: those three date ranges per period, one row each;
- `headline_facts`: GMV, orders, average order value, cancellation, return and conversion rates in each
  window, with the changes against the previous period and a year earlier;
- `mover_facts`: per category, department, country and traffic source, the member whose GMV (converted
  sessions for traffic sources) rose most and the one that fell most against the previous period.

They are small pure ibis functions (Table in, Table out, nothing executed). Ratios are recomputed from
summed components, as the metric glossary demands; money is summed in fixed point, so that unchanged data
gives identical facts and an identical prompt hash. `write_summaries` then runs them once, asks the
model only for the periods whose prompt changed, and returns the rows to upsert.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from thelook_ecommerce_analysis.summaries.facts import (
    FALL,
    MEASURES,
    MOVER_DIMENSIONS,
    RATE,
    RISE,
    USD,
    PeriodFacts,
    assemble_facts,
)
from thelook_ecommerce_analysis.summaries.prompt import prompt_hash, summary_messages
from thelook_ecommerce_analysis.summaries.writer import SummaryLLM, SummaryWriter, WrittenSummary

logger = logging.getLogger(__name__)

MONEY_SUM_TYPE = "decimal(24, 9)"
PERIOD_KEYS = ["period_kind", "period_start"]
COMPARISONS = ("current", "previous", "year_ago")
SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("period_kind", pa.string(), nullable=False),
        pa.field("period_start", pa.date32(), nullable=False),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("facts", pa.string(), nullable=False),
        pa.field("model", pa.string()),
        pa.field("prompt_hash", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""The rows written into metrics.daily_summaries (facts: canonical JSON text, stored as jsonb)."""


def _exact_sum(value: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.FloatingScalar:
    """A sum in fixed point, as the metrics tables' money is: the same rows give bit-identical totals
    whatever order a parallel aggregate visits them in."""
    return value.cast(MONEY_SUM_TYPE).sum(where=where).cast("float64")


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """NULL when the denominator is 0 or NULL: an undefined rate is not a 0 % rate."""
    return numerator.cast("float64") / denominator.nullif(0).cast("float64")


def _days(count: int | ir.IntegerValue) -> ir.IntervalValue:
    return ibis.interval(days=count) if isinstance(count, int) else count.as_interval("D")


# -- which periods ----------------------------------------------------------------------------------


def summary_periods(sales_daily: ir.Table, days: int) -> ir.Table:
    """The periods to summarise, from the last order day L of the data: the days L-days+1 .. L, the
    latest complete week (Monday to Sunday, ending on or before L) and the latest complete calendar
    month. Each comes with its previous period (the day, week or month before) and the same period a
    year earlier (the same date; for weeks 52 weeks earlier, so that weekdays line up)."""
    last = sales_daily.aggregate(last_day=sales_daily.order_date.max())
    offsets = ibis.memtable({"offset": list(range(days))}, schema={"offset": "int64"})
    daily = last.cross_join(offsets)
    day_start = (daily.last_day - _days(daily.offset)).cast("date")
    day_periods = daily.select(
        period_kind=ibis.literal("day"),
        period_start=day_start,
        period_end=day_start,
        previous_start=(day_start - _days(1)).cast("date"),
        previous_end=(day_start - _days(1)).cast("date"),
        year_ago_start=(day_start - ibis.interval(years=1)).cast("date"),
        year_ago_end=(day_start - ibis.interval(years=1)).cast("date"),
    )
    after_last = (last.last_day + _days(1)).cast("date")
    week_start = (after_last.truncate("W") - _days(7)).cast("date")
    week_periods = last.select(
        period_kind=ibis.literal("week"),
        period_start=week_start,
        period_end=(week_start + _days(6)).cast("date"),
        previous_start=(week_start - _days(7)).cast("date"),
        previous_end=(week_start - _days(1)).cast("date"),
        year_ago_start=(week_start - _days(364)).cast("date"),
        year_ago_end=(week_start - _days(358)).cast("date"),
    )
    month_start = (after_last.truncate("M") - ibis.interval(months=1)).cast("date")
    year_ago_month = (month_start - ibis.interval(years=1)).cast("date")
    month_periods = last.select(
        period_kind=ibis.literal("month"),
        period_start=month_start,
        period_end=(month_start + ibis.interval(months=1) - _days(1)).cast("date"),
        previous_start=(month_start - ibis.interval(months=1)).cast("date"),
        previous_end=(month_start - _days(1)).cast("date"),
        year_ago_start=year_ago_month,
        year_ago_end=(year_ago_month + ibis.interval(months=1) - _days(1)).cast("date"),
    )
    return ibis.union(day_periods, week_periods, month_periods)


def comparison_windows(periods: ir.Table) -> ir.Table:
    """One row per period and comparison ('current', 'previous', 'year_ago') with its date range."""
    ranges = {
        "current": ("period_start", "period_end"),
        "previous": ("previous_start", "previous_end"),
        "year_ago": ("year_ago_start", "year_ago_end"),
    }
    return ibis.union(
        *(
            periods.select(
                *PERIOD_KEYS,
                comparison=ibis.literal(comparison),
                window_start=periods[start],
                window_end=periods[end],
            )
            for comparison, (start, end) in ranges.items()
        )
    )


def _in_window(windows: ir.Table, table: ir.Table, day_column: str) -> ir.Table:
    """Every row of `table` whose day falls in a window, with the window's keys; windows without such
    rows are kept once, with NULLs (a left join)."""
    day = table[day_column]
    return windows.left_join(table, [day >= windows.window_start, day <= windows.window_end])


# -- headline measures ------------------------------------------------------------------------------


def headline_facts(windows: ir.Table, sales_daily: ir.Table, web_sessions_daily: ir.Table) -> ir.Table:
    """GMV, orders, AOV, cancellation, return and conversion rates per period and comparison window,
    then one row per period and measure with the value now, in the previous period and a year earlier,
    and the changes (relative for money and counts, a difference for rates).

    A window that starts before the first order day in the data has no data (NULL), while a window
    inside the data with no order is a real zero."""
    keys = [*PERIOD_KEYS, "comparison", "window_start"]
    sales = _in_window(windows, sales_daily, "order_date")
    sales = sales.group_by(keys).aggregate(
        gmv=_exact_sum(sales.gmv),
        orders=sales.orders.sum(),
        sold_orders=sales.sold_orders.sum(),
        cancelled_orders=sales.cancelled_orders.sum(),
        items_sold=sales.items_sold.sum(),
        returned_items=sales.returned_items.sum(),
    )
    sessions = _in_window(windows, web_sessions_daily, "session_date")
    sessions = sessions.group_by(keys).aggregate(
        sessions=sessions.sessions.sum(), purchase_sessions=sessions.purchase_sessions.sum()
    )
    first_day = sales_daily.aggregate(first_day=sales_daily.order_date.min())
    totals = sales.inner_join(sessions, keys).cross_join(first_day)
    covered = totals.window_start >= totals.first_day

    def measured(value: ir.NumericValue) -> ir.NumericValue:
        return ibis.ifelse(covered, value.fill_null(0), ibis.null()).cast("float64")

    totals = totals.select(
        *keys,
        gmv=measured(totals.gmv),
        orders=measured(totals.orders),
        sold_orders=measured(totals.sold_orders),
        cancelled_orders=measured(totals.cancelled_orders),
        items_sold=measured(totals.items_sold),
        returned_items=measured(totals.returned_items),
        sessions=measured(totals.sessions),
        purchase_sessions=measured(totals.purchase_sessions),
    )
    values = {
        "GMV": totals.gmv,
        "Orders": totals.orders,
        "Average order value": _ratio(totals.gmv, totals.sold_orders),
        "Cancellation rate": _ratio(totals.cancelled_orders, totals.orders),
        "Return rate": _ratio(totals.returned_items, totals.items_sold),
        "Conversion rate": _ratio(totals.purchase_sessions, totals.sessions),
    }
    long = ibis.union(
        *(
            totals.select(
                *PERIOD_KEYS,
                "comparison",
                measure=ibis.literal(name),
                unit=ibis.literal(unit),
                value=values[name],
            )
            for name, unit in MEASURES
        )
    )
    wide = long.group_by([*PERIOD_KEYS, "measure", "unit"]).aggregate(
        **{comparison: long.value.max(where=long.comparison == comparison) for comparison in COMPARISONS}
    )
    is_rate = wide.unit == RATE

    def change(against: ir.FloatingValue) -> ir.FloatingValue:
        return ibis.ifelse(is_rate, wide.current - against, _ratio(wide.current - against, against.abs()))

    return wide.mutate(change_vs_previous=change(wide.previous), change_vs_year_ago=change(wide.year_ago))


# -- movers -----------------------------------------------------------------------------------------


def _dimension_changes(
    windows: ir.Table, table: ir.Table, *, day_column: str, member: str, measure: ir.Deferred, unit: str
) -> ir.Table:
    """Per period and member of one dimension: the measure now and in the previous period."""
    recent = windows.filter(windows.comparison.isin(["current", "previous"]))
    rows = recent.inner_join(
        table, [table[day_column] >= recent.window_start, table[day_column] <= recent.window_end]
    )
    rows = rows.mutate(member=rows[member], amount=measure.resolve(rows))
    summed = {
        comparison: (
            _exact_sum(rows.amount, where=rows.comparison == comparison)
            if unit == USD
            else rows.amount.sum(where=rows.comparison == comparison).cast("float64")
        )
        for comparison in ("current", "previous")
    }
    per_member = rows.group_by([*PERIOD_KEYS, "member"]).aggregate(**summed)
    per_member = per_member.mutate(
        current=per_member.current.fill_null(0), previous=per_member.previous.fill_null(0)
    )
    return per_member.mutate(
        change=per_member.current - per_member.previous,
        relative_change=_ratio(per_member.current - per_member.previous, per_member.previous),
    )


def _top(changes: ir.Table, direction: str) -> ir.Table:
    """The member with the largest rise (or fall) per period, ties broken by name; none if nothing
    moved that way."""
    ordering = ibis.desc(changes.change) if direction == RISE else changes.change
    ranked = changes.mutate(
        rank=ibis.row_number().over(group_by=PERIOD_KEYS, order_by=[ordering, changes.member])
    )
    moved = ranked.change > 0 if direction == RISE else ranked.change < 0
    return ranked.filter((ranked["rank"] == 0) & moved).drop("rank").mutate(direction=ibis.literal(direction))


def mover_facts(
    windows: ir.Table,
    sales_daily_by_category: ir.Table,
    sales_daily_by_country: ir.Table,
    web_sessions_daily: ir.Table,
) -> ir.Table:
    """The biggest rise and fall against the previous period per category, department, country (GMV)
    and session traffic source (converted sessions): one row per period, dimension and direction."""
    sources = {
        "category": (sales_daily_by_category, "order_date", "category", ibis._.gmv),
        "department": (sales_daily_by_category, "order_date", "department", ibis._.gmv),
        "country": (sales_daily_by_country, "order_date", "country", ibis._.gmv),
        "traffic source": (
            web_sessions_daily,
            "session_date",
            "session_traffic_source",
            ibis._.purchase_sessions,
        ),
    }
    parts = []
    for dimension, measure, unit in MOVER_DIMENSIONS:
        table, day_column, member, amount = sources[dimension]
        changes = _dimension_changes(
            windows, table, day_column=day_column, member=member, measure=amount, unit=unit
        )
        for direction in (RISE, FALL):
            parts.append(
                _top(changes, direction).select(
                    *PERIOD_KEYS,
                    dimension=ibis.literal(dimension),
                    direction="direction",
                    member="member",
                    measure=ibis.literal(measure),
                    unit=ibis.literal(unit),
                    current="current",
                    previous="previous",
                    change="change",
                    relative_change="relative_change",
                )
            )
    return ibis.union(*parts)


# -- the summaries ----------------------------------------------------------------------------------


def _stored_states(stored: pa.Table) -> dict[tuple[str, Any], dict[str, Any]]:
    return {(row["period_kind"], row["period_start"]): row for row in stored.to_pylist()}


def _row(facts: PeriodFacts, written: WrittenSummary, digest: str, now: datetime) -> dict[str, Any]:
    period = facts.period
    return {
        "period_kind": period.kind,
        "period_start": period.start,
        "period_end": period.end,
        "text": written.text,
        "facts": json.dumps(facts.as_json(), sort_keys=True, separators=(",", ":")),
        "model": written.model,
        "prompt_hash": digest,
        "source": written.source,
        "created_at": now,
    }


def _was_unanswered(state: dict[str, Any] | None) -> bool:
    """A stored template that no model answered for (LLM off, down or out of time): worth asking again."""
    return state is not None and state["source"] == "template" and state["model"] is None


def _warn(written: list[tuple[PeriodFacts, WrittenSummary]]) -> None:
    """One warning per reason for the templates written (the run log copies warnings into etl_runs)."""
    by_reason: dict[str, list[str]] = {}
    for facts, summary in written:
        if summary.source == "template" and summary.reason:
            by_reason.setdefault(summary.reason, []).append(f"{facts.period.kind} {facts.period.start}")
    for reason, periods in by_reason.items():
        log = logger.info if reason.endswith("=off") else logger.warning
        log("summaries: %s; stored the template summary for %d period(s): %s", reason, len(periods),
            ", ".join(periods))  # fmt: skip


def write_summaries(
    *,
    periods: ir.Table,
    headlines: ir.Table,
    movers: ir.Table,
    stored: pa.Table,
    llm: SummaryLLM,
    parameters: dict[str, Any],
) -> pa.Table:
    """The summaries to upsert: only periods that are new, whose prompt (facts or instructions) changed,
    or whose stored template no model answered for; a run with nothing new asks the model nothing.

    Never raises for the model's sake: a dead or slow model, or a text that is not grounded twice,
    gives the template summary (see summaries/writer.py), with a warning."""
    facts = assemble_facts(
        periods.to_pyarrow().to_pylist(), headlines.to_pyarrow().to_pylist(), movers.to_pyarrow().to_pylist()
    )
    states = _stored_states(stored)
    writer = SummaryWriter(llm, budget_s=parameters["budget_s"], max_tokens=parameters["max_tokens"])
    now = datetime.now(UTC)
    rows, written = [], []
    try:
        for period_facts in facts:
            state = states.get(period_facts.period.key)
            digest = prompt_hash(summary_messages(period_facts))
            if (
                state is not None
                and state["prompt_hash"] == digest
                and not (llm.enabled and _was_unanswered(state))
            ):
                continue
            summary = writer.write(period_facts)
            written.append((period_facts, summary))
            if state is not None and state["prompt_hash"] == digest and summary.model is None:
                continue  # asked again, still unanswered: the stored template stands
            rows.append(_row(period_facts, summary, digest, now))
    finally:
        writer.close()
    _warn(written)
    logger.info(
        "summaries: %d of %d period(s) written (%d by the model, %d model call(s))",
        len(rows), len(facts), sum(row["source"] == "llm" for row in rows), writer.model_calls,
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)
