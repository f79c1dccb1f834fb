"""What the app's SQL may touch: the tables, views and columns of the app's schemas, read from the database.

The guard checks every generated query against this catalog, and the "did you mean" hints it gives the
LLM (and the deterministic repairs built on them) come from here, so the names are always the real ones.
The catalog is loaded once from PostgreSQL and is then a plain, immutable value: the guard stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property
from typing import NamedTuple

import psycopg
from sqlglot.schema import MappingSchema

from thelook_ecommerce_analysis.rag.dialect import POSTGRES

APP_SCHEMAS = ("raw_data", "metrics", "embeddings")
"""The app's schemas, in the reader role's search_path order (sql/init.sql)."""

SIMILARITY_CUTOFF = 0.8
"""Below this, two names are different words, not a typo: 'order_date' vs 'order_id' scores 0.75."""

PREFIXED_SIMILARITY = 0.85
"""A real name with words put in front of it: above the cutoff, below a typo-free match."""

TableKey = tuple[str, str]
"""(schema, table), both as PostgreSQL stores them (unquoted names folded to lower case)."""


@dataclass(frozen=True)
class CatalogColumn:
    """One column and its PostgreSQL type name as `format_type` prints it (e.g. 'timestamp without time
    zone', 'vector(384)')."""

    name: str
    type: str


@dataclass(frozen=True)
class JoinKey:
    """Columns of one table that point at columns of another: a foreign key the database declares (the
    raw tables' keys come from their contract, conf/base/globals_raw_data.yml)."""

    table: TableKey
    columns: tuple[str, ...]
    references: TableKey
    referenced_columns: tuple[str, ...]


class ColumnLocation(NamedTuple):
    """Where a suggested column lives, so a caller can both name it and qualify it."""

    schema: str
    table: str
    column: str


@dataclass(frozen=True)
class Catalog:
    """The tables and views the app may query, with their ordered columns and join keys.

    `schemas` is the search path for unqualified names, in order, like the reader role's search_path.
    """

    tables: Mapping[TableKey, tuple[CatalogColumn, ...]]
    join_keys: tuple[JoinKey, ...] = ()
    schemas: tuple[str, ...] = APP_SCHEMAS

    def resolve_table(self, name: str, schema: str | None = None) -> TableKey | None:
        """The table `name` refers to: in `schema` when given, else the first schema of the search path
        that has it; None when there is no such table."""
        if schema is not None:
            return (schema, name) if (schema, name) in self.tables else None
        for candidate in self.schemas:
            if (candidate, name) in self.tables:
                return (candidate, name)
        return None

    def columns_of(self, table: TableKey) -> tuple[CatalogColumn, ...]:
        """The columns of `table` in table order; empty for an unknown table."""
        return self.tables.get(table, ())

    def column_names(self, table: TableKey) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns_of(table))

    def closest_table(self, name: str) -> TableKey | None:
        """The real table a mistyped or mis-pluralised `name` most likely meant ('order_item' ->
        raw_data.order_items), or None when no table is close enough to be a typo."""
        best = closest_name(name.rsplit(".", 1)[-1], [table for _, table in self.tables])
        return self.resolve_table(best) if best is not None else None

    def closest_column(self, name: str, tables: Iterable[TableKey]) -> ColumnLocation | None:
        """The real column a mistyped `name` most likely meant, searched in `tables` (best match wins;
        on a tie the earlier table, so callers list the most likely table first), or None."""
        locations = [
            ColumnLocation(schema, table, column)
            for schema, table in tables
            for column in self.column_names((schema, table))
        ]
        best = closest_name(name, [location.column for location in locations])
        return next((location for location in locations if location.column == best), None)

    @cached_property
    def sqlglot_schema(self) -> MappingSchema:
        """The catalog as sqlglot's schema, built once, for resolving columns through aliases and scopes.

        Types are given as 'unknown' on purpose: resolution needs names only, and some PostgreSQL type
        names (vector(384), USER-DEFINED) are not ones sqlglot can parse."""
        nested: dict[str, dict[str, dict[str, str]]] = {}
        for (schema, table), columns in self.tables.items():
            nested.setdefault(schema, {})[table] = {column.name: "unknown" for column in columns}
        return MappingSchema(nested, dialect=POSTGRES, normalize=False)


