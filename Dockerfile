# syntax=docker/dockerfile:1.7
# PostgreSQL 18 with pgvector, tuned by the same settings file as the embedded server
# (conf/postgresql/thelook.conf), initialised by sql/init.sql with role passwords from the environment.
FROM pgvector/pgvector:pg18

# The configuration lives in the image (not in the data volume): -c config_file points the server at it.
COPY docker/postgres/postgresql.conf /etc/postgresql/postgresql.conf
COPY conf/postgresql/thelook.conf /etc/postgresql/thelook.conf
# Run once on an empty volume by the image's entrypoint: init.sql, then the two roles' passwords.
COPY sql/init.sql /opt/thelook/init.sql
COPY --chmod=0755 docker/postgres/10-init.sh /docker-entrypoint-initdb.d/10-thelook-init.sh

CMD ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
