"""The SQL guard: the first wall between an LLM's SQL and the database.

`guard_sql` is a pure function: text and catalog in, verdict out, no database access. It allows exactly
one read-only SELECT over the app's tables and columns, with a bounded LIMIT, and returns it re-generated
by sqlglot. The database never sees the text the LLM wrote, only the text generated from the checked tree
(comments dropped), and that text is parsed and checked again before it is returned: a quirk in how
sqlglot reads a comment, a dollar quote or an escape can therefore not smuggle anything past the checks.

The read-only database role is the second wall and must hold on its own (tests/rag/test_guard_hostile.py
sends the same hostile statements straight to it); docs/guard.md explains each rule.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.tokens import Token, TokenType

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.allowlist import (
    ALLOWED_FUNCTIONS,
    ALLOWED_SYNTAX,
    ALLOWED_TYPES,
    function_refusal,
)
from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey, closest_name
from thelook_ecommerce_analysis.rag.dialect import POSTGRES

MAX_LISTED_COLUMNS = 40
MAX_SHOWN_SQL = 60
"""How much of an offending expression a refusal quotes."""

MAX_SERIES_VALUES = 100_000
"""The longest generate_series a query may make: a daily calendar of 270 years, a small table in memory."""

WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
TEMPORAL_TYPES = frozenset(
    {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ}
)
SECONDS_PER_UNIT = {
    "microsecond": Decimal("0.000001"),
    "millisecond": Decimal("0.001"),
    "second": Decimal(1),
    "minute": Decimal(60),
    "hour": Decimal(3600),
    "day": Decimal(86400),
    "week": Decimal(7 * 86400),
    "month": Decimal(30 * 86400),
    "year": Decimal(365 * 86400),
    "decade": Decimal(3650 * 86400),
    "century": Decimal(36500 * 86400),
    "millennium": Decimal(365000 * 86400),
}
INTERVAL_UNIT_ALIASES = {
    **{alias: "microsecond" for alias in ("us", "usec", "usecs", "microseconds")},
    **{alias: "millisecond" for alias in ("ms", "msec", "msecs", "milliseconds")},
    **{alias: "second" for alias in ("s", "sec", "secs", "seconds")},
    **{alias: "minute" for alias in ("m", "min", "mins", "minutes")},
    **{alias: "hour" for alias in ("h", "hr", "hrs", "hours")},
    **{alias: "day" for alias in ("d", "days")},
    **{alias: "week" for alias in ("w", "weeks")},
    **{alias: "month" for alias in ("mon", "mons", "months")},
    **{alias: "year" for alias in ("y", "yr", "yrs", "years")},
    **{alias: "decade" for alias in ("decades",)},
    **{alias: "century" for alias in ("centuries",)},
    **{alias: "millennium" for alias in ("millennia", "millenniums")},
}
INTERVAL_PART = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*([A-Za-z]+)")


@dataclass(frozen=True)
class GuardResult:
    """The verdict: `sql` is the normalised statement to run when `ok`; otherwise `reason` is one line
    saying what is wrong and `hints` what the real catalog offers instead (fed back to the LLM)."""

    ok: bool
    sql: str = ""
    reason: str = ""
    hints: list[str] = field(default_factory=list)


ALLOWED_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)

FORBIDDEN_NODES: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Into, "it creates a table"),
    (exp.Lock, "row locks are not for a read-only query, and they block the ETL job"),
    (exp.DML, "it writes data; only SELECT queries may run"),
    (exp.DDL, "it changes the schema; only SELECT queries may run"),
    (exp.Drop, "it drops objects; only SELECT queries may run"),
    (exp.Alter, "it changes the schema; only SELECT queries may run"),
    (exp.TruncateTable, "it deletes data; only SELECT queries may run"),
    (exp.Command, "it is not a query; only SELECT queries may run"),
    (exp.Set, "it changes session settings; only SELECT queries may run"),
    (exp.Grant, "it changes privileges; only SELECT queries may run"),
    (exp.Revoke, "it changes privileges; only SELECT queries may run"),
    (exp.Operator, "it names an operator by its schema; write the operator itself"),
)

STATEMENT_NAMES: dict[type[exp.Expr], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Copy: "COPY",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Alter: "ALTER",
    exp.TruncateTable: "TRUNCATE",
    exp.Set: "SET",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
    exp.Values: "VALUES",
}

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
UNKNOWN_QUALIFIED_COLUMN = re.compile(r"^Unknown column: (?P<column>.+)$")
UNRESOLVED_COLUMN = re.compile(r"^Column '(?P<column>[^']+)' could not be resolved(?P<rest>.*)$")
UNRESOLVED_FOR_TABLE = re.compile(r"for table: '(?P<table>[^']+)'")
UNJOINABLE = re.compile(r"^Cannot automatically join: (?P<column>.+)$")


class GuardRejectionError(Exception):
    """Raised inside the guard's checks; `guard_sql` turns it into a GuardResult."""

    def __init__(self, reason: str, hints: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hints = hints or []


def guard_sql(sql: str, catalog: Catalog, max_rows: int = 1000) -> GuardResult:
    """Allow `sql` only if it is one read-only SELECT over `catalog`; return it normalised, with a LIMIT
    of at most `max_rows`, or the reason it is refused and hints built from the real catalog."""
    if max_rows < 1:
        raise ThelookError(f"max_rows must be a positive number of rows, got {max_rows}")
    try:
        query = checked_query(sql, catalog)
        check_columns(query, catalog)
        normalised = render(enforce_limit(query, max_rows))
        recheck_normalised(normalised, catalog, max_rows)
    except GuardRejectionError as rejection:
        return GuardResult(ok=False, reason=rejection.reason, hints=rejection.hints)
    return GuardResult(ok=True, sql=normalised)


def checked_query(sql: str, catalog: Catalog) -> exp.Query:
    """Parse `sql` into one SELECT and run every safety check on it; its tables come back qualified with
    their schema, so the query means the same whatever the search_path of the connection that runs it."""
    query = parse_single_select(sql)
    reject_forbidden_nodes(query)
    reject_attribute_notation(query)
    calls = [(function, called_name(function)) for function in query.find_all(exp.Func)]
    reject_disallowed_functions(calls)
    reject_disallowed_types(query)
    reject_unbounded_series(calls)
    reject_unknown_function_columns(query)
    qualify_tables(query, catalog)
    return query


def recheck_normalised(normalised: str, catalog: Catalog, max_rows: int) -> None:
    """The text the database will run must itself pass the safety checks and carry the row cap: this is
    what makes the guard independent of how sqlglot read the original's comments, quotes and escapes."""
    rechecked = checked_query(normalised, catalog)
    limit = rechecked.args.get("limit")
    rows = literal_row_count(limit) if limit is not None else None
    if rows is None or rows > max_rows:
        raise GuardRejectionError("the normalised query lost its row limit; simplify the query")


def render(query: exp.Query) -> str:
    """The PostgreSQL text the database will run: generated from the tree, comments dropped."""
    return query.sql(dialect=POSTGRES, comments=False)


# -- one statement, a SELECT ---------------------------------------------------------------------------


def parse_single_select(sql: str) -> exp.Query:
    """Exactly one statement, and it is a SELECT (or WITH ... SELECT, UNION, a parenthesised SELECT)."""
    if not sql.strip():
        raise GuardRejectionError("empty query: expected one SELECT statement")
    try:
        tokens = POSTGRES.tokenize(sql)
        reject_unicode_escape_identifiers(tokens)
        statements = [
            statement
            for statement in POSTGRES.parser().parse(tokens, sql)
            if statement is not None and not isinstance(statement, exp.Semicolon)
        ]
    except (ParseError, TokenError) as error:
        raise GuardRejectionError(f"not valid PostgreSQL: {parse_error_summary(error)}") from None
    if not statements:
        raise GuardRejectionError("empty query: expected one SELECT statement")
    if len(statements) > 1:
        kinds = ", ".join(statement_name(statement) for statement in statements)
        raise GuardRejectionError(f"only one statement is allowed, found {len(statements)} ({kinds})")
    statement = statements[0]
    if not isinstance(statement, ALLOWED_ROOTS):
        raise GuardRejectionError(f"only SELECT queries are allowed, not {statement_name(statement)}")
    return statement


def reject_unicode_escape_identifiers(tokens: list[Token]) -> None:
    """PostgreSQL reads U&"pg\\005fsleep" as ONE identifier (pg_sleep); sqlglot reads `U & "..."`. Names
    that are spelled with escapes cannot be checked, so they are refused outright."""
    for first, second, third in zip(tokens, tokens[1:], tokens[2:], strict=False):
        adjacent = first.end + 1 == second.start and second.end + 1 == third.start
        if (
            adjacent
            and first.text.upper() == "U"
            and second.token_type == TokenType.AMP
            and third.token_type == TokenType.IDENTIFIER
        ):
            raise GuardRejectionError(
                'unicode-escaped identifiers (U&"...") are not allowed; write names plainly'
            )


def parse_error_summary(error: ParseError | TokenError) -> str:
    """sqlglot's message in one line, without its ANSI colour codes."""
    details = getattr(error, "errors", None)
    if details:
        first = details[0]
        return f"{first['description']} at line {first['line']}, column {first['col']}"
    return ANSI_ESCAPE.sub("", str(error)).splitlines()[0]


def statement_name(statement: exp.Expr) -> str:
    """A short name for a statement: its SQL keyword (DROP, VACUUM, LISTEN...)."""
    if isinstance(statement, ALLOWED_ROOTS):
        return "SELECT"
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    if type(statement) in STATEMENT_NAMES:
        return STATEMENT_NAMES[type(statement)]
    return statement.sql(dialect=POSTGRES).split(maxsplit=1)[0].upper()


def reject_forbidden_nodes(query: exp.Query) -> None:
    """Nothing that writes, locks, creates or configures, anywhere in the tree (data-modifying CTEs,
    SELECT INTO and FOR UPDATE hide inside an otherwise plain SELECT)."""
    for node in query.walk():
        for node_type, why in FORBIDDEN_NODES:
            if isinstance(node, node_type):
                where = " in a CTE (a data-modifying CTE)" if node.find_ancestor(exp.CTE) else ""
                raise GuardRejectionError(f"{forbidden_node_label(node)} is not allowed{where}: {why}")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise GuardRejectionError(
                "WITH RECURSIVE is not allowed: a recursive query can make rows without end; "
                "use generate_series with constant bounds"
            )


def forbidden_node_label(node: exp.Expr) -> str:
    if isinstance(node, exp.Into):
        return "SELECT INTO"
    if isinstance(node, exp.Lock):
        return node.sql(dialect=POSTGRES).split(" OF ")[0].strip()
    return STATEMENT_NAMES.get(type(node), type(node).__name__.upper())


# -- functions, casts and attribute notation -----------------------------------------------------------


def called_name(function: exp.Func) -> str | None:
    """The name of the function PostgreSQL will call for this node, lower case, or None when the node is
    written as syntax or an operator (CASE, ARRAY[...], CURRENT_DATE, `a || b`). sqlglot renames the
    functions it knows (version() is CurrentVersion), so the name is read from the PostgreSQL text the
    node generates, which is what the database runs: a call is a name, `(`, and its matching `)` last."""
    if isinstance(function, exp.Anonymous | exp.AnonymousAggFunc):
        return function.name.lower()
    if function.args.get("alias") or function.args.get("offset"):  # UNNEST(...) WITH ORDINALITY AS u
        function = function.copy()
        function.set("alias", None)
        function.set("offset", None)
    tokens = POSTGRES.tokenize(function.sql(dialect=POSTGRES, comments=False))
    if len(tokens) < 3 or tokens[1].token_type != TokenType.L_PAREN or not WORD.match(tokens[0].text):
        return None
    depth = 0
    for position, token in enumerate(tokens[1:], start=1):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth == 0:
            return tokens[0].text.lower() if position == len(tokens) - 1 else None
    return None


def is_schema_qualified_call(dot: exp.Dot) -> bool:
    """`pg_catalog.pg_sleep(1)`: a function named with a schema (sqlglot reads it as a Dot)."""
    qualifier = dot.this
    while isinstance(qualifier, exp.Dot):
        qualifier = qualifier.this
    return isinstance(dot.expression, exp.Func) and isinstance(qualifier, exp.Identifier | exp.Var)


def reject_attribute_notation(query: exp.Query) -> None:
    """PostgreSQL reads `(x).f`, and `t.f` when f is no column of t, as the call f(x): a way to call any
    function that looks like field access. The catalog holds no composite-typed column, so no `(...).name`
    is ever a real column: each is refused (columns are written alias.column, which check_columns and
    reject_unknown_function_columns resolve against the real ones)."""
    for dot in query.find_all(exp.Dot):
        if not is_schema_qualified_call(dot) and not dot.find_ancestor(exp.DataType):
            written = dot.sql(dialect=POSTGRES, comments=False)
            shown = written if len(written) <= MAX_SHOWN_SQL else f"{written[: MAX_SHOWN_SQL - 3]}..."
            raise GuardRejectionError(
                f"attribute notation {shown} is not allowed: PostgreSQL reads (x).name as the function "
                "call name(x); select a column as alias.column"
            )


def reject_disallowed_functions(calls: list[tuple[exp.Func, str | None]]) -> None:
    """Every function call must be on the allowlist (rag/allowlist.py), however it is written: any case,
    quoted, schema-qualified, in FROM or WHERE. Quoted and schema-qualified names are refused even for
    allowed functions: built-in functions need neither, and both can reach another function of the
    same spelling."""
    for function, name in calls:
        if name is None:
            if isinstance(function, (exp.Binary, exp.Unary, *ALLOWED_SYNTAX)):
                continue
            raise GuardRejectionError(function_refusal(function.sql_name().lower()))
        if name not in ALLOWED_FUNCTIONS:
            raise GuardRejectionError(function_refusal(name))
        if isinstance(function.parent, exp.Dot) or (
            isinstance(function.parent, exp.Table) and function.parent.args.get("db")
        ):
            raise GuardRejectionError(
                f"schema-qualified function call {name}() is not allowed; call it by its plain name"
            )
        if isinstance(function.this, exp.Identifier) and function.this.quoted:
            raise GuardRejectionError(
                f'quoted function name "{function.name}" is not allowed; write it plainly'
            )


def reject_disallowed_types(query: exp.Query) -> None:
    """A cast runs the target type's input function: only the standard types of ALLOWED_TYPES, never the
    reg* types (`'pg_authid'::regclass` looks the system catalogs up by name) nor user-defined ones."""
    for data_type in query.find_all(exp.DataType):
        if isinstance(data_type, exp.ObjectIdentifier):
            raise GuardRejectionError(
                f"type {data_type.name.lower()} is not allowed: the reg* and oid types look up system "
                "catalog objects by name; cast to a standard type"
            )
        if data_type.this not in ALLOWED_TYPES:
            raise GuardRejectionError(
                f"type {data_type.sql(dialect=POSTGRES).lower()} is not allowed: casts only to standard "
                "types (numbers, text, dates and times, boolean, JSON, uuid, vector, arrays of these)"
            )


# -- bounded series ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    """A value the guard computed from literals: a number, a point in time (seconds since the epoch) or an
    interval (seconds). Months and years count as 30 and 365 days: a bound on a size, not a calendar."""

    kind: str
    value: Decimal


def reject_unbounded_series(calls: list[tuple[exp.Func, str | None]]) -> None:
    """`generate_series` makes rows out of nothing: `count(*)` over a billion of them wrote gigabytes of
    temp files. Its bounds must be constants the guard can read (numbers, or dates and times with an
    interval step), and the series of one query may make at most MAX_SERIES_VALUES rows together: their
    product, since two series in one FROM are a cross join."""
    total = 1
    for function, name in calls:
        if name != "generate_series":
            continue
        length = series_length(*series_arguments(function))
        if length is None:
            raise GuardRejectionError(
                "generate_series() needs constant bounds (numbers, or dates and times with an interval "
                f"step) so that its length is known; at most {MAX_SERIES_VALUES:,} values"
            )
        if length > MAX_SERIES_VALUES:
            raise GuardRejectionError(
                f"generate_series() would make {length:,} values; at most {MAX_SERIES_VALUES:,} are allowed"
            )
        total *= max(length, 1)
        if total > MAX_SERIES_VALUES:
            raise GuardRejectionError(
                f"the generate_series() calls of this query would make {total:,} rows together (they "
                f"multiply when joined); at most {MAX_SERIES_VALUES:,} are allowed"
            )


def series_arguments(function: exp.Func) -> tuple[exp.Expr | None, exp.Expr | None, exp.Expr | None]:
    if isinstance(function, exp.Anonymous):
        start, end, step, *_ = [*function.expressions, None, None, None]
        return start, end, step
    return function.args.get("start"), function.args.get("end"), function.args.get("step")


def series_length(start: exp.Expr | None, end: exp.Expr | None, step: exp.Expr | None) -> int | None:
    """How many values generate_series(start, end, step) makes, or None when the guard cannot tell."""
    first, last = constant(start), constant(end)
    by = constant(step) if step is not None else Constant("number", Decimal(1))
    if first is None or last is None or by is None or by.value == 0 or first.kind != last.kind:
        return None
    if (first.kind, by.kind) not in {("number", "number"), ("time", "interval")}:
        return None
    return max(0, int((last.value - first.value) / by.value) + 1)


def constant(node: exp.Expr | None) -> Constant | None:
    """The value of a constant expression built from literals, CURRENT_DATE/now(), casts, intervals,
    date_trunc and + - *, or None for anything else (a column, a subquery, another function)."""
    if isinstance(node, exp.Paren | exp.TimestampTrunc | exp.DateTrunc):
        return constant(node.this)
    if isinstance(node, exp.CurrentDate | exp.CurrentTimestamp | exp.Localtimestamp):
        return Constant("time", Decimal(int(time.time())))
    if isinstance(node, exp.Literal):
        return literal_constant(node.this) if node.is_string else number_constant(node.this)
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        return interval_constant(f"{node.this.name} {unit.name if unit else ''}")
    if isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType):
        inner = constant(node.this)
        wanted = "interval" if node.to.this == exp.DataType.Type.INTERVAL else None
        if node.to.this in TEMPORAL_TYPES:
            wanted = "time"
        elif node.to.is_type(*exp.DataType.NUMERIC_TYPES):
            wanted = "number"
        return inner if inner is not None and inner.kind == wanted else None
    if isinstance(node, exp.Neg):
        inner = constant(node.this)
        return Constant(inner.kind, -inner.value) if inner and inner.kind != "time" else None
    if isinstance(node, exp.Add | exp.Sub | exp.Mul):
        return arithmetic(node, constant(node.this), constant(node.expression))
    return None


def arithmetic(node: exp.Expr, left: Constant | None, right: Constant | None) -> Constant | None:
    """time ± interval, date ± days, interval * n, and plain numbers; None for the rest."""
    if left is None or right is None:
        return None
    if isinstance(node, exp.Mul):
        if {left.kind, right.kind} <= {"number", "interval"} and "number" in (left.kind, right.kind):
            kind = "interval" if "interval" in (left.kind, right.kind) else "number"
            return Constant(kind, left.value * right.value)
        return None
    if left.kind == "time" and right.kind == "number":  # date + integer: days
        right = Constant("interval", right.value * SECONDS_PER_UNIT["day"])
    sign = 1 if isinstance(node, exp.Add) else -1
    kinds = (left.kind, right.kind)
    if kinds in {("number", "number"), ("interval", "interval"), ("time", "interval")}:
        return Constant(left.kind, left.value + sign * right.value)
    if kinds == ("interval", "time") and sign == 1:
        return Constant("time", left.value + right.value)
    if kinds == ("time", "time") and sign == -1:
        return Constant("interval", left.value - right.value)
    return None


def number_constant(text: str) -> Constant | None:
    try:
        return Constant("number", Decimal(text))
    except InvalidOperation:
        return None


def literal_constant(text: str) -> Constant | None:
    """A string literal as PostgreSQL would read it here: a date or time, an interval or a number."""
    with contextlib.suppress(ValueError, OverflowError):
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return Constant("time", Decimal(int(moment.timestamp())))
    return interval_constant(text) or number_constant(text.strip())


def interval_constant(text: str) -> Constant | None:
    """'30 days', '1 month', '2 hours 30 minutes' in seconds; None for any other interval syntax."""
    parts = INTERVAL_PART.findall(text)
    if not parts or INTERVAL_PART.sub("", text).strip():
        return None
    seconds = Decimal(0)
    for amount, unit in parts:
        unit_seconds = SECONDS_PER_UNIT.get(INTERVAL_UNIT_ALIASES.get(unit.lower(), unit.lower()))
        if unit_seconds is None:
            return None
        seconds += Decimal(amount) * unit_seconds
    return Constant("interval", seconds)


# -- tables --------------------------------------------------------------------------------------------


def identifier_name(identifier: exp.Expr | str | None) -> str:
    """The name PostgreSQL sees: unquoted identifiers fold to lower case, quoted ones keep theirs."""
    if identifier is None:
        return ""
    if isinstance(identifier, str):
        return identifier.lower()
    if isinstance(identifier, exp.Identifier) and identifier.quoted:
        return identifier.this
    return identifier.name.lower()


def qualify_tables(query: exp.Query, catalog: Catalog) -> None:
    """Every table must be a CTE of the query or a table of the catalog's schemas; catalog tables get
    their schema written in (resolved through the search path like the reader role's)."""
    cte_names = {identifier_name(cte.args["alias"].this) for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Func) or table.args.get("rows_from"):
            continue
        if not isinstance(table.this, exp.Identifier):
            raise GuardRejectionError(f"unsupported table reference {table.sql(dialect=POSTGRES)}")
        if table.args.get("catalog"):
            raise GuardRejectionError(
                f"database-qualified name {table.sql(dialect=POSTGRES)} is not allowed; "
                f"use schema.table within {', '.join(catalog.schemas)}"
            )
        schema, name = identifier_name(table.args.get("db")), identifier_name(table.this)
        if not schema and name in cte_names:
            continue
        key = resolve_catalog_table(catalog, schema, name)
        table.set("db", exp.to_identifier(key[0]))


def resolve_catalog_table(catalog: Catalog, schema: str, name: str) -> TableKey:
    """The catalog table for `schema.name` (or `name` on the search path), or a rejection with a hint."""
    allowed = ", ".join(catalog.schemas)
    if schema and schema not in catalog.schemas:
        kind = "system catalog schema" if schema in SYSTEM_SCHEMAS or schema.startswith("pg_") else "schema"
        raise GuardRejectionError(f"{kind} {schema} is not allowed; only the app's schemas ({allowed})")
    if not schema and (name.startswith("pg_") or name in SYSTEM_SCHEMAS):
        raise GuardRejectionError(f"system catalog {name} is not allowed; only tables of {allowed}")
    key = catalog.resolve_table(name, schema or None)
    if key is not None:
        return key
    spelled = f"{schema}.{name}" if schema else name
    closest = catalog.closest_table(name)
    if closest is not None:
        raise GuardRejectionError(f'unknown table "{spelled}"; did you mean {closest[0]}.{closest[1]}?')
    tables = ", ".join(f"{table_schema}.{table}" for table_schema, table in catalog.tables)
    raise GuardRejectionError(f'unknown table "{spelled}"', [f"the tables are: {tables}"])


# -- columns -------------------------------------------------------------------------------------------


def check_columns(query: exp.Query, catalog: Catalog) -> None:
    """Every column must resolve to a column of a table, CTE or subquery in scope (aliases, USING and
    NATURAL joins, SELECT-list aliases in GROUP/ORDER BY included). sqlglot's qualifier decides; when it
    refuses, the culprit is located again here to say where it was looked for and what exists instead."""
    reject_foreign_column_qualifiers(query, catalog)
    reject_unknown_star_qualifiers(query)
    try:
        qualify(
            query.copy(),
            schema=catalog.sqlglot_schema,
            dialect=POSTGRES,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
            infer_schema=False,
        )
    except OptimizeError as error:
        raise explain_column_error(query, catalog, ANSI_ESCAPE.sub("", str(error))) from None


RECORD_FUNCTION_COLUMNS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("json_each", "jsonb_each", "json_each_text", "jsonb_each_text"), ("key", "value")),
    **dict.fromkeys(
        (
            "json_array_elements",
            "jsonb_array_elements",
            "json_array_elements_text",
            "jsonb_array_elements_text",
        ),
        ("value",),
    ),
}
"""Output columns of the allowed set-returning functions that name them (OUT parameters); any other
function in FROM makes one column named after its alias, or after itself when it has none."""


