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
