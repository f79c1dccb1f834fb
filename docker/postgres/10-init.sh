#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume (/docker-entrypoint-initdb.d):
# applies sql/init.sql (extensions, schemas, roles; it holds no secrets), then gives the two roles their
# passwords from the environment, so that passwords live only in .env and never in a committed file.
# The image's entrypoint provides POSTGRES_USER, POSTGRES_DB and a server reachable by psql.
set -euo pipefail

: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${POSTGRES_DB:?POSTGRES_DB is not set}"
: "${THELOOK_OWNER_PASSWORD:?set THELOOK_OWNER_PASSWORD in .env}"
: "${THELOOK_READER_PASSWORD:?set THELOOK_READER_PASSWORD in .env}"
init_sql="${THELOOK_INIT_SQL:-/opt/thelook/init.sql}"

psql_admin=(psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB")

"${psql_admin[@]}" --quiet --file "$init_sql"
# \getenv reads the passwords inside psql: they never appear on a command line, and :'...' quotes them as
# SQL literals, whatever characters they hold.
"${psql_admin[@]}" --quiet <<'SQL'
\getenv owner_password THELOOK_OWNER_PASSWORD
\getenv reader_password THELOOK_READER_PASSWORD
ALTER ROLE thelook_owner PASSWORD :'owner_password';
ALTER ROLE thelook_reader PASSWORD :'reader_password';
SQL
echo "thelook: applied $(basename "$init_sql") to database $POSTGRES_DB; set the passwords of thelook_owner and thelook_reader"