def reject_unknown_function_columns(query: exp.Query) -> None:
    """PostgreSQL reads `g.pg_sleep` over `generate_series(...) AS g`, where g has no column pg_sleep, as
    the call pg_sleep(g). sqlglot's qualifier knows the columns of tables, CTEs and subqueries but not
    those of functions in FROM, so a name qualified by such a function must be one of its real columns."""
    if not any(
        isinstance(source, exp.Unnest)
        or (isinstance(source, exp.Table) and not isinstance(source.this, exp.Identifier))
        for source in query.find_all(exp.Table, exp.Unnest)
    ):
        return
    for scope in traverse_scope(query):
        for column in scope.columns:
            alias = identifier_name(column.args.get("table"))
            if not alias or isinstance(column.this, exp.Star):
                continue
            source = find_source(scope, alias) or unaliased_function_source(scope, alias)
            columns = function_source_columns(source, alias) if source is not None else None
            name = identifier_name(column.this)
            if columns is not None and name not in columns:
                raise GuardRejectionError(
                    f'unknown column "{name}" in {alias}', [f"{alias} has: {', '.join(columns)}"]
                )


def unaliased_function_source(scope: Scope, name: str) -> exp.Table | None:
    """`FROM generate_series(1, 3)` without an alias is known by the function's name."""
    while scope is not None:
        for source in scope.sources.values():
            if (
                isinstance(source, exp.Table)
                and isinstance(source.this, exp.Func)
                and not source.alias
                and called_name(source.this) == name
            ):
                return source
        scope = scope.parent
    return None


