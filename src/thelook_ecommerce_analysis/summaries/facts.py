"""The facts of one period (a day, a week or a month): what a summary may say, in one typed structure.

The `summaries` pipeline computes three small tables with ibis from the metrics tables (the periods and
their comparison windows, the headline measures, the biggest movers); `assemble_facts` turns their rows
into one `PeriodFacts` per period. The same object then gives

- the JSON stored in metrics.daily_summaries.facts (`as_json`, canonical, so equal facts hash equally),
- the small tables of the prompt and the template's sentences (`format_value`, `describe_change`: one way
  to write each number), and
- every number a grounded text may contain (`numbers`), for the check in summaries/grounding.py.

Values are rounded once, here (money to cents, rates and changes to 4 decimals), so that a float that
differs in its 12th digit neither changes the prompt nor triggers a new summary.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

PeriodKind = Literal["day", "week", "month"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("day", "week", "month")

USD, COUNT, RATE = "usd", "count", "rate"
# The headline measures, in the order the prompt and the template list them: (name, unit).
MEASURES: tuple[tuple[str, str], ...] = (
    ("GMV", USD),
    ("Orders", COUNT),
    ("Average order value", USD),
    ("Cancellation rate", RATE),
    ("Return rate", RATE),
    ("Conversion rate", RATE),
)
# The dimensions whose biggest movers against the previous period are reported: (dimension, measure,
# unit). Web sessions carry no money, so traffic sources move by converted sessions.
MOVER_DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("category", "GMV", USD),
    ("department", "GMV", USD),
    ("country", "GMV", USD),
    ("traffic source", "Converted sessions", COUNT),
)
RISE, FALL = "rise", "fall"
NOT_AVAILABLE = "n/a"

# Kinds of numbers a text may quote (summaries/grounding.py matches a "$" amount only against money, a
# percentage only against percentages, a bare number against all).
MONEY, PERCENT, PLAIN, DATE_PART = "money", "percent", "plain", "date"


@dataclass(frozen=True)
class FactNumber:
    """One number the facts contain, in the form a sentence would quote it (a rate as a percentage)."""

    value: float
    kind: str


def _rounded(value: float | None, unit: str) -> float | int | None:
    if value is None:
        return None
    if unit == USD:
        return round(float(value), 2)
    if unit == COUNT:
        return round(float(value))
    return round(float(value), 4)


def _rounded_change(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def format_value(value: float | None, unit: str) -> str:
    """'$12,345' (cents below $1,000: '$85.20'), '1,234', '14.8%', or 'n/a' for no data."""
    if value is None:
        return NOT_AVAILABLE
    if unit == USD:
        return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:,.2f}"
    if unit == COUNT:
        return f"{value:,.0f}"
    return f"{value * 100:.1f}%"


NO_DATA = "no data"
NOT_COMPARABLE = "not comparable"


def describe_change(value: float | None, unit: str, compared_with: float | None = 0.0) -> str:
    """A change in words, as the prompt and the template both write it: 'up 12.0%', 'down 0.3 points'
    (rates), 'unchanged'; 'no data' when the comparison period has none (`compared_with` is None), 'not
    comparable' when there is no change to state (a relative change from zero, a rate of nothing)."""
    if compared_with is None:
        return NO_DATA
    if value is None:
        return NOT_COMPARABLE
    if round(value * 100, 1) == 0:
        return "unchanged"
    direction = "up" if value > 0 else "down"
    amount = f"{abs(value) * 100:.1f} points" if unit == RATE else f"{abs(value) * 100:.1f}%"
    return f"{direction} {amount}"


def describe_difference(value: float, unit: str) -> str:
    """An absolute change in words: 'up $1,234', 'down $85.20', 'down 3'."""
    return f"{'up' if value > 0 else 'down'} {format_value(abs(value), unit)}"


def _day_label(day: date) -> str:
    return f"{calendar.day_name[day.weekday()]} {day.isoformat()}"


