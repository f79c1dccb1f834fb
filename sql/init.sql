-- thelook database bootstrap: extensions, schemas, and the two roles.
-- Run as a superuser inside the target database. Idempotent: every statement can run again.
-- Passwords are not set here (they are secrets): `thelook db init` and the Docker entrypoint set them.

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Roles. thelook_owner owns and writes the three schemas (the Kedro job); thelook_reader is the app's:
-- it may read those schemas and nothing else, in read-only transactions with a statement timeout.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thelook_owner') THEN
        CREATE ROLE thelook_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thelook_reader') THEN
        CREATE ROLE thelook_reader LOGIN;
    END IF;
END
$roles$;

ALTER ROLE thelook_owner NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE thelook_reader NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 50;
ALTER ROLE thelook_reader SET default_transaction_read_only = on;
ALTER ROLE thelook_reader SET statement_timeout = '30s';
ALTER ROLE thelook_reader SET lock_timeout = '5s';
ALTER ROLE thelook_reader SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE thelook_reader SET search_path = raw_data, metrics, embeddings;
-- Bounds on what one query of the app may take besides time: temp files for sorts, hashes and function
-- results (temp_file_limit is a superuser setting: set here by the superuser, it applies at each login of
-- the reader, who cannot change it), and memory per sort or hash node.
ALTER ROLE thelook_reader SET temp_file_limit = '256MB';
ALTER ROLE thelook_reader SET work_mem = '32MB';
ALTER ROLE thelook_owner SET search_path = raw_data, metrics, embeddings, public;
-- Days and months are UTC days and months for everyone, whatever the server's own time zone.
ALTER ROLE thelook_owner SET timezone = 'UTC';
ALTER ROLE thelook_reader SET timezone = 'UTC';

-- Nobody but the two roles connects; only the owner may create temporary tables (the loader's staging).
DO $database$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO thelook_owner', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO thelook_reader', current_database());
END
$database$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS raw_data AUTHORIZATION thelook_owner;
CREATE SCHEMA IF NOT EXISTS metrics AUTHORIZATION thelook_owner;
CREATE SCHEMA IF NOT EXISTS embeddings AUTHORIZATION thelook_owner;
ALTER SCHEMA raw_data OWNER TO thelook_owner;
ALTER SCHEMA metrics OWNER TO thelook_owner;
ALTER SCHEMA embeddings OWNER TO thelook_owner;

COMMENT ON SCHEMA raw_data IS 'The seven theLook eCommerce tables, cleaned, with theLook''s own table and column names.';
COMMENT ON SCHEMA metrics IS 'Business metric tables computed from raw_data by the metrics pipeline.';
COMMENT ON SCHEMA embeddings IS 'Retrieval documents (schema, metrics, examples, products) with vector(384) embeddings.';

-- The reader sees every table of the three schemas, now and later (tables are created by the owner).
GRANT USAGE ON SCHEMA raw_data, metrics, embeddings TO thelook_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA raw_data, metrics, embeddings TO thelook_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE thelook_owner IN SCHEMA raw_data, metrics, embeddings
    GRANT SELECT ON TABLES TO thelook_reader;

-- Functions PostgreSQL lets every role call that write or signal even in a read-only session: the app's
-- reader needs none of them (the SQL guard refuses them too; this is the second wall).
REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, bytea, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC;

-- The second wall must hold without the guard: a statement the reader runs may not observe or signal other
-- sessions (every app user shares the reader role, and a role may cancel its own sessions), sleep, take
-- advisory locks, run SQL given as text, or build huge values out of a few bytes. Every overload of these
-- functions, found in pg_proc (so a new overload in a later PostgreSQL is covered too), is taken from
-- PUBLIC in this database and given to the owner role, which keeps what it had: the Kedro job takes an
-- advisory lock for its run, and watches its own sessions. Superusers are not affected.
DO $functions$
DECLARE
    routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure
        FROM pg_proc AS p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS acl
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND acl.grantee = 0 AND acl.privilege_type = 'EXECUTE'
          AND p.proname ~ ('^(pg_cancel_backend|pg_terminate_backend|pg_stat_get_activity|pg_stat_get_backend_.+'
                           '|pg_stat_get_progress_info|pg_stat_get_wal_senders|pg_stat_get_wal_receiver'
                           '|pg_stat_get_subscription|pg_lock_status|pg_blocking_pids'
                           '|pg_safe_snapshot_blocking_pids|pg_isolation_test_session_is_blocked'
                           '|pg_log_backend_memory_contexts|pg_sleep|pg_sleep_for|pg_sleep_until'
                           '|pg_advisory_.+|pg_try_advisory_.+|ts_stat|ts_rewrite'
                           '|(query|cursor|table|schema|database)_to_xml.*|txid_current|pg_current_xact_id'
                           '|repeat|lpad|rpad|array_fill|format)$')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', routine);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO thelook_owner', routine);
    END LOOP;
END
$functions$;

-- The views over other sessions (their queries, locks, connections, progress), the same way.
DO $views$
DECLARE
    activity_view regclass;
BEGIN
    FOR activity_view IN
        SELECT c.oid::regclass
        FROM pg_class AS c
        WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'v'
          AND c.relname ~ ('^(pg_stat_activity|pg_locks|pg_stat_ssl|pg_stat_gssapi|pg_stat_replication'
                           '|pg_stat_wal_receiver|pg_stat_subscription|pg_stat_progress_.+|pg_prepared_xacts'
                           '|pg_replication_slots|pg_stat_replication_slots|pg_stat_subscription_stats)$')
    LOOP
        EXECUTE format('REVOKE SELECT ON %s FROM PUBLIC', activity_view);
        EXECUTE format('GRANT SELECT ON %s TO thelook_owner', activity_view);
    END LOOP;
END
$views$;
