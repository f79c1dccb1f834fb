"""Which chart fits a query result, decided from its SHAPE alone, and the Altair chart that draws it.

An answer's columns are only known when the question is asked, so the chart cannot be designed in
advance: a time column with measures reads as a trend (line), a category with measures as a comparison
(bar), a single row of numbers as headline figures (metric cards), two measures as a relation (scatter).
`chart_options` lists every chart that fits, best first, so the page can show the best one and let the
user switch or hide it. Everything here is pure (schema in, spec out; spec and Arrow table in, chart
out), so the rules are unit-tested without Streamlit or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import altair as alt
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.compute as pc

MAX_MEASURES = 5
"""More lines or bar groups than this are unreadable; the table still shows every column."""

MAX_METRIC_CARDS = 6
CALENDAR_PART_NAMES = frozenset({"year", "quarter", "month", "week", "day", "hour", "month_number"})
"""Integer columns with these names (EXTRACT(YEAR ...) AS year) are points in time, not measures."""


class ChartKind(StrEnum):
    LINE = "line"
    BAR = "bar"
    SCATTER = "scatter"
    METRIC = "metric"


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: the kind, the x column (None for metric cards), the measures, and an optional
    column whose values split the marks by colour."""

    kind: ChartKind
    x: str | None
    measures: tuple[str, ...]
    color: str | None = None

    @property
    def label(self) -> str:
        """The name the page offers for switching charts, e.g. 'line: gmv by month'."""
        if self.kind is ChartKind.METRIC:
            return f"metric cards: {', '.join(self.measures)}"
        if self.kind is ChartKind.SCATTER:
            return f"scatter: {self.measures[1]} against {self.measures[0]}"
        split = f" per {self.color}" if self.color else ""
        return f"{self.kind.value}: {', '.join(self.measures)} by {self.x}{split}"


@dataclass(frozen=True)
class ColumnRoles:
    """The result's columns sorted into the roles charts care about, in their original order."""

    temporal: tuple[str, ...]
    measures: tuple[str, ...]
    dimensions: tuple[str, ...]


