"""Nodes of the metrics pipeline: one pure ibis function per table of the `metrics` schema.

Every node takes the cleaned `raw_data` tables as ibis expressions and returns an unexecuted ibis
expression; the upsert dataset runs it on PostgreSQL (tests run the very same expressions on DuckDB).
No backend-specific SQL appears here, so the code is backend-neutral by construction.

Conventions shared by all tables (the glossary in conf/base/globals_metrics.yml states them per column):
- Status rules: an item or order counts as SOLD unless its status is Cancelled. GMV (gross merchandise
  value) is the sale_price of sold items, Returned ones included, because a return is a later event that
  does not undo the sale's demand; net revenue additionally excludes Returned items (refunded money).
- Days and months are UTC calendar days/months of `orders.created_at` (the moment the order was placed),
  also for item-level tables, so items and orders of one order land on the same day.
- Money is summed as fixed-point NUMERIC(24,9) and cast back to double: an exact sum does not depend on
  the order in which a parallel aggregate visits rows, so recomputing unchanged data yields bit-identical
  values and the upsert rewrites nothing. Durations are summed as whole seconds for the same reason.
- Dimension keys are never NULL (a NULL key would never match in the upsert's MERGE): a missing text
  value becomes 'Unknown', a missing distribution center id becomes 0.
- Additive components (counts, sums) are stored next to every ratio, so month/quarter roll-ups are exact:
  sum the components, then divide.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

CANCELLED = "Cancelled"
RETURNED = "Returned"
UNKNOWN_TEXT = "Unknown"
UNKNOWN_ID = 0
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
RFM_QUANTILES = 5
MONEY_SUM_TYPE = "decimal(24, 9)"
# Upper bound (inclusive, in days) and label of each unsold-stock age bucket, youngest first.
STOCK_AGE_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (30, "0-30 days"),
    (90, "31-90 days"),
    (180, "91-180 days"),
    (365, "181-365 days"),
    (None, "over 365 days"),
)


# -- small building blocks ---------------------------------------------------------------------------


def _exact_money_sum(value: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.FloatingScalar:
    """Sum of a money column in fixed point (costs carry more than cents, hence 9 decimals), 0 rather than
    NULL when no row qualifies, returned as double precision."""
    return value.cast(MONEY_SUM_TYPE).sum(where=where).fill_null(0).cast("float64")


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, NULL when the denominator is 0 (an undefined rate is not a 0 % rate)."""
    return numerator.cast("float64") / denominator.nullif(0).cast("float64")


def _month_start(timestamp: ir.TimestampValue) -> ir.DateValue:
    return timestamp.truncate("M").date()


