"""Hostile SQL, each with the words the guard's refusal must contain and what the read-only role does
with it on its own. Shared by the guard tests and the second-wall tests so both see the SAME statements.

`database` is None where PostgreSQL itself refuses the statement (an error). Where PostgreSQL runs it for
the read-only role, `database` says why that is harmless; the tests assert that it does run, so the
documented behaviour is checked rather than assumed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    sql: str
    refusal: str
    database: str | None = None


NOT_SELECT = "only SELECT queries are allowed"
MULTI = "only one statement is allowed"
WRITES_IN_CTE = "in a CTE (a data-modifying CTE)"
SLEEPS = "it sleeps"
FILES = "reads or lists files"
SYSTEM = "system catalog"

HOSTILE_STATEMENTS: tuple[Hostile, ...] = (
    # -- writes ------------------------------------------------------------------------------------------
    Hostile("INSERT INTO raw_data.orders (order_id) VALUES (-1)", f"{NOT_SELECT}, not INSERT"),
    Hostile("UPDATE raw_data.orders SET status = 'Complete'", f"{NOT_SELECT}, not UPDATE"),
    Hostile("DELETE FROM raw_data.orders", f"{NOT_SELECT}, not DELETE"),
    Hostile(
        "MERGE INTO raw_data.orders o USING raw_data.users u ON o.user_id = u.id WHEN MATCHED THEN DELETE",
        f"{NOT_SELECT}, not MERGE",
    ),
    Hostile("TRUNCATE raw_data.orders", f"{NOT_SELECT}, not TRUNCATE"),
    Hostile("INSERT INTO raw_data.orders SELECT * FROM raw_data.orders", f"{NOT_SELECT}, not INSERT"),
    Hostile(
        "UPDATE raw_data.order_items SET sale_price = 0 WHERE id IN (SELECT id FROM raw_data.order_items)",
        f"{NOT_SELECT}, not UPDATE",
    ),
    Hostile("COPY raw_data.orders FROM '/tmp/orders.csv'", f"{NOT_SELECT}, not COPY"),
    Hostile("COPY raw_data.orders TO '/tmp/orders.csv'", f"{NOT_SELECT}, not COPY"),
    Hostile("COPY (SELECT 1) TO PROGRAM 'id'", f"{NOT_SELECT}, not COPY"),
    # -- DDL and privileges ------------------------------------------------------------------------------
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
    # -- session, transaction and utility statements -----------------------------------------------------
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
        "PostgreSQL skips a table the role may not maintain with a WARNING: nothing is vacuumed or locked",
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
    Hostile("BEGIN READ WRITE", NOT_SELECT, "a read-write transaction gives the reader no write privilege"),
    Hostile(
        "TABLE raw_data.orders",
        "not valid PostgreSQL",
        "TABLE x is SELECT * FROM x, a read the reader may do",
    ),
    # -- more than one statement -------------------------------------------------------------------------
    Hostile("SELECT 1; DROP TABLE raw_data.orders", f"{MULTI}, found 2 (SELECT, DROP)"),
    Hostile("SELECT 1; -- harmless\nDROP TABLE raw_data.orders", f"{MULTI}, found 2 (SELECT, DROP)"),
    Hostile("SELECT 1 -- harmless\n; DELETE FROM raw_data.orders", f"{MULTI}, found 2 (SELECT, DELETE)"),
    Hostile("SELECT 1 /* ; */ ; DELETE FROM raw_data.orders", f"{MULTI}, found 2 (SELECT, DELETE)"),
    Hostile(
        "SELECT * FROM raw_data.orders; UPDATE raw_data.orders SET status = 'x'",
        f"{MULTI}, found 2 (SELECT, UPDATE)",
    ),
    Hostile(
        "SET statement_timeout = 0; SELECT pg_sleep(1)",
        f"{MULTI}, found 2 (SET, SELECT)",
        "A REAL GAP of the second wall: SET lifts this session's timeout and the sleep runs in "
        "full. Only the "
        "guard stops it, or sending queries by the extended protocol, which refuses a second command "
        "(test_the_extended_protocol_refuses_a_second_statement)",
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
    # -- data-modifying CTEs, SELECT INTO, row locks -----------------------------------------------------
    Hostile("WITH d AS (DELETE FROM raw_data.orders RETURNING *) SELECT count(*) FROM d", WRITES_IN_CTE),
    Hostile(
        "WITH u AS (UPDATE raw_data.orders SET status = 'x' RETURNING order_id) SELECT * FROM u",
        WRITES_IN_CTE,
    ),
    Hostile(
        "WITH i AS (INSERT INTO raw_data.orders (order_id) VALUES (-1) RETURNING order_id) SELECT * FROM i",
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
        "SELECT * FROM raw_data.orders FOR KEY SHARE SKIP LOCKED", "FOR KEY SHARE SKIP LOCKED is not allowed"
    ),
    Hostile(
        "SELECT o.order_id FROM raw_data.orders o JOIN raw_data.users u ON u.id = o.user_id "
        "FOR UPDATE OF o NOWAIT",
        "FOR UPDATE is not allowed",
    ),
    # -- dangerous functions -----------------------------------------------------------------------------
    Hostile("SELECT pg_sleep(60)", SLEEPS),
    Hostile("SELECT pg_sleep_for('1 minute')", SLEEPS),
    Hostile("SELECT pg_sleep_until(now() + interval '1 minute')", SLEEPS),
    Hostile("SELECT * FROM pg_sleep(60)", SLEEPS),
    Hostile("SELECT order_id FROM raw_data.orders WHERE pg_sleep(1) IS NULL", SLEEPS),
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
        "set_config changes only this session's settings, like SET",
    ),
    Hostile("SELECT current_setting('data_directory')", "changes or reads server settings"),
    Hostile("SELECT pg_reload_conf()", "changes or reads server settings"),
    Hostile("SELECT pg_terminate_backend(pg_backend_pid())", "signals or messages other sessions"),
    Hostile(
        "SELECT pg_notify('thelook', 'ping')",
        "signals or messages other sessions",
    ),
    Hostile("SELECT nextval('raw_data.order_id_seq')", "reads or advances a sequence"),
    Hostile("SELECT setval('raw_data.order_id_seq', 1)", "reads or advances a sequence"),
    Hostile("SELECT currval('raw_data.order_id_seq')", "reads or advances a sequence"),
    Hostile(
        "SELECT pg_advisory_lock(42)",
        "takes advisory locks",
        "an advisory lock is released when the session ends (each statement here gets its own)",
    ),
    Hostile(
        "SELECT pg_try_advisory_xact_lock(42)",
        "takes advisory locks",
        "a transaction-level advisory lock ends with the statement's transaction",
    ),
    Hostile(
        "SELECT txid_current()",
        "assigns or exposes transaction ids",
        "PostgreSQL lets a read-only transaction take a transaction id: it consumes one id, changes no data",
    ),
    Hostile(
        "SELECT pg_current_xact_id()",
        "assigns or exposes transaction ids",
        "the same as txid_current(): one transaction id consumed, no data changed",
    ),
    Hostile("SELECT query_to_xml('SELECT * FROM pg_authid', true, true, '')", "runs SQL given as text"),
    Hostile("SELECT table_to_xml('raw_data.etl_state', true, true, '')", "runs SQL given as text"),
    Hostile("SELECT * FROM ts_stat('SELECT to_tsvector(rolname) FROM pg_authid')", "runs SQL given as text"),
    Hostile(
        "SELECT pg_logical_emit_message(true, 'x', 'y')",
        "administers replication",
    ),
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
    # -- other schemas and system catalogs ---------------------------------------------------------------
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
    Hostile(
        "SELECT query FROM pg_stat_activity",
        f"{SYSTEM} pg_stat_activity is not allowed",
        "other roles' query texts show as <insufficient privilege>",
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
    # -- comment, quoting, case and whitespace tricks ----------------------------------------------------
    Hostile(r'SELECT U&"pg\005fsleep"(60)', "unicode-escaped identifiers"),
    Hostile(r'SELECT * FROM U&"pg\005fauthid"', "unicode-escaped identifiers"),
    Hostile('SELECT "pg_sleep"(60)', SLEEPS),
    Hostile('SELECT "PG_SLEEP"(60)', SLEEPS),
    Hostile("SeLeCt Pg_SlEeP(60)", SLEEPS),
    Hostile("SELECT pg_catalog.pg_sleep(60)", SLEEPS),
    Hostile("SELECT\n\tpg_sleep\n(\n60\n)", SLEEPS),
    Hostile('SELECT "pg_catalog"."pg_read_file"(\'/etc/passwd\')', FILES),
    Hostile("SELECT public.dblink_connect('host=127.0.0.1')", "connects to other databases"),
    Hostile("/* leading comment */ DELETE FROM raw_data.orders", f"{NOT_SELECT}, not DELETE"),
    Hostile("dElEtE\nFROM\n\traw_data.orders", f"{NOT_SELECT}, not DELETE"),
    Hostile("(DELETE FROM raw_data.orders)", "not valid PostgreSQL"),
    Hostile('SELECT "pg_sleep(60)" FROM raw_data.orders', 'unknown column "pg_sleep(60)"'),
    Hostile('SELECT * FROM "raw_data.orders"', 'unknown table "raw_data.orders"'),
    Hostile(
        "SELECT * FROM raw_data.orders;\n\n-- bye\nDROP TABLE raw_data.orders",
        f"{MULTI}, found 2 (SELECT, DROP)",
    ),
)