def function_source_columns(source: exp.Table | Scope, alias: str) -> tuple[str, ...] | None:
    """The output columns of a function in FROM (or UNNEST), or None when `source` is no function."""
    if isinstance(source, Scope):
        if not isinstance(source.expression, exp.Unnest):
            return None
        unnest = source.expression
        table_alias, functions, ordinality = (
            unnest.args.get("alias"),
            [unnest],
            bool(unnest.args.get("offset")),
        )
    elif isinstance(source.this, exp.Func) or source.args.get("rows_from"):
        table_alias = source.args.get("alias")
        functions = (
            [source.this]
            if isinstance(source.this, exp.Func)
            else [table.this for table in source.args["rows_from"]]
        )
        ordinality = bool(source.args.get("ordinality"))
    else:
        return None
    if table_alias is not None and table_alias.columns:
        return tuple(identifier_name(column) for column in table_alias.columns)
    names = [called_name(function) or "" for function in functions]
    if len(names) == 1:
        columns = RECORD_FUNCTION_COLUMNS.get(names[0], (alias,))
    else:
        columns = tuple(column for name in names for column in RECORD_FUNCTION_COLUMNS.get(name, (name,)))
    return (*columns, "ordinality") if ordinality else columns


def reject_foreign_column_qualifiers(query: exp.Query, catalog: Catalog) -> None:
    """`a.b.c` is schema a, table b, column c to PostgreSQL (and c may be a function of the row): the
    schema must be one of the app's, and a database name is never needed."""
    for column in query.find_all(exp.Column):
        schema = identifier_name(column.args.get("db"))
        if column.args.get("catalog") or (schema and schema not in catalog.schemas):
            raise GuardRejectionError(
                f"column reference {column.sql(dialect=POSTGRES)} is not allowed: only alias.column or "
                f"schema.table.column within {', '.join(catalog.schemas)}"
            )


