"""The embedded server as the project uses it: one cluster, the `thelook` database, three roles, and
their URLs kept in Kedro's credentials file so that the catalog, the CLI and the app all find them."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from thelook_ecommerce_analysis.config import (
    CREDENTIAL_KEYS,
    DATABASE_NAME,
    OWNER_ROLE,
    READER_ROLE,
    URL_ENVIRONMENT_VARIABLES,
)
from thelook_ecommerce_analysis.db.admin import apply_init_sql, create_database, make_url
from thelook_ecommerce_analysis.db.embedded import SUPERUSER, EmbeddedPostgres
from thelook_ecommerce_analysis.errors import ThelookError


@dataclass(frozen=True)
class RoleUrls:
    admin: str
    owner: str
    reader: str


@dataclass(frozen=True)
class StartReport:
    started: bool
    initialized: bool
    urls: RoleUrls


def _write_credentials(path: Path, urls: RoleUrls) -> None:
    """conf/local/credentials.yml, readable by its owner only; environment variables still win."""
    document = {
        CREDENTIAL_KEYS[role]: {
            "con": f"${{oc.env:{URL_ENVIRONMENT_VARIABLES[role]},'{getattr(urls, role)}'}}"
        }
        for role in ("admin", "owner", "reader")
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `thelook db start` for the embedded server. Environment variables win.\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(document, sort_keys=False))


_ENV_DEFAULT = re.compile(r"^\$\{oc\.env:[A-Z_]+,'(?P<url>.*)'\}$")


def _read_embedded_passwords(path: Path) -> dict[str, str]:
    """The passwords this module recorded in the credentials file, by role.

    The file is read as plain YAML, not through Kedro's resolver, so that an environment variable
    pointing elsewhere does not hide the embedded server's own passwords.
    """
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    passwords = {}
    for role, key in CREDENTIAL_KEYS.items():
        raw = str((document.get(key) or {}).get("con", ""))
        url = match["url"] if (match := _ENV_DEFAULT.match(raw)) else raw
        if password := urlsplit(url).password:
            passwords[role] = unquote(password)
    return passwords


def start_embedded(
    server: EmbeddedPostgres,
    init_sql: Path,
    credentials_file: Path,
    database: str = DATABASE_NAME,
) -> StartReport:
    """Start (initialising on first use) the embedded cluster and make sure `database` is set up.

    Idempotent: when the server already runs this only re-checks the database and the roles.
    """
    initialized_now = False
    if server.initialized:
        passwords = _read_embedded_passwords(credentials_file)
        if "admin" not in passwords:
            raise ThelookError(
                f"the cluster in {server.data_dir} exists but {credentials_file} has no admin "
                "password for it; restore that file or remove the data dir to start afresh"
            )
    else:
        passwords = {"admin": server.initdb()}
        initialized_now = True
    passwords.setdefault("owner", secrets.token_urlsafe(24))
    passwords.setdefault("reader", secrets.token_urlsafe(24))
    urls = RoleUrls(
        admin=make_url(SUPERUSER, passwords["admin"], server.port, database),
        owner=make_url(OWNER_ROLE, passwords["owner"], server.port, database),
        reader=make_url(READER_ROLE, passwords["reader"], server.port, database),
    )
    _write_credentials(credentials_file, urls)
    started = server.start()
    create_database(urls.admin, database)
    apply_init_sql(urls.admin, init_sql, passwords["owner"], passwords["reader"])
    return StartReport(started=started, initialized=initialized_now, urls=urls)
