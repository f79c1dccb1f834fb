"""Does an answer that ran fit the question? Checks for the failures no error message reveals.

Measured on the dev set: 20 of 26 first-attempt misses of the 0.5B model ran without error and were
wrong, so a loop driven by errors alone cannot see them. They share a few shapes that the question's own
words expose: a date filter copied from an example when the question names no period, every row where
"which ... the highest" asks for one, many rows where "how many" asks for one number, a filter column
repeated beside the number, no period column for "each month", a value the question names (China,
Champions) missing from the query, and no rows at all.

Each check is a pure function of the question's intent, the query's sqlglot tree and the result. It
returns None when the answer fits, or a Misfit that says why, with a rewritten query when a rewrite can
fix it deterministically (drop the unasked date filter, LIMIT 1, drop the pinned column); otherwise the
loop asks the model again with the reason stated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey
from thelook_ecommerce_analysis.rag.dialect import POSTGRES
from thelook_ecommerce_analysis.rag.knowledge import ColumnKey
from thelook_ecommerce_analysis.rag.repair import is_temporal, select_tables


@dataclass(frozen=True)
class Misfit:
    """Why an answer does not fit its question; `sql` is the deterministic fix, if there is one."""

    kind: str
    reason: str
    sql: str | None = None
    tables: tuple[TableKey, ...] = ()
    """Tables a retry should be shown, beyond those retrieved for the question."""

    @property
    def notice(self) -> str:
        """What the answer says when it is kept although it does not fit: no retry fitted better."""
        if self.kind == "empty":
            return f"The query ran but {self.reason.split(';')[0].removeprefix('it ')}."
        return f"This answer may not be what you asked: {self.reason}."


# -- what the question asks -------------------------------------------------------------------------

_UNBOUNDED = re.compile(r"\b(of all time|all[- ]time|ever|so far|to date|in total|overall)\b", re.IGNORECASE)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_PERIOD = re.compile(
    r"\b(?:19|20)\d{2}\b|\b(?:today|yesterday|tomorrow|tonight|now|current(?:ly)?|recent(?:ly)?|latest|last|"
    r"past|previous|prior|next|since|before|after|until|till|between|during|ago|when|"
    r"years?|yearly|annual(?:ly)?|quarters?|quarterly|months?|monthly|weeks?|weekly|weekends?|weekdays?|"
    r"days?|daily|hours?|hourly|dates?|times?|period|season(?:al)?|holidays?|christmas|black friday|"
    rf"{_MONTHS})\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "fifty": 50, "hundred": 100,
}  # fmt: skip
_UNITS = r"seconds?|minutes?|hours?|days?|weeks?|months?|quarters?|years?"
_NUMBER = rf"(\d{{1,3}}|{'|'.join(_NUMBER_WORDS)})"
_SUPERLATIVE = (
    r"(?:highest|lowest|most|least|largest|biggest|smallest|fewest|best|worst|fastest|slowest|cheapest|"
    r"priciest|greatest|longest|shortest|oldest|youngest|newest|top|bottom|maximum|minimum)"
)
_TOP_N = (
    # 'last 30 days' is a period, not the last 30 rows
    re.compile(rf"\b(?:top|bottom|first|last)\s+{_NUMBER}\b(?!\s+(?:{_UNITS})\b)", re.IGNORECASE),
    re.compile(
        rf"\b{_NUMBER}\s+(?:\w+\s+){{0,3}}?(?:with|by|that|who|which)?\s*(?:the\s+)?{_SUPERLATIVE}\b", re.I
    ),
)
_SUBJECT = re.compile(
    r"^(?:(?:on|in|at|for|from|during|to)\s+)?(?:which|what|who)\s+(\w+)(?:\s+(\w+))?", re.IGNORECASE
)
_PLURAL_VERBS = {"are", "were", "have", "do"}
_SINGULAR_VERBS = {"is", "was", "has", "had", "did", "does"}
_ONE_VALUE = re.compile(
    r"^(?:how many|how much|what(?:'s| is| was)?\s+(?:the\s+|our\s+)?(?:total|overall|average|mean|median|"
    r"number|count|sum|share|percentage|proportion|rate|ratio|fraction|amount)\b|what (?:share|percentage|"
    r"proportion|fraction)\b)",
    re.IGNORECASE,
)
_GROUPING = re.compile(
    r"\b(?:each|per|every|broken down|breakdown|split|list|which|distribution|over time|trend|across|"
    r"daily|weekly|monthly|quarterly|yearly|annual(?:ly)?)\b|"
    # 'by category' groups; 'placed by users' names who did it
    r"\bby\s+(?!(?:the\s+)?(?:users?|customers?|buyers?|visitors?|people|shoppers?|men|women|us|them)\b)",
    re.IGNORECASE,
)
_NOT_SUPERLATIVE = re.compile(r"\bat (?:least|most)\b", re.IGNORECASE)
_PERIOD_GROUPING = re.compile(
    r"\b(?:each|per|every|by)\s+(?:calendar\s+)?(day|week|month|quarter|year)\b|"
    r"\b(daily|weekly|monthly|quarterly|yearly|annual)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_YEARS_NOT_KEPT = re.compile(
    r"\b(?:since|after|before|until|till|up to|through|onwards?|to date|so far|from \d{4} on|"
    r"previous|prior|earlier|ago|last year|next year|year[- ]over[- ]year|yoy)\b",
    re.IGNORECASE,
)
"""Words that reach past the years a question names: 'since 2024' wants no upper bound, '2025 against
the year before' wants 2024 too."""
_PART_OF_A_YEAR = re.compile(
    rf"\b(?:{_MONTHS}|q[1-4]|quarters?|half|weeks?|days?|weekends?|holidays?|christmas|black friday)\b",
    re.IGNORECASE,
)
"""A period inside a year ('March 2025'): the year alone would bound it too loosely to fix by rule."""
_AMOUNT = (
    rf"(?:\$\s*)?(\d[\d,]*(?:\.\d+)?|{'|'.join(_NUMBER_WORDS)})(?:\s*(k|thousand|m|million|%|percent))?\b"
    r"(?!\s*(?:weeks?|hours?|minutes?|seconds?|quarters?)\b)"
)
_COUNTED = re.compile(
    r"\bhow many\s+(?:(?:distinct|different|unique|separate|individual|new|\w+ed)\s+)?"
    r"([a-z]+)(?:\s+([a-z]+))?",
    re.IGNORECASE,
)
"""The thing a 'how many' question counts, with the word after it: 'How many orders contain ...' ->
('orders', 'contain'), 'How many order items ...' -> ('order', 'items')."""
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}
_THRESHOLD = re.compile(
    r"\b(?:(?:more|greater|higher|larger|bigger|older|younger|less|fewer|lower|smaller|cheaper|longer|"
    r"shorter|earlier|later)\s+than|over|above|under|below|exceeding|beyond|at\s+least|at\s+most|"
    rf"no\s+(?:more|less|fewer)\s+than|up\s+to|between)\s+{_AMOUNT}(?:\s+and\s+{_AMOUNT})?"
    rf"|(?<![\w.]){_AMOUNT}\s*(?:\+|or\s+(?:more|fewer|less|older|younger|above|over|under|below)\b)",
    re.IGNORECASE,
)
"""A number the question sets as a bound on what is counted ('older than 60', 'more than two items',
'at least $100', '5 or more', 'over 2k'). Years are periods, checked apart; so are weeks, hours and
quarters, which a query may well write in other units ('2 weeks' as INTERVAL '14 days')."""
_ADVERB_UNITS = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter"}
_PERIOD_FUNCTIONS = {"date_trunc", "timestamp_trunc", "extract", "to_char", "date_part", "date"}