def name_similarity(wrong: str, real: str) -> float:
    """How likely `real` is what `wrong` meant, 0..1, for identifiers in snake_case.

    Spelling the same words with or without underscores ('userid' / 'user_id') or in singular/plural
    ('order_item' / 'order_items') counts as the same name; the real name with its table's name put in
    front ('product_category' / 'category', 'user_country' / 'country', a habit of small models) is a
    near match; otherwise the difflib ratio of the names without underscores, which is high for typos and
    low for different words ('order_date' / 'created_at').
    """
    if _squashed(wrong) == _squashed(real) or _singular_parts(wrong) == _singular_parts(real):
        return 1.0
    similarity = SequenceMatcher(None, _squashed(wrong), _squashed(real)).ratio()
    wrong_parts, real_parts = _singular_parts(wrong), _singular_parts(real)
    if len(wrong_parts) > len(real_parts) and wrong_parts[-len(real_parts) :] == real_parts:
        return max(similarity, PREFIXED_SIMILARITY)
    return similarity


def closest_name(wrong: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to `wrong`, if it is at least SIMILARITY_CUTOFF similar."""
    best_name, best_score = None, SIMILARITY_CUTOFF
    for candidate in candidates:
        score = name_similarity(wrong, candidate)
        if score > best_score or (best_name is None and score == best_score):
            best_name, best_score = candidate, score
    return best_name


def _squashed(name: str) -> str:
    return name.lower().replace("_", "")


def _singular_parts(name: str) -> tuple[str, ...]:
    return tuple(part.removesuffix("s") for part in name.lower().split("_") if part)


_COLUMNS_QUERY = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname, a.attnum
"""

_FOREIGN_KEYS_QUERY = """
SELECT sn.nspname, s.relname,
       array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(position, i)
             JOIN pg_catalog.pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.position
             ORDER BY u.i),
       tn.nspname, t.relname,
       array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(position, i)
             JOIN pg_catalog.pg_attribute AS a ON a.attrelid = k.confrelid AND a.attnum = u.position
             ORDER BY u.i)
FROM pg_catalog.pg_constraint AS k
JOIN pg_catalog.pg_class AS s ON s.oid = k.conrelid
JOIN pg_catalog.pg_namespace AS sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_class AS t ON t.oid = k.confrelid
JOIN pg_catalog.pg_namespace AS tn ON tn.oid = t.relnamespace
WHERE k.contype = 'f' AND sn.nspname = ANY(%(schemas)s) AND tn.nspname = ANY(%(schemas)s)
ORDER BY sn.nspname, s.relname, k.conname
"""


def load_catalog(connection: psycopg.Connection, schemas: tuple[str, ...] = APP_SCHEMAS) -> Catalog:
    """Read the tables, views and columns of `schemas` that this connection may SELECT, and their join
    keys: the foreign keys declared between them."""
    parameters = {"schemas": list(schemas)}
    tables: dict[TableKey, tuple[CatalogColumn, ...]] = {}
    for schema, table, column, type_name in connection.execute(_COLUMNS_QUERY, parameters).fetchall():
        tables[(schema, table)] = (*tables.get((schema, table), ()), CatalogColumn(column, type_name))
    join_keys = tuple(
        JoinKey((schema, table), tuple(columns), (ref_schema, ref_table), tuple(ref_columns))
        for schema, table, columns, ref_schema, ref_table, ref_columns in connection.execute(
            _FOREIGN_KEYS_QUERY, parameters
        ).fetchall()
        if (schema, table) in tables and (ref_schema, ref_table) in tables
    )
    return Catalog(tables, join_keys, tuple(schemas))
