"""What the SQL guard lets a query call: the functions and types fit for analytics, and nothing else.

An allowlist, not a denylist: PostgreSQL has thousands of functions, reachable by call syntax, by
attribute notation (`(x).f` is `f(x)`), by casts and by operators, and a list of the dangerous ones is
never complete. A function that is not named here is refused. The families of well-known dangerous
functions below only choose the words of the refusal, so that the LLM (and a person reading the log)
learns why; they decide nothing on their own.

docs/guard.md lists the same groups; tests/rag/test_guard_allowlist.py checks that every name here passes
the guard and runs as the read-only role.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp


@dataclass(frozen=True)
class FunctionGroup:
    """Allowed functions of one kind, by their PostgreSQL names (lower case)."""

    label: str
    names: frozenset[str]


ALLOWED_FUNCTION_GROUPS: tuple[FunctionGroup, ...] = (
    FunctionGroup(
        "aggregate",
        frozenset(
            {"count", "sum", "avg", "min", "max", "string_agg", "array_agg", "bool_and", "bool_or"}
            | {"every", "any_value", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop"}
            | {"var_samp", "corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2"}
            | {"regr_count", "regr_avgx", "regr_avgy", "percentile_cont", "percentile_disc", "mode"}
            | {"json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "grouping"}
        ),
    ),
    FunctionGroup(
        "window",
        frozenset(
            {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead"}
            | {"first_value", "last_value", "nth_value"}
        ),
    ),
    FunctionGroup(
        "math",
        frozenset(
            {"abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "power", "pow"}
            | {"exp", "ln", "log", "log10", "mod", "div", "pi", "degrees", "radians", "width_bucket"}
            | {"random", "gcd", "lcm", "scale", "trim_scale", "sin", "cos", "tan", "asin", "acos"}
            | {"atan", "atan2"}
        ),
    ),
    FunctionGroup(
        "string",
        frozenset(
            {"length", "char_length", "character_length", "octet_length", "lower", "upper", "initcap"}
            | {"left", "right", "substr", "substring", "position", "strpos", "overlay", "replace"}
            | {"translate", "trim", "btrim", "ltrim", "rtrim", "concat", "concat_ws", "split_part"}
            | {"reverse", "starts_with", "string_to_array", "array_to_string", "regexp_replace"}
            | {"regexp_match", "regexp_matches", "regexp_like", "regexp_count", "regexp_substr"}
            | {"regexp_split_to_array", "regexp_split_to_table", "to_char", "to_number"}
        ),
    ),
    FunctionGroup(
        "date/time",
        frozenset(
            {"date_trunc", "date_part", "extract", "age", "now", "date", "to_date", "to_timestamp"}
            | {"make_date", "make_time", "make_timestamp", "make_timestamptz", "make_interval"}
            | {"date_bin", "justify_days", "justify_hours", "justify_interval", "isfinite", "timezone"}
        ),
    ),
    FunctionGroup(
        "conditional",
        frozenset({"coalesce", "nullif", "greatest", "least", "num_nulls", "num_nonnulls", "cast", "exists"}),
    ),
    FunctionGroup(
        "JSON",
        frozenset(
            {"to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array"}
            | {"jsonb_build_array", "json_extract_path", "jsonb_extract_path", "json_extract_path_text"}
            | {"jsonb_extract_path_text", "json_array_length", "jsonb_array_length", "json_typeof"}
            | {"jsonb_typeof", "json_array_elements", "jsonb_array_elements", "json_array_elements_text"}
            | {"jsonb_array_elements_text", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text"}
            | {"json_object_keys", "jsonb_object_keys", "jsonb_strip_nulls", "row_to_json"}
        ),
    ),
    FunctionGroup(
        "array",
        frozenset(
            {"array", "array_length", "cardinality", "array_position", "array_positions", "array_remove"}
            | {"array_append", "array_prepend", "array_cat", "array_lower", "array_upper", "unnest"}
        ),
    ),
    FunctionGroup("series (bounded)", frozenset({"generate_series"})),
    FunctionGroup("pg_trgm", frozenset({"similarity", "word_similarity", "strict_word_similarity"})),
    FunctionGroup(
        "pgvector",
        frozenset(
            {"cosine_distance", "l2_distance", "inner_product", "l1_distance", "vector_dims", "vector_norm"}
            | {"l2_normalize", "subvector"}
        ),
    ),
)

ALLOWED_FUNCTIONS: frozenset[str] = frozenset().union(*(group.names for group in ALLOWED_FUNCTION_GROUPS))

ONLY_ANALYTIC_FUNCTIONS = (
    "only analytic functions may be called ("
    + ", ".join(group.label for group in ALLOWED_FUNCTION_GROUPS)
    + "); see docs/guard.md"
)
"""The end of every refusal of a function the allowlist does not name (one wording, one place)."""

ALLOWED_SYNTAX: tuple[type[exp.Expr], ...] = (
    exp.Case,
    exp.If,
    exp.Array,
    exp.CurrentDate,
    exp.CurrentTimestamp,
    exp.Localtime,
    exp.Localtimestamp,
    exp.AtTimeZone,
)
"""sqlglot function nodes that PostgreSQL reads as syntax, not as a call of a named function (CASE,
ARRAY[...], CURRENT_DATE...). Operators (sqlglot's Binary and Unary nodes: `+`, `||`, `->`, `<->`...) are
allowed as such: the reader cannot create operators, so each is a built-in one."""

ALLOWED_TYPES: frozenset[exp.DataType.Type] = frozenset(
    {
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.DATE,
        exp.DataType.Type.TIME,
        exp.DataType.Type.TIMETZ,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPTZ,
        exp.DataType.Type.INTERVAL,
        exp.DataType.Type.JSON,
        exp.DataType.Type.JSONB,
        exp.DataType.Type.UUID,
        exp.DataType.Type.VECTOR,
        exp.DataType.Type.ARRAY,
    }
)
"""Types a query may cast to (an ARRAY's element type is checked as a type of its own). Not reg* and oid
(they look objects up in the system catalogs by name), not user-defined types (a cast to a type runs its
input function)."""


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
    FunctionFamily(
        "reads what other sessions are doing (their queries, locks, addresses)",
        frozenset({"pg_stat_get_activity", "pg_lock_status", "pg_blocking_pids"})
        | frozenset({"pg_safe_snapshot_blocking_pids", "pg_isolation_test_session_is_blocked"}),
        ("pg_stat_get_backend_", "pg_stat_get_progress_info"),
    ),
    FunctionFamily("sleeps, holding a connection without doing work", prefixes=("pg_sleep",)),
    FunctionFamily(
        "builds values of any size from a few bytes of SQL, which no question needs",
        frozenset({"repeat", "lpad", "rpad", "array_fill", "format"}),
    ),
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
        | frozenset({"inet_client_addr", "inet_client_port", "current_database", "current_schema"})
        | frozenset({"current_user", "session_user", "current_role", "current_schemas", "pg_backend_pid"}),
        ("has_",),
    ),
    FunctionFamily(
        "is a PostgreSQL server or catalog function (pg_*), for administration and introspection, "
        "which no question about the shop's data needs",
        prefixes=("pg_",),
    ),
)
"""Not a list of what is refused (everything outside the allowlist is), but of why, for the names whose
danger is well known: the refusal then says what the function would have done."""


def denied_function_family(name: str) -> FunctionFamily | None:
    """The family that explains why `name` (any case) is dangerous, or None for a plain unknown name."""
    lowered = name.lower()
    return next((family for family in DENIED_FUNCTION_FAMILIES if family.matches(lowered)), None)


def function_refusal(name: str) -> str:
    """The one-line refusal of calling `name`: the family's reason when it has one."""
    family = denied_function_family(name)
    why = f"it {family.reason}" if family else ONLY_ANALYTIC_FUNCTIONS
    return f"function {name}() is not allowed: {why}"