def reject_unknown_star_qualifiers(query: exp.Query) -> None:
    """`x.*` must name a table or alias in scope (sqlglot's qualifier lets an unknown one pass)."""
    if not any(isinstance(column.this, exp.Star) and column.table for column in query.find_all(exp.Column)):
        return
    for scope in traverse_scope(query):
        for star in scope.stars:
            alias = identifier_name(star.args.get("table"))
            if alias and find_source(scope, alias) is None:
                raise unknown_alias(scope, alias, star.sql(dialect=POSTGRES))


def explain_column_error(query: exp.Query, catalog: Catalog, message: str) -> GuardRejectionError:
    """Turn sqlglot's terse resolution error into the guard's "unknown column ... did you mean" form."""
    first_line = message.splitlines()[0] if message else "cannot resolve the query's columns"
    if match := UNJOINABLE.match(first_line):
        return GuardRejectionError(f"JOIN ... USING ({match['column']}): not a column of both joined tables")
    if match := UNKNOWN_QUALIFIED_COLUMN.match(first_line):
        name, qualified, alias = match["column"], True, None
    elif match := UNRESOLVED_COLUMN.match(first_line):
        alias_match = UNRESOLVED_FOR_TABLE.search(match["rest"])
        name, qualified, alias = match["column"], bool(alias_match), alias_match and alias_match["table"]
    else:
        return GuardRejectionError(f"cannot resolve the query's columns: {first_line}")
    for scope, column in columns_named(query, name):
        column_alias = identifier_name(column.args.get("table"))
        if bool(column_alias) != qualified or (alias and column_alias != alias):
            continue
        if column_alias and find_source(scope, column_alias) is None:
            return unknown_alias(scope, column_alias, column.sql(dialect=POSTGRES))
        sources = (
            [find_source(scope, column_alias)]
            if column_alias
            else [source for _, source in scope.selected_sources.values()]
        )
        listed = [source_columns(source, catalog) for source in sources if source]
        holders = [label for label, columns in listed if name in columns]
        if not column_alias and len(holders) > 1:
            return GuardRejectionError(
                f'ambiguous column "{name}": {" and ".join(holders)} both have it; '
                "qualify it with the alias of the table meant"
            )
        return unknown_column(name, listed)
    return GuardRejectionError(f'unknown column "{name}"')


