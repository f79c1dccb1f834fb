"""Stream Arrow record batches into a PostgreSQL table: binary COPY through pgpq, then one merge.

Why this shape:
- Binary COPY is the fastest way in (~1M rows/s into a temp table, 40x pandas' to_sql); row-by-row
  INSERTs are not an option for millions of rows.
- An EMPTY target is loaded by COPY straight into it: no staging copy, no conflict work. A table created
  here gets its primary key after the load, when building it is a single sort.
- A FILLED target is merged from a temp staging table with a change check, so rows that did not change
  are not rewritten: a re-run on identical data writes nothing. `MERGE ... WHEN MATCHED AND (...) IS
  DISTINCT FROM (...)` (the default) does not even lock unchanged rows, so it writes no WAL for them;
  `INSERT ... ON CONFLICT ... WHERE (...) IS DISTINCT FROM (...)` locks every conflicting row (measured:
  ~340 MB of WAL for 2M unchanged rows) but needs only PostgreSQL 9.5 and is kept for comparison.
- Everything happens in ONE transaction (a savepoint inside the caller's, if it has one): a bad value in
  the last batch, a duplicate key or a killed process leaves the target exactly as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import psycopg
import pyarrow as pa
from psycopg import sql

from thelook_ecommerce_analysis.datasets.arrow_types import (
    ColumnPlan,
    TargetColumn,
    cast_batch,
    ddl_type_for,
    encoder_for,
    plan_columns,
)
from thelook_ecommerce_analysis.errors import ThelookError

logger = logging.getLogger(__name__)

MergeStatement = Literal["merge", "insert_on_conflict"]
MERGE_STATEMENTS: tuple[str, ...] = get_args(MergeStatement)
_MERGE_RETURNING_SERVER_VERSION = 170000  # merge_action() and MERGE ... RETURNING came with 17
_EXAMPLE_BAD_KEYS = 3


@dataclass(frozen=True)
class UpsertResult:
    """What one save did. `unchanged` rows matched a target row with equal values and were not
    written; `deleted` rows were in the target but not in the input (only with delete_missing)."""

    inserted: int
    updated: int
    unchanged: int
    deleted: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Rows read from the input."""
        return self.inserted + self.updated + self.unchanged

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Target:
    columns: list[TargetColumn]
    has_unique_key_index: bool
    is_empty: bool


def _server_message(error: psycopg.Error) -> str:
    detail = f" ({error.diag.message_detail})" if error.diag.message_detail else ""
    return f"{error.diag.message_primary or str(error).strip()}{detail}"


def _columns_list(names: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _read_target(
    connection: psycopg.Connection, schema: str, table: str, key_columns: Sequence[str]
) -> _Target | None:
    """The target's columns from the catalog, whether a unique index covers exactly the key
    columns, and whether it holds any row; None when there is no such table."""
    found = connection.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, table),
    ).fetchone()
    if found is None:
        return None
    (oid,) = found
    rows = connection.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, e.typname, a.atttypmod"
        " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
        " LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'"
        " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (oid,),
    ).fetchall()
    (has_unique_key_index,) = connection.execute(
        "SELECT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = %s AND i.indisunique"
        " AND i.indpred IS NULL AND i.indexprs IS NULL AND (SELECT array_agg(a.attname::text ORDER BY"
        " a.attname) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))"
        " = %s::text[])",
        (oid, sorted(key_columns)),
    ).fetchone()
    (is_empty,) = connection.execute(
        sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(sql.Identifier(schema, table))
    ).fetchone()
    return _Target([TargetColumn(*row) for row in rows], has_unique_key_index, is_empty)


