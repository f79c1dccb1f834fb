"""Next questions: two or three follow-ups suggested under an answer, from its shape and the catalog.

No model is asked: the result's columns say what a next step can be. A measure with no time column can be
followed over time ("Show it per month"); a time column, compared with the year before; a ranking of many
rows, cut to a top 10; one number, split by a categorical column of the table it came from that the query
does not use yet ("Split it by department"). The suggestions are follow-ups, so asking one goes through
the conversation's rewrite (rag/conversation.py) like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import ibis.expr.datatypes as dt

from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey
from thelook_ecommerce_analysis.rag.validate import ResultShape

MAX_SUGGESTIONS = 3
RANKING_ROWS = 10
SPLITTABLE_VALUES = 12
"""A categorical column with at most this many values makes a readable split."""

ColumnKey = tuple[str, str, str]


def _words(sql: str) -> set[str]:
    return set(re.findall(r"\w+", sql.lower()))


def next_questions(
    shape: ResultShape,
    rows: int,
    sql: str,
    tables: Iterable[TableKey],
    *,
    catalog: Catalog,
    values: Mapping[ColumnKey, tuple[str, ...]],
) -> list[str]:
    """Up to MAX_SUGGESTIONS follow-ups for an answer of `rows` rows of `shape`, from `sql` over `tables`."""
    schema = shape.schema
    types = [schema[name] for name in schema.names]
    has_time = any(isinstance(kind, dt.Date | dt.Timestamp) for kind in types)
    measures = [name for name, kind in zip(schema.names, types, strict=True) if kind.is_numeric()]
    labels = [name for name, kind in zip(schema.names, types, strict=True) if kind.is_string()]
    used = _words(sql)
    suggestions = []
    if measures and not has_time:
        suggestions.append("Show it per month")
    if has_time:
        suggestions.append("Compare it with the year before")
    if labels and measures and rows > RANKING_ROWS:
        suggestions.append(f"Only the top {RANKING_ROWS}")
    for table in tables:
        for column in catalog.columns_of(table):
            listed = values.get((*table, column.name), ())
            if 1 < len(listed) <= SPLITTABLE_VALUES and column.name not in used:
                suggestions.append(f"Split it by {column.name.replace('_', ' ')}")
    return list(dict.fromkeys(suggestions))[:MAX_SUGGESTIONS]
