"""Validating a query against the database without running it: its result columns and their types.

PostgreSQL plans the statement (PREPARE) and libpq describes its result, so unknown columns, type
errors and ambiguous names surface in well under a millisecond, as the read-only role, with no temp
objects (ibis's own `sql()` creates a temporary view, which a read-only session may not). The column
types become an ibis schema, the form the app and the charts reason about.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import psycopg
from ibis.backends.sql.datatypes import PostgresType
from psycopg import sql

STATEMENT_NAME = "thelook_validate"


@dataclass(frozen=True)
class ResultShape:
    """The columns a query returns, by name and PostgreSQL type."""

    names: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def schema(self) -> ibis.Schema:
        """The result as an ibis schema (unique names: a duplicated one gets its position appended)."""
        seen: dict[str, int] = {}
        fields = {}
        for position, (name, type_name) in enumerate(zip(self.names, self.types, strict=True)):
            key = name if name not in seen else f"{name}_{position}"
            seen[name] = position
            try:
                fields[key] = PostgresType.from_string(type_name)
            except Exception:  # an exotic type ibis does not know: still a column, shown as text
                fields[key] = ibis.dtype("string")
        return ibis.schema(fields)


def describe_query(connection: psycopg.Connection, query: str) -> ResultShape:
    """Plan `query` and return its result shape; raises the psycopg error when PostgreSQL rejects it.

    `connection` must be in autocommit mode, so that a rejected query leaves no aborted transaction.
    """
    connection.execute(sql.SQL("PREPARE {} AS ").format(sql.Identifier(STATEMENT_NAME)) + sql.SQL(query))
    try:
        described = connection.pgconn.describe_prepared(STATEMENT_NAME.encode())
        names = tuple(described.fname(index).decode() for index in range(described.nfields))
        oids = [described.ftype(index) for index in range(described.nfields)]
    finally:
        connection.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(STATEMENT_NAME)))
    types = tuple(connection.execute("SELECT format_type(%s, NULL)", (oid,)).fetchone()[0] for oid in oids)
    return ResultShape(names, types)
