"""Creating the thelook database, its extensions, schemas and roles (sql/init.sql), and their URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from thelook_ecommerce_analysis.config import OWNER_ROLE, READER_ROLE
from thelook_ecommerce_analysis.errors import ThelookError


def make_url(user: str, password: str, port: int, database: str, host: str = "127.0.0.1") -> str:
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server and database, another role."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def redact(url: str) -> str:
    """The URL with its password hidden, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection with one clear error when the server cannot be reached."""
    if url.startswith("not-configured:"):
        raise ThelookError(f"no database configured: {url.split(':', 1)[1].replace('-', ' ')}")
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise ThelookError(
            f"cannot connect to {redact(url)}: {reason}; is the database running (`thelook db status`)?"
        ) from None


def create_database(admin_url: str, database: str) -> bool:
    """Create `database` on the server of `admin_url` unless it exists; return True if created."""
    with connect(with_database(admin_url, "postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return True


def apply_init_sql(admin_url: str, init_sql: Path, owner_password: str, reader_password: str) -> None:
    """Run sql/init.sql in the database of `admin_url`, then set the two roles' passwords.

    Passwords stay out of the SQL file (it is committed and also run by the Docker entrypoint).
    """
    with connect(admin_url, autocommit=True) as connection:
        connection.execute(init_sql.read_text(encoding="utf-8"))
        for role, password in ((OWNER_ROLE, owner_password), (READER_ROLE, reader_password)):
            connection.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
            )