def _span_label(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def _month_label(day: date) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def period_label(kind: str, start: date, end: date) -> str:
    """'Sunday 2025-06-29', 'the week of 2025-06-23 to 2025-06-29', 'June 2025': how the prompt, the
    template and the dashboard name a period."""
    if kind == "day":
        return _day_label(start)
    if kind == "week":
        return f"the week of {_span_label(start, end)}"
    return _month_label(start)


@dataclass(frozen=True)
class Period:
    """A period and the two it is compared with: the one just before it and the same one a year earlier."""

    kind: PeriodKind
    start: date
    end: date
    previous_start: date
    previous_end: date
    year_ago_start: date
    year_ago_end: date

    @property
    def key(self) -> tuple[str, date]:
        return (self.kind, self.start)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return period_label(self.kind, self.start, self.end)

    @property
    def previous_label(self) -> str:
        if self.kind == "day":
            return f"the previous day ({_day_label(self.previous_start)})"
        if self.kind == "week":
            return f"the previous week ({_span_label(self.previous_start, self.previous_end)})"
        return _month_label(self.previous_start)

    @property
    def year_ago_label(self) -> str:
        if self.kind == "day":
            return f"the same day a year earlier ({_day_label(self.year_ago_start)})"
        if self.kind == "week":
            return f"the same week a year earlier ({_span_label(self.year_ago_start, self.year_ago_end)})"
        return _month_label(self.year_ago_start)

    def dates(self) -> tuple[date, ...]:
        return (
            self.start,
            self.end,
            self.previous_start,
            self.previous_end,
            self.year_ago_start,
            self.year_ago_end,
        )


@dataclass(frozen=True)
class Measure:
    """A headline measure now, in the previous period and a year earlier, with both changes (relative for
    money and counts, a difference of fractions for rates); None where a period has no data."""

    name: str
    unit: str
    current: float | None
    previous: float | None
    year_ago: float | None
    change_vs_previous: float | None
    change_vs_year_ago: float | None


@dataclass(frozen=True)
class Mover:
    """The member of a dimension whose measure rose (or fell) the most against the previous period."""

    dimension: str
    direction: str
    member: str
    measure: str
    unit: str
    current: float
    previous: float
    change: float
    relative_change: float | None


@dataclass(frozen=True)
class PeriodFacts:
    """Everything a summary of one period may say."""

    period: Period
    measures: tuple[Measure, ...]
    movers: tuple[Mover, ...]

    def measure(self, name: str) -> Measure | None:
        return next((measure for measure in self.measures if measure.name == name), None)

    def movers_of(self, dimension: str) -> dict[str, Mover]:
        """{'rise': ..., 'fall': ...} for one dimension (a direction is missing when nothing moved so)."""
        return {mover.direction: mover for mover in self.movers if mover.dimension == dimension}

    def as_json(self) -> dict[str, Any]:
        """The facts as stored in metrics.daily_summaries.facts (dates as ISO text)."""
        period = self.period
        return {
            "period": {
                "kind": period.kind,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "days": period.days,
                "label": period.label,
            },
            "previous": {"start": period.previous_start.isoformat(), "end": period.previous_end.isoformat()},
            "year_ago": {"start": period.year_ago_start.isoformat(), "end": period.year_ago_end.isoformat()},
            "measures": [vars(measure).copy() for measure in self.measures],
            "movers": [vars(mover).copy() for mover in self.movers],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> PeriodFacts:
        """The inverse of `as_json` (what the app and the tests read back from the table)."""
        period = Period(
            kind=document["period"]["kind"],
            start=date.fromisoformat(document["period"]["start"]),
            end=date.fromisoformat(document["period"]["end"]),
            previous_start=date.fromisoformat(document["previous"]["start"]),
            previous_end=date.fromisoformat(document["previous"]["end"]),
            year_ago_start=date.fromisoformat(document["year_ago"]["start"]),
            year_ago_end=date.fromisoformat(document["year_ago"]["end"]),
        )
        return cls(
            period,
            tuple(Measure(**measure) for measure in document["measures"]),
            tuple(Mover(**mover) for mover in document["movers"]),
        )

    def numbers(self) -> tuple[FactNumber, ...]:
        """Every number of the facts, as a sentence may quote it: money, counts, rates and changes as
        percentages (and rates also as plain fractions), the period's length and the parts of its dates."""
        found: list[FactNumber] = [FactNumber(self.period.days, PLAIN)]
        for day in self.period.dates():
            found += [FactNumber(part, DATE_PART) for part in (day.year, day.month, day.day)]
        for measure in self.measures:
            for value in (measure.current, measure.previous, measure.year_ago):
                found += _quoted_forms(value, measure.unit)
            for change in (measure.change_vs_previous, measure.change_vs_year_ago):
                if change is not None:
                    found.append(FactNumber(abs(change) * 100, PERCENT))
        for mover in self.movers:
            for value in (mover.current, mover.previous, mover.change):
                found += _quoted_forms(value, mover.unit)
            if mover.relative_change is not None:
                found.append(FactNumber(abs(mover.relative_change) * 100, PERCENT))
        return tuple(found)


def _quoted_forms(value: float | None, unit: str) -> list[FactNumber]:
    if value is None:
        return []
    if unit == USD:
        return [FactNumber(abs(value), MONEY)]
    if unit == RATE:
        return [FactNumber(abs(value) * 100, PERCENT), FactNumber(abs(value), PLAIN)]
    return [FactNumber(abs(value), PLAIN)]


# --- from the pipeline's rows ----------------------------------------------------------------------


def _period(row: Mapping[str, Any]) -> Period:
    return Period(
        kind=row["period_kind"],
        start=row["period_start"],
        end=row["period_end"],
        previous_start=row["previous_start"],
        previous_end=row["previous_end"],
        year_ago_start=row["year_ago_start"],
        year_ago_end=row["year_ago_end"],
    )


def _measure(row: Mapping[str, Any]) -> Measure:
    unit = row["unit"]
    return Measure(
        name=row["measure"],
        unit=unit,
        current=_rounded(row["current"], unit),
        previous=_rounded(row["previous"], unit),
        year_ago=_rounded(row["year_ago"], unit),
        change_vs_previous=_rounded_change(row["change_vs_previous"]),
        change_vs_year_ago=_rounded_change(row["change_vs_year_ago"]),
    )


def _mover(row: Mapping[str, Any]) -> Mover:
    unit = row["unit"]
    return Mover(
        dimension=row["dimension"],
        direction=row["direction"],
        member=str(row["member"]),
        measure=row["measure"],
        unit=unit,
        current=_rounded(row["current"], unit),
        previous=_rounded(row["previous"], unit),
        change=_rounded(row["change"], unit),
        relative_change=_rounded_change(row["relative_change"]),
    )


def most_important_first(facts: Iterable[PeriodFacts]) -> list[PeriodFacts]:
    """The latest day, the week, the month, then the earlier days, newest first: summaries are written
    in this order, so a time budget that runs out costs the least."""
    facts = list(facts)
    days = sorted((item for item in facts if item.period.kind == "day"), key=lambda item: item.period.start)
    others = sorted(
        (item for item in facts if item.period.kind != "day"),
        key=lambda item: PERIOD_KINDS.index(item.period.kind),
    )
    days.reverse()
    return days[:1] + others + days[1:]


def assemble_facts(
    periods: Sequence[Mapping[str, Any]],
    headlines: Sequence[Mapping[str, Any]],
    movers: Sequence[Mapping[str, Any]],
) -> list[PeriodFacts]:
    """One PeriodFacts per period row, measures in MEASURES order and movers in MOVER_DIMENSIONS order
    (rise before fall), most important period first (see `most_important_first`)."""
    measure_order = {name: position for position, (name, _) in enumerate(MEASURES)}
    dimension_order = {name: position for position, (name, _, _) in enumerate(MOVER_DIMENSIONS)}
    measures_by_key: dict[tuple[str, date], list[Measure]] = {}
    for row in headlines:
        measures_by_key.setdefault((row["period_kind"], row["period_start"]), []).append(_measure(row))
    movers_by_key: dict[tuple[str, date], list[Mover]] = {}
    for row in movers:
        movers_by_key.setdefault((row["period_kind"], row["period_start"]), []).append(_mover(row))
    facts = []
    for row in periods:
        period = _period(row)
        facts.append(
            PeriodFacts(
                period,
                tuple(sorted(measures_by_key.get(period.key, []), key=lambda m: measure_order[m.name])),
                tuple(
                    sorted(
                        movers_by_key.get(period.key, []),
                        key=lambda m: (dimension_order[m.dimension], m.direction != RISE),
                    )
                ),
            )
        )
    return most_important_first(facts)