def _create_table(connection: psycopg.Connection, relation: sql.Identifier, source: pa.Schema) -> None:
    """A new table with one column per source field; its primary key is added after the load."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(field.name), sql.SQL(ddl_type_for(field))) for field in source
    )
    connection.execute(sql.SQL("CREATE TABLE {} ({})").format(relation, columns))


def _copy_batches(
    connection: psycopg.Connection,
    into: sql.Identifier,
    plans: tuple[ColumnPlan, ...],
    batches: Iterable[pa.RecordBatch],
    relation_name: str,
) -> int:
    """Binary COPY of every batch, cast batch by batch, into `into`; returns the rows sent."""
    encoder = encoder_for(plans)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        into, _columns_list(plan.name for plan in plans)
    )
    rows = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            if batch.num_rows:
                copy.write(encoder.write_batch(cast_batch(batch, plans, relation_name)))
                rows += batch.num_rows
        copy.write(encoder.finish())
    return rows


def _raise_for_bad_keys(
    connection: psycopg.Connection, relation: sql.Identifier, key_columns: Sequence[str], relation_name: str
) -> None:
    """One error naming the table, the key and how often it repeats, when any key value occurs more
    than once or is NULL: merging such data would pick one row silently or duplicate it."""
    keys = _columns_list(key_columns)
    any_null = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(sql.Identifier(k)) for k in key_columns)
    rows = connection.execute(
        sql.SQL(
            "SELECT {keys}, count(*) AS copies, count(*) OVER () AS bad_keys FROM {relation}"
            " GROUP BY {keys} HAVING count(*) > 1 OR {any_null} ORDER BY copies DESC LIMIT {limit}"
        ).format(keys=keys, relation=relation, any_null=any_null, limit=_EXAMPLE_BAD_KEYS)
    ).fetchall()
    if not rows:
        return
    width = len(key_columns)
    examples = ", ".join(
        f"({', '.join(key_columns)})=({', '.join(map(str, row[:width]))}) x{row[width]}" for row in rows
    )
    raise ThelookError(
        f"cannot load {relation_name}: {rows[0][width + 1]} value(s) of key ({', '.join(key_columns)}) "
        f"occur more than once or are NULL in the input, e.g. {examples}; each key must appear exactly "
        "once: deduplicate the input or fix key_columns"
    )


def _add_primary_key(
    connection: psycopg.Connection, relation: sql.Identifier, key_columns: Sequence[str], relation_name: str
) -> None:
    """The primary key of a table created by this load. Building it is also the duplicate check; on
    failure the savepoint keeps the loaded rows so that the error can say which keys repeat."""
    try:
        with connection.transaction():
            connection.execute(
                sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(relation, _columns_list(key_columns))
            )
    except (psycopg.errors.UniqueViolation, psycopg.errors.NotNullViolation):
        _raise_for_bad_keys(connection, relation, key_columns, relation_name)
        raise


def _staged_value(plan: ColumnPlan) -> sql.Composable:
    """The staged column as the target type: pgvector and text-staged types need PostgreSQL's cast.
    The cast's type name comes from format_type(), which quotes it as needed."""
    value = sql.SQL("s.{}").format(sql.Identifier(plan.name))
    return value if plan.sql_cast is None else sql.SQL("CAST({} AS {})").format(value, sql.SQL(plan.sql_cast))


def _changed(left: Iterable[sql.Composable], right: Iterable[sql.Composable]) -> sql.Composed:
    return sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(
        sql.SQL(", ").join(left), sql.SQL(", ").join(right)
    )


def _insert_select_sql(
    target: sql.Composable, staging: sql.Identifier, plans: tuple[ColumnPlan, ...]
) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} AS s").format(
        target,
        _columns_list(plan.name for plan in plans),
        sql.SQL(", ").join(_staged_value(plan) for plan in plans),
        staging,
    )


def _merge_sql(
    target: sql.Identifier,
    staging: sql.Identifier,
    plans: tuple[ColumnPlan, ...],
    key_columns: Sequence[str],
    update_plans: tuple[ColumnPlan, ...],
) -> sql.Composed:
    """MERGE with a change check, counting inserted and updated rows through merge_action()."""
    join = sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in key_columns)
    when_matched = sql.SQL("")
    if update_plans:
        when_matched = sql.SQL("WHEN MATCHED AND {} THEN UPDATE SET {} ").format(
            _changed((sql.SQL("t.{}").format(sql.Identifier(p.name)) for p in update_plans),
                     (_staged_value(p) for p in update_plans)),
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(p.name), _staged_value(p)) for p in update_plans
            ),
        )  # fmt: skip
    return sql.SQL(
        "WITH written AS (MERGE INTO {target} AS t USING {staging} AS s ON {join} {when_matched}"
        "WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values}) RETURNING merge_action() AS action)"
        " SELECT count(*) FILTER (WHERE action = 'INSERT'), count(*) FILTER (WHERE action = 'UPDATE')"
        " FROM written"
    ).format(
        target=target,
        staging=staging,
        join=join,
        when_matched=when_matched,
        columns=_columns_list(plan.name for plan in plans),
        values=sql.SQL(", ").join(_staged_value(plan) for plan in plans),
    )


