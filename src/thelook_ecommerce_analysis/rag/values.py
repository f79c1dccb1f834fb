"""Values as the data spells them, for text columns too large to list in the prompt.

The prompt lists every value of small categorical columns, and `repair.fix_literals` maps a literal to
one of them. A column with hundreds or thousands of values (brands, states, cities, distribution center
names) cannot be listed, so a model writes them the world's way: 'Adidas' where the data says 'adidas',
'Houston' for 'Houston TX'. Before a query runs, every string literal compared with such a column that
matches no row is looked up in the column itself: the same text in another case, else the value with the
highest trigram similarity (pg_trgm's `public.similarity`, computed by PostgreSQL as the reader), above a
floor.
Only columns whose statistics give a modest number of distinct values are searched, so a lookup never
means scanning a free-text column; the session's statement timeout bounds each lookup.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql
from sqlglot import exp

from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey
from thelook_ecommerce_analysis.rag.dialect import POSTGRES
from thelook_ecommerce_analysis.rag.repair import Repair, parse_query, query_tables

MAX_DISTINCT_VALUES = 5000
"""A column with more distinct values than this is free text or an id: its literals are left alone."""
MIN_SIMILARITY = 0.3
"""pg_trgm's own default threshold: below it two spellings share too few trigrams to be one value."""
TEXT_TYPES = frozenset({"text", "character varying"})

ColumnKey = tuple[str, str, str]


def modest_text_columns(
    connection: psycopg.Connection, catalog: Catalog, max_distinct: int = MAX_DISTINCT_VALUES
) -> frozenset[ColumnKey]:
    """Text columns of the catalog whose planner statistics estimate at most `max_distinct` values (a
    negative n_distinct is a fraction of the rows). Read once, when the engine starts."""
    rows = connection.execute(
        "SELECT s.schemaname, s.tablename, s.attname, s.n_distinct, c.reltuples FROM pg_catalog.pg_stats s "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname "
        "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename"
    ).fetchall()
    found = set()
    for schema, table, column, n_distinct, reltuples in rows:
        columns = {known.name: known.type for known in catalog.columns_of((schema, table))}
        if columns.get(column) not in TEXT_TYPES or n_distinct is None:
            continue
        estimated = n_distinct if n_distinct >= 0 else -n_distinct * max(reltuples, 0.0)
        if 0 < estimated <= max_distinct:
            found.add((schema, table, column))
    return frozenset(found)


def closest_stored_value(
    connection: psycopg.Connection, table: TableKey, column: str, literal: str
) -> str | None:
    """The value of `table.column` that `literal` means: itself when some row holds it (None: nothing to
    change), the same text in another case, else the most trigram-similar value above MIN_SIMILARITY."""
    target = sql.Identifier(*table)
    name = sql.Identifier(column)
    if connection.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = %s)").format(target, name), (literal,)
    ).fetchone()[0]:
        return None
    found = connection.execute(
        sql.SQL(
            "SELECT value FROM (SELECT DISTINCT {name} AS value FROM {table} WHERE {name} IS NOT NULL) AS v "
            "WHERE lower(value) = lower(%(literal)s) OR public.similarity(value, %(literal)s) >= %(floor)s "
            "ORDER BY lower(value) = lower(%(literal)s) DESC, "
            "public.similarity(value, %(literal)s) DESC, value LIMIT 1"
        ).format(name=name, table=target),
        {"literal": literal, "floor": MIN_SIMILARITY},
    ).fetchone()
    return found[0] if found else None


def repair_stored_values(
    query: str,
    catalog: Catalog,
    searchable: frozenset[ColumnKey],
    listed: Mapping[ColumnKey, tuple[str, ...]],
    connection: psycopg.Connection,
) -> Repair | None:
    """`brand = 'Adidas'` -> `brand = 'adidas'`: every string literal compared (=, <>, IN) with a
    searchable column that the prompt does not list (`listed` columns are repair.fix_literals' job) and
    that matches no row is replaced by the value it most likely means. None when nothing changed."""
    tree = parse_query(query)
    if tree is None:
        return None
    tables = query_tables(tree, catalog)
    notes: list[str] = []
    for comparison in list(tree.find_all(exp.EQ, exp.NEQ, exp.In)):
        column = comparison.this
        if not isinstance(column, exp.Column):
            continue
        holders = [tables[column.table]] if column.table in tables else list(tables.values())
        key = next(((*table, column.name) for table in holders if (*table, column.name) in searchable), None)
        if key is None or key in listed:
            continue
        literals = comparison.expressions if isinstance(comparison, exp.In) else [comparison.expression]
        for literal in list(literals):
            if not (isinstance(literal, exp.Literal) and literal.is_string):
                continue
            better = closest_stored_value(connection, key[:2], key[2], literal.this)
            if better is not None and better != literal.this:
                notes.append(f"'{literal.this}' -> '{better}' ({key[1]}.{key[2]})")
                literal.replace(exp.Literal.string(better))
    if not notes:
        return None
    return Repair("value", tree.sql(dialect=POSTGRES), "; ".join(notes))