def _is_identifier(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith("_id")


def column_roles(schema: ibis.Schema) -> ColumnRoles:
    """Time columns (dates, timestamps, integer calendar parts such as `year`), measures (numbers that
    are not identifiers) and dimensions (text, booleans, identifiers)."""
    temporal, measures, dimensions = [], [], []
    for name, dtype in schema.items():
        if dtype.is_temporal() or (dtype.is_integer() and name.lower() in CALENDAR_PART_NAMES):
            temporal.append(name)
        elif dtype.is_numeric() and not _is_identifier(name):
            measures.append(name)
        elif dtype.is_string() or dtype.is_boolean() or dtype.is_numeric():
            dimensions.append(name)
    return ColumnRoles(tuple(temporal), tuple(measures), tuple(dimensions))


def chart_options(schema: ibis.Schema, row_count: int) -> list[ChartSpec]:
    """Every chart that fits a result of this schema and size, the most telling first; empty when only
    the table makes sense (no measures, or no rows)."""
    roles = column_roles(schema)
    if row_count == 0 or not roles.measures:
        return []
    options: list[ChartSpec] = []
    if row_count == 1:
        options.append(ChartSpec(ChartKind.METRIC, None, roles.measures[:MAX_METRIC_CARDS]))
    split = roles.dimensions[0] if roles.dimensions else None
    if roles.temporal:
        measures = roles.measures[:1] if split else roles.measures[:MAX_MEASURES]
        options.append(ChartSpec(ChartKind.LINE, roles.temporal[0], measures, split))
        options.append(ChartSpec(ChartKind.BAR, roles.temporal[0], measures, split))
    elif roles.dimensions:
        second = roles.dimensions[1] if len(roles.dimensions) > 1 else None
        measures = roles.measures[:1] if second else roles.measures[:MAX_MEASURES]
        options.append(ChartSpec(ChartKind.BAR, roles.dimensions[0], measures, second))
    if len(roles.measures) >= 2 and row_count > 1:
        options.append(ChartSpec(ChartKind.SCATTER, roles.measures[0], roles.measures[:2], split))
    return options


def choose_chart(schema: ibis.Schema, row_count: int) -> ChartSpec | None:
    """The best chart for the result, or None when a table says it all."""
    options = chart_options(schema, row_count)
    return options[0] if options else None


# --- drawing ---------------------------------------------------------------------------------------


def _field(name: str) -> str:
    """A column name as a Vega-Lite field: dots and brackets would otherwise mean nested access."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def chartable(table: pa.Table) -> pa.Table:
    """The table with decimals as floats: PostgreSQL numeric arrives as decimal128, which Vega-Lite
    cannot plot."""
    columns = [
        pc.cast(column, pa.float64()) if pa.types.is_decimal(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _x_type(schema: ibis.Schema, name: str) -> str:
    dtype: dt.DataType = schema[name]
    if dtype.is_temporal():
        return "temporal"
    if dtype.is_numeric() and not _is_identifier(name) and name.lower() not in CALENDAR_PART_NAMES:
        return "quantitative"
    return "ordinal" if dtype.is_integer() else "nominal"


def build_chart(spec: ChartSpec, table: pa.Table, schema: ibis.Schema) -> alt.Chart:
    """The Altair chart for a line, bar or scatter spec over the result table.

    Several measures are folded into (measure, value) pairs so that each gets its own colour; a split
    column colours the marks instead (then there is one measure).
    """
    if spec.kind is ChartKind.METRIC or spec.x is None:
        raise ValueError("metric cards are not an Altair chart; use metric_cards()")
    chart = alt.Chart(chartable(table))
    x_type = _x_type(schema, spec.x)
    if spec.kind is ChartKind.SCATTER:
        y_name = spec.measures[1]
        encoding: dict[str, Any] = {
            "x": alt.X(field=_field(spec.x), type="quantitative", title=spec.x),
            "y": alt.Y(field=_field(y_name), type="quantitative", title=y_name),
            "tooltip": [alt.Tooltip(field=_field(name)) for name in table.column_names[:6]],
        }
        if spec.color:
            encoding["color"] = alt.Color(field=_field(spec.color), type="nominal", title=spec.color)
        return chart.mark_circle().encode(**encoding).interactive()
    if len(spec.measures) > 1:
        chart = chart.transform_fold([_field(name) for name in spec.measures], as_=["measure", "value"])
        y = alt.Y(field="value", type="quantitative", title=None)
        color = alt.Color(field="measure", type="nominal", title=None)
        tooltip = [alt.Tooltip(field=_field(spec.x), title=spec.x), "measure:N", "value:Q"]
    else:
        measure = spec.measures[0]
        y = alt.Y(field=_field(measure), type="quantitative", title=measure)
        color = alt.Color(field=_field(spec.color), type="nominal", title=spec.color) if spec.color else None
        tooltip = [alt.Tooltip(field=_field(name)) for name in table.column_names[:6]]
    sort: Any = (
        "-y"
        if spec.kind is ChartKind.BAR and x_type == "nominal" and len(spec.measures) == 1
        else alt.Undefined
    )
    x = alt.X(field=_field(spec.x), type=x_type, title=spec.x, sort=sort)
    mark = chart.mark_line(point=table.num_rows <= 60) if spec.kind is ChartKind.LINE else chart.mark_bar()
    encoding = {"x": x, "y": y, "tooltip": tooltip}
    if color is not None:
        encoding["color"] = color
        if spec.kind is ChartKind.BAR and x_type != "temporal":
            encoding["xOffset"] = alt.XOffset(field=color.field, type="nominal")
    return mark.encode(**encoding).interactive(bind_y=False)


def format_number(value: Any) -> str:
    """A card's value: thousands separators, two decimals for fractions, '-' for NULL. A whole
    PostgreSQL numeric (sum() of a bigint) stays whole: 125, not 125.00."""
    if value is None:
        return "-"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return f"{int(value):,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def metric_cards(spec: ChartSpec, table: pa.Table) -> list[tuple[str, str]]:
    """(label, formatted value) for each measure of a one-row result."""
    row = table.slice(0, 1).to_pylist()[0]
    return [(name, format_number(row[name])) for name in spec.measures]