def _month_index(day: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0, so that month differences are plain integer subtraction."""
    return day.year() * 12 + day.month() - 1


def _epoch_second(moment: ir.TimestampValue) -> ir.IntegerValue:
    """The whole second a moment falls in. Truncated before the epoch is taken because engines disagree
    on fractions: PostgreSQL and DuckDB keep them, Spark's unix_timestamp drops them."""
    return moment.truncate("s").epoch_seconds().cast("int64")


def _seconds_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.IntegerValue:
    """Whole-second boundaries crossed from start to end (within a second of the exact duration)."""
    return _epoch_second(end) - _epoch_second(start)


def _whole_days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.IntegerValue:
    """Completed days from start to end (a stock age): floor, so a unit stocked 23 hours ago is 0 days old."""
    return ((_epoch_second(end) - _epoch_second(start)) / SECONDS_PER_DAY).floor().cast("int64")


def _text_key(value: ir.StringValue) -> ir.StringValue:
    return value.fill_null(UNKNOWN_TEXT)


def _is_sold(status: ir.StringValue) -> ir.BooleanValue:
    return (status != CANCELLED).fill_null(True)


def _is_kept(status: ir.StringValue) -> ir.BooleanValue:
    """Sold and not returned: the items whose money the business keeps."""
    return _is_sold(status) & (status != RETURNED).fill_null(True)


def _items_with_order_date(order_items: ir.Table, orders: ir.Table) -> ir.Table:
    """Order items with the UTC day their order was placed (items without a known order are left out)."""
    placed = orders.select(order_id="order_id", order_created_at="created_at")
    items = order_items.inner_join(placed, "order_id")
    return items.mutate(order_date=items.order_created_at.date())


def _order_facts(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """One row per order: its day, status and the money of its items (0 for an order without items)."""
    item_totals = order_items.group_by("order_id").aggregate(
        items_sold=order_items.id.count(where=_is_sold(order_items.status)),
        returned_items=order_items.id.count(where=order_items.status == RETURNED),
        gmv=_exact_money_sum(order_items.sale_price, where=_is_sold(order_items.status)),
        returned_value=_exact_money_sum(order_items.sale_price, where=order_items.status == RETURNED),
    )
    facts = orders.left_join(item_totals, "order_id").select(
        "order_id",
        "user_id",
        "created_at",
        order_date=orders.created_at.date(),
        is_sold=_is_sold(orders.status),
        items_sold=item_totals.items_sold.fill_null(0),
        returned_items=item_totals.returned_items.fill_null(0),
        gmv=item_totals.gmv.fill_null(0),
        returned_value=item_totals.returned_value.fill_null(0),
    )
    return facts.mutate(net_revenue=facts.gmv - facts.returned_value)


def _sales_summary(order_facts: ir.Table, keys: list[str]) -> ir.Table:
    """Order-level sales measures grouped by `keys` (every order belongs to exactly one group)."""
    sold = order_facts.is_sold
    summary = order_facts.group_by(keys).aggregate(
        orders=order_facts.order_id.count(),
        cancelled_orders=order_facts.order_id.count(where=~sold),
        sold_orders=order_facts.order_id.count(where=sold),
        items_sold=order_facts.items_sold.sum(where=sold).fill_null(0),
        returned_items=order_facts.returned_items.sum(where=sold).fill_null(0),
        gmv=_exact_money_sum(order_facts.gmv, where=sold),
        returned_value=_exact_money_sum(order_facts.returned_value, where=sold),
    )
    return summary.mutate(
        net_revenue=summary.gmv - summary.returned_value,
        average_order_value=_ratio(summary.gmv, summary.sold_orders),
        cancellation_rate=_ratio(summary.cancelled_orders, summary.orders),
    )


def _purchases(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Sold (non-cancelled) orders with their purchase month: the events that make someone a buyer."""
    facts = _order_facts(orders, order_items)
    purchases = facts.filter(facts.is_sold)
    return purchases.mutate(purchase_month=_month_start(purchases.created_at))


def _buyer_first_months(purchases: ir.Table) -> ir.Table:
    return purchases.group_by("user_id").aggregate(first_purchase_month=purchases.purchase_month.min())


def _user_purchase_totals(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """One row per user who placed any order: purchase counts, money and first/last purchase day."""
    facts = _order_facts(orders, order_items)
    sold = facts.is_sold
    return facts.group_by("user_id").aggregate(
        orders=facts.order_id.count(where=sold),
        cancelled_orders=facts.order_id.count(where=~sold),
        items_sold=facts.items_sold.sum(where=sold).fill_null(0),
        gmv=_exact_money_sum(facts.gmv, where=sold),
        net_revenue=_exact_money_sum(facts.net_revenue, where=sold),
        first_purchase_date=facts.order_date.min(where=sold),
        last_purchase_date=facts.order_date.max(where=sold),
    )


def _catalogue(products: ir.Table) -> ir.Table:
    """Products with the grouping attributes of the product tables as non-NULL keys."""
    return products.select(
        product_id="id",
        product_cost="cost",
        department=_text_key(products.department),
        category=_text_key(products.category),
        brand=_text_key(products.brand),
    )


def _item_economics(order_items: ir.Table, products: ir.Table) -> ir.Table:
    """Order items with their product's attributes and the sold/kept flags of the product tables."""
    items = order_items.inner_join(_catalogue(products), "product_id")
    return items.mutate(is_sold=_is_sold(items.status), is_kept=_is_kept(items.status))


PRODUCT_SALES_COLUMNS = ("items_sold", "returned_items", "gmv", "net_revenue", "cost_of_goods_sold")


def _performance_by(products: ir.Table, order_items: ir.Table, keys: list[str]) -> ir.Table:
    """Catalogue size, units, returns, revenue and margin per group of products. Every group of the
    catalogue appears, with zeros when none of its products sold."""
    catalogue = _catalogue(products)
    sizes = catalogue.group_by(keys).aggregate(products=catalogue.product_id.nunique())
    items = _item_economics(order_items, products)
    sales = items.group_by(keys).aggregate(
        items_sold=items.id.count(where=items.is_sold),
        returned_items=items.id.count(where=items.status == RETURNED),
        gmv=_exact_money_sum(items.sale_price, where=items.is_sold),
        net_revenue=_exact_money_sum(items.sale_price, where=items.is_kept),
        cost_of_goods_sold=_exact_money_sum(items.product_cost, where=items.is_kept),
    )
    joined = sizes.left_join(sales, keys)
    filled = joined.select(sizes, **{name: joined[name].fill_null(0) for name in PRODUCT_SALES_COLUMNS})
    with_margin = filled.mutate(margin=filled.net_revenue - filled.cost_of_goods_sold)
    return with_margin.mutate(
        return_rate=_ratio(with_margin.returned_items, with_margin.items_sold),
        margin_rate=_ratio(with_margin.margin, with_margin.net_revenue),
    )


def _duration_measures(seconds: ir.IntegerColumn, prefix: str, count_name: str) -> dict[str, ir.Scalar]:
    """Count, exact total, mean, median and 90th percentile of a duration, in hours."""
    hours = seconds / SECONDS_PER_HOUR
    return {
        count_name: seconds.count(),
        f"total_hours_{prefix}": seconds.sum().fill_null(0) / SECONDS_PER_HOUR,
        f"mean_hours_{prefix}": seconds.mean() / SECONDS_PER_HOUR,
        f"median_hours_{prefix}": hours.quantile(0.5),
        f"p90_hours_{prefix}": hours.quantile(0.9),
    }


def _age_bucket(age_days: ir.IntegerValue) -> tuple[ir.StringValue, ir.IntegerValue]:
    """Label and lower bound (for sorting) of the bucket that an age in days falls in."""
    label_cases, bound_cases = [], []
    lower = 0
    for upper, label in STOCK_AGE_BUCKETS[:-1]:
        label_cases.append((age_days <= upper, label))
        bound_cases.append((age_days <= upper, lower))
        lower = upper + 1
    return (
        ibis.cases(*label_cases, else_=STOCK_AGE_BUCKETS[-1][1]),
        ibis.cases(*bound_cases, else_=lower).cast("int64"),
    )


def _with_center_name(table: ir.Table, distribution_centers: ir.Table) -> ir.Table:
    """Adds the distribution center's name right after its id ('Unknown' for an unknown center)."""
    names = distribution_centers.select(distribution_center_id="id", center_name="name")
    named = table.left_join(names, "distribution_center_id").select(table, "center_name")
    position = table.columns.index("distribution_center_id") + 1
    ordered = [*table.columns[:position], "distribution_center_name", *table.columns[position:]]
    return named.mutate(distribution_center_name=_text_key(named.center_name)).select(ordered)


# -- sales ----------------------------------------------------------------------------------------------


def sales_daily(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Orders, items, GMV, net revenue, AOV and cancellation rate per UTC order day."""
    return _sales_summary(_order_facts(orders, order_items), ["order_date"])


def sales_daily_by_country(orders: ir.Table, order_items: ir.Table, users: ir.Table) -> ir.Table:
    """`sales_daily` split by the buyer's country: every order belongs to one country, so the rows of a
    day add up to that day's `sales_daily` row."""
    facts = _order_facts(orders, order_items)
    countries = users.select(user_id="id", country=_text_key(users.country))
    with_country = facts.left_join(countries, "user_id").select(facts, "country")
    located = with_country.mutate(country=_text_key(with_country.country))
    return _sales_summary(located, ["order_date", "country"])


def sales_daily_by_category(orders: ir.Table, order_items: ir.Table, products: ir.Table) -> ir.Table:
    """Item-level sales per order day, department and category. An order may span categories, so
    `orders` here counts orders with a sold item in the category and does not add up across categories."""
    items = _item_economics(_items_with_order_date(order_items, orders), products)
    summary = items.group_by(["order_date", "department", "category"]).aggregate(
        orders=items.order_id.nunique(where=items.is_sold),
        items_ordered=items.id.count(),
        cancelled_items=items.id.count(where=~items.is_sold),
        items_sold=items.id.count(where=items.is_sold),
        returned_items=items.id.count(where=items.status == RETURNED),
        gmv=_exact_money_sum(items.sale_price, where=items.is_sold),
        net_revenue=_exact_money_sum(items.sale_price, where=items.is_kept),
    )
    return summary.mutate(item_cancellation_rate=_ratio(summary.cancelled_items, summary.items_ordered))


# -- customers ------------------------------------------------------------------------------------------


def customer_lifetime_value(users: ir.Table, orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Every user with their lifetime purchases; users who never bought have zeros and NULL dates."""
    totals = _user_purchase_totals(orders, order_items)
    joined = users.left_join(totals, users.id == totals.user_id)
    profile = joined.select(
        user_id=joined.id,
        acquisition_source=_text_key(joined.traffic_source),
        country=_text_key(joined.country),
        signup_date=joined.created_at.date(),
        orders=joined.orders.fill_null(0),
        cancelled_orders=joined.cancelled_orders.fill_null(0),
        items_sold=joined.items_sold.fill_null(0),
        lifetime_gmv=joined.gmv.fill_null(0),
        lifetime_value=joined.net_revenue.fill_null(0),
        first_purchase_date=joined.first_purchase_date,
        last_purchase_date=joined.last_purchase_date,
    )
    return profile.mutate(average_order_value=_ratio(profile.lifetime_gmv, profile.orders))


def cohort_retention_monthly(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Cohort month x months since first purchase, with every month up to the data's last purchase
    month present (a month in which nobody of the cohort bought shows 0 active users, not a gap)."""
    purchases = _purchases(orders, order_items)
    first_months = _buyer_first_months(purchases)
    cohorts = first_months.group_by("first_purchase_month").aggregate(cohort_size=first_months.count())
    last_index = _month_index(purchases.purchase_month.max()).as_scalar()
    cohorts = cohorts.mutate(cohort_index=_month_index(cohorts.first_purchase_month))
    grid = cohorts.mutate(
        months_since_first_purchase=ibis.range(0, last_index - cohorts.cohort_index + 1)
    ).unnest("months_since_first_purchase")

    activity = purchases.inner_join(first_months, "user_id")
    activity = activity.mutate(
        months_since_first_purchase=_month_index(activity.purchase_month)
        - _month_index(activity.first_purchase_month)
    )
    active = activity.group_by(["first_purchase_month", "months_since_first_purchase"]).aggregate(
        active_users=activity.user_id.nunique()
    )
    keys = ["first_purchase_month", "months_since_first_purchase"]
    retained = grid.left_join(active, keys).select(grid, active_users=active.active_users.fill_null(0))
    activity_index = retained.cohort_index + retained.months_since_first_purchase
    return retained.select(
        cohort_month=retained.first_purchase_month,
        months_since_first_purchase=retained.months_since_first_purchase.cast("int64"),
        activity_month=ibis.date(activity_index // 12, activity_index % 12 + 1, 1),
        cohort_size=retained.cohort_size,
        active_users=retained.active_users,
        retention_rate=_ratio(retained.active_users, retained.cohort_size),
    )


def customer_rfm(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """RFM quintile scores (1 worst .. 5 best) and a named segment for every buyer.

    Recency is measured against the data's last order day (not today), so a rerun on the same data gives
    the same scores. Quintiles come from ntile(5) with ties broken by the other two measures and then by
    user_id, which makes the assignment deterministic.
    """
    totals = _user_purchase_totals(orders, order_items)
    buyers = totals.filter(totals.orders > 0)
    reference = orders.aggregate(reference_date=orders.created_at.date().max())
    dated = buyers.cross_join(reference)
    measures = dated.select(
        "user_id",
        "last_purchase_date",
        "reference_date",
        recency_days=dated.reference_date.delta(dated.last_purchase_date, unit="day"),
        frequency=dated.orders,
        monetary=dated.gmv,
    )
    scored = measures.mutate(
        recency_score=ibis.ntile(RFM_QUANTILES).over(
            order_by=[
                ibis.desc(measures.recency_days),
                measures.frequency,
                measures.monetary,
                measures.user_id,
            ]
        )
        + 1,
        frequency_score=ibis.ntile(RFM_QUANTILES).over(
            order_by=[
                measures.frequency,
                measures.monetary,
                ibis.desc(measures.recency_days),
                measures.user_id,
            ]
        )
        + 1,
        monetary_score=ibis.ntile(RFM_QUANTILES).over(
            order_by=[
                measures.monetary,
                measures.frequency,
                ibis.desc(measures.recency_days),
                measures.user_id,
            ]
        )
        + 1,
    )
    return scored.mutate(
        rfm_cell=scored.recency_score.cast("string")
        + scored.frequency_score.cast("string")
        + scored.monetary_score.cast("string"),
        segment=rfm_segment(scored.recency_score, scored.frequency_score),
    )


def rfm_segment(recency_score: ir.IntegerValue, frequency_score: ir.IntegerValue) -> ir.StringValue:
    """Named segment from the recency and frequency scores; the rules cover all 25 combinations."""
    return ibis.cases(
        ((recency_score >= 4) & (frequency_score >= 4), "Champions"),
        ((recency_score >= 3) & (frequency_score >= 3), "Loyal customers"),
        (recency_score >= 4, "Recent customers"),
        ((recency_score <= 2) & (frequency_score >= 3), "At risk"),
        (recency_score <= 2, "Hibernating"),
        else_="Needs attention",
    )


def buyers_new_vs_returning_monthly(orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Per month: buyers whose first purchase falls in that month (new) versus earlier (returning), and
    each group's GMV and share of the month's GMV."""
    purchases = _purchases(orders, order_items)
    classified = purchases.inner_join(_buyer_first_months(purchases), "user_id")
    is_new = classified.purchase_month == classified.first_purchase_month
    monthly = classified.group_by(month=classified.purchase_month).aggregate(
        buyers=classified.user_id.nunique(),
        new_buyers=classified.user_id.nunique(where=is_new),
        returning_buyers=classified.user_id.nunique(where=~is_new),
        orders=classified.order_id.count(),
        new_buyer_orders=classified.order_id.count(where=is_new),
        gmv=_exact_money_sum(classified.gmv),
        new_buyer_gmv=_exact_money_sum(classified.gmv, where=is_new),
        returning_buyer_gmv=_exact_money_sum(classified.gmv, where=~is_new),
    )
    return monthly.mutate(
        returning_buyer_orders=monthly.orders - monthly.new_buyer_orders,
        new_buyer_gmv_share=_ratio(monthly.new_buyer_gmv, monthly.gmv),
        returning_buyer_gmv_share=_ratio(monthly.returning_buyer_gmv, monthly.gmv),
    )


def acquisition_source_monthly(users: ir.Table, orders: ir.Table, order_items: ir.Table) -> ir.Table:
    """Signed-up users, buyers and their lifetime money per signup month and ACQUISITION source
    (users.traffic_source), kept apart from the session traffic source of the web tables."""
    profiles = customer_lifetime_value(users, orders, order_items)
    profiles = profiles.mutate(signup_month=profiles.signup_date.truncate("M"))
    is_buyer = profiles.orders > 0
    summary = profiles.group_by(["signup_month", "acquisition_source"]).aggregate(
        users=profiles.count(),
        buyers=profiles.user_id.count(where=is_buyer),
        orders=profiles.orders.sum(),
        lifetime_gmv=_exact_money_sum(profiles.lifetime_gmv),
        lifetime_value=_exact_money_sum(profiles.lifetime_value),
    )
    return summary.mutate(
        buyer_conversion_rate=_ratio(summary.buyers, summary.users),
        lifetime_value_per_user=_ratio(summary.lifetime_value, summary.users),
    )


# -- products and fulfilment ----------------------------------------------------------------------------


def product_performance(products: ir.Table, order_items: ir.Table) -> ir.Table:
    """Every product with its units, returns, revenue and margin (products never sold show zeros)."""
    performance = _performance_by(products, order_items, ["product_id"])
    details = products.select(
        product_id="id",
        product_name="name",
        brand=_text_key(products.brand),
        department=_text_key(products.department),
        category=_text_key(products.category),
        retail_price="retail_price",
        cost="cost",
        unit_margin=products.retail_price - products.cost,
    )
    joined = details.inner_join(performance, "product_id")
    return joined.select(
        details, *[name for name in performance.columns if name not in ("product_id", "products")]
    )


def category_performance(products: ir.Table, order_items: ir.Table) -> ir.Table:
    """Returns and margin per department and category."""
    return _performance_by(products, order_items, ["department", "category"])


def brand_performance(products: ir.Table, order_items: ir.Table) -> ir.Table:
    """Returns and margin per brand (a brand may sell in both departments)."""
    return _performance_by(products, order_items, ["brand"])


def fulfilment_monthly(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, distribution_centers: ir.Table
) -> ir.Table:
    """Order-to-ship and ship-to-delivery hours per order month and shipping distribution center."""
    items = _items_with_order_date(order_items, orders)
    centers = products.select(product_id="id", distribution_center_id="distribution_center_id")
    items = items.left_join(centers, "product_id").select(items, "distribution_center_id")
    items = items.mutate(
        order_month=items.order_created_at.truncate("M").date(),
        distribution_center_id=items.distribution_center_id.fill_null(UNKNOWN_ID),
        ship_seconds=_seconds_between(items.order_created_at, items.shipped_at),
        delivery_seconds=_seconds_between(items.shipped_at, items.delivered_at),
    )
    keys = ["order_month", "distribution_center_id"]
    shipped = items.filter(items.ship_seconds.notnull())
    shipping = shipped.group_by(keys).aggregate(
        **_duration_measures(shipped.ship_seconds, "to_ship", "shipped_items")
    )
    delivered = items.filter(items.delivery_seconds.notnull())
    delivery = delivered.group_by(keys).aggregate(
        **_duration_measures(delivered.delivery_seconds, "to_deliver", "delivered_items")
    )
    combined = shipping.left_join(delivery, keys).select(
        shipping, *[delivery[name] for name in delivery.columns if name not in keys]
    )
    combined = combined.mutate(delivered_items=combined.delivered_items.fill_null(0))
    return _with_center_name(combined, distribution_centers)


# -- inventory ------------------------------------------------------------------------------------------


def inventory_sold_aging_monthly(inventory_items: ir.Table) -> ir.Table:
    """Days each SOLD inventory item spent in stock, per sale month, department and category."""
    sold = inventory_items.filter(inventory_items.sold_at.notnull())
    sold = sold.mutate(
        sold_month=_month_start(sold.sold_at),
        department=_text_key(sold.product_department),
        category=_text_key(sold.product_category),
        seconds_in_stock=_seconds_between(sold.created_at, sold.sold_at),
    )
    days = sold.seconds_in_stock / SECONDS_PER_DAY
    return sold.group_by(["sold_month", "department", "category"]).aggregate(
        sold_items=sold.id.count(),
        total_days_in_stock=sold.seconds_in_stock.sum() / SECONDS_PER_DAY,
        mean_days_in_stock=sold.seconds_in_stock.mean() / SECONDS_PER_DAY,
        median_days_in_stock=days.quantile(0.5),
        p90_days_in_stock=days.quantile(0.9),
    )


def inventory_unsold_aging(inventory_items: ir.Table, distribution_centers: ir.Table) -> ir.Table:
    """Unsold stock by age bucket, as of the data's last inventory event (the latest stock-in or sale),
    per department, category and distribution center."""
    as_of = inventory_items.sold_at.fill_null(inventory_items.created_at).max().as_scalar()
    unsold = inventory_items.filter(inventory_items.sold_at.isnull())
    age_days = _whole_days_between(unsold.created_at, as_of)
    bucket_label, bucket_lower_bound = _age_bucket(age_days)
    unsold = unsold.mutate(
        as_of_date=as_of.date(),
        age_days=age_days,
        age_bucket=bucket_label,
        age_bucket_min_days=bucket_lower_bound,
        department=_text_key(unsold.product_department),
        category=_text_key(unsold.product_category),
        distribution_center_id=unsold.product_distribution_center_id.fill_null(UNKNOWN_ID),
    )
    keys = ["age_bucket", "department", "category", "distribution_center_id"]
    buckets = unsold.group_by(keys).aggregate(
        age_bucket_min_days=unsold.age_bucket_min_days.min(),
        as_of_date=unsold.as_of_date.max(),
        units=unsold.id.count(),
        stock_cost=_exact_money_sum(unsold.cost),
        stock_retail_value=_exact_money_sum(unsold.product_retail_price),
        total_age_days=unsold.age_days.sum(),
    )
    buckets = buckets.mutate(mean_age_days=_ratio(buckets.total_age_days, buckets.units))
    return _with_center_name(buckets, distribution_centers)


# -- web analytics --------------------------------------------------------------------------------------


def web_sessions_daily(events: ir.Table) -> ir.Table:
    """Sessions, conversion and cart abandonment per UTC day of the session's first event and SESSION
    traffic source (events.traffic_source, the source of the session's first event)."""
    first_event_rank = ibis.row_number().over(
        group_by=events.session_id, order_by=[events.sequence_number, events.created_at, events.id]
    )
    ranked = events.mutate(first_event_rank=first_event_rank)
    sources = ranked.filter(ranked.first_event_rank == 0).select(
        "session_id", session_traffic_source=_text_key(ranked.traffic_source)
    )
    activity = events.group_by("session_id").aggregate(
        session_date=events.created_at.min().date(),
        event_count=events.count(),
        has_cart=(events.event_type == "cart").any(),
        has_purchase=(events.event_type == "purchase").any(),
    )
    sessions = sources.inner_join(activity, "session_id")
    summary = sessions.group_by(["session_date", "session_traffic_source"]).aggregate(
        sessions=sessions.count(),
        events=sessions.event_count.sum(),
        cart_sessions=sessions.session_id.count(where=sessions.has_cart),
        purchase_sessions=sessions.session_id.count(where=sessions.has_purchase),
        abandoned_cart_sessions=sessions.session_id.count(where=sessions.has_cart & ~sessions.has_purchase),
    )
    return summary.mutate(
        conversion_rate=_ratio(summary.purchase_sessions, summary.sessions),
        cart_abandonment_rate=_ratio(summary.abandoned_cart_sessions, summary.cart_sessions),
    )
