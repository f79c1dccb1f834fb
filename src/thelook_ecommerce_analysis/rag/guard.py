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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.tokens import Token, TokenType

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey, closest_name

POSTGRES = Dialect.get_or_raise("postgres")
MAX_LISTED_COLUMNS = 40


@dataclass(frozen=True)
class GuardResult:
    """The verdict: `sql` is the normalised statement to run when `ok`; otherwise `reason` is one line
    saying what is wrong and `hints` what the real catalog offers instead (fed back to the LLM)."""

    ok: bool
    sql: str = ""
    reason: str = ""
    hints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FunctionFamily:
    """Dangerous functions that share one reason: exact names and name prefixes, all lower case."""

    reason: str
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        return name in self.names or name.startswith(self.prefixes)


DENIED_FUNCTION_FAMILIES: tuple[FunctionFamily, ...] = (
    FunctionFamily(
        "reads or lists files on the database server",
        frozenset(
            {"pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_current_logfile", "pg_logdir_ls"}
        ),
        ("pg_ls_", "pg_file_"),
    ),
    FunctionFamily(
        "large-object functions import and export server files and store data (lo_import, lo_export)",
        frozenset({"loread", "lowrite"}),
        ("lo_",),
    ),
    FunctionFamily("connects to other databases or servers", prefixes=("dblink", "postgres_fdw")),
    FunctionFamily(
        "runs SQL given as text, which would bypass this guard's checks",
        frozenset({"ts_stat", "ts_rewrite"}),
        ("query_to_xml", "table_to_xml", "cursor_to_xml", "schema_to_xml", "database_to_xml"),
    ),
    FunctionFamily(
        "changes or reads server settings: set_config can lift the statement timeout (the second wall), "
        "and settings disclose paths and configuration that no business question needs",
        frozenset({"set_config", "current_setting", "pg_reload_conf", "pg_show_all_settings"}),
        ("pg_show_all_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings", "pg_config"),
    ),
    FunctionFamily(
        "signals or messages other sessions",
        frozenset({"pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend", "pg_notify"}),
        ("pg_log_backend_memory_contexts",),
    ),
    FunctionFamily("sleeps, holding a connection without doing work", prefixes=("pg_sleep",)),
    FunctionFamily(
        "reads or advances a sequence (nextval and setval write)",
        frozenset({"nextval", "setval", "currval", "lastval"}),
    ),
    FunctionFamily(
        "takes advisory locks that outlive the query and can block the ETL job",
        prefixes=("pg_advisory", "pg_try_advisory"),
    ),
    FunctionFamily(
        "assigns or exposes transaction ids (txid_current writes a transaction id)",
        frozenset({"pg_current_xact_id", "pg_current_xact_id_if_assigned", "pg_export_snapshot"}),
        ("txid_", "pg_current_snapshot", "pg_snapshot_", "pg_xact_"),
    ),
    FunctionFamily(
        "administers replication, WAL, backups, logs or statistics",
        frozenset({"pg_switch_wal", "pg_promote", "pg_rotate_logfile", "pg_import_system_collations"}),
        (
            *(
                "pg_logical_",
                "pg_replication_",
                "pg_create_",
                "pg_drop_",
                "pg_copy_",
                "pg_wal_",
                "pg_backup_",
            ),
            *("pg_start_backup", "pg_stop_backup", "pg_stat_reset", "pg_sync_replication_slots"),
        ),
    ),
    FunctionFamily(
        "reads raw storage pages (pageinspect, pgstattuple)",
        frozenset({"get_raw_page", "page_header", "heap_page_items", "heap_page_item_attrs"}),
        ("bt_page_", "bt_metap", "pgstat", "fsm_page_contents", "brin_page_", "gin_page_", "hash_page_"),
    ),
    FunctionFamily(
        "probes the server's identity, network address or privileges (reconnaissance)",
        frozenset({"version", "current_version", "inet_server_addr", "inet_server_port"})
        | frozenset({"inet_client_addr", "inet_client_port"}),
        ("has_",),
    ),
    FunctionFamily(
        "is a PostgreSQL server or catalog function (pg_*), for administration and introspection, "
        "which no question about the shop's data needs",
        prefixes=("pg_",),
    ),
)

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
    reject_denied_functions(query)
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


def forbidden_node_label(node: exp.Expr) -> str:
    if isinstance(node, exp.Into):
        return "SELECT INTO"
    if isinstance(node, exp.Lock):
        return node.sql(dialect=POSTGRES).split(" OF ")[0].strip()
    return STATEMENT_NAMES.get(type(node), type(node).__name__.upper())


# -- functions -----------------------------------------------------------------------------------------


def denied_function_family(name: str) -> FunctionFamily | None:
    """The denylist family of the function `name` (any case), or None when it is allowed."""
    lowered = name.lower()
    return next((family for family in DENIED_FUNCTION_FAMILIES if family.matches(lowered)), None)


def written_name(function: exp.Func) -> str:
    """The function's PostgreSQL name for messages (sqlglot renames the ones it knows: CurrentVersion)."""
    if isinstance(function, exp.Anonymous):
        return function.name.lower()
    return function.sql(dialect=POSTGRES).split("(", 1)[0].strip().lower()


def function_names(function: exp.Func) -> set[str]:
    """Every name a function node may go by: the name as written for functions sqlglot does not know,
    and sqlglot's own names for the ones it does (version() becomes CurrentVersion)."""
    if isinstance(function, exp.Anonymous):
        return {function.name.lower()}
    return {function.key.lower(), *(name.lower() for name in type(function).sql_names())}


def reject_denied_functions(query: exp.Query) -> None:
    """Refuse denylisted functions, however written (case, quotes, schema prefix), and any function
    called with a schema prefix or a quoted name: built-in functions need neither, and both are ways to
    reach a function the denylist would otherwise not recognise."""
    for function in query.find_all(exp.Func):
        for name in sorted(function_names(function)):
            if family := denied_function_family(name):
                raise GuardRejectionError(
                    f"function {written_name(function)}() is not allowed: it {family.reason}"
                )
        if not isinstance(function, exp.Anonymous):
            continue
        if isinstance(function.parent, exp.Dot) or (
            isinstance(function.parent, exp.Table) and function.parent.args.get("db")
        ):
            raise GuardRejectionError(
                f"schema-qualified function call {function.name}() is not allowed; call it by its plain name"
            )
        if isinstance(function.this, exp.Identifier) and function.this.quoted:
            raise GuardRejectionError(
                f'quoted function name "{function.name}" is not allowed; write it plainly'
            )


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
