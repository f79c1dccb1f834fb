"""Chart choice from the result's shape (pure), and the charts it draws as Vega-Lite."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.app.charts import (
    ChartKind,
    ChartSpec,
    build_chart,
    chart_options,
    chartable,
    choose_chart,
    column_roles,
    format_number,
    metric_cards,
)


def test_roles_separate_time_measures_and_dimensions() -> None:
    schema = ibis.schema(
        {"month": "date", "year": "int32", "user_id": "int64", "country": "string", "gmv": "decimal(12,2)",
         "orders": "int64", "returned": "boolean"}
    )  # fmt: skip
    roles = column_roles(schema)
    assert roles.temporal == ("month", "year")
    assert roles.measures == ("gmv", "orders")
    assert roles.dimensions == ("user_id", "country", "returned")


@pytest.mark.parametrize(
    ("columns", "rows", "expected"),
    [
        ({"month": "date", "gmv": "float64"}, 12, ChartSpec(ChartKind.LINE, "month", ("gmv",))),
        ({"order_date": "timestamp", "country": "string", "gmv": "float64", "orders": "int64"}, 40,
         ChartSpec(ChartKind.LINE, "order_date", ("gmv",), "country")),
        ({"year": "int32", "gmv": "float64", "orders": "int64"}, 3,
         ChartSpec(ChartKind.LINE, "year", ("gmv", "orders"))),
        ({"category": "string", "gmv": "decimal(12,2)"}, 10, ChartSpec(ChartKind.BAR, "category", ("gmv",))),
        ({"department": "string", "category": "string", "gmv": "float64"}, 20,
         ChartSpec(ChartKind.BAR, "department", ("gmv",), "category")),
        ({"cancelled_orders": "decimal(38,0)"}, 1, ChartSpec(ChartKind.METRIC, None, ("cancelled_orders",))),
        ({"cost": "float64", "retail_price": "float64"}, 50,
         ChartSpec(ChartKind.SCATTER, "cost", ("cost", "retail_price"))),
    ],
)  # fmt: skip
def test_best_chart_follows_the_shape(columns: dict, rows: int, expected: ChartSpec) -> None:
    assert choose_chart(ibis.schema(columns), rows) == expected


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        ({"name": "string", "email": "string"}, 10),  # no measure
        ({"id": "int64", "user_id": "int64"}, 10),  # identifiers are not measures
        ({"month": "date", "gmv": "float64"}, 0),  # nothing to draw
    ],
)
def test_no_chart_when_only_a_table_makes_sense(columns: dict, rows: int) -> None:
    assert choose_chart(ibis.schema(columns), rows) is None


def test_alternatives_are_offered_after_the_best_chart() -> None:
    kinds = [option.kind for option in chart_options(ibis.schema({"month": "date", "gmv": "float64"}), 1)]
    assert kinds == [ChartKind.METRIC, ChartKind.LINE, ChartKind.BAR]


def test_decimals_become_floats_for_plotting() -> None:
    table = pa.table({"gmv": pa.array([Decimal("1.50"), Decimal("2.25")]), "label": ["a", "b"]})
    converted = chartable(table)
    assert converted.schema.field("gmv").type == pa.float64()
    assert converted["gmv"].to_pylist() == [1.5, 2.25]
    assert converted["label"].to_pylist() == ["a", "b"]


def test_line_chart_folds_several_measures_into_coloured_series() -> None:
    schema = ibis.schema({"month": "date", "gmv": "float64", "net revenue.usd": "float64"})
    table = pa.table({"month": [dt.date(2025, 1, 1), dt.date(2025, 2, 1)], "gmv": [1.0, 2.0],
                      "net revenue.usd": [0.5, 1.5]})  # fmt: skip
    spec = choose_chart(schema, table.num_rows)
    chart = build_chart(spec, table, schema).to_dict()
    assert chart["mark"]["type"] == "line"
    assert chart["encoding"]["x"] == {"field": "month", "title": "month", "type": "temporal"}
    assert chart["encoding"]["color"]["field"] == "measure"
    assert chart["transform"][0]["fold"] == ["gmv", "net revenue\\.usd"], "dots escaped for Vega-Lite"


def test_bar_chart_sorts_categories_by_value() -> None:
    schema = ibis.schema({"category": "string", "gmv": "float64"})
    table = pa.table({"category": ["Jeans", "Tops"], "gmv": [3.0, 9.0]})
    chart = build_chart(choose_chart(schema, 2), table, schema).to_dict()
    assert chart["mark"]["type"] == "bar"
    assert chart["encoding"]["x"]["sort"] == "-y"
    assert chart["encoding"]["y"]["field"] == "gmv"


def test_metric_cards_format_the_single_row() -> None:
    table = pa.table(
        {"orders": [12345], "aov": [Decimal("87.456")], "total": [Decimal("125")], "share": [0.25],
         "missing": pa.array([None], pa.float64())}
    )  # fmt: skip
    spec = ChartSpec(ChartKind.METRIC, None, ("orders", "aov", "total", "share", "missing"))
    assert metric_cards(spec, table) == [
        ("orders", "12,345"), ("aov", "87.46"), ("total", "125"), ("share", "0.25"), ("missing", "-")
    ]  # fmt: skip
    with pytest.raises(ValueError, match="metric cards"):
        build_chart(spec, table, ibis.schema({"orders": "int64"}))


def test_format_number_keeps_text_as_is() -> None:
    assert format_number("545") == "545"