def columns_named(query: exp.Query, name: str) -> Iterator[tuple[Scope, exp.Column]]:
    for scope in traverse_scope(query):
        for column in scope.columns:
            if identifier_name(column.this) == name:
                yield scope, column


def find_source(scope: Scope, alias: str) -> exp.Table | Scope | None:
    """What `alias` names in `scope` or, for correlated subqueries, in an enclosing scope."""
    while scope is not None:
        for source_alias, source in scope.sources.items():
            if identifier_name(source_alias) == alias:
                return source
        scope = scope.parent
    return None


def source_columns(source: exp.Table | Scope, catalog: Catalog) -> tuple[str, list[str]]:
    """(label, column names) of one FROM item: a catalog table, or a CTE/subquery's output columns."""
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Func):
        alias = source.args.get("alias")
        return source.alias_or_name, [identifier_name(column) for column in alias.columns] if alias else []
    if isinstance(source, exp.Table):
        key = (identifier_name(source.args.get("db")), identifier_name(source.this))
        return f"{key[0]}.{key[1]}", list(catalog.column_names(key))
    label = identifier_name(source.expression.parent.alias) if source.expression.parent else ""
    return label or "subquery", list(source.expression.named_selects)


def unknown_column(name: str, sources: list[tuple[str, list[str]]]) -> GuardRejectionError:
    """`unknown column "order_date" in raw_data.orders; did you mean created_at?`, or the real columns."""
    where = " or ".join(label for label, _ in sources) or "the query's tables"
    candidates = [(label, column) for label, columns in sources for column in columns]
    best = closest_name(name, [column for _, column in candidates])
    if best is not None:
        label = next(label for label, column in candidates if column == best)
        suffix = f" (in {label})" if len(sources) > 1 else ""
        return GuardRejectionError(f'unknown column "{name}" in {where}; did you mean {best}{suffix}?')
    hints = [
        f"{label} has: {', '.join(columns[:MAX_LISTED_COLUMNS])}"
        + (", ..." if len(columns) > MAX_LISTED_COLUMNS else "")
        for label, columns in sources
    ]
    return GuardRejectionError(f'unknown column "{name}" in {where}', hints)