def _insert_on_conflict_sql(
    target: sql.Identifier,
    staging: sql.Identifier,
    plans: tuple[ColumnPlan, ...],
    key_columns: Sequence[str],
    update_plans: tuple[ColumnPlan, ...],
) -> sql.Composed:
    """INSERT ... ON CONFLICT with a change check. A row version made by an INSERT has xmax 0; one
    made by the ON CONFLICT update carries the updating transaction's id: that tells them apart."""
    on_conflict = sql.SQL("DO NOTHING")
    if update_plans:
        excluded = [sql.SQL("EXCLUDED.{}").format(sql.Identifier(p.name)) for p in update_plans]
        on_conflict = sql.SQL("DO UPDATE SET {} WHERE {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(p.name), sql.Identifier(p.name))
                for p in update_plans
            ),
            _changed((sql.SQL("t.{}").format(sql.Identifier(p.name)) for p in update_plans), excluded),
        )
    return sql.SQL(
        "WITH written AS ({insert} ON CONFLICT ({keys}) {on_conflict} RETURNING (t.xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
    ).format(
        insert=_insert_select_sql(sql.SQL("{} AS t").format(target), staging, plans),
        keys=_columns_list(key_columns),
        on_conflict=on_conflict,
    )


def _delete_missing_sql(
    target: sql.Identifier, staging: sql.Identifier, key_columns: Sequence[str]
) -> sql.Composed:
    join = sql.SQL(" AND ").join(sql.SQL("s.{0} = t.{0}").format(sql.Identifier(k)) for k in key_columns)
    return sql.SQL("DELETE FROM {} AS t WHERE NOT EXISTS (SELECT FROM {} AS s WHERE {})").format(
        target, staging, join
    )


def _apply_comments(
    connection: psycopg.Connection,
    schema: str,
    table: str,
    table_comment: str | None,
    column_comments: dict[str, str],
) -> None:
    if table_comment is not None:
        statement = sql.SQL("COMMENT ON TABLE {} IS {}")
        connection.execute(statement.format(sql.Identifier(schema, table), sql.Literal(table_comment)))
    for column, comment in column_comments.items():
        connection.execute(
            sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                sql.Identifier(schema, table, column), sql.Literal(comment)
            )
        )


@dataclass(frozen=True)
class _Upsert:
    """The settings of one save, checked before anything is sent."""

    schema: str
    table: str
    key_columns: tuple[str, ...]
    exclude_from_update: tuple[str, ...]
    delete_missing: bool
    merge_statement: str

    @property
    def name(self) -> str:
        """schema.table as people write it, for messages."""
        return f"{self.schema}.{self.table}"

    @property
    def relation(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)

    def check_against(self, source: pa.Schema) -> None:
        if not self.key_columns:
            raise ThelookError(f"cannot load {self.name}: key_columns is empty; name the table's key")
        keys, excluded, names = set(self.key_columns), set(self.exclude_from_update), set(source.names)
        problems = [
            (keys - names, "key column(s) {} are not in the input"),
            (excluded - names, "exclude_from_update column(s) {} are not in the input"),
            (excluded & keys, "key column(s) {} cannot be excluded from update"),
        ]
        for wrong, message in problems:
            if wrong:
                raise ThelookError(f"cannot load {self.name}: " + message.format(", ".join(sorted(wrong))))
        if self.merge_statement not in MERGE_STATEMENTS:
            raise ThelookError(
                f"cannot load {self.name}: merge_statement={self.merge_statement!r}; use one of "
                + ", ".join(MERGE_STATEMENTS)
            )

    def check_target(self, connection: psycopg.Connection, target: _Target, column_comments: dict) -> None:
        unknown = sorted(set(column_comments) - {column.name for column in target.columns})
        if unknown:
            raise ThelookError(f"cannot comment on {self.name}: no column(s) {', '.join(unknown)}")
        if target.is_empty:
            return  # an empty target is loaded without any merge statement
        server_version = connection.info.server_version
        if self.merge_statement == "merge" and server_version < _MERGE_RETURNING_SERVER_VERSION:
            raise ThelookError(
                f"cannot load {self.name}: merge_statement='merge' needs PostgreSQL 17 or later (the "
                f"server is {server_version}); use merge_statement='insert_on_conflict'"
            )
        if self.merge_statement == "insert_on_conflict" and not target.has_unique_key_index:
            raise ThelookError(
                f"cannot load {self.name}: insert_on_conflict needs a primary key or unique index on "
                f"({', '.join(self.key_columns)}); add one or use merge_statement='merge'"
            )


