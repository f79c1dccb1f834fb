"""Where things live and how to reach the database, resolved once for the CLI, the job and the app.

The Kedro project is the unit of configuration: its `conf/` holds the catalog and the credentials, its
`data/` the files. Everything that needs a path asks this module, so that `thelook` works from any
directory inside the project and tests can point it elsewhere with environment variables.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from thelook_ecommerce_analysis.errors import ThelookError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PG_PORT = 5433
DEFAULT_PGADMIN_PORT = 5050  # `thelook pgadmin`, the same port as the Compose pgadmin service
DATABASE_NAME = "thelook"
OWNER_ROLE = "thelook_owner"
READER_ROLE = "thelook_reader"
CREDENTIAL_KEYS = {"admin": "thelook_admin", "owner": "thelook_owner", "reader": "thelook_reader"}


PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class Environment(BaseSettings):
    """Every environment variable thelook reads, with its type, in one place (pydantic-settings parses them).

    A field is None when its variable is unset or empty: each module applies its own default, so the
    default stays beside the code that depends on it. Domain checks (a provider's name, a bundled model's
    name) stay there too; this class only says what type each value has.
    """

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    home: Path | None = Field(None, validation_alias="THELOOK_HOME")
    pg_port: Annotated[int, Field(gt=0, lt=65536)] | None = Field(None, validation_alias="THELOOK_PG_PORT")
    pg_data: Path | None = Field(None, validation_alias="THELOOK_PG_DATA")
    pgadmin_data: Path | None = Field(None, validation_alias="THELOOK_PGADMIN_DATA")
    admin_url: str | None = Field(None, validation_alias="THELOOK_ADMIN_URL")
    owner_url: str | None = Field(None, validation_alias="DATABASE_URL")
    reader_url: str | None = Field(None, validation_alias="THELOOK_READER_URL")
    candidates: PositiveInt | None = Field(None, validation_alias="THELOOK_CANDIDATES")
    llm_sees_rows: bool = Field(True, validation_alias="THELOOK_LLM_SEES_ROWS")
    summaries_llm: bool = Field(True, validation_alias="THELOOK_SUMMARIES_LLM")
    kedro_viz_url: str | None = Field(None, validation_alias="THELOOK_KEDRO_VIZ_URL")
    pgadmin_url: str | None = Field(None, validation_alias="THELOOK_PGADMIN_URL")
    embedding_model_path: Path | None = Field(None, validation_alias="THELOOK_EMBEDDING_MODEL_PATH")
    llm: str | None = Field(None, validation_alias="THELOOK_LLM")
    llm_model: str | None = Field(None, validation_alias="THELOOK_LLM_MODEL")
    llm_base_url: str | None = Field(None, validation_alias="THELOOK_LLM_BASE_URL")
    llm_api_key: str | None = Field(None, validation_alias="THELOOK_LLM_API_KEY")
    llm_timeout_s: PositiveFloat | None = Field(None, validation_alias="THELOOK_LLM_TIMEOUT")
    llm_context_tokens: PositiveInt | None = Field(None, validation_alias="THELOOK_LLM_CTX")
    llm_port: PositiveInt | None = Field(None, validation_alias="THELOOK_LLM_PORT")
    llm_threads: PositiveInt | None = Field(None, validation_alias="THELOOK_LLM_THREADS")
    llm_model_path: Path | None = Field(None, validation_alias="THELOOK_LLM_MODEL_PATH")
    llm_bundled: str | None = Field(None, validation_alias="THELOOK_LLM_BUNDLED")
    ollama_host: str | None = Field(None, validation_alias="OLLAMA_HOST")
    ollama_keep_alive: str | None = Field(None, validation_alias="OLLAMA_KEEP_ALIVE")


def variable(setting: str) -> str:
    """The environment variable behind one Environment field, for messages that tell the user what to set."""
    return str(Environment.model_fields[setting].validation_alias)


_VARIABLES = tuple(variable(setting) for setting in Environment.model_fields)

URL_ENVIRONMENT_VARIABLES = {role: variable(f"{role}_url") for role in CREDENTIAL_KEYS}
"""The variable that gives each role's database URL (DATABASE_URL for the owner, as Docker images expect)."""


class _GivenEnvironment(Environment):
    """An Environment read from a given mapping only (tests, and callers that pass their own)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        **other_sources: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


_WHAT_IS_WRONG = {
    "int_parsing": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not on or off (true/false, 1/0, yes/no)",
    "greater_than": "must be positive",
    "less_than": "is out of range",
}


def environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment's settings (os.environ, or `environ` alone when given); a malformed value is one
    ThelookError naming the variable, its value and what is wrong.

    Parsing costs ~2 ms (pydantic-settings reads the whole environment), and paths, URLs and switches are
    asked for often, so the result is kept for as long as thelook's own variables keep their values."""
    if environ is None:
        return _process_environment(tuple(os.environ.get(name) for name in _VARIABLES))
    return _parsed(lambda: _GivenEnvironment(**{name: value for name, value in environ.items() if value}))


@functools.lru_cache(maxsize=8)
def _process_environment(values: tuple[str | None, ...]) -> Environment:
    """Environment() for one combination of the variables' values (the cache key; Environment reads them)."""
    return _parsed(Environment)


def _parsed(build: Callable[[], Environment]) -> Environment:
    try:
        return build()
    except ValidationError as error:
        first = error.errors()[0]
        what = _WHAT_IS_WRONG.get(first["type"], first["msg"].lower())
        raise ThelookError(f"{first['loc'][0]}={first['input']!r} {what}: fix or unset it") from None


def _is_kedro_project(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    return pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(encoding="utf-8")


def project_root() -> Path:
    """The Kedro project directory: $THELOOK_HOME, else the nearest one above the working directory,
    else the checkout this package was installed from (editable installs)."""
    if home := environment().home:
        return home.resolve()
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
        return (environment().pg_data or self.root / "data" / "postgres").resolve()

    @property
    def pgadmin_data(self) -> Path:
        """Everything `thelook pgadmin` keeps: pgAdmin's settings database, login, logs and storage."""
        return (environment().pgadmin_data or self.root / "data" / "pgadmin").resolve()

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def paths() -> ProjectPaths:
    return ProjectPaths(project_root())


def pg_port() -> int:
    """The embedded server's port: $THELOOK_PG_PORT or 5433 (beside a system PostgreSQL on 5432)."""
    return environment().pg_port or DEFAULT_PG_PORT


def database_url(role: str = "owner") -> str:
    """The connection URL for one of the roles `admin`, `owner` or `reader`.

    Environment variables win (DATABASE_URL, THELOOK_READER_URL, THELOOK_ADMIN_URL), so a Docker or
    managed PostgreSQL needs no file; otherwise conf/local/credentials.yml, which `thelook db start`
    writes for the embedded server.
    """
    if url := getattr(environment(), f"{role}_url"):
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