@dataclass(frozen=True)
class Intent:
    """What the question's words commit the answer to."""

    names_period: bool
    row_limit: int | None
    one_value: bool
    period_unit: str | None
    named_values: tuple[NamedValue, ...]
    years: tuple[int, ...] = ()
    """Calendar years the question keeps to ('in 2025', '2023 and 2024'); empty when it names none or
    leaves a year open-ended ('since 2024')."""
    thresholds: tuple[float, ...] = ()
    """Numbers the question bounds what it counts by ('older than 60' -> 60, 'over 50%' -> 50)."""
    counted: tuple[str, ...] = ()
    """What a 'how many' question counts, lower-case and singular, with the word after it (('order',
    'contain'), ('order', 'item')): the first word, or both where they name a table ('order_items')."""


@dataclass(frozen=True)
class NamedValue:
    """A value of a categorical column that the question names, and the columns that hold it."""

    value: str
    columns: tuple[str, ...]


def read_intent(question: str, values: Mapping[ColumnKey, tuple[str, ...]] | None = None) -> Intent:
    """The commitments a question makes, read from its words alone."""
    text = question.strip()
    return Intent(
        # 'each month' asks for a breakdown, 'of all time' for none: neither names a period to filter on
        names_period=bool(_PERIOD.search(_PERIOD_GROUPING.sub(" ", _UNBOUNDED.sub(" ", text)))),
        row_limit=_row_limit(text),
        one_value=bool(_ONE_VALUE.search(text)) and not _groups(text),
        period_unit=_period_unit(text),
        named_values=_named_values(text, values or {}),
        years=_years_kept(text),
        thresholds=_thresholds(text),
        counted=tuple(_singular(word) for word in match.groups() if word)
        if (match := _COUNTED.search(text))
        else (),
    )


