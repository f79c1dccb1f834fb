"""The raw tables in PostgreSQL as the contract describes them: tables, comments, primary and foreign keys.

Two moments, both idempotent (CreateIndexesHook runs them at every run):
- before the load, `create_raw_tables`: each table (keyless, so that a first load COPYs into a bare heap),
  any column the contract gained since (ADD COLUMN IF NOT EXISTS), and every COMMENT;
- after the load, `add_raw_keys`: the primary keys, then the foreign keys, each with an index on its
  column. The load's foreign-key guard quarantines orphans before they are written, so the keys hold;
  declaring them lets PostgreSQL enforce them from then on and lets pgAdmin, Kedro-Viz readers and the
  question loop see the real joins. Adding one checks every row in one statement (a broken key adds
  nothing) and blocks writers, not readers.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from thelook_ecommerce_analysis.contract import Contract, ForeignKey, RawTable


def _relation(schema: str, table: str) -> sql.Identifier:
    return sql.Identifier(schema, table)


def _create_statements(schema: str, table: RawTable) -> list[sql.Composed]:
    relation = _relation(schema, table.name)
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(column.name), sql.SQL(column.column_type.sql))
        for column in table.columns
    ]
    statements = [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(relation, sql.SQL(", ").join(definitions)),
        *(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}").format(relation, definition)
            for definition in definitions
        ),
        sql.SQL("COMMENT ON TABLE {} IS {}").format(relation, sql.Literal(table.description)),
    ]
    statements += [
        sql.SQL("COMMENT ON COLUMN {} IS {}").format(
            sql.Identifier(schema, table.name, column.name), sql.Literal(column.comment)
        )
        for column in table.columns
    ]
    return statements


def create_raw_tables(connection: psycopg.Connection, contract: Contract, schema: str) -> None:
    """Every table and column of the contract, with its comments, in one transaction."""
    with connection.transaction():
        for table in contract.tables.values():
            for statement in _create_statements(schema, table):
                connection.execute(statement)


def _constraint_names(connection: psycopg.Connection, schema: str) -> set[str]:
    rows = connection.execute(
        "SELECT conname FROM pg_catalog.pg_constraint AS k "
        "JOIN pg_catalog.pg_namespace AS n ON n.oid = k.connamespace WHERE n.nspname = %s",
        (schema,),
    ).fetchall()
    return {name for (name,) in rows}


def primary_key_name(table: str) -> str:
    return f"{table}_pkey"


def foreign_key_name(key: ForeignKey) -> str:
    return f"{key.table}_{key.column}_fkey"


def foreign_key_index_name(key: ForeignKey) -> str:
    return f"{key.table}_{key.column}_idx"


def add_raw_keys(connection: psycopg.Connection, contract: Contract, schema: str) -> None:
    """The primary key of each table, then each foreign key and an index on its column, where missing. A
    key that the data breaks fails here with PostgreSQL's own message naming the constraint and the
    offending value. The index serves the joins the key declares (PostgreSQL indexes only the parent's
    side) and the key's own checks."""
    existing = _constraint_names(connection, schema)
    for table in contract.tables.values():
        if primary_key_name(table.name) not in existing:
            connection.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                    _relation(schema, table.name),
                    sql.Identifier(primary_key_name(table.name)),
                    sql.SQL(", ").join(map(sql.Identifier, table.key_columns)),
                )
            )
    for key in contract.foreign_keys:
        connection.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(foreign_key_index_name(key)),
                _relation(schema, key.table),
                sql.Identifier(key.column),
            )
        )
        name = foreign_key_name(key)
        if name in existing:
            continue
        connection.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})").format(
                _relation(schema, key.table),
                sql.Identifier(name),
                sql.Identifier(key.column),
                _relation(schema, key.parent),
                sql.Identifier(key.parent_column),
            )
        )