def unknown_alias(scope: Scope, alias: str, reference: str) -> GuardRejectionError:
    known = [identifier_name(name) for name in scope.selected_sources]
    best = closest_name(alias, known)
    suggestion = f"; did you mean {best}?" if best else ""
    return GuardRejectionError(
        f'unknown table or alias "{alias}" in {reference}{suggestion}',
        [f"the query's FROM items are: {', '.join(known) or 'none'}"],
    )


# -- LIMIT ---------------------------------------------------------------------------------------------


def enforce_limit(query: exp.Query, max_rows: int) -> exp.Query:
    """Cap the rows: add `LIMIT max_rows`, lower a larger literal LIMIT, keep a smaller one. A LIMIT the
    guard cannot read (an expression, FETCH ... WITH TIES, which may return more) is kept inside and the
    whole query wrapped in `SELECT * FROM (...) AS capped LIMIT max_rows`."""
    current = query.args.get("limit")
    rows = max_rows if current is None else literal_row_count(current)
    if rows is None:
        query = exp.select("*").from_(query.subquery("capped"), copy=False)
        rows = max_rows
    query.set("limit", exp.Limit(expression=exp.Literal.number(min(rows, max_rows))))
    return query


def literal_row_count(limit: exp.Expr) -> int | None:
    """The row count of `LIMIT n` or `FETCH FIRST n ROWS ONLY` when n is a plain integer literal."""
    if isinstance(limit, exp.Fetch):
        options = limit.args.get("limit_options")
        if options is not None and (options.args.get("with_ties") or options.args.get("percent")):
            return None
        count = limit.args.get("count")
    else:
        count = limit.expression
    if isinstance(count, exp.Literal) and not count.is_string and count.this.isdigit():
        return int(count.this)
    return None