def _singular(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _row_limit(text: str) -> int | None:
    """N for 'top N' / 'the 5 most expensive', 1 for a singular 'which ... the highest', else None."""
    for pattern in _TOP_N:
        if match := pattern.search(text):
            number = _number(match.group(1))
            return number if number > 0 else None
    if not re.search(rf"\b{_SUPERLATIVE}\b", _NOT_SUPERLATIVE.sub(" ", text), re.IGNORECASE):
        return None
    subject = _SUBJECT.search(text)
    if subject is None:
        return None
    for word in (word.lower() for word in subject.groups() if word):
        if word in _SINGULAR_VERBS:
            return 1
        if word in _PLURAL_VERBS or (word.endswith("s") and not word.endswith("ss")):
            return None  # 'which product categories sold the most' may name several
    return 1


def _thresholds(text: str) -> tuple[float, ...]:
    """The numbers of 'more than N'-like phrases ('between N and M' gives both), in order, without years
    (a period, not a bound)."""
    found = []
    for match in _THRESHOLD.finditer(text):
        groups = match.groups()
        for word, unit in zip(groups[::2], groups[1::2], strict=True):
            if word is not None and not _YEAR.fullmatch(word):
                number = float(_NUMBER_WORDS.get(word.lower(), 0) or word.replace(",", ""))
                found.append(number * _SCALE.get((unit or "").lower(), 1))
    return tuple(dict.fromkeys(found))


def _years_kept(text: str) -> tuple[int, ...]:
    """The whole calendar years the question keeps to, if that is all its period says."""
    period = _PERIOD_GROUPING.sub(" ", text)  # 'each month of 2024' keeps to 2024
    if _YEARS_NOT_KEPT.search(period) or _PART_OF_A_YEAR.search(period):
        return ()
    return tuple(sorted({int(year) for year in _YEAR.findall(period)}))


def _groups(text: str) -> bool:
    """Does the question ask for a breakdown ('each', 'per', 'by month', 'list')?"""
    return bool(_GROUPING.search(text) or _PERIOD_GROUPING.search(text))


def _period_unit(text: str) -> str | None:
    match = _PERIOD_GROUPING.search(text)
    if match is None:
        return None
    word = (match.group(1) or match.group(2)).lower()
    return _ADVERB_UNITS.get(word, "year" if word in {"yearly", "annual"} else word)


def _named_values(text: str, values: Mapping[ColumnKey, tuple[str, ...]]) -> tuple[NamedValue, ...]:
    """Capitalised values of categorical columns the question names word for word ('China',
    'Champions'). Lower-case values ('purchase', 'home') are ordinary words too often to count."""
    body = text.split(None, 1)[1] if " " in text else ""  # the first word is capitalised anyway
    holders: dict[str, list[str]] = {}
    for (schema, table, column), column_values in values.items():
        for value in column_values:
            if (
                len(value) >= 3
                and value[:1].isupper()
                and value in body  # cheap, before the word-boundary regex
                and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", body)
            ):
                holders.setdefault(value, []).append(f"{schema}.{table}.{column}")
    return tuple(NamedValue(value, tuple(columns)) for value, columns in holders.items())


# -- what the query does --------------------------------------------------------------------------


def _is_period_filter(condition: exp.Expression, tables: dict[str, TableKey], catalog: Catalog) -> bool:
    """A comparison of a date or timestamp column with constants: `created_at >= now() - INTERVAL ...`,
    `EXTRACT(YEAR FROM created_at) = 2024`, `order_date BETWEEN ... AND ...`."""
    if not isinstance(condition, exp.GT | exp.GTE | exp.LT | exp.LTE | exp.EQ | exp.Between):
        return False
    sides = [
        condition.this,
        *(
            [condition.args["low"], condition.args["high"]]
            if isinstance(condition, exp.Between)
            else [condition.expression]
        ),
    ]
    with_columns = [side for side in sides if side is not None and list(side.find_all(exp.Column))]
    return len(with_columns) == 1 and any(
        is_temporal(column, catalog, tables) for column in with_columns[0].find_all(exp.Column)
    )


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    return list(condition.flatten()) if isinstance(condition, exp.And) else [condition]


def _without(select: exp.Select, kept: list[exp.Expression]) -> None:
    """Set the SELECT's WHERE to the AND of `kept`, or drop it."""
    if kept:
        select.set("where", exp.Where(this=exp.and_(*(condition.copy() for condition in kept))))
    else:
        select.set("where", None)


def _listed(expressions: list[exp.Expression]) -> str:
    return ", ".join(expression.sql(POSTGRES) for expression in expressions)


def _is_aggregate(expression: exp.Expression) -> bool:
    return expression.find(exp.AggFunc) is not None


# -- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What came back: enough to judge the shape without holding on to the data."""

    rows: int
    all_null: bool
    years_shown: tuple[int, ...] = ()
    """The calendar years of the answer's date and timestamp columns."""

    @classmethod
    def of(cls, table: pa.Table) -> Result:
        all_null = table.num_rows > 0 and all(column.null_count == len(column) for column in table.columns)
        years: set[int] = set()
        for column in table.columns:
            if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
                years.update(year for year in pc.unique(pc.year(column)).to_pylist() if year is not None)
        return cls(table.num_rows, all_null, tuple(sorted(years)))


Check = Callable[[Intent, exp.Select, Result, Catalog], Misfit | None]


def unasked_period(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """A date filter when the question names no period: copied from an example. Dropped."""
    if intent.names_period:
        return None
    fixed = query.copy()
    removed = []
    for select in fixed.find_all(exp.Select):
        where = select.args.get("where")
        if where is None:
            continue
        tables = select_tables(select, catalog)
        conditions = _conjuncts(where.this)
        kept = [condition for condition in conditions if not _is_period_filter(condition, tables, catalog)]
        if len(kept) < len(conditions):
            removed += [c.sql(POSTGRES) for c in conditions if c not in kept]
            _without(select, kept)
    if not removed:
        return None
    return Misfit(
        "unasked-period",
        f"the question names no period, but the query filters dates: {'; '.join(removed)}",
        fixed.sql(POSTGRES),
    )


def pinned_column(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """For one number, a grouped column that the WHERE fixes to one value (`segment = 'Champions'`) only
    repeats the filter beside the number. Dropped from the SELECT and the GROUP BY."""
    group = query.args.get("group")
    where = query.args.get("where")
    if not intent.one_value or group is None or where is None:
        return None
    pinned = {
        condition.this.name
        for condition in _conjuncts(where.this)
        if isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Column)
        and isinstance(condition.expression, exp.Literal)
    }
    outputs = query.expressions
    dropped = [e for e in outputs if isinstance(e.unalias(), exp.Column) and e.unalias().name in pinned]
    if (
        not dropped
        or len(dropped) == len(outputs)
        or not all(_is_aggregate(e) for e in outputs if e not in dropped)
    ):
        return None
    names = {e.unalias().name for e in dropped}
    if any(isinstance(g, exp.Literal) for g in group.expressions):
        return None  # positional GROUP BY: dropping an output would shift the positions
    remaining = [g for g in group.expressions if not (isinstance(g, exp.Column) and g.name in names)]
    fixed = query.copy()
    fixed.set("expressions", [e.copy() for e in outputs if e not in dropped])
    fixed.set("group", exp.Group(expressions=[g.copy() for g in remaining]) if remaining else None)
    return Misfit(
        "pinned-column",
        f"the question asks for one number; {', '.join(sorted(names))} only repeats the filter",
        fixed.sql(POSTGRES),
    )


def hidden_grouping(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """For one number, a GROUP BY over columns the answer does not show splits the number into unlabeled
    pieces. Dropped."""
    group = query.args.get("group")
    if not intent.one_value or group is None or result.rows <= 1 or query.args.get("having") is not None:
        return None
    outputs = [e.unalias() for e in query.expressions]
    if not all(_is_aggregate(e) for e in outputs):
        return None
    shown = {e.sql(POSTGRES) for e in outputs}
    if any(isinstance(g, exp.Literal) or g.sql(POSTGRES) in shown for g in group.expressions):
        return None
    fixed = query.copy()
    fixed.set("group", None)
    fixed.set("order", None)
    return Misfit(
        "hidden-grouping",
        f"the question asks for one number, but the query split it by {_listed(group.expressions)}",
        fixed.sql(POSTGRES),
    )


def row_limit(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """'Which ... the highest' wants one row and 'the 5 most' five: an ordered answer is cut there; an
    unordered one needs the model to order it."""
    wanted = intent.row_limit
    if wanted is None or result.rows <= wanted:
        return None
    reason = f"the question asks for the top {wanted}, but the query returned {result.rows} rows"
    if query.args.get("order") is None:
        return Misfit("row-limit", f"{reason}; order by the measure and add LIMIT {wanted}")
    return Misfit("row-limit", reason, query.limit(wanted).sql(POSTGRES))


def empty_result(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """No rows, or only NULLs: a filter or a value is probably wrong."""
    if result.rows == 0:
        return Misfit("empty", "it returned no rows; check the filters and the values")
    if result.all_null:
        return Misfit("empty", "it returned only NULLs; check the filters, the values and the columns")
    return None


def many_rows_for_one_value(
    intent: Intent, query: exp.Select, result: Result, catalog: Catalog
) -> Misfit | None:
    if not intent.one_value or result.rows <= 1:
        return None
    return Misfit(
        "one-value",
        f"the question asks for one number, but the query returned {result.rows} rows; "
        "aggregate over all the rows the question counts, with no GROUP BY",
    )


def missing_period(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """'Each year' / 'monthly' wants a period column in the answer."""
    if intent.period_unit is None:
        return None
    tables = select_tables(query, catalog)
    for output in query.expressions:
        functions = {node.sql_name().lower() for node in output.find_all(exp.Func)}
        functions |= {node.name.lower() for node in output.find_all(exp.Anonymous)}
        if functions & _PERIOD_FUNCTIONS:
            return None
        if any(is_temporal(column, catalog, tables) for column in output.find_all(exp.Column)):
            return None
        if any(
            unit in output.alias_or_name.lower()
            for unit in ("day", "week", "month", "quarter", "year", "date")
        ):
            return None
    unit = intent.period_unit
    return Misfit(
        "missing-period",
        f"the question asks for one row per {unit}, but the answer has no {unit} column; "
        f"group by date_trunc('{unit}', <date column>)",
    )


def missing_value(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """A value the question names ('China') that the query neither filters on nor shows: a query that
    groups by the column holding it ('Women compared with Men' by department) uses it too."""
    used = {literal.this.lower() for literal in query.find_all(exp.Literal) if literal.is_string}
    columns = {column.name for column in query.find_all(exp.Column)}
    missing = [
        named
        for named in intent.named_values
        if named.value.lower() not in used
        and not any(held.rsplit(".", 1)[1] in columns for held in named.columns)
    ]
    if not missing:
        return None
    where = "; ".join(f"'{named.value}' is a value of {', '.join(named.columns)}" for named in missing)
    tables = tuple(
        dict.fromkeys(tuple(column.split(".")[:2]) for named in missing for column in named.columns)
    )
    return Misfit(
        "missing-value", f"the question names a value the query never filters on: {where}", None, tables
    )


_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")


def _numbers_used(query: exp.Select) -> set[float]:
    """Every number the query writes: numeric literals, and the numbers inside string literals
    (INTERVAL '30 days', DATE '2024-01-01')."""
    used: set[float] = set()
    for literal in query.find_all(exp.Literal):
        if literal.is_string:
            used.update(float(number) for number in _NUMBER_IN_TEXT.findall(literal.this))
        else:
            try:
                used.add(float(literal.this))
            except ValueError:
                continue
    return used


def missing_threshold(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """A bound the question sets ('older than 60', 'more than two items') that the query never writes:
    the condition was dropped, so the answer counts rows the question excludes. A strict bound written
    as an inclusive one (60 -> `>= 61`) and a percentage written as a fraction (50% -> 0.5) count as
    used."""
    used = _numbers_used(query)
    missing = [
        number
        for number in intent.thresholds
        if not any(
            abs(candidate - value) < 1e-9
            for value in used
            for candidate in (number, number + 1, number - 1, number / 100)
        )
    ]
    if not missing:
        return None
    listed = ", ".join(f"{number:g}" for number in missing)
    return Misfit(
        "missing-threshold",
        f"the question bounds what it counts by {listed}, but the query never compares anything with "
        f"{'it' if len(missing) == 1 else 'them'}; add that condition (WHERE, or HAVING for an aggregate)",
    )


def disconnected_join(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """A JOIN whose ON compares only the joined table's own columns (`JOIN order_items AS oi ON oi.id =
    oi.order_id`) pairs every row with every row of the tables before it. Fixed by joining on the
    catalog's foreign key between the joined table and the nearest earlier table it has one with."""
    tables = select_tables(query, catalog)
    source = query.args.get("from_")
    earlier = [source.this.alias_or_name] if source is not None else []
    for join in query.args.get("joins") or []:
        alias, condition = join.this.alias_or_name, join.args.get("on")
        own = {column.table for column in condition.find_all(exp.Column)} if condition is not None else set()
        if own == {alias} and alias in tables:
            for other in reversed([name for name in earlier if name in tables]):
                pairs = _key_pairs(catalog, tables[alias], tables[other])
                if not pairs:
                    continue
                linked = exp.and_(
                    *(
                        exp.EQ(this=exp.column(mine, alias), expression=exp.column(theirs, other))
                        for mine, theirs in pairs
                    )
                )
                fixed = query.copy()
                fixed.args["joins"][query.args["joins"].index(join)].set("on", linked)
                return Misfit(
                    "disconnected-join",
                    f"the join of {'.'.join(tables[alias])} compared only its own columns "
                    f"({condition.sql(POSTGRES)}), pairing every row with every row; joined on "
                    f"{linked.sql(POSTGRES)}, the foreign key between the tables",
                    fixed.sql(POSTGRES),
                )
        earlier.append(alias)
    return None


def _key_pairs(catalog: Catalog, table: TableKey, other: TableKey) -> list[tuple[str, str]]:
    """(column of `table`, column of `other`) of the foreign key between the two, either way round."""
    for key in catalog.join_keys:
        if key.table == table and key.references == other:
            return list(zip(key.columns, key.referenced_columns, strict=True))
        if key.table == other and key.references == table:
            return list(zip(key.referenced_columns, key.columns, strict=True))
    return []


def _entity(table: TableKey) -> str:
    """What one row of a table is, as a question names it: raw_data.order_items -> 'order_item'."""
    words = table[1].split("_")
    return "_".join([*words[:-1], _singular(words[-1])])


def fanned_out_count(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """'How many orders ...' answered with COUNT(*) over orders joined to a table that holds many rows per
    order (order_items, through its foreign key) counts the joined rows, not orders. Fixed by counting the
    distinct keys of the counted table, which is what the question counts whether or not the joined table
    also filters."""
    if not intent.counted or not query.args.get("joins"):
        return None
    tables = select_tables(query, catalog)
    entity = "_".join(intent.counted)
    if not any(_entity(table) == entity for table in catalog.tables):
        entity = intent.counted[0]  # 'order items' names order_items; 'orders contain' names orders
    counted = next((alias for alias, table in tables.items() if _entity(table) == entity), None)
    if counted is None:
        return None
    fanning = next(
        (
            (key, alias)
            for key in catalog.join_keys
            for alias, table in tables.items()
            if key.references == tables[counted] and key.table == table and alias != counted
        ),
        None,
    )
    counts = [
        count
        for output in query.expressions
        for count in output.find_all(exp.Count)
        if not isinstance(count.this, exp.Distinct)
    ]
    if fanning is None or not counts or len(fanning[0].referenced_columns) != 1:
        return None
    (key_column,) = fanning[0].referenced_columns
    fixed = query.copy()
    distinct_key = exp.Count(this=exp.Distinct(expressions=[exp.column(key_column, table=counted)]))
    for count in fixed.find_all(exp.Count):
        if not isinstance(count.this, exp.Distinct) and count.find_ancestor(exp.Select) is fixed:
            count.replace(distinct_key.copy())
    parent, child = ".".join(tables[counted]), ".".join(fanning[0].table)
    return Misfit(
        "fan-out",
        f"the question counts {parent} rows, but each joins many {child} rows, so COUNT counted those; "
        f"counted DISTINCT {counted}.{key_column} instead",
        fixed.sql(POSTGRES),
    )


def _bound_side(condition: exp.Expression, tables: dict[str, TableKey], catalog: Catalog) -> str | None:
    """'lower' for `date_column >= constant` (either way round), 'upper' for `<`, None for the rest."""
    if not isinstance(condition, exp.GT | exp.GTE | exp.LT | exp.LTE):
        return None
    if not _is_period_filter(condition, tables, catalog):
        return None
    column_on_left = bool(list(condition.this.find_all(exp.Column)))
    lower = isinstance(condition, exp.GT | exp.GTE) == column_on_left
    return "lower" if lower else "upper"


def open_year(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """'In 2025' keeps to 2025: a filter from the first day of a named year with no upper bound also
    counts every later year. The missing bound (the end of the last named year) is added."""
    if not intent.years:
        return None
    fixed = query.copy()
    added = []
    end = f"{intent.years[-1] + 1}-01-01"
    for select in fixed.find_all(exp.Select):
        where = select.args.get("where")
        if where is None:
            continue
        tables = select_tables(select, catalog)
        sides: dict[str, set[str]] = {}
        subjects: dict[str, exp.Expression] = {}
        for condition in _conjuncts(where.this):
            side = _bound_side(condition, tables, catalog)
            if side is None:
                continue
            subject, constant = (
                (condition.this, condition.expression)
                if list(condition.this.find_all(exp.Column))
                else (condition.expression, condition.this)
            )
            key = subject.sql(POSTGRES)
            subjects[key] = subject
            named = any(str(year) in constant.sql(POSTGRES) for year in intent.years)
            sides.setdefault(key, set()).add(side if side == "upper" or named else "other-lower")
        conditions = _conjuncts(where.this)
        for key, found in sides.items():
            if found == {"lower"}:
                first_day_after = exp.cast(exp.Literal.string(end), "DATE")
                bound = exp.LT(this=subjects[key].copy(), expression=first_day_after)
                conditions.append(bound)
                added.append(bound.sql(POSTGRES))
        if added:
            _without(select, conditions)
    if not added:
        return None
    return Misfit(
        "open-year",
        f"the question keeps to {', '.join(map(str, intent.years))}, but the query counted every later "
        f"year too; added {'; '.join(added)}",
        fixed.sql(POSTGRES),
    )


def _temporal_columns(
    node: exp.Expression, tables: dict[str, TableKey], catalog: Catalog
) -> list[exp.Column]:
    return [column for column in node.find_all(exp.Column) if is_temporal(column, catalog, tables)]


def _year_bounds(column: exp.Column, years: tuple[int, ...]) -> list[exp.Expression]:
    """`column` from the first day of the first year to before the first day after the last."""
    first_day = exp.cast(exp.Literal.string(f"{years[0]}-01-01"), "DATE")
    first_day_after = exp.cast(exp.Literal.string(f"{years[-1] + 1}-01-01"), "DATE")
    return [
        exp.GTE(this=column.copy(), expression=first_day),
        exp.LT(this=column.copy(), expression=first_day_after),
    ]


def other_years(intent: Intent, query: exp.Select, result: Result, catalog: Catalog) -> Misfit | None:
    """'In 2025' answered with rows dated 2026, or with a date filter that names no year ('the last
    year', read relative to today). When one date column carries the period (the one filtered, else
    the one shown), its date filters are replaced by the named years."""
    if not intent.years:
        return None
    tables = select_tables(query, catalog)
    where = query.args.get("where")
    conditions = _conjuncts(where.this) if where is not None else []
    filters = [c for c in conditions if _is_period_filter(c, tables, catalog)]
    outside = [year for year in result.years_shown if year not in intent.years]
    named = ", ".join(map(str, intent.years))
    if outside:
        reason = (
            f"the question keeps to {named}, but the answer has rows dated {', '.join(map(str, outside))}"
        )
    elif filters and not any(str(year) in _listed(filters) for year in intent.years):
        reason = f"the question keeps to {named}, but the query's date filter names no year"
    else:
        return None
    subjects = {
        column.sql(POSTGRES): column
        for node in (filters or query.expressions)
        for column in _temporal_columns(node, tables, catalog)
    }
    if len(subjects) != 1:
        return None  # which date the years bound is not clear ('placed in 2024' and shipped in 2025)
    (subject,) = subjects.values()
    kept = [c for c in conditions if c not in filters] + _year_bounds(subject, intent.years)
    fixed = query.copy()
    _without(fixed, kept)
    dropped = f"; dropped {_listed(filters)}" if filters else ""
    return Misfit(
        "other-years", f"{reason}: {subject.sql(POSTGRES)} kept to those years{dropped}", fixed.sql(POSTGRES)
    )


CHECKS: tuple[Check, ...] = (
    disconnected_join,
    unasked_period,
    open_year,
    other_years,
    pinned_column,
    hidden_grouping,
    fanned_out_count,
    row_limit,
    empty_result,
    many_rows_for_one_value,
    missing_period,
    missing_value,
    missing_threshold,
)
"""In order: the deterministic fixes first, so a retry is asked only about what they cannot fix."""


def check_fit(intent: Intent, sql: str, table: pa.Table, catalog: Catalog) -> Misfit | None:
    """How the answer `table` of `sql` does not fit the question whose `intent` is given (read once per
    question with `read_intent`), or None when it fits: the first misfit with a deterministic fix, else
    every misfit only the model can fix, told in one retry."""
    try:
        query = sqlglot.parse_one(sql, read=POSTGRES)
    except sqlglot.errors.SqlglotError:
        return None
    if not isinstance(query, exp.Select):
        return None  # a UNION or similar: no single SELECT to judge
    result = Result.of(table)
    for_the_model: list[Misfit] = []
    for check in CHECKS:
        misfit = check(intent, query, result, catalog)
        if misfit is not None and misfit.sql is not None:
            return misfit
        if misfit is not None:
            for_the_model.append(misfit)
    if not for_the_model:
        return None
    return Misfit(
        for_the_model[0].kind,
        "; and ".join(misfit.reason for misfit in for_the_model),
        tables=tuple(dict.fromkeys(table for misfit in for_the_model for table in misfit.tables)),
    )