def _merge_from_staging(
    connection: psycopg.Connection,
    upsert: _Upsert,
    target: _Target,
    plans: tuple[ColumnPlan, ...],
    batches: Iterable[pa.RecordBatch],
) -> UpsertResult:
    """COPY into a temp table shaped for pgpq, check the keys, then insert/merge and delete."""
    staging = sql.Identifier(f"thelook_staging_{uuid.uuid4().hex[:12]}")
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(plan.name), sql.SQL(plan.staging_sql_type)) for plan in plans
    )
    connection.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(staging, columns))
    staged = _copy_batches(connection, staging, plans, batches, upsert.name)
    _raise_for_bad_keys(connection, staging, upsert.key_columns, upsert.name)
    if target.is_empty:
        connection.execute(_insert_select_sql(upsert.relation, staging, plans))
        inserted, updated, deleted = staged, 0, 0
    else:
        skipped = set(upsert.key_columns) | set(upsert.exclude_from_update)
        update_plans = tuple(plan for plan in plans if plan.name not in skipped)
        statement = _merge_sql if upsert.merge_statement == "merge" else _insert_on_conflict_sql
        inserted, updated = connection.execute(
            statement(upsert.relation, staging, plans, upsert.key_columns, update_plans)
        ).fetchone()
        deleted = 0
        if upsert.delete_missing:
            delete = _delete_missing_sql(upsert.relation, staging, upsert.key_columns)
            deleted = connection.execute(delete).rowcount
    connection.execute(sql.SQL("DROP TABLE {}").format(staging))
    return UpsertResult(inserted, updated, staged - inserted - updated, deleted)


def _load(
    connection: psycopg.Connection, upsert: _Upsert, batches: pa.RecordBatchReader, column_comments: dict
) -> UpsertResult:
    """The whole save; the caller wraps it in the transaction."""
    target = _read_target(connection, upsert.schema, upsert.table, upsert.key_columns)
    created = target is None
    if created:
        _create_table(connection, upsert.relation, batches.schema)
        target = _read_target(connection, upsert.schema, upsert.table, upsert.key_columns)
    else:
        # One writer per table: concurrent saves queue here, readers are not blocked.
        connection.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(upsert.relation))
    upsert.check_target(connection, target, column_comments)
    plans = plan_columns(batches.schema, target.columns, upsert.name)
    if target.is_empty and all(plan.sql_cast is None for plan in plans):
        inserted = _copy_batches(connection, upsert.relation, plans, batches, upsert.name)
        if not created and not target.has_unique_key_index:
            _raise_for_bad_keys(connection, upsert.relation, upsert.key_columns, upsert.name)
        result = UpsertResult(inserted=inserted, updated=0, unchanged=0)
    else:
        result = _merge_from_staging(connection, upsert, target, plans, batches)
    if created:
        _add_primary_key(connection, upsert.relation, upsert.key_columns, upsert.name)
    return result


def upsert_batches(
    connection: psycopg.Connection,
    batches: pa.RecordBatchReader,
    schema: str,
    table: str,
    key_columns: Sequence[str],
    *,
    exclude_from_update: Sequence[str] = (),
    delete_missing: bool = False,
    merge_statement: MergeStatement = "merge",
    work_mem: str = "256MB",
    table_comment: str | None = None,
    column_comments: dict[str, str] | None = None,
) -> UpsertResult:
    """Insert new rows, update changed ones and leave equal ones alone, in one transaction.

    `batches` is a stream with a known schema (`pa.RecordBatchReader.from_batches(schema, iterable)`
    wraps any iterable), so that even an empty input can create the table. The target is created from
    that schema, with its primary key on `key_columns`, when it does not exist. Columns of the target
    that the input lacks keep their defaults on insert and their values on update.
    `exclude_from_update` columns are written on insert only (e.g. a first-seen timestamp).
    `delete_missing` removes target rows whose key is not in the input, for tables recomputed whole.
    Runs in a transaction of its own, or in a savepoint of the caller's open transaction.
    """
    started = time.perf_counter()
    upsert = _Upsert(schema, table, tuple(key_columns), tuple(exclude_from_update), delete_missing,
                     merge_statement)  # fmt: skip
    upsert.check_against(batches.schema)
    column_comments = column_comments or {}
    try:
        with connection.transaction():
            connection.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
            counts = _load(connection, upsert, batches, column_comments)
            _apply_comments(connection, schema, table, table_comment, column_comments)
    except psycopg.errors.UniqueViolation as error:
        raise ThelookError(
            f"cannot load {upsert.name}: {_server_message(error)}; each value of a unique key must appear "
            "once in the input (the load stopped at the first repeat); nothing was written"
        ) from None
    except (psycopg.IntegrityError, psycopg.DataError, psycopg.errors.InvalidParameterValue) as error:
        raise ThelookError(
            f"cannot load {upsert.name}: {_server_message(error)}; fix the data, the table or the "
            "dataset's settings; nothing was written"
        ) from None
    result = UpsertResult(
        counts.inserted, counts.updated, counts.unchanged, counts.deleted, time.perf_counter() - started
    )
    logger.info(
        "%s: %d inserted, %d updated, %d unchanged, %d deleted in %.2f s (%.0f rows/s)",
        upsert.name, result.inserted, result.updated, result.unchanged, result.deleted, result.seconds,
        result.rows_per_second,
    )  # fmt: skip
    return result
