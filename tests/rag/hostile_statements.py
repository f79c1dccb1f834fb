"""Hostile SQL in classes, each statement with the words the guard's refusal must contain and what the
read-only role does with it on its own. Shared by the guard tests and the second-wall tests so both walls
see the SAME statements, and the figures of docs/guard.md ("what each wall stops alone") are counted here.

`database` is None where PostgreSQL itself refuses or stops the statement (an error: a missing privilege,
a read-only transaction, the temp file limit, the statement timeout). Where PostgreSQL runs it for the
read-only role, `database` says why that is harmless; the tests assert that it does run, so the documented
behaviour is checked rather than assumed.

`both_walls` marks the classes that issue 14 requires each wall to stop on its own: every statement of
them is refused by the guard AND refused or stopped by the role with no guard in front.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    sql: str
    refusal: str
    database: str | None = None


@dataclass(frozen=True)
class HostileClass:
    name: str
    statements: tuple[Hostile, ...]
    both_walls: bool = False


NOT_SELECT = "only SELECT queries are allowed"
MULTI = "only one statement is allowed"
WRITES_IN_CTE = "in a CTE (a data-modifying CTE)"
SLEEPS = "it sleeps"
FILES = "reads or lists files"
SYSTEM = "system catalog"
ATTRIBUTE = "attribute notation"
SIGNALS = "signals or messages other sessions"
ACTIVITY = "reads what other sessions are doing"
ADVISORY = "takes advisory locks"
BUILDS = "builds values of any size"
SERIES = "generate_series() would make"
SERIES_TOGETHER = "rows together (they multiply when joined)"
CATALOG_TYPE = "the reg* and oid types look up system catalog objects"


WRITES = HostileClass(
    "writes",
    (
        Hostile("INSERT INTO raw_data.orders (order_id) VALUES (-1)", f"{NOT_SELECT}, not INSERT"),
        Hostile("UPDATE raw_data.orders SET status = 'Complete'", f"{NOT_SELECT}, not UPDATE"),
        Hostile("DELETE FROM raw_data.orders", f"{NOT_SELECT}, not DELETE"),
        Hostile(
            "MERGE INTO raw_data.orders o USING raw_data.users u ON o.user_id = u.id "
            "WHEN MATCHED THEN DELETE",
            f"{NOT_SELECT}, not MERGE",
        ),
        Hostile("TRUNCATE raw_data.orders", f"{NOT_SELECT}, not TRUNCATE"),
        Hostile("INSERT INTO raw_data.orders SELECT * FROM raw_data.orders", f"{NOT_SELECT}, not INSERT"),
        Hostile(
            "UPDATE raw_data.order_items SET sale_price = 0 "
            "WHERE id IN (SELECT id FROM raw_data.order_items)",
            f"{NOT_SELECT}, not UPDATE",
        ),
        Hostile("COPY raw_data.orders FROM '/tmp/orders.csv'", f"{NOT_SELECT}, not COPY"),
        Hostile("COPY raw_data.orders TO '/tmp/orders.csv'", f"{NOT_SELECT}, not COPY"),
        Hostile("COPY (SELECT 1) TO PROGRAM 'id'", f"{NOT_SELECT}, not COPY"),
    ),
)

DDL_AND_PRIVILEGES = HostileClass(
    "DDL and privileges",
    (
        Hostile("DROP TABLE raw_data.orders", f"{NOT_SELECT}, not DROP"),
        Hostile("DROP SCHEMA raw_data CASCADE", f"{NOT_SELECT}, not DROP"),
        Hostile("CREATE TABLE raw_data.evil (id int)", f"{NOT_SELECT}, not CREATE"),
        Hostile("CREATE TABLE raw_data.stolen AS SELECT * FROM raw_data.orders", f"{NOT_SELECT}, not CREATE"),
        Hostile("CREATE TEMP TABLE stolen AS SELECT * FROM raw_data.orders", f"{NOT_SELECT}, not CREATE"),
        Hostile("CREATE VIEW raw_data.v AS SELECT 1 AS one", f"{NOT_SELECT}, not CREATE"),
        Hostile(
            "CREATE FUNCTION raw_data.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", f"{NOT_SELECT}, not CREATE"
        ),
        Hostile("CREATE INDEX ON raw_data.orders (status)", f"{NOT_SELECT}, not CREATE"),
        Hostile("CREATE EXTENSION dblink", f"{NOT_SELECT}, not CREATE"),
        Hostile("ALTER TABLE raw_data.orders ADD COLUMN x int", f"{NOT_SELECT}, not ALTER"),
        Hostile("ALTER ROLE thelook_reader SUPERUSER", NOT_SELECT),
        Hostile("GRANT ALL ON raw_data.orders TO PUBLIC", f"{NOT_SELECT}, not GRANT"),
        Hostile("REVOKE SELECT ON raw_data.orders FROM thelook_reader", f"{NOT_SELECT}, not REVOKE"),
        Hostile("COMMENT ON TABLE raw_data.orders IS 'owned'", f"{NOT_SELECT}, not COMMENT"),
    ),
)

SESSION = HostileClass(
    "session, transaction and utility statements",
    (
        Hostile(
            "SET statement_timeout = 0",
            f"{NOT_SELECT}, not SET",
            "SET only changes this session; the role's defaults return with the next connection",
        ),
        Hostile(
            "SET default_transaction_read_only = off",
            f"{NOT_SELECT}, not SET",
            "lifting read-only for a session still leaves the reader without any write privilege",
        ),
        Hostile("SET ROLE thelook_owner", f"{NOT_SELECT}, not SET"),
        Hostile("SET SESSION AUTHORIZATION thelook_owner", f"{NOT_SELECT}, not SET"),
        Hostile("RESET ALL", f"{NOT_SELECT}, not RESET", "RESET ALL returns to the role's own safe defaults"),
        Hostile("DO $$ BEGIN DELETE FROM raw_data.orders; END $$", f"{NOT_SELECT}, not DO"),
        Hostile("CALL raw_data.cleanup()", f"{NOT_SELECT}, not CALL"),
        Hostile("EXPLAIN ANALYZE DELETE FROM raw_data.orders", f"{NOT_SELECT}, not EXPLAIN"),
        Hostile(
            "EXPLAIN ANALYZE SELECT * FROM raw_data.orders",
            f"{NOT_SELECT}, not EXPLAIN",
            "EXPLAIN ANALYZE of a SELECT only reads what the reader may read",
        ),
        Hostile(
            "VACUUM FULL raw_data.orders",
            f"{NOT_SELECT}, not VACUUM",
            "PostgreSQL skips a table the role may not maintain with a WARNING: "
            "nothing is vacuumed or locked",
        ),
        Hostile("LOCK TABLE raw_data.orders IN ACCESS EXCLUSIVE MODE", "not valid PostgreSQL"),
        Hostile(
            "LISTEN thelook", f"{NOT_SELECT}, not LISTEN", "LISTEN only subscribes this session to a channel"
        ),
        Hostile(
            "NOTIFY thelook, 'ping'",
            "not valid PostgreSQL",
            "NOTIFY only sends a message to the channel's listeners; it reads and writes no data",
        ),
        Hostile(
            "PREPARE wipe AS DELETE FROM raw_data.orders; EXECUTE wipe",
            f"{MULTI}, found 2 (PREPARE, EXECUTE)",
        ),
        Hostile("CHECKPOINT", f"{NOT_SELECT}, not CHECKPOINT"),
        Hostile("LOAD 'auto_explain'", f"{NOT_SELECT}, not LOAD"),
        Hostile("ALTER SYSTEM SET work_mem = '4GB'", f"{NOT_SELECT}, not ALTER"),
        Hostile("REFRESH MATERIALIZED VIEW metrics.monthly_sales", f"{NOT_SELECT}, not REFRESH"),
        Hostile(
            "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM raw_data.orders",
            f"{NOT_SELECT}, not DECLARE",
            "a cursor over an allowed table only reads what the reader may read",
        ),
        Hostile(
            "BEGIN READ WRITE", NOT_SELECT, "a read-write transaction gives the reader no write privilege"
        ),
        Hostile(
            "TABLE raw_data.orders",
            "not valid PostgreSQL",
            "TABLE x is SELECT * FROM x, a read the reader may do",
        ),
    ),
)

MORE_THAN_ONE_STATEMENT = HostileClass(
    "more than one statement",
    (
        Hostile("SELECT 1; DROP TABLE raw_data.orders", f"{MULTI}, found 2 (SELECT, DROP)"),
        Hostile("SELECT 1; -- harmless\nDROP TABLE raw_data.orders", f"{MULTI}, found 2 (SELECT, DROP)"),
        Hostile("SELECT 1 -- harmless\n; DELETE FROM raw_data.orders", f"{MULTI}, found 2 (SELECT, DELETE)"),
        Hostile("SELECT 1 /* ; */ ; DELETE FROM raw_data.orders", f"{MULTI}, found 2 (SELECT, DELETE)"),
        Hostile(
            "SELECT * FROM raw_data.orders; UPDATE raw_data.orders SET status = 'x'",
            f"{MULTI}, found 2 (SELECT, UPDATE)",
        ),
        Hostile("SELECT $$;$$; DROP TABLE raw_data.orders", f"{MULTI}, found 2 (SELECT, DROP)"),
        Hostile("SELECT $x$ ; $x$; TRUNCATE raw_data.orders", f"{MULTI}, found 2 (SELECT, TRUNCATE)"),
        Hostile(
            "SELECT 1 /* nested /* comment */ still a comment */; DROP TABLE raw_data.orders",
            f"{MULTI}, found 2 (SELECT, DROP)",
        ),
        Hostile("SELECT 1 /* unterminated; DROP TABLE raw_data.orders", "not valid PostgreSQL"),
        Hostile(r"SELECT E'\\'; DROP TABLE raw_data.orders; --'", f"{MULTI}, found 2 (SELECT, DROP)"),
        Hostile(
            "SELECT * FROM raw_data.orders WHERE status = $$'; DROP TABLE raw_data.orders; --$$; "
            "TRUNCATE raw_data.orders",
            f"{MULTI}, found 2 (SELECT, TRUNCATE)",
        ),
        Hostile("SELECT 1 \\; DROP TABLE raw_data.orders", "not valid PostgreSQL"),
        Hostile(
            "SELECT 1; SELECT 2",
            f"{MULTI}, found 2 (SELECT, SELECT)",
            "two harmless SELECTs: PostgreSQL runs both (the guard insists on one for a clear result)",
        ),
    ),
)

DATA_MODIFYING_CTES = HostileClass(
    "data-modifying CTEs, SELECT INTO, row locks",
    (
        Hostile("WITH d AS (DELETE FROM raw_data.orders RETURNING *) SELECT count(*) FROM d", WRITES_IN_CTE),
        Hostile(
            "WITH u AS (UPDATE raw_data.orders SET status = 'x' RETURNING order_id) SELECT * FROM u",
            WRITES_IN_CTE,
        ),
        Hostile(
            "WITH i AS (INSERT INTO raw_data.orders (order_id) VALUES (-1) RETURNING order_id) "
            "SELECT * FROM i",
            WRITES_IN_CTE,
        ),
        Hostile(
            "SELECT * FROM raw_data.orders WHERE order_id IN "
            "(WITH d AS (DELETE FROM raw_data.orders RETURNING order_id) SELECT order_id FROM d)",
            WRITES_IN_CTE,
        ),
        Hostile("SELECT * INTO raw_data.stolen FROM raw_data.orders", "SELECT INTO is not allowed"),
        Hostile("SELECT * INTO TEMP stolen FROM raw_data.orders", "SELECT INTO is not allowed"),
        Hostile("SELECT * FROM raw_data.orders FOR UPDATE", "FOR UPDATE is not allowed"),
        Hostile("SELECT * FROM raw_data.orders FOR SHARE", "FOR SHARE is not allowed"),
        Hostile("SELECT * FROM raw_data.orders FOR NO KEY UPDATE", "FOR NO KEY UPDATE is not allowed"),
        Hostile(
            "SELECT * FROM raw_data.orders FOR KEY SHARE SKIP LOCKED",
            "FOR KEY SHARE SKIP LOCKED is not allowed",
        ),
        Hostile(
            "SELECT o.order_id FROM raw_data.orders o JOIN raw_data.users u ON u.id = o.user_id "
            "FOR UPDATE OF o NOWAIT",
            "FOR UPDATE is not allowed",
        ),
    ),
)

DANGEROUS_FUNCTIONS = HostileClass(
    "other dangerous functions",
    (
        Hostile("SELECT pg_read_file('/etc/passwd')", FILES),
        Hostile("SELECT pg_read_binary_file('postgresql.conf')", FILES),
        Hostile("SELECT pg_ls_dir('.')", FILES),
        Hostile("SELECT * FROM pg_ls_waldir()", FILES),
        Hostile("SELECT pg_stat_file('postgresql.conf')", FILES),
        Hostile("SELECT lo_import('/etc/passwd')", "large-object functions"),
        Hostile("SELECT lo_export(1, '/tmp/stolen')", "large-object functions"),
        Hostile("SELECT lo_create(0)", "large-object functions"),
        Hostile("SELECT lo_get(1)", "large-object functions"),
        Hostile(
            "SELECT * FROM dblink('host=127.0.0.1', 'DELETE FROM raw_data.orders') AS t(x int)",
            "connects to other databases",
        ),
        Hostile(
            "SELECT set_config('statement_timeout', '0', false)",
            "set_config can lift the statement timeout",
            "set_config changes only this session's settings, like SET (the reader keeps set_config: "
            "retrieval sets hnsw.ef_search with it)",
        ),
        Hostile("SELECT current_setting('data_directory')", "changes or reads server settings"),
        Hostile("SELECT pg_reload_conf()", "changes or reads server settings"),
        Hostile("SELECT nextval('raw_data.order_id_seq')", "reads or advances a sequence"),
        Hostile("SELECT setval('raw_data.order_id_seq', 1)", "reads or advances a sequence"),
        Hostile("SELECT currval('raw_data.order_id_seq')", "reads or advances a sequence"),
        Hostile("SELECT txid_current()", "assigns or exposes transaction ids"),
        Hostile("SELECT pg_current_xact_id()", "assigns or exposes transaction ids"),
        Hostile("SELECT query_to_xml('SELECT * FROM pg_authid', true, true, '')", "runs SQL given as text"),
        Hostile("SELECT table_to_xml('raw_data.etl_state', true, true, '')", "runs SQL given as text"),
        Hostile(
            "SELECT * FROM ts_stat('SELECT to_tsvector(rolname) FROM pg_authid')", "runs SQL given as text"
        ),
        Hostile(
            "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')",
            "runs SQL given as text",
        ),
        Hostile("SELECT pg_logical_emit_message(true, 'x', 'y')", "administers replication"),
        Hostile("SELECT pg_create_restore_point('x')", "administers replication"),
        Hostile("SELECT pg_switch_wal()", "administers replication"),
        Hostile("SELECT pg_rotate_logfile()", "administers replication"),
        Hostile("SELECT pg_stat_reset()", "administers replication"),
        Hostile(
            "SELECT version()",
            "probes the server's identity",
            "the server version is public knowledge to any client; no data is exposed",
        ),
        Hostile(
            "SELECT has_table_privilege('raw_data.orders', 'DELETE')",
            "probes the server's identity",
            "a privilege probe answers about the reader's own privileges only",
        ),
        Hostile(
            "SELECT current_user",
            "probes the server's identity",
            "the reader's own name, which its client already knows",
        ),
        Hostile(
            "SELECT md5(email) FROM raw_data.users",
            "only analytic functions may be called",
            "a hash of a column the reader may read anyway: not on the allowlist, but harmless",
        ),
    ),
)

ATTRIBUTE_NOTATION = HostileClass(
    "attribute notation: (x).f and t.f call f(x)",
    (
        Hostile("SELECT (pg_backend_pid()).pg_cancel_backend", ATTRIBUTE),
        Hostile("SELECT (pg_backend_pid()).pg_terminate_backend", ATTRIBUTE),
        Hostile("SELECT (1).pg_sleep", ATTRIBUTE),
        Hostile("SELECT ((1)).pg_sleep", ATTRIBUTE),
        Hostile('SELECT (1)."pg_sleep"', ATTRIBUTE),
        Hostile("SELECT (1).PG_SLEEP", ATTRIBUTE),
        Hostile("SELECT (1.5::float8).pg_sleep FROM raw_data.orders", ATTRIBUTE),
        Hostile("SELECT ('1 minute'::interval).pg_sleep_for", ATTRIBUTE),
        Hostile("SELECT (now() + interval '1 minute').pg_sleep_until", ATTRIBUTE),
        Hostile("SELECT ('select 1').ts_stat", ATTRIBUTE),
        Hostile("SELECT ('SELECT to_tsvector(rolname) FROM pg_authid').ts_stat", ATTRIBUTE),
        Hostile("SELECT (o.user_id).pg_advisory_lock FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT (42).pg_advisory_lock", ATTRIBUTE),
        Hostile("SELECT (42::bigint).pg_try_advisory_lock", ATTRIBUTE),
        Hostile("SELECT (o.order_id::int).pg_stat_get_backend_activity FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT (o.order_id::int).pg_stat_get_backend_client_addr FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT (o.order_id::int).pg_cancel_backend FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT (o.order_id::int).pg_terminate_backend FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT (o.order_id::int).pg_blocking_pids FROM raw_data.orders o", ATTRIBUTE),
        Hostile("SELECT order_id FROM raw_data.orders o WHERE (o.order_id).pg_sleep IS NULL", ATTRIBUTE),
        Hostile("SELECT order_id FROM raw_data.orders ORDER BY (order_id).pg_sleep", ATTRIBUTE),
        Hostile("WITH x AS (SELECT (1).pg_sleep AS slept) SELECT * FROM x", ATTRIBUTE),
        Hostile("SELECT * FROM raw_data.orders WHERE order_id IN (SELECT (1).pg_sleep)", ATTRIBUTE),
        Hostile("SELECT ('x').repeat", ATTRIBUTE),
        Hostile("SELECT g.pg_sleep FROM generate_series(1, 1) AS g", 'unknown column "pg_sleep" in g'),
        Hostile("SELECT g.pg_sleep FROM generate_series(1, 1) AS g(n)", 'unknown column "pg_sleep" in g'),
        Hostile("SELECT x.pg_sleep FROM unnest(ARRAY[1]) AS x", 'unknown column "pg_sleep" in x'),
        Hostile(
            "SELECT generate_series.pg_sleep FROM generate_series(1, 1)",
            'unknown column "pg_sleep" in generate_series',
        ),
        Hostile(
            "SELECT w.pg_advisory_lock FROM generate_series(1, 1) AS w",
            'unknown column "pg_advisory_lock" in w',
        ),
        Hostile(
            "SELECT raw_data.orders.pg_sleep FROM raw_data.orders",
            'unknown column "pg_sleep" in raw_data.orders',
        ),
        Hostile(
            "SELECT o.order_id.pg_cancel_backend FROM raw_data.orders o",
            "column reference o.order_id.pg_cancel_backend is not allowed",
        ),
    ),
    both_walls=True,
)

SESSION_SIGNALLING = HostileClass(
    "session signalling",
    (
        Hostile("SELECT pg_terminate_backend(pg_backend_pid())", SIGNALS),
        Hostile("SELECT pg_cancel_backend(pg_backend_pid())", SIGNALS),
        Hostile("SELECT pg_terminate_backend(12345, 1000)", SIGNALS),
        Hostile("SELECT pg_cancel_backend(pid) FROM pg_stat_activity", SIGNALS),
        Hostile("SELECT pg_cancel_backend(s) FROM pg_stat_get_backend_idset() AS s", SIGNALS),
        Hostile(
            "SELECT pg_terminate_backend(pg_stat_get_backend_pid(s)) FROM pg_stat_get_backend_idset() AS s",
            SIGNALS,
        ),
        Hostile("SELECT pg_cancel_backend(b) FROM unnest(pg_blocking_pids(1)) AS b", SIGNALS),
        Hostile("SELECT order_id FROM raw_data.orders WHERE pg_cancel_backend(order_id::int)", SIGNALS),
        Hostile("SELECT pg_catalog.pg_cancel_backend(1)", SIGNALS),
        Hostile('SELECT "pg_terminate_backend"(1)', SIGNALS),
        Hostile("SELECT pg_notify('thelook', 'ping')", SIGNALS),
        Hostile("SELECT pg_log_backend_memory_contexts(pg_backend_pid())", SIGNALS),
    ),
    both_walls=True,
)

SLEEP = HostileClass(
    "sleep",
    (
        Hostile("SELECT pg_sleep(60)", SLEEPS),
        Hostile("SELECT pg_sleep_for('1 minute')", SLEEPS),
        Hostile("SELECT pg_sleep_until(now() + interval '1 minute')", SLEEPS),
        Hostile("SELECT * FROM pg_sleep(60)", SLEEPS),
        Hostile("SELECT 1 FROM pg_sleep_until(now() + interval '1 minute')", SLEEPS),
        Hostile("SELECT order_id FROM raw_data.orders WHERE pg_sleep(1) IS NULL", SLEEPS),
        Hostile("SELECT pg_sleep(0.5) FROM raw_data.orders", SLEEPS),
        Hostile("SELECT order_id FROM raw_data.orders ORDER BY pg_sleep(0.1)::text", SLEEPS),
        Hostile("WITH s AS (SELECT pg_sleep(1)) SELECT * FROM s", SLEEPS),
        Hostile("SELECT (SELECT pg_sleep(1))", SLEEPS),
        Hostile("SELECT pg_sleep(x) FROM generate_series(1, 1) AS x", SLEEPS),
        Hostile("SELECT coalesce(pg_sleep(1)::text, 'x')", SLEEPS),
        Hostile('SELECT "pg_sleep"(60)', SLEEPS),
        Hostile('SELECT "PG_SLEEP"(60)', SLEEPS),
        Hostile("SeLeCt Pg_SlEeP(60)", SLEEPS),
        Hostile("SELECT pg_catalog.pg_sleep(60)", SLEEPS),
        Hostile("SELECT\n\tpg_sleep\n(\n60\n)", SLEEPS),
        Hostile(r'SELECT U&"pg\005fsleep"(60)', "unicode-escaped identifiers"),
        Hostile(
            "SET statement_timeout = 0; SELECT pg_sleep(1)",
            f"{MULTI}, found 2 (SET, SELECT)",
        ),
    ),
    both_walls=True,
)

ACTIVITY_READING = HostileClass(
    "reading other sessions' activity",
    (
        Hostile("SELECT query FROM pg_stat_activity", f"{SYSTEM} pg_stat_activity is not allowed"),
        Hostile(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE usename = 'thelook_reader'",
            f"{SYSTEM} schema pg_catalog is not allowed",
        ),
        Hostile("SELECT pg_stat_get_backend_activity(s) FROM pg_stat_get_backend_idset() AS s", ACTIVITY),
        Hostile("SELECT pg_stat_get_backend_activity(1)", ACTIVITY),
        Hostile("SELECT pg_stat_get_backend_client_addr(1)", ACTIVITY),
        Hostile("SELECT pg_stat_get_backend_userid(1)", ACTIVITY),
        Hostile("SELECT * FROM pg_stat_get_activity(NULL)", ACTIVITY),
        Hostile("SELECT pg_stat_get_progress_info('VACUUM')", ACTIVITY),
        Hostile("SELECT pg_blocking_pids(1)", ACTIVITY),
        Hostile("SELECT pg_safe_snapshot_blocking_pids(1)", ACTIVITY),
        Hostile("SELECT * FROM pg_lock_status()", ACTIVITY),
        Hostile("SELECT * FROM pg_locks", f"{SYSTEM} pg_locks is not allowed"),
        Hostile("SELECT * FROM pg_stat_ssl", f"{SYSTEM} pg_stat_ssl is not allowed"),
        Hostile("SELECT * FROM pg_stat_gssapi", f"{SYSTEM} pg_stat_gssapi is not allowed"),
        Hostile("SELECT * FROM pg_stat_progress_copy", f"{SYSTEM} pg_stat_progress_copy is not allowed"),
        Hostile("SELECT * FROM pg_stat_replication", f"{SYSTEM} pg_stat_replication is not allowed"),
        Hostile("SELECT * FROM pg_prepared_xacts", f"{SYSTEM} pg_prepared_xacts is not allowed"),
    ),
)

ADVISORY_LOCKS = HostileClass(
    "advisory locks",
    (
        Hostile("SELECT pg_advisory_lock(42)", ADVISORY),
        Hostile("SELECT pg_try_advisory_lock(42)", ADVISORY),
        Hostile("SELECT pg_try_advisory_xact_lock(42)", ADVISORY),
        Hostile("SELECT pg_advisory_lock_shared(1, 2)", ADVISORY),
        Hostile("SELECT pg_advisory_xact_lock(order_id) FROM raw_data.orders", ADVISORY),
        Hostile("SELECT pg_advisory_unlock_all()", ADVISORY),
    ),
)

CATALOG_CASTS = HostileClass(
    "casts to catalog and user-defined types",
    (
        Hostile(
            "SELECT 'pg_authid'::regclass",
            CATALOG_TYPE,
            "a name lookup in the world-readable catalogs: it says an object exists, nothing of its data",
        ),
        Hostile(
            "SELECT 'pg_sleep'::regproc",
            CATALOG_TYPE,
            "a name lookup in the world-readable catalogs; the function is not called",
        ),
        Hostile(
            "SELECT CAST('thelook_owner' AS regrole)",
            CATALOG_TYPE,
            "role names are world-readable (pg_roles)",
        ),
        Hostile(
            "SELECT 'pg_catalog.pg_sleep(double precision)'::regprocedure",
            CATALOG_TYPE,
            "a name lookup in the world-readable catalogs; the function is not called",
        ),
        Hostile("SELECT 1::oid", CATALOG_TYPE, "a number typed as an object id"),
        Hostile("SELECT 'x'::raw_data.orders", "type raw_data.orders is not allowed"),
    ),
)

RESOURCE_EXHAUSTION = HostileClass(
    "resource exhaustion",
    (
        Hostile("SELECT count(*) FROM generate_series(1, 10000000000)", SERIES),
        Hostile("SELECT count(*) FROM generate_series(1, 100000000) AS g", SERIES),
        Hostile("SELECT g FROM generate_series(1, 100000000) AS g ORDER BY g DESC LIMIT 5", SERIES),
        Hostile("SELECT count(DISTINCT g) FROM generate_series(1, 100000000) AS g", SERIES),
        Hostile("SELECT count(*) FROM (SELECT generate_series(1, 10000000000)) AS s", SERIES),
        Hostile(
            "SELECT count(*) FROM generate_series(timestamp '2000-01-01', timestamp '2100-01-01', "
            "interval '1 second')",
            SERIES,
        ),
        Hostile(
            "SELECT count(*) FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b",
            SERIES_TOGETHER,
        ),
        Hostile(
            "SELECT count(*) FROM generate_series(1, "
            "(SELECT max(order_id) * 100000000 FROM raw_data.orders))",
            "needs constant bounds",
        ),
        Hostile("SELECT count(*) FROM generate_series(1, 1e10::bigint)", SERIES),
        Hostile("SELECT repeat('x', 100000000)", BUILDS),
        Hostile("SELECT repeat('x', 100000000) FROM raw_data.orders LIMIT 5", BUILDS),
        Hostile("SELECT lpad('x', 100000000, 'x')", BUILDS),
        Hostile("SELECT rpad('', 100000000)", BUILDS),
        Hostile("SELECT format('%100000000s', 'x')", BUILDS),
        Hostile("SELECT array_fill(1, ARRAY[100000000])", BUILDS),
        Hostile("SELECT length(string_agg(repeat('x', 1000), '')) FROM generate_series(1, 1000000)", BUILDS),
        Hostile("SELECT length(string_agg(g::text, '')) FROM generate_series(1, 100000000) AS g", SERIES),
        Hostile("SELECT cardinality(array_agg(g)) FROM generate_series(1, 100000000) AS g", SERIES),
        Hostile(
            "SELECT length(string_agg(name, '')) FROM raw_data.products, generate_series(1, 100000000)",
            SERIES,
        ),
        Hostile(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
            "WITH RECURSIVE is not allowed",
        ),
    ),
    both_walls=True,
)

OTHER_SCHEMAS_AND_SYSTEM_CATALOGS = HostileClass(
    "other schemas and system catalogs",
    (
        Hostile("SELECT * FROM pg_catalog.pg_authid", f"{SYSTEM} schema pg_catalog is not allowed"),
        Hostile("SELECT rolname, rolpassword FROM pg_authid", f"{SYSTEM} pg_authid is not allowed"),
        Hostile("SELECT * FROM pg_shadow", f"{SYSTEM} pg_shadow is not allowed"),
        Hostile(
            "SELECT usename FROM pg_user",
            f"{SYSTEM} pg_user is not allowed",
            "pg_user is world-readable in PostgreSQL (no passwords); the guard keeps the app off it",
        ),
        Hostile(
            "SELECT table_name FROM information_schema.tables",
            f"{SYSTEM} schema information_schema is not allowed",
            "information_schema lists only what the reader may see anyway",
        ),
        Hostile("SELECT * FROM public.secrets", "schema public is not allowed"),
        Hostile("SELECT * FROM other_db.raw_data.orders", "database-qualified name"),
        Hostile("SELECT * FROM pg_temp.orders", f"{SYSTEM} schema pg_temp is not allowed"),
        Hostile("SELECT * FROM raw_data.etl_state", 'unknown table "raw_data.etl_state"'),
        Hostile(
            "SELECT o.order_id, r.rolname FROM raw_data.orders o, pg_catalog.pg_roles r",
            f"{SYSTEM} schema pg_catalog is not allowed",
            "pg_roles is world-readable (passwords masked); reconnaissance, not damage",
        ),
    ),
)

COMMENT = HostileClass(
    "comment, quoting, case and whitespace tricks",
    (
        Hostile(r'SELECT * FROM U&"pg\005fauthid"', "unicode-escaped identifiers"),
        Hostile('SELECT "pg_catalog"."pg_read_file"(\'/etc/passwd\')', FILES),
        Hostile("SELECT public.dblink_connect('host=127.0.0.1')", "connects to other databases"),
        Hostile(
            "SELECT 1 OPERATOR(pg_catalog.+) 2",
            "OPERATOR is not allowed",
            "a built-in operator named by its schema: the reader can create no operator of its own",
        ),
        Hostile("/* leading comment */ DELETE FROM raw_data.orders", f"{NOT_SELECT}, not DELETE"),
        Hostile("dElEtE\nFROM\n\traw_data.orders", f"{NOT_SELECT}, not DELETE"),
        Hostile("(DELETE FROM raw_data.orders)", "not valid PostgreSQL"),
        Hostile('SELECT "pg_sleep(60)" FROM raw_data.orders', 'unknown column "pg_sleep(60)"'),
        Hostile('SELECT * FROM "raw_data.orders"', 'unknown table "raw_data.orders"'),
        Hostile(
            "SELECT * FROM raw_data.orders;\n\n-- bye\nDROP TABLE raw_data.orders",
            f"{MULTI}, found 2 (SELECT, DROP)",
        ),
    ),
)

HOSTILE_CLASSES: tuple[HostileClass, ...] = (
    WRITES,
    DDL_AND_PRIVILEGES,
    SESSION,
    MORE_THAN_ONE_STATEMENT,
    DATA_MODIFYING_CTES,
    ATTRIBUTE_NOTATION,
    SESSION_SIGNALLING,
    SLEEP,
    ACTIVITY_READING,
    ADVISORY_LOCKS,
    RESOURCE_EXHAUSTION,
    CATALOG_CASTS,
    DANGEROUS_FUNCTIONS,
    OTHER_SCHEMAS_AND_SYSTEM_CATALOGS,
    COMMENT,
)

HOSTILE_STATEMENTS: tuple[Hostile, ...] = tuple(
    hostile for hostile_class in HOSTILE_CLASSES for hostile in hostile_class.statements
)
