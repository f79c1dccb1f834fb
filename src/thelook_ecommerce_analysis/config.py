"""Where things live and how to reach the database, resolved once for the CLI, the job and the app.

The Kedro project is the unit of configuration: its `conf/` holds the catalog and the credentials, its
`data/` the files. Everything that needs a path asks this module, so that `thelook` works from any
directory inside the project and tests can point it elsewhere with environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from thelook_ecommerce_analysis.errors import ThelookError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PG_PORT = 5433
DEFAULT_PGADMIN_PORT = 5050  # `thelook pgadmin`, the same port as the Compose pgadmin service
DATABASE_NAME = "thelook"
OWNER_ROLE = "thelook_owner"
READER_ROLE = "thelook_reader"
CREDENTIAL_KEYS = {"admin": "thelook_admin", "owner": "thelook_owner", "reader": "thelook_reader"}
URL_ENVIRONMENT_VARIABLES = {
    "admin": "THELOOK_ADMIN_URL",
    "owner": "DATABASE_URL",
    "reader": "THELOOK_READER_URL",
}


def _is_kedro_project(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    return pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(encoding="utf-8")


def project_root() -> Path:
    """The Kedro project directory: $THELOOK_HOME, else the nearest one above the working directory,
    else the checkout this package was installed from (editable installs)."""
    if home := os.environ.get("THELOOK_HOME"):
        return Path(home).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _is_kedro_project(candidate):
            return candidate
    checkout = PACKAGE_DIR.parents[1]
    if _is_kedro_project(checkout):
        return checkout
    raise ThelookError(
        "no thelook project found above the current directory; "
        "run inside the checkout or set THELOOK_HOME to it"
    )


@dataclass(frozen=True)
class ProjectPaths:
    """The folders of a thelook project, following Kedro's data layers."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def credentials_file(self) -> Path:
        return self.conf / "local" / "credentials.yml"

    @property
    def postgres_settings_file(self) -> Path:
        return self.conf / "postgresql" / "thelook.conf"

    @property
    def sql(self) -> Path:
        return self.root / "sql"

    @property
    def raw_data(self) -> Path:
        return self.root / "data" / "01_raw"

    @property
    def postgres_data(self) -> Path:
        return Path(os.environ.get("THELOOK_PG_DATA", self.root / "data" / "postgres")).resolve()

    @property
    def pgadmin_data(self) -> Path:
        """Everything `thelook pgadmin` keeps: pgAdmin's settings database, login, logs and storage."""
        return Path(os.environ.get("THELOOK_PGADMIN_DATA", self.root / "data" / "pgadmin")).resolve()

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def paths() -> ProjectPaths:
    return ProjectPaths(project_root())


def pg_port() -> int:
    """The embedded server's port: $THELOOK_PG_PORT or 5433 (beside a system PostgreSQL on 5432)."""
    raw = os.environ.get("THELOOK_PG_PORT", str(DEFAULT_PG_PORT))
    try:
        return int(raw)
    except ValueError:
        raise ThelookError(f"THELOOK_PG_PORT={raw!r} is not a port number") from None


def database_url(role: str = "owner") -> str:
    """The connection URL for one of the roles `admin`, `owner` or `reader`.

    Environment variables win (DATABASE_URL, THELOOK_READER_URL, THELOOK_ADMIN_URL), so a Docker or
    managed PostgreSQL needs no file; otherwise conf/local/credentials.yml, which `thelook db start`
    writes for the embedded server.
    """
    if url := os.environ.get(URL_ENVIRONMENT_VARIABLES[role]):
        return url
    credentials = load_credentials()
    key = CREDENTIAL_KEYS[role]
    url = str((credentials.get(key) or {}).get("con", ""))
    if url.startswith(("postgresql://", "postgres://")):
        return url
    raise ThelookError(
        f"no {role} database URL: set {URL_ENVIRONMENT_VARIABLES[role]} or run `thelook db start`"
        f" (it writes {key} into conf/local/credentials.yml)"
    )


def load_credentials() -> dict:
    """conf/local/credentials.yml, resolved by Kedro's own config loader (oc.env interpolation)."""
    from kedro.config import OmegaConfigLoader

    project = paths()
    loader = OmegaConfigLoader(conf_source=str(project.conf), base_env="base", default_run_env="local")
    return dict(loader["credentials"])
